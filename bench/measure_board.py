"""The board: first frame with cards (real pty) against a bare Textual app; key to redraw.

First frame: each app runs as its own process on a pseudo-terminal of 160×48; the time
is from process start to the first output containing card text (a seeded customer name)
or, for the baseline, the bare app's label. Same method, same terminal, runs interleaved.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from bench.procs import ROOT, bench_env, first_frame, python, timed
from bench.report import Line, p50, verdict
from bench.seed import CUSTOMERS, OUT

BOARD_APP = ROOT / "funnel_tui" / "tui" / "app.py"
BARE_BUDGET = 2.5  # the board's first card, at any size, against a bare Textual app
CARD_TEXT = re.compile(b"|".join(re.escape(name[:7].encode()) for name in CUSTOMERS))
BARE_TEXT = re.compile(rb"bare-textual-ready")


def board_missing() -> str | None:
    if not BOARD_APP.exists() or "def run_app" not in BOARD_APP.read_text(encoding="utf-8"):
        return "n/a: the board (funnel_tui/tui/app.py run_app) is not there yet"
    return None


def first_frames(dbs: dict[str, Path], runs: int, log) -> tuple[list[Line], dict[str, list[int]]]:
    """Board first frame at each size vs the bare app; also the peak RSS of each run."""
    missing = board_missing()
    env = bench_env()
    bare = Line("bare Textual app, first frame (baseline)")
    boards = {size: Line(f"board first frame, {size} deals") for size in dbs}
    rss: dict[str, list[int]] = {size: [] for size in dbs}
    errors: dict[str, str] = {}
    for i in range(runs):
        # Interleaved, so drifting machine load hits every size alike.
        r = first_frame(python("-m", "bench.bare_app"), BARE_TEXT, env=env, quiet=0.3)
        if r.seconds == r.seconds:
            bare.samples.append(r.seconds * 1000)
        if missing:
            continue
        for size, db in dbs.items():
            if size in errors:
                continue
            r = first_frame(python("-m", "funnel_tui", "--db", str(db), "tui"), CARD_TEXT, env=env)
            if r.seconds != r.seconds:  # NaN: no card ever appeared
                tail = r.output.decode("utf-8", "replace")[-300:].replace("\n", " ")
                errors[size] = f"n/a: no card text on screen (exit {r.returncode}): {tail!r}"
                continue
            boards[size].samples.append(r.seconds * 1000)
            rss[size].append(r.maxrss_kib)
        log(f"  first frame run {i + 1}/{runs}: bare {bare.samples[-1]:.0f} ms" + "".join(
            f", {s} {boards[s].samples[-1]:.0f} ms" for s in dbs if boards[s].samples))
    lines = [bare]
    base = boards.get("1k")
    for size, line in boards.items():
        if missing or size in errors:
            line.note = missing or errors[size]
            line.budget = _budget(size)
            lines.append(line)
            continue
        vs_bare = line.median / bare.median
        ok = vs_bare <= BARE_BUDGET
        parts = [f"{vs_bare:.2f}× bare"]
        if size != "1k" and base is not None and base.samples:
            vs_1k = line.median / base.median
            parts.insert(0, f"{vs_1k:.2f}× 1k")
            ok = ok and vs_1k <= (1.3 if size == "100k" else 1.5)
        line.vs, line.budget, line.verdict = " · ".join(parts), _budget(size), verdict(ok)
        lines.append(line)
    return lines, rss


def _budget(size: str) -> str:
    return {"1k": "≤ 2.5× bare", "100k": "≤ 1.3× 1k, ≤ 2.5× bare", "1M": "≤ 1.5× 1k, ≤ 2.5× bare"}[size]


def key_moves(db: Path, *, cursor: int, moves: int, log) -> list[Line]:
    """Cursor move and card move, key to redraw, p50 (headless Pilot, own process)."""
    cur = Line("cursor move j/k, key to redraw, 100k", budget="p50 ≤ 16 ms")
    mov = Line("card move L/H, key to redraw, 100k", budget="p50 ≤ 50 ms")
    missing = board_missing()
    if missing:
        cur.note = mov.note = missing
        return [cur, mov]
    scratch = OUT / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / "keys.db"
    shutil.copyfile(db, copy)  # moves write history: never into the cached database
    try:
        run = timed(python("-m", "bench.probe_keys", str(copy), "--cursor", str(cursor),
                           "--moves", str(moves)), env=bench_env(), capture_stdout=True)
    finally:
        for p in scratch.glob("keys.db*"):
            p.unlink()
    result = _result(run.stdout)
    if "error" in result:
        cur.note = mov.note = f"n/a: {result['error']}"
        return [cur, mov]
    cur.samples, mov.samples = result["cursor_ms"], result["move_ms"]
    cur.verdict = verdict(p50(cur.samples) <= 16)
    mov.verdict = verdict(p50(mov.samples) <= 50)
    log(f"  keys: cursor p50 {p50(cur.samples):.1f} ms, move p50 {p50(mov.samples):.1f} ms")
    return [cur, mov]


def _result(stdout: bytes) -> dict:
    for line in stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line[len("BENCH-RESULT "):])
    return {"error": "the probe printed no result: " + stdout.decode("utf-8", "replace")[-300:]}
