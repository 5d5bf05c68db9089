"""`python -m bench` (what `make bench` runs): seed, measure, print one table.

    python -m bench            1k, 100k and 1M deals (seeding 1M once takes about a minute)
    python -m bench --quick    skips 1M: export and peak RSS are taken at 100k instead

Every timing is a median over several runs with its min–max, and every budget is a ratio
against a baseline measured in the same run, or a per-key latency (README, "Performance").
Measurements whose feature has not landed print "n/a: why". The table also goes to
bench/out/results.md (and .json). The bench is not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import subprocess
import sys
import time

from bench import measure_board, measure_cli, measure_search
from bench.procs import ROOT, bench_env, python, timed
from bench.report import Line, table, verdict
from bench.seed import OUT, SIZES, ensure_db, schema_hash


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="skip 1M deals (export and RSS at 100k)")
    p.add_argument("--runs", type=int, help="runs per timing (default 5; 3 with --quick)")
    args = p.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    # Measure the app as installed: pip/pipx write its bytecode, but this machine sets
    # PYTHONDONTWRITEBYTECODE=1, so an editable checkout would recompile every module in
    # every measured process (~60 ms) while the baselines load compiled site-packages.
    import compileall

    compileall.compile_dir(str(ROOT / "funnel_tui"), quiet=1)
    sizes = [s for s in SIZES if not (args.quick and s == "1M")]
    big = sizes[-1]
    started = time.monotonic()
    log(_header(args.quick, runs))

    digest = schema_hash()
    dbs = {size: ensure_db(size, digest=digest, log=log) for size in sizes}
    for size, db in dbs.items():
        # Not timed: the first open of a database takes the automatic backup (then not
        # again for 30 minutes of the pinned clock) and warms the page cache.
        run = timed(python("-m", "funnel_tui", "--db", str(db), "stages"), env=bench_env())
        log(f"warm-up {size}: {run.seconds:.1f} s (first open: integrity check and automatic backup)")
    lines: list[Line] = []
    log("board, first frame (pty) …")
    frames, board_rss = measure_board.first_frames(dbs, runs, log)
    lines += frames
    log("board, keys (Pilot) …")
    lines += measure_board.key_moves(dbs["100k"], cursor=20 if args.quick else 40,
                                     moves=12 if args.quick else 30, log=log)
    log("funnel due …")
    lines += measure_cli.due(dbs["100k"], runs + 2, log)
    log("funnel summary, segments, trend, forecast …")
    lines += measure_cli.summary(dbs["1k"], dbs["100k"], runs, log)
    log("pinyin search …")
    lines += measure_search.search_lines(dbs["1k"], dbs["100k"], 10 if args.quick else 20, log)
    log("import …")
    lines += measure_cli.import_csv(100_000, 2 if args.quick else 3, log)
    log(f"export {big} …")
    exported, export_rss = measure_cli.export_csv(dbs[big], big, 2 if args.quick else 3, log)
    lines += exported
    note = "" if big == "1M" else "quick run: budget is for 1M"
    lines.append(_rss(f"peak RSS, board with {big} deals", board_rss.get(big, []), note,
                      frames[-1].note))
    lines.append(_rss(f"peak RSS, funnel export {big}", export_rss, note, exported[0].note))

    shutil.rmtree(OUT / "scratch", ignore_errors=True)
    shutil.rmtree(OUT / "xdg", ignore_errors=True)
    text = table(lines)
    elapsed = time.monotonic() - started
    footer = (f"command: python -m bench{' --quick' if args.quick else ''} · {runs} runs per timing · "
              f"{elapsed:.0f} s · {_machine()}")
    print(text)
    print(footer)
    name = "results-quick" if args.quick else "results"
    (OUT / f"{name}.md").write_text(text + "\n\n" + footer + "\n", encoding="utf-8")
    (OUT / f"{name}.json").write_text(json.dumps(
        [{"name": ln.name, "unit": ln.unit, "samples": ln.samples, "median": ln.median,
          "ratio": ln.vs, "budget": ln.budget, "result": ln.verdict, "note": ln.note}
         for ln in lines], indent=1, ensure_ascii=False), encoding="utf-8")
    failed = [ln.name for ln in lines if ln.verdict == "FAIL"]
    log(f"{len(failed)} budget(s) failed" + (": " + "; ".join(failed) if failed else ""))
    return 0


def _rss(name: str, kib: list[int], note: str, missing: str) -> Line:
    line = Line(name, unit="MiB", budget="≤ 150 MiB")
    if missing.startswith("n/a") or not kib:
        line.note = missing if missing.startswith("n/a") else "n/a: no run finished"
        return line
    line.samples = [k / 1024 for k in kib]
    line.verdict, line.note = verdict(max(line.samples) <= 150), note
    return line


def _machine() -> str:
    import os

    return (f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{os.cpu_count()} CPUs, {_version('textual')} textual, commit {_commit()}")


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out + ("+dirty" if dirty else "") if out else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def _header(quick: bool, runs: int) -> str:
    return (f"funnel-tui bench ({'quick: 1k and 100k' if quick else '1k, 100k and 1M deals'}, "
            f"{runs} runs per timing). First frame: own process on a 160×48 pty, process start "
            "to the first output with card text; bare Textual app the same way. Keys: headless "
            "Pilot, key to the next frame handed to the driver.")


if __name__ == "__main__":
    raise SystemExit(main())
