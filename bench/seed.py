"""Seeded benchmark databases of 1k, 100k and 1M deals, cached under bench/out/.

The schema comes from `Store(path)` itself; rows go in with plain sqlite3 `executemany`
(the ORM would take minutes at 1M). Indexes are dropped during the load and rebuilt
afterwards, and only here do we run with synchronous=OFF / journal_mode=OFF: a lost
benchmark file is simply seeded again. The cache key is the size plus a hash of the
schema SQL and SEED_VERSION, so a schema change or a seeder change reseeds.

The mix is meant to look like a team's real pipeline: about half the deals open
(more in early stages), won and lost ones, a few deleted, about three history rows per
deal (created, stage moves, won/lost, touches), open follow-ups on most open deals with
deal.next_follow_up_at equal to the earliest of them, as the store keeps it.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from funnel_tui.domain.pinyin import deal_search_key

SEED_VERSION = 1
OUT = Path(__file__).resolve().parent / "out"
# The bench clock (also passed to the app and the CLI through FUNNEL_NOW).
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
NOW_UTC = NOW.replace(tzinfo=None)
FUNNEL_NOW = "2026-11-24T10:00:00+08:00"
SIZES = {"1k": 1_000, "100k": 100_000, "1M": 1_000_000}

CUSTOMERS = (
    "华信科技", "蓝海物流", "Acme Robotics", "北辰医疗", "Globex Trading", "星河教育", "Initech",
    "东方制造", "Umbrella Health", "锦程旅游", "Stark Components", "云帆软件", "Hooli Cloud",
    "海宁纺织", "Vandelay Imports", "金桥地产", "Wayne Logistics", "瑞丰食品", "Soylent Foods",
    "明德咨询", "Cyberdyne Systems", "恒泰保险", "Tyrell Biotech", "新禾农业", "Massive Dynamic",
)
TITLES = ("CRM 年度订阅", "ERP upgrade", "数据平台 PoC", "Annual licence", "培训服务包",
          "Support renewal", "Analytics add-on", "私有化部署", "Team plan (50 seats)")
INDUSTRIES = ("制造", "logistics", "healthcare", "教育", "retail", "finance", "SaaS", "energy")
SOURCES = ("referral", "website", "展会", "cold call", "partner", "LinkedIn", "老客户转介绍")
CONTACTS = ("张伟", "李娜", "王芳", "Sam Lee", "Maria Garcia", "陈静", "John Smith", "刘洋")
ROLES = ("decision maker", "influencer", "user", "采购负责人", "技术负责人")
OWNERS = ("王磊", "Alex Chen", "李娜", "Priya Patel", "陈静", "Tom Baker", "赵敏", "Sara Kim")
LOST = ("price", "competitor", "no budget", "no decision", "timing", "went silent")
KINDS = ("call", "email", "meeting", "visit", "message", "task")
OPEN_STAGES = ("lead", "qualified", "demo", "negotiation")
PROB = {"lead": 10, "qualified": 25, "demo": 50, "negotiation": 75, "won": 100, "expansion": 100}
# (cumulative share, stage, status): 53 % open, 17 % won, 30 % lost.
MIX = (
    (0.22, "lead", "open"), (0.36, "qualified", "open"), (0.46, "demo", "open"),
    (0.53, "negotiation", "open"), (0.66, "won", "won"), (0.70, "expansion", "won"),
    (0.80, "lead", "lost"), (0.89, "qualified", "lost"), (0.96, "demo", "lost"),
    (1.00, "negotiation", "lost"),
)
PATH_TO = {"lead": ("lead",), "qualified": ("lead", "qualified"),
           "demo": ("lead", "qualified", "demo"),
           "negotiation": ("lead", "qualified", "demo", "negotiation"),
           "won": ("lead", "qualified", "demo", "negotiation", "won"),
           "expansion": ("lead", "qualified", "demo", "negotiation", "won", "expansion")}

DEAL_COLS = (
    "id", "uid", "external_id", "customer", "title", "industry", "company_size", "contact_name",
    "contact_role", "contact_phone", "contact_email", "source", "lead_score", "owner", "stage",
    "status", "amount", "currency", "probability", "probability_custom", "expected_close",
    "risk_level", "risk_note", "mitigation", "budget", "decision_chain", "pain_points",
    "competitors", "lost_reason", "notes", "created_at", "updated_at", "stage_entered_at",
    "last_contact_at", "next_follow_up_at", "closed_at", "deleted_at", "version", "search_key",
)
HIST_COLS = ("id", "deal_id", "at", "kind", "from_stage", "to_stage", "field", "old", "new", "action")
FU_COLS = ("id", "deal_id", "kind", "due_at", "note", "status", "created_at", "done_at")
TOUCH_COLS = ("id", "deal_id", "followup_id", "kind", "at", "note", "voided_at")


def ts(dt: datetime) -> str:
    """SQLModel's storage form for datetimes in SQLite: UTC text with microseconds.

    The generator works in naive UTC (isoformat is three times faster than strftime).
    """
    return dt.isoformat(" ", "microseconds")


def schema_sql() -> str:
    """The DDL a fresh `Store(path)` creates (what the cache key hashes)."""
    from funnel_tui.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "schema.db")
        store.close()
        con = sqlite3.connect(Path(tmp) / "schema.db")
        rows = con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        con.close()
    return "\n".join(f"{t} {n} {s}" for t, n, s in rows)


def schema_hash() -> str:
    return hashlib.sha256(f"{SEED_VERSION}\n{schema_sql()}".encode()).hexdigest()[:10]


def db_path(size: str, digest: str | None = None) -> Path:
    return OUT / f"deals-{size}-{digest or schema_hash()}.db"


def ensure_db(size: str, *, digest: str | None = None, log=print) -> Path:
    """The cached database of `size` deals, seeding it first if needed."""
    path = db_path(size, digest)
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    _prune(size)
    tmp = path.with_name(path.name + ".part")
    for p in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    counts = seed(tmp, SIZES[size])
    os.replace(tmp, path)
    log(f"seeded {size}: {counts} in {time.perf_counter() - t0:.1f} s -> {path.name}")
    return path


def _prune(size: str) -> None:
    """Drop databases of this size seeded for an older schema, and their backups (1M is 1 GB)."""
    for old in OUT.glob(f"deals-{size}-*.db*"):
        old.unlink()
    for old in (OUT / "backups").glob(f"deals-{size}-*"):
        old.unlink()


def seed(path: Path, n: int, *, seed: int = 20261124, chunk: int = 50_000) -> dict[str, int]:
    """Create the schema with Store, then bulk-load `n` deals and their children."""
    from funnel_tui.store import Store

    Store(path).close()  # schema, triggers, stages: exactly what the app creates
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -200000")
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
    for name, _sql in indexes:  # rebuilding once after the load is far cheaper
        con.execute(f'DROP INDEX "{name}"')
    ins = {
        table: f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        for table, cols in (("deal", DEAL_COLS), ("history", HIST_COLS),
                            ("followup", FU_COLS), ("touch", TOUCH_COLS))
    }
    totals = {"deal": 0, "history": 0, "followup": 0, "touch": 0}
    starts = range(1, n + 1, chunk)
    con.execute("BEGIN")
    # One helper process generates the next chunks while this one inserts (2 cores).
    with ProcessPoolExecutor(max_workers=1) as pool:
        jobs = [pool.submit(_chunk, seed, n, a, min(n, a + chunk - 1)) for a in starts[:2]]
        for i in range(len(starts)):
            if i + 2 < len(starts):  # at most two chunks in flight: memory stays flat
                a = starts[i + 2]
                jobs.append(pool.submit(_chunk, seed, n, a, min(n, a + chunk - 1)))
            for table, rows in jobs[i].result().items():
                con.executemany(ins[table], rows)
                totals[table] += len(rows)
    con.execute("COMMIT")
    for _name, sql in indexes:
        con.execute(sql)
    # Leave the file as the app would: WAL mode, nothing pending.
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    return totals


def _chunk(seed: int, n: int, first: int, last: int) -> dict[str, list]:
    """Rows for deals first..last; a chunk's random stream depends only on its bounds."""
    rng = random.Random(f"{seed}:{n}:{first}")
    # Child ids are derived from the deal id (gaps are fine), so chunks are independent.
    ids = {"history": (first - 1) * 16, "followup": (first - 1) * 2, "touch": (first - 1) * 4}
    out: dict[str, list] = {"deal": [], "history": [], "followup": [], "touch": []}
    for deal_id in range(first, last + 1):
        _one_deal(rng, deal_id, ids, out["deal"], out["history"], out["followup"], out["touch"])
    return out


