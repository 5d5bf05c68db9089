"""Build a synthetic pipeline database of N deals fast (direct bulk insert, not the store API).

Histories look like the store writes them: a `created` row, forward stage moves (now and then a
back-move), won/lost status rows, and a few touch/follow-up rows per deal, so the history table
is several times the size of the deal table, as in real use.

    PYTHONPATH=. python bench/make_pipeline.py /tmp/p100k.db 100000
"""

from __future__ import annotations

import random
import sqlite3
import sys
import uuid
from datetime import datetime, timedelta, timezone

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
OPEN = ("lead", "qualified", "demo", "negotiation")
PROB = {"lead": 10, "qualified": 25, "demo": 50, "negotiation": 75, "won": 100, "expansion": 100}
REPS = tuple(f"rep{i:02d}" for i in range(20))
SOURCES = ("referral", "website", "展会", "cold call", "partner")
REASONS = ("price", "competitor", "no budget", "timing", "went silent")


def ts(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: str, n: int, seed: int = 1) -> None:
    from funnel_tui.store import Store

    Store(path).close()  # schema, stages, triggers
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    deals, hist = [], []
    hid = 0
    for i in range(1, n + 1):
        created = NOW - timedelta(days=rng.uniform(0, 365))
        t = created
        stage = "lead" if rng.random() < 0.9 else rng.choice(OPEN[1:])
        hist.append((i, ts(t), "created", None, stage, None, None, None, f"a{i}c"))
        idx = OPEN.index(stage)
        status, reason, closed = "open", "", None
        k = 0
        while True:
            t = t + timedelta(days=rng.uniform(0.5, 20))
            if t >= NOW:
                break
            r = rng.random()
            k += 1
            if r < 0.12:  # lost where it stands
                status, reason, closed = "lost", rng.choice(REASONS), t
                hist.append((i, ts(t), "lost", None, None, "status", "open", "lost", f"a{i}l"))
                break
            if r < 0.15 and idx > 0:  # a back-move (now and then, as in real pipelines)
                new = OPEN[idx - 1]
            elif r < 0.80:
                new = OPEN[idx + 1] if idx + 1 < len(OPEN) else "won"
            else:
                continue  # stays put this round
            hist.append((i, ts(t), "stage", stage, new, "stage", stage, new, f"a{i}m{k}"))
            stage = new
            if new == "won":
                status, closed = "won", t
                hist.append((i, ts(t), "won", None, None, "status", "open", "won", f"a{i}m{k}"))
                break
            idx = OPEN.index(new)
        for j in range(3):  # touches and follow-ups, as a living pipeline has
            hist.append((i, ts(created + timedelta(days=j + 1)), "touch", None, None, f"touch.{i}{j}",
                         None, "called", f"a{i}t{j}"))
        amount = rng.choice((5, 8, 12, 20, 35, 50, 80)) * 100_000
        stage_entered = max(ts(created), max(h[1] for h in hist[-8:] if h[0] == i and h[2] in ("created", "stage")))
        deals.append((i, str(uuid.UUID(int=rng.getrandbits(128))), f"Customer {i}", REPS[i % len(REPS)],
                      rng.choice(SOURCES), stage, status, amount, "CNY", PROB[stage], 0, reason,
                      ts(created), ts(created), stage_entered, ts(closed) if closed else None, 1))
    con.executemany(
        "INSERT INTO deal (id, uid, customer, owner, source, stage, status, amount, currency, probability,"
        " probability_custom, lost_reason, created_at, updated_at, stage_entered_at, closed_at, version,"
        " title, industry, company_size, contact_name, contact_role, contact_phone, contact_email,"
        " risk_note, mitigation, budget, decision_chain, pain_points, competitors, notes)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'','','','','','','','','','','','','','')", deals)
    con.executemany(
        "INSERT INTO history (deal_id, at, kind, from_stage, to_stage, field, old, new, action)"
        " VALUES (?,?,?,?,?,?,?,?,?)", hist)
    con.commit()
    con.close()


if __name__ == "__main__":
    build(sys.argv[1], int(sys.argv[2]))
