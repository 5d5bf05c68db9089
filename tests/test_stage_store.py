"""Stage changes in the store: history and undo, backups, refusals, the SQL funnel against
hand-computed numbers and against the plain-rows contract, pipelines, the checklist, and the
v1 database upgrading to stages of the rep's own."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from test_safety_upgrade import deal_since_v1

from funnel_tui.domain.funnel import facts_from_rows, summarize
from funnel_tui.models import SCHEMA_VERSION, Deal, History
from funnel_tui.store import Store, StoreError
from funnel_tui.store.backup import list_backups
from funnel_tui.store.summary import DealSet
from funnel_tui.store.tables import aware_row

UTC = timezone.utc
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 1, tzinfo=UTC)
FIXTURE = Path(__file__).parent / "fixtures" / "schema_v1.db"
# The store's stage SQL runs on a team's PostgreSQL server too (tests reading the file: SQLite).
pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def rows(store: Store) -> tuple[list[dict], list[dict]]:
    with store.read() as conn:
        deals = [aware_row(dict(r)) for r in conn.execute(select(Deal.__table__)).mappings()]
        history = [aware_row(dict(r)) for r in conn.execute(select(History.__table__)).mappings()]
    return deals, history


def oracle(store: Store, *, now, as_of=None, owner=None, pipeline=None):
    """The plain-rows contract over the same database, with the stages as they stood."""
    deals, history = rows(store)
    keys = {s.key for s in store.pipeline_stages(pipeline)}
    chosen = [d for d in deals if d["stage"] in keys and (owner is None or d["owner"] == owner)]
    stages = store.stage_set(pipeline, as_of)
    return summarize(stages, facts_from_rows(stages, chosen, history, now=now, as_of=as_of),
                     owner=owner, as_of=as_of or now)


def close(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-6 * max(1.0, abs(a)) or abs(a - b) < 1e-5
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return a == b


def line(s, key):
    return next(x for x in s["stages"] if x["key"] == key)


def stage_keys(store, pipeline=None):
    return [s.key for s in store.stages(pipeline)]


# --- the split of the domain's hand-computed case, through the store's SQL -------------------


@pytest.fixture
def split_store(store):
    a = store.add_deal({"customer": "A", "amount": "100"}, now=day(0))
    store.move_deal(a, "qualified", now=day(2))
    store.move_deal(a, "negotiation", now=day(5))
    b = store.add_deal({"customer": "B", "amount": "100"}, now=day(1))
    store.move_deal(b, "negotiation", now=day(4))
    c = store.add_deal({"customer": "C", "amount": "100"}, now=day(2))
    store.move_deal(c, "negotiation", now=day(6))
    store.lose_deal(c, "price", now=day(8))
    store.split_stage("negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")], now=day(10))
    store.move_deal(a, "price", now=day(14))
    store.move_deal(a, "won", now=day(20))
    d = store.add_deal({"customer": "D", "amount": "100"}, now=day(12))
    store.move_deal(d, "terms", now=day(15))
    store.move_deal(d, "price", now=day(18))
    return store


def test_sql_after_a_split_matches_the_hand_computed_numbers(split_store):
    s = split_store.summary(now=day(30))
    assert [x["key"] for x in s["stages"]] == ["lead", "qualified", "demo", "terms", "price", "won", "expansion"]
    assert [x["reached"] for x in s["stages"]] == [4, 4, 4, 4, 2, 1, 0]
    assert line(s, "terms")["completed_stays"] == 2 and line(s, "terms")["avg_days_in_stage"] == pytest.approx(6.0)
    assert line(s, "lead")["avg_days_in_stage"] == pytest.approx(3.0)
    assert line(s, "terms")["current_avg_dwell"] == pytest.approx(26.0)
    assert close(s, oracle(split_store, now=day(30)))


def test_sql_as_of_before_and_after_a_split(split_store):
    before = split_store.summary(now=day(30), as_of=day(9))
    assert [x["key"] for x in before["stages"]] == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
    assert [x["reached"] for x in before["stages"]] == [3, 3, 3, 3, 0, 0]
    assert line(before, "negotiation")["current"] == 2
    assert line(before, "negotiation")["current_avg_dwell"] == pytest.approx(4.5)
    after = split_store.summary(now=day(30), as_of=day(16))
    assert [x["reached"] for x in after["stages"]] == [4, 4, 4, 4, 1, 0, 0]
    assert line(after, "terms")["avg_days_in_stage"] == pytest.approx(9.0)
    assert line(after, "terms")["current_avg_dwell"] == pytest.approx(6.5)
    for t in (3, 9, 10, 12, 16, 25):
        assert close(split_store.summary(now=day(30), as_of=day(t)), oracle(split_store, now=day(30), as_of=day(t))), t


@pytest.mark.sqlite_only  # reads the backups next to the file
def test_split_moves_the_deals_in_history_keeps_their_clock_and_undoes_whole(split_store, db_path):
    store = split_store
    b = next(d for d in store.list_deals(status="all") if d["customer"] == "B")
    assert b["stage"] == "terms" and b["stage_entered_at"] == day(4)
    moves = [h for h in store.deal_history(b["id"]) if h["kind"] == "stage"]
    assert (moves[-1]["from_stage"], moves[-1]["to_stage"]) == ("negotiation", "terms")
    assert any(i.reason.startswith("stages-split") for i in list_backups(db_path))
    # Undo walks back the newest actions first; the split comes back whole.
    for _step in range(5):  # D's three actions, A's two moves after the split
        store.undo(now=day(31))
    assert store.undo(now=day(31))["setup"] > 0
    assert stage_keys(store) == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
    assert {s.key for s in store.all_stages()} == {"lead", "qualified", "demo", "negotiation", "won", "expansion"}
    assert store.get_deal(b["id"])["stage"] == "negotiation"
    assert store.get_deal(b["id"])["stage_entered_at"] == day(4)


# --- each change: history, undo, backups, refusals ---------------------------------------------


@pytest.mark.sqlite_only  # reads the backups next to the file
def test_add_edit_move_archive_each_undo_to_the_stages_before(store, db_path, now):
    start = store.all_stages()
    store.add_stage("kickoff", now=now, name="Kick-off", name_zh="启动会", after="won",
                    actions="Kick-off meeting; Hand over to delivery")
    kick = store.stage("kickoff")
    assert kick.kind == "post" and kick.items("actions") == ["Kick-off meeting", "Hand over to delivery"]
    store.edit_stage("qualified", {"name": "Interested", "max_dwell_days": "10"}, now=now)
    assert store.stage("qualified").name == "Interested" and store.stage("interested").key == "qualified"
    store.move_stage("demo", before="qualified", now=now)
    assert stage_keys(store)[:3] == ["lead", "demo", "qualified"]
    store.archive_stage("demo", now=now)
    assert "demo" not in stage_keys(store) and store.stage("demo").archived
    assert not list_backups(db_path)  # no deal was touched: no backup
    for _step in range(4):
        store.undo(now=now)
    assert store.all_stages() == start


@pytest.mark.sqlite_only  # reads the backups next to the file
def test_a_new_default_probability_reprices_the_deals_that_follow_it(store, db_path, now):
    follows = store.add_deal({"customer": "F"}, now=now)
    own = store.add_deal({"customer": "O", "probability": "33"}, now=now)
    store.edit_stage("lead", {"probability": 15}, now=now)
    assert store.get_deal(follows)["probability"] == 15 and store.get_deal(own)["probability"] == 33
    assert any(i.reason.startswith("stages-edit") for i in list_backups(db_path))
    store.undo(now=now)
    assert store.get_deal(follows)["probability"] == 10 and store.stage("lead").probability == 10


def test_merge_moves_the_deals_and_takes_the_target_probability(store, now):
    d = store.add_deal({"customer": "M", "stage": "qualified"}, now=now)
    store.merge_stage("qualified", "demo", now=now)
    deal = store.get_deal(d)
    assert deal["stage"] == "demo" and deal["probability"] == 50
    assert store.stage("qualified").maps_to == "demo"
    store.undo(now=now)
    assert store.get_deal(d)["stage"] == "qualified" and store.get_deal(d)["probability"] == 25


@pytest.mark.parametrize("change, message", [
    (lambda s, n: s.add_stage("won2", now=n, name="Lead", after="lead"), "would both be called 'Lead'"),
    (lambda s, n: s.add_stage("demo", now=n, name="Demo 2", after="lead"), "already exists"),
    (lambda s, n: s.add_stage("x", now=n, name="X", name_zh="商务谈判", after="lead"), "would both be called"),
    (lambda s, n: s.edit_stage("lead", {"probability": 150}, now=n), "out of range; use 0–100"),
    (lambda s, n: s.edit_stage("lead", {"max_dwell_days": 0}, now=n), "not above 0 days"),
    (lambda s, n: s.move_stage("lead", after="won", now=n), "open stages come before the won stage"),
    (lambda s, n: s.split_stage("won", [("w1", "W1", ""), ("w2", "W2", "")], now=n), "exactly one"),
    (lambda s, n: s.archive_stage("won", now=n), "keeps exactly one"),
    (lambda s, n: s.merge_stage("negotiation", "won", now=n), "merge stages of one kind"),
    (lambda s, n: s.add_stage("Bad Key", now=n, name="B", after="lead"), "not a stage key"),
])
def test_changes_that_break_an_invariant_are_refused_and_change_nothing(store, now, change, message):
    before = store.all_stages()
    with pytest.raises(StoreError, match=message):
        change(store, now)
    assert store.all_stages() == before
    assert store.undo(now=now) is None  # nothing was recorded


def test_archive_is_refused_while_open_deals_sit_there_with_the_count_and_the_way_out(store, now):
    for name in ("A", "B"):
        store.add_deal({"customer": name, "stage": "demo"}, now=now)
    with pytest.raises(StoreError, match=r"demo: 2 open deal\(s\).*funnel stages merge demo INTO qualified"):
        store.archive_stage("demo", now=now)
    assert not store.stage("demo").archived


# --- the SQL agrees with the contract whatever the stages went through ----------------------------

STEP = st.tuples(
    st.sampled_from(["new", "new", "move", "move", "lose", "undo", "split", "merge", "reorder", "archive", "add"]),
    st.integers(0, 40),
    st.floats(0.05, 3),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=1, max_size=22), st.floats(0, 1))
def test_sql_matches_the_plain_contract_across_stage_changes(steps, cut):
    from funnel_tui.domain.validation import ValidationError

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "t.db")
        try:
            t, fresh = 0.0, iter(range(1000))
            for op, pick, dt in steps:
                t += dt
                live = store.stages()
                target = live[pick % len(live)].key
                ids = [d["id"] for d in store.list_deals(status="all")]
                try:
                    if op == "new" or not ids:
                        store.add_deal({"customer": "X", "amount": str(10 * (pick + 1)), "owner": "me" if pick % 2 else "",
                                        "stage": target}, now=day(t))
                    elif op == "move":
                        store.move_deal(ids[pick % len(ids)], target, now=day(t))
                    elif op == "lose":
                        store.lose_deal(ids[pick % len(ids)], "price", now=day(t))
                    elif op == "undo":
                        store.undo(now=day(t))
                    elif op == "split":
                        n = next(fresh)
                        store.split_stage(target, [(f"p{n}a", f"P{n}a", ""), (f"p{n}b", f"P{n}b", "")], now=day(t))
                    elif op == "merge":
                        other = live[(pick + 1) % len(live)].key
                        store.merge_stage(target, other, now=day(t))
                    elif op == "reorder":
                        other = live[(pick + 1) % len(live)].key
                        store.move_stage(target, after=other, now=day(t))
                    elif op == "archive":
                        store.archive_stage(target, now=day(t))
                    else:
                        n = next(fresh)
                        store.add_stage(f"s{n}", name=f"S{n}", after=target, now=day(t))
                except (StoreError, ValidationError):
                    pass
            now = day(t + 1)
            plain = store.summary(now=now)
            assert close(plain, oracle(store, now=now))
            r = [x["reached"] for x in plain["stages"]]
            assert all(x >= y for x, y in zip(r, r[1:]))
            as_of = day(t * cut)
            assert close(store.summary(now=now, as_of=as_of), oracle(store, now=now, as_of=as_of))
            assert close(store.summary(now=now, deals=DealSet(owner="me")), oracle(store, now=now, owner="me"))
        finally:
            store.close()


# --- pipelines --------------------------------------------------------------------------------------


@pytest.fixture
def two_pipelines(store, now):
    store.add_pipeline("renewals", name="Renewals", name_zh="续费", now=now,
                       parts=[("renew-due", "Due", "到期提醒"), ("renew-talk", "Talk", "续费沟通"),
                              ("renewed", "Renewed", "续费成功")])
    new = store.add_deal({"customer": "New Co", "amount": "100"}, now=now)
    old = store.add_deal({"customer": "Old Co", "amount": "300"}, now=now, pipeline="续费")
    return new, old


def test_a_second_pipeline_keeps_its_own_stages_and_deals(store, now, two_pipelines):
    new, old = two_pipelines
    assert stage_keys(store) == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
    assert stage_keys(store, "renewals") == ["renew-due", "renew-talk", "renewed"]
    assert store.get_deal(old)["stage"] == "renew-due"
    assert [d["id"] for d in store.list_deals(pipeline="renewals")] == [old]
    assert len(store.list_deals()) == 2  # no pipeline named: every deal
    main = store.summary(now=now)
    renewals = store.summary(now=now, pipeline="renewals")
    assert main["deals"] == 1 and renewals["deals"] == 1
    assert [x["key"] for x in renewals["stages"]] == ["renew-due", "renew-talk", "renewed"]
    assert close(renewals, oracle(store, now=now, pipeline="renewals"))
    with pytest.raises(StoreError, match="a deal stays in its pipeline"):
        store.move_deal(old, "won", now=now)
    store.move_deal(old, "renewed", now=now)
    assert store.get_deal(old)["status"] == "won"
    assert store.summary(now=now, pipeline="renewals")["won"] == 1 and store.summary(now=now)["won"] == 0


def test_due_and_warnings_follow_the_pipeline(store, now, two_pipelines):
    from funnel_tui.domain.validation import FollowUpDraft

    new, old = two_pipelines
    for deal in (new, old):
        store.add_follow_up(FollowUpDraft(deal, now - timedelta(hours=1)), now=now)
    assert {i.deal_id for i in store.due(now=now)} == {new, old}
    assert {i.deal_id for i in store.due(now=now, pipeline="main")} == {new}
    assert {i.deal_id for i in store.due(now=now, pipeline="renewals")} == {old}
    later = now + timedelta(days=60)
    assert {w.deal_id for w in store.warnings(now=later, pipeline="renewals")} == {old}


def test_one_pipeline_stays_the_default_and_names_are_checked(store, now, two_pipelines):
    with pytest.raises(StoreError, match="already exists"):
        store.add_pipeline("renewals", name="X", now=now, parts=[("x1", "X1", ""), ("x2", "X2", "")])
    with pytest.raises(StoreError, match="would both be called"):
        store.add_pipeline("again", name="Renewals", now=now, parts=[("y1", "Y1", ""), ("y2", "Y2", "")])
    store.edit_pipeline("renewals", default=True, now=now)
    assert store.pipeline().key == "renewals" and sum(p.is_default for p in store.pipelines()) == 1
    store.undo(now=now)
    assert store.pipeline().key == "main"


# --- the checklist ------------------------------------------------------------------------------------


def test_ticks_are_stored_in_history_and_undone(store, now):
    d = store.add_deal({"customer": "T"}, now=now)
    assert store.set_tick(d, "actions.0", True, now=now) is True
    assert store.set_tick(d, "actions.0", True, now=now) is False  # already ticked
    assert store.ticks(d, "lead") == {"actions.0"}
    row = store.deal_history(d)[-1]
    assert (row["kind"], row["field"], row["old"], row["new"]) == ("field", "check:lead:actions.0", "0", "1")
    assert store.unticked_actions(store.get_deal(d)) == ["Send the product brief"]
    assert store.tick_counts([store.get_deal(d)]) == {d: 1}
    store.undo(now=now)
    assert store.ticks(d, "lead") == set()
    with pytest.raises(StoreError, match="has no item"):
        store.set_tick(d, "actions.9", True, now=now)
    # A deal back in a stage finds its ticks there; another stage's ticks do not count.
    store.set_tick(d, "outputs.0", True, now=now)
    store.move_deal(d, "qualified", now=now)
    assert store.tick_counts([store.get_deal(d)]) == {}
    store.move_deal(d, "lead", now=now)
    assert store.tick_counts([store.get_deal(d)]) == {d: 1}


# --- the weekly review's suggestion -----------------------------------------------------------------


def test_review_suggests_splitting_a_stage_overstayed_four_weeks_running(store):
    now = datetime(2026, 11, 24, 2, tzinfo=UTC)  # Tuesday; last week began Mon 16 Nov (Shanghai)
    for weeks_back in (1, 2, 3, 4):
        left = now - timedelta(days=7 * weeks_back)
        d = store.add_deal({"customer": f"W{weeks_back}", "stage": "negotiation"}, now=left - timedelta(days=20))
        store.move_deal(d, "won", now=left)
    slow = store.review(now=now, tz=TZ)["slow_stages"]
    assert [s["stage"] for s in slow] == ["negotiation"]
    assert [round(w["avg_days"]) for w in slow[0]["weeks"]] == [20, 20, 20, 20]
    quick = store.add_deal({"customer": "Q", "stage": "negotiation"}, now=now - timedelta(days=23))
    store.move_deal(quick, "won", now=now - timedelta(days=21))  # week 3's average: 11 days
    assert store.review(now=now, tz=TZ)["slow_stages"] == []


# --- the released v1 database ------------------------------------------------------------------------


def test_the_v1_fixture_upgrades_to_stages_with_playbooks_and_keeps_its_numbers(tmp_path, now):
    path = tmp_path / "data" / "funnel.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    deals_before = [deal_since_v1(dict(r)) for r in con.execute("SELECT * FROM deal ORDER BY id")]
    con.row_factory = None
    history_before = con.execute("SELECT * FROM history ORDER BY id").fetchall()
    con.close()
    store = Store(path)
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    # upgraded intact (v6 added the search key and keeps list words of lost reasons as codes)
    assert [dict(r) for r in con.execute("SELECT * FROM deal ORDER BY id")] == deals_before
    con.row_factory = None
    # v3 added history's author ('' for the rows written before authors were kept)
    assert [r[:-1] for r in con.execute("SELECT * FROM history ORDER BY id")] == history_before
    assert {r[0] for r in con.execute("SELECT author FROM history")} == {""}
    con.close()
    try:
        assert [p.key for p in store.pipelines()] == ["main"]
        assert stage_keys(store) == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
        assert store.stage("lead").items("actions", "zh") == ["初步需求调研", "发送产品简介"]
        assert all(s.pipeline == "main" and not s.archived for s in store.all_stages())
        summary = store.summary(now=now)
        assert summary["deals"] == 22
        store.split_stage("negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")], now=now)
        store.undo(now=now)
        assert close(store.summary(now=now), summary)
    finally:
        store.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert [r[:-1] for r in con.execute(f"SELECT * FROM history ORDER BY id LIMIT {len(history_before)}")] \
        == history_before
    con.close()


def test_undoing_a_new_stage_rehomes_the_deleted_deals_still_pointing_at_it(store, now):
    store.add_stage("intro", now=now, name="Intro", after="lead")
    d = store.add_deal({"customer": "I", "stage": "intro"}, now=now)
    store.undo(now=now)  # the deal's creation: soft-deleted, still in intro
    store.undo(now=now)  # the stage's creation: gone again; the deleted deal goes to lead
    assert "intro" not in {s.key for s in store.all_stages()}
    assert store.get_deal(d, include_deleted=True)["stage"] == "lead"
    store.restore_deal(d, now=now)
    assert store.get_deal(d)["stage"] == "lead"


def test_review_cohorts_read_through_a_split_by_hand(store):
    """The weekly review's cohort conversion (DESIGN §3) across a split, by hand. Shanghai
    weeks; now is Tuesday 24 Nov 10:00, so last week ran 16–23 Nov, the week before 9–16."""
    def at(day: int) -> datetime:
        return datetime(2026, 11, day, 10, tzinfo=TZ)

    d1, d2, d3 = (store.add_deal({"customer": f"D{i}", "stage": "demo"}, now=at(10)) for i in (1, 2, 3))
    for d in (d1, d2, d3):
        store.move_deal(d, "negotiation", now=at(17))
    store.move_deal(d1, "won", now=at(18))
    store.split_stage("negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")], now=at(19))
    store.move_deal(d2, "price", now=at(20))
    r = store.review(now=datetime(2026, 11, 24, 10, tzinfo=TZ), tz=TZ)
    conv = {c["stage"]: c for c in r["conversion"]}
    assert "negotiation" not in conv  # today's stages: the split's parts
    # Terms, last week: D1–D3 entered negotiation (it counts as terms now; the split's own
    # moves, negotiation → terms on the 19th, are no entry). D1 (won) and D2 (price) have
    # reached price or beyond since; D3 sits in terms.
    assert (conv["terms"]["last_week"]["n"], conv["terms"]["last_week"]["d"]) == (2, 3)
    # Price, last week: D2 entered on the 20th and has not reached won.
    assert (conv["price"]["last_week"]["n"], conv["price"]["last_week"]["d"]) == (0, 1)
    # Demo, the week before: D1–D3 created there; all three reached terms (as negotiation).
    assert (conv["demo"]["week_before"]["n"], conv["demo"]["week_before"]["d"]) == (3, 3)
    # The flow counts the same entries: three into terms last week, one into price.
    flow = store.weekly_flow(now=datetime(2026, 11, 24, 10, tzinfo=TZ), tz=TZ)
    assert (flow["entered:terms"][1], flow["entered:price"][1], flow["entered:won"][1]) == (3, 1, 1)


def test_a_merge_after_a_move_keeps_the_open_stay_out_of_completed_days(store):
    """Deal 1 sat in Demo two days and went back to Lead; deal 2 went Demo → Negotiation; then Demo
    was merged into Negotiation. Negotiation's one completed stay is deal 1's two days."""
    a = store.add_deal({"customer": "A", "amount": "10", "stage": "demo"}, now=day(1))
    b = store.add_deal({"customer": "B", "amount": "10", "stage": "demo"}, now=day(2))
    store.move_deal(a, "lead", now=day(3))
    store.move_deal(b, "negotiation", now=day(4))
    store.merge_stage("demo", "negotiation", now=day(5))
    now = day(6)
    assert close(store.summary(now=now), oracle(store, now=now))
    negotiation = next(s for s in store.summary(now=now)["stages"] if s["key"] == "negotiation")
    assert negotiation["avg_days_in_stage"] == pytest.approx(2.0)