def _one_deal(rng: random.Random, deal_id: int, ids: dict, deals: list, hist: list,
              fus: list, touches: list) -> None:
    r = rng.random()
    stage, status = next((s, st) for cut, s, st in MIX if r < cut)
    path = PATH_TO[stage]
    # One in ten deals was created (imported) straight into a later stage.
    first = path[0] if rng.random() < 0.9 else path[rng.randrange(len(path))]
    steps = path[path.index(first):]
    age_days = rng.uniform(2, 720)
    created = NOW_UTC - timedelta(days=age_days, seconds=rng.randrange(86_400))
    # Stage entries spread over the deal's life; the current stay is fairly recent.
    span = (NOW_UTC - created).total_seconds()
    if status == "open":
        current_stay = min(span * 0.9, rng.expovariate(1 / (14 * 86_400)))
    else:
        current_stay = span * rng.uniform(0.05, 0.6)
    entered_last = NOW_UTC - timedelta(seconds=current_stay)
    moves = len(steps) - 1
    times = [created] + sorted(
        created + (entered_last - created) * rng.random() for _ in range(max(0, moves - 1)))
    if moves:
        times.append(entered_last)
    stage_entered = times[-1]
    action = f"{deal_id:010x}"
    customer = f"{CUSTOMERS[deal_id % len(CUSTOMERS)]} {deal_id}"
    amount = rng.choice((5, 8, 12, 20, 35, 50, 80, 120, 200, 500)) * 100_000 + rng.choice((0, 50_000))
    custom = rng.random() < 0.15
    prob = rng.randrange(5, 96, 5) if custom else PROB[stage]

    def h(at, kind, **kw):
        ids["history"] += 1
        hist.append((ids["history"], deal_id, ts(at), kind, kw.get("from_stage"), kw.get("to_stage"),
                     kw.get("field"), kw.get("old"), kw.get("new"), kw.get("action", action)))

    h(created, "created", to_stage=steps[0])
    for i in range(1, len(steps)):
        h(times[i], "stage", field="stage", from_stage=steps[i - 1], to_stage=steps[i],
          old=steps[i - 1], new=steps[i], action=f"{action}m{i}")
        if steps[i] == "won":
            h(times[i], "won", field="status", old="open", new="won", action=f"{action}m{i}")
    closed = lost_reason = None
    if status == "won":
        closed = times[path.index("won") - path.index(first)] if "won" in steps else stage_entered
    elif status == "lost":
        closed = stage_entered + (NOW_UTC - stage_entered) * rng.uniform(0.1, 0.9)
        lost_reason = rng.choice(LOST)
        h(closed, "lost", field="status", old="open", new="lost", action=f"{action}x")
        h(closed, "field", field="lost_reason", old="", new=lost_reason, action=f"{action}x")
    # Touches (each a touch row and a history row) bring history to about three per deal.
    last_contact = None
    n_touch = rng.choice((0, 0, 1, 1)) if moves < 2 else 0
    end = closed or NOW_UTC
    for _ in range(n_touch):
        at = created + (end - created) * rng.random()
        ids["touch"] += 1
        note = rng.choice(("聊了预算", "Sent proposal", "客户内部评审", "Demo went well"))
        touches.append((ids["touch"], deal_id, None, rng.choice(KINDS), ts(at), note, None))
        h(at, "touch", field=f"touch.{ids['touch']}", new=note, action=f"{action}t{ids['touch']}")
        last_contact = at if last_contact is None or at > last_contact else last_contact
    next_fu = None
    if status == "open" and rng.random() < 0.6:
        for _ in range(2 if rng.random() < 0.1 else 1):
            # Mostly ahead, some overdue: about one in seven is past due.
            due = NOW_UTC + timedelta(seconds=rng.uniform(-6, 40) * 86_400)
            ids["followup"] += 1
            fus.append((ids["followup"], deal_id, rng.choice(KINDS), ts(due), "", "open",
                        ts(min(due, NOW_UTC) - timedelta(days=rng.uniform(0, 10))), None))
            next_fu = due if next_fu is None or due < next_fu else next_fu
    deleted = ts(NOW_UTC - timedelta(days=rng.uniform(0, 30))) if rng.random() < 0.01 else None
    updated = max(t for t in (stage_entered, closed, last_contact) if t is not None)
    # Drawn in this order (the seeded data and the import CSV stay the same).
    title, industry, size, contact = (rng.choice(TITLES), rng.choice(INDUSTRIES),
                                      rng.choice(("1-50", "50-200", "200-1000", "1000+")), rng.choice(CONTACTS))
    deals.append((
        deal_id, f"00000000-0000-4000-8000-{deal_id:012x}", None, customer,
        title, industry, size, contact, rng.choice(ROLES),
        f"+86 139 {deal_id % 10_000:04d} {rng.randrange(10_000):04d}",
        "", rng.choice(SOURCES), rng.randint(2, 10), rng.choice(OWNERS), stage, status, amount, "CNY",
        prob, custom, (created + timedelta(days=rng.randint(30, 150))).date().isoformat(),
        rng.choice(("high", "medium", "low", None)), "", "", "", "", "", "", lost_reason or "", "",
        ts(created), ts(updated), ts(stage_entered), ts(last_contact) if last_contact else None,
        ts(next_fu) if next_fu else None, ts(closed) if closed else None, deleted, 1 + len(steps),
        deal_search_key(customer, title, contact),  # as the store writes it
    ))


