"""`funnel summary` at 100k deals against its own time at 1k (issue 4: within 1.5×).

Builds both pipelines with bench/make_pipeline.py (once; reused if present), then runs the
real command in fresh processes, alternating sizes so machine load hits both alike, and
reports the best and median wall time of each and their ratio. Also times the SQL alone
(in-process, warm) so the part that grows with the data is visible next to process start.

    PYTHONPATH=. python bench/bench_summary.py [--runs 7] [--dir /tmp/funnel-bench]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from make_pipeline import NOW, build  # noqa: E402


def run_once(db: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FUNNEL_NOW": NOW.isoformat()}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "funnel_tui", "--db", str(db), *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def sql_time(db: Path, **kw) -> float:
    from funnel_tui.store import Store

    store = Store(db)
    store.stages()
    store.summary(now=NOW, **kw)  # warm the page cache
    best = min(_timed(lambda: store.summary(now=NOW, **kw)) for _ in range(5))
    store.close()
    return best


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--dir", default="/tmp/funnel-bench")
    p.add_argument("--args", default="summary --format json", help="the funnel command to time")
    opts = p.parse_args()
    out = Path(opts.dir)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {"1k": 1_000, "100k": 100_000}
    dbs = {}
    for label, n in sizes.items():
        db = out / f"pipeline-{label}.db"
        if not db.exists():
            t0 = time.perf_counter()
            build(str(db), n)
            print(f"built {db} ({n} deals) in {time.perf_counter() - t0:.1f} s")
        dbs[label] = db
    args = opts.args.split()
    # `funnel stages` is the floor every command pays (imports, opening and checking the file).
    commands = {"stages": ["stages"], opts.args: args}
    times: dict[tuple[str, str], list[float]] = {(c, k): [] for c in commands for k in dbs}
    run_once(dbs["1k"], args)  # warm imports and caches
    for _ in range(opts.runs):
        for label, db in dbs.items():
            for name, argv in commands.items():
                times[(name, label)].append(run_once(db, argv))
    for (name, label), ts in times.items():
        print(f"funnel {name:<22} @ {label:>4}: best {min(ts) * 1000:6.0f} ms, "
              f"median {statistics.median(ts) * 1000:6.0f} ms")
    best = {k: min(v) for k, v in times.items()}
    print(f"ratio 100k/1k of `funnel {opts.args}`: best {best[(opts.args, '100k')] / best[(opts.args, '1k')]:.2f} "
          f"(target ≤ 1.5)")
    for label in dbs:
        print(f"  cost above `funnel stages` @ {label:>4}: "
              f"{(best[(opts.args, label)] - best[('stages', label)]) * 1000:6.0f} ms")
    for label, db in dbs.items():
        print(f"summary SQL alone @ {label:>4}: {sql_time(db) * 1000:6.1f} ms "
              f"(--owner rep03: {sql_time(db, deals=_owner('rep03')) * 1000:.1f} ms)")
    return 0


def _owner(name: str):
    from funnel_tui.store.summary import DealSet

    return DealSet(owner=name)


if __name__ == "__main__":
    raise SystemExit(main())
