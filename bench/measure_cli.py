"""Command-line paths as whole processes: `funnel due`, `funnel summary`, import, export.

Wall time from process start to exit (stdout to /dev/null), runs interleaved with their
baseline so drifting machine load hits both alike.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from bench.procs import ROOT, bench_env, python, timed
from bench.report import Line, verdict
from bench.seed import OUT, SEED_VERSION, write_csv

FLOOR = ("-c", "import sqlite3")  # what a shell prompt's answer cannot beat


def _funnel(db: Path, *args: str) -> list[str]:
    return python("-m", "funnel_tui", "--db", str(db), *args)


def _fail(run) -> str:
    tail = run.output.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    return f"n/a: exit {run.returncode}: {tail[0][:160]}"


def due(db100k: Path, runs: int, log) -> list[Line]:
    """`funnel due --count`, the table and JSON at 100k deals, each against `python -c
    "import sqlite3"` (the floor of any answer read from SQLite by a Python process)."""
    env = bench_env()
    floor = Line("python -c 'import sqlite3' (baseline)")
    lines = [(Line("funnel due --count, 100k deals", budget="≤ 3× floor"), ("due", "--count"), 3.0),
             (Line("funnel due (table), 100k deals", budget="≤ 4× floor"), ("due",), 4.0),
             (Line("funnel due --format json, 100k deals"), ("due", "--format", "json"), None)]
    for _ in range(runs):
        r = timed(python(*FLOOR), env=env)
        floor.samples.append(r.seconds * 1000)
        for line, argv, _budget in lines:
            if line.note:
                continue
            r = timed(_funnel(db100k, *argv), env=env)
            if r.returncode not in (0, 10, 11):  # 10/11: something is due (by design)
                line.note = _fail(r)
                line.samples.clear()
                continue
            line.samples.append(r.seconds * 1000)
    for line, _argv, budget in lines:
        if line.samples:
            ratio = line.median / floor.median
            line.vs = f"{ratio:.2f}× floor"
            line.verdict = verdict(ratio <= budget) if budget else ""
    log("  due: " + ", ".join(f"{ln.name.split(',')[0]} {ln.median:.0f} ms" for ln, _a, _b in lines)
        + f" vs floor {floor.median:.0f} ms")
    return [floor] + [ln for ln, _a, _b in lines]


# The Monday review's reads (issues 4 and 17): each at 100k deals within 1.5× of its 1k time.
ANALYSES = (("summary", ("summary",)), ("summary --by source", ("summary", "--by", "source")),
            ("trend", ("trend",)), ("forecast", ("forecast",)))


def summary(db1k: Path, db100k: Path, runs: int, log) -> list[Line]:
    lines: list[Line] = []
    for name, argv in ANALYSES:
        lines += _one_analysis(name, argv, db1k, db100k, runs, log)
    return lines


def _one_analysis(name: str, argv: tuple[str, ...], db1k: Path, db100k: Path, runs: int, log) -> list[Line]:
    small = Line(f"funnel {name}, 1k deals")
    big = Line(f"funnel {name}, 100k deals", budget="≤ 1.5× 1k")
    env = bench_env()
    for _ in range(runs):  # alternating sizes: machine load hits both alike
        for line, db in ((small, db1k), (big, db100k)):
            r = timed(_funnel(db, *argv), env=env)
            if r.returncode != 0:
                small.note = big.note = _fail(r)
                small.samples.clear()
                return [small, big]
            line.samples.append(r.seconds * 1000)
    ratio = big.median / small.median
    big.vs, big.verdict = f"{ratio:.2f}× 1k", verdict(ratio <= 1.5)
    log(f"  {name}: 1k {small.median:.0f} ms, 100k {big.median:.0f} ms")
    return [small, big]


def _exchange_missing(command: str) -> str | None:
    path = ROOT / "funnel_tui" / "cli" / "exchange.py"
    if not path.exists() or f'"{command}"' not in path.read_text(encoding="utf-8"):
        return f"n/a: `funnel {command}` (funnel_tui/cli/exchange.py) is not there yet"
    return None


def import_csv(rows: int, runs: int, log) -> list[Line]:
    floor = Line(f"import writer alone, {rows // 1000}k rows (floor: SQLite's part)", unit="rows/s")
    line = Line(f"funnel import, {rows // 1000}k-row CSV", unit="rows/s", budget="≥ 0.75× floor")
    missing = _exchange_missing("import")
    if missing:
        line.note = missing
        return [line]
    csv_path = OUT / f"import-{rows}-v{SEED_VERSION}.csv"
    if not csv_path.exists():
        write_csv(csv_path.with_suffix(".part"), rows).rename(csv_path)
    scratch = OUT / "scratch" / "import"
    env = bench_env()
    try:
        for i in range(runs):
            # Interleaved with the command, so machine load hits both alike.
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            r = timed(python("-m", "bench.import_floor", str(csv_path), str(scratch / "floor.db")),
                      env=env, capture_stdout=True)
            if r.returncode == 0:
                got = json.loads(r.stdout)
                floor.samples.append(got["rows"] / got["seconds"])
            else:
                floor.note = _fail(r)
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            db = scratch / "target.db"
            r = timed(_funnel(db, "import", str(csv_path)), env=env)
            got = _count(db, "SELECT count(*) FROM deal") if db.exists() else 0
            if r.returncode != 0 or got != rows:
                line.note = f"{_fail(r)} (imported {got} of {rows} rows)"
                line.samples.clear()
                return [floor, line]
            line.samples.append(rows / r.seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if floor.samples:
        # Against the writer measured in the same run: absolute rows/s swing with the load.
        ratio = line.median / floor.median
        line.vs, line.verdict = f"{ratio:.2f}× floor", verdict(ratio >= 0.75)
    else:
        line.note = floor.note or "n/a: the writer floor did not run"
    log(f"  import: {line.median:.0f} rows/s (writer alone {floor.median:.0f} rows/s)")
    return [floor, line]


def export_csv(db: Path, size: str, runs: int, log) -> tuple[list[Line], list[int]]:
    line = Line(f"funnel export --status all, {size} deals", unit="rows/s", budget="≥ 100k rows/s")
    missing = _exchange_missing("export")
    if missing:
        line.note = missing
        return [line], []
    expected = _count(db, "SELECT count(*) FROM deal WHERE deleted_at IS NULL")
    scratch = OUT / "scratch" / "export"
    env = bench_env()
    rss = []
    try:
        for _ in range(runs):
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            dest = scratch / "deals.csv"
            r = timed(_funnel(db, "export", str(dest), "--status", "all"), env=env)
            got = _csv_rows(dest) if dest.exists() else 0
            if r.returncode != 0 or got == 0:
                line.note = _fail(r)
                line.samples.clear()
                return [line], []
            if got != expected:
                line.note = f"wrote {got} rows, expected {expected}"
            line.samples.append(got / r.seconds)
            rss.append(r.maxrss_kib)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    line.verdict = verdict(line.median >= 100_000)
    log(f"  export: {line.median:.0f} rows/s")
    return [line], rss


def _count(db: Path, sql: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


def _csv_rows(path: Path) -> int:
    """Data rows of a CSV without quoted newlines (the seeded data has none)."""
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return max(0, n - 1)