def write_csv(path: Path, n: int, *, seed: int = 7) -> Path:
    """A CSV of `n` new deals in the documented columns (for the import benchmark)."""
    import csv

    from funnel_tui.exchange.columns import CSV_COLUMNS

    cols = [c for c in CSV_COLUMNS if c not in ("id", "uid", "external_id")]
    rng = random.Random(seed)
    rows: list = []
    ids = {"history": 0, "followup": 0, "touch": 0}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(cols)
        for deal_id in range(1, n + 1):
            deals: list = []
            _one_deal(rng, deal_id, ids, deals, [], [], [])
            rec = dict(zip(DEAL_COLS, deals[0]))
            rec["amount"] = f"{rec['amount'] / 100:.2f}"  # major units, as export writes them
            for col in ("created_at", "stage_entered_at", "last_contact_at", "next_follow_up_at",
                        "closed_at"):
                if rec[col]:
                    rec[col] = rec[col].replace(" ", "T")[:19] + "+00:00"
            rows.append(["" if rec.get(c) is None else rec.get(c) for c in cols])
            if len(rows) >= 10_000:
                writer.writerows(rows)
                rows.clear()
        writer.writerows(rows)
    return path


def main(argv: list[str] | None = None) -> int:
    sizes = (argv if argv is not None else sys.argv[1:]) or ["1k", "100k"]
    digest = schema_hash()
    for size in sizes:
        print(ensure_db(size, digest=digest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
