"""Lead scoring (issue 17): `funnel scorecard rescore` at 100k deals against 1k, per open deal,
and what scoring adds to one write (a touch logged).

The bench's seeded databases (bench/seed.py, cached under bench/out/) get no lead scores (as
after an import without them) and a spread of company sizes and roles, so most open deals get
a new score; then, in-process and warm: the rescore (without its backup: that is the backup's
own figure), a second rescore that changes nothing, the undo of the first, and 200 touches
logged with the default scorecard and with an empty one.

    PYTHONPATH=. python bench/bench_scorecard.py
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.seed import NOW, ensure_db  # noqa: E402


def _copy_without_scores(size: str) -> Path:
    db = Path(tempfile.mkdtemp(prefix="funnel-score-")) / "funnel.db"
    shutil.copyfile(ensure_db(size, log=lambda m: None), db)
    rng = random.Random(1)
    con = sqlite3.connect(db)
    con.executemany("UPDATE deal SET lead_score = NULL, company_size = ?, contact_role = ? WHERE id = ?",
                    [(rng.choice(("30", "120人", "500", "", "80-150")), rng.choice(("CEO", "采购", "总经理", "")), i)
                     for (i,) in con.execute("SELECT id FROM deal")])
    con.commit()
    con.close()
    return db


def _touches(store, ids: list[int]) -> float:
    from funnel_tui.domain.validation import TouchDraft

    times = []
    for n, deal in enumerate(ids):
        t = time.perf_counter()
        store.log_touch(TouchDraft(deal, "meeting", "demo"), now=NOW + timedelta(seconds=n))
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    from funnel_tui.store import Store

    per_deal = {}
    for size in ("1k", "100k"):
        db = _copy_without_scores(size)
        store = Store(db)
        n = store.count_deals()
        t = time.perf_counter()
        done = store.rescore(now=NOW, backup=False)
        first = time.perf_counter() - t
        t = time.perf_counter()
        store.rescore(now=NOW, backup=False)
        again = time.perf_counter() - t
        t = time.perf_counter()
        store.undo(now=NOW)
        undo = time.perf_counter() - t
        per_deal[size] = first / n
        ids = [d["id"] for d in store.list_deals(limit=200)]
        with_rules = _touches(store, ids)
        for rule in store.scorecard():
            store.remove_rule(rule.id, now=NOW)
        without = _touches(store, ids)
        print(f"{size:>4}: {n} open deals; rescore {first:.2f} s ({done['changed']} new scores), "
              f"{first / n * 1e6:.0f} µs per open deal; again (no change) {again:.2f} s; undo {undo:.2f} s; "
              f"a touch logged: {with_rules * 1000:.1f} ms with the default scorecard, "
              f"{without * 1000:.1f} ms with none (median of {len(ids)})")
        store.close()
        shutil.rmtree(db.parent, ignore_errors=True)
    print(f"rescore per open deal, 100k / 1k: {per_deal['100k'] / per_deal['1k']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
