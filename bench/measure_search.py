"""Pinyin search at 1k and 100k deals: what `/` on the board runs on each keystroke.

    python -m bench.measure_search DB RUNS     prints {"pinyin": {query: [ms, …]}, "substring": …}

Each pinyin sample is one `Store.search_deals(query, limit=30)` (the search screen's query), in
its own process on the seeded database, after one unmeasured warm-up of each query. The
queries: full pinyin, initials, mixed, plain Chinese, and one that finds nothing — the worst
case, since then every key of the index is read.

The baseline, measured in the same process, interleaved: the search funnel-tui had before
issue 14 — customer, title or contact `LIKE '%text%'` (no pinyin), the same order and limit —
for the same deals written as a rep would type them without pinyin (华信 for `huaxin`). The
budget is a ratio to it: pinyin search must cost no more than the substring search it replaced
(it reads the key index instead of the table).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from bench.procs import bench_env, python, timed
from bench.report import Line, verdict

# 华信科技 is one customer in 25; "zzqx" matches nothing in the seeded data. Each query and
# what a rep types for the same deals without pinyin (the baseline's text).
QUERIES = {"huaxin": "华信", "hxkj": "华信科技", "华x": "华信", "科技": "科技", "zzqx": "zzqx"}
BUDGET = 1.0  # pinyin p50 / substring p50 at 100k
LIMIT = 30


def probe(db: Path, runs: int) -> dict[str, dict[str, list[float]]]:
    from sqlalchemy import or_, select

    from funnel_tui.domain.text import escape_like
    from funnel_tui.store import Store
    from funnel_tui.store.tables import D

    store = Store(db)

    def substring(text: str) -> None:  # the search before issue 14 (store.reads.search_clause)
        needle = f"%{escape_like(text)}%"
        q = (select(D.c.id, D.c.customer, D.c.title, D.c.contact_name, D.c.stage, D.c.status)
             .where(D.c.deleted_at.is_(None),
                    or_(*(c.like(needle, escape="\\") for c in (D.c.customer, D.c.title, D.c.contact_name))))
             .order_by((D.c.status == "open").desc(), D.c.id).limit(LIMIT))
        with store.read() as conn:
            conn.execute(q).all()

    def pinyin(query: str) -> None:
        store.search_deals(query, limit=LIMIT)

    out: dict[str, dict[str, list[float]]] = {"pinyin": {}, "substring": {}}
    for query, typed in QUERIES.items():
        pinyin(query)  # warm-up: page cache, query building
        substring(typed)
        a, b = [], []
        for _ in range(runs):  # interleaved: both see the same load on a shared machine
            t0 = time.perf_counter()
            pinyin(query)
            t1 = time.perf_counter()
            substring(typed)
            t2 = time.perf_counter()
            a.append((t1 - t0) * 1000)
            b.append((t2 - t1) * 1000)
        out["pinyin"][query] = a
        out["substring"][typed] = out["substring"].get(typed, []) + b
    store.close()
    return out


def search_lines(db1k: Path, db100k: Path, runs: int, log) -> list[Line]:
    lines = []
    for size, db in (("1k", db1k), ("100k", db100k)):
        r = timed(python("-m", "bench.measure_search", str(db), str(runs)), env=bench_env(), capture_stdout=True)
        line = Line(f"pinyin search (/ per keystroke: {', '.join(QUERIES)}), {size} deals")
        base = Line(f"substring search before pinyin (LIKE, the same deals), {size} deals")
        if r.returncode != 0:
            line.note = base.note = f"n/a: exit {r.returncode}"
            lines += [base, line]
            continue
        got = json.loads(r.stdout)
        line.samples = [ms for q in QUERIES for ms in got["pinyin"][q]]
        base.samples = [ms for t in got["substring"].values() for ms in t]
        ratio = line.median / base.median
        line.vs = f"{ratio:.2f}× substring"
        line.note = f"no match: {statistics.median(got['pinyin']['zzqx']):.1f} ms"
        if size == "100k":
            line.budget = f"≤ {BUDGET:g}× substring"
            line.verdict = verdict(ratio <= BUDGET)
        log(f"  search {size}: " + ", ".join(f"{q} {statistics.median(got['pinyin'][q]):.1f} ms" for q in QUERIES)
            + f"; substring {base.median:.1f} ms")
        lines += [base, line]
    return lines


def main(argv: list[str]) -> int:
    print(json.dumps(probe(Path(argv[0]), int(argv[1])), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
