"""The board's first frame without SQLAlchemy (issue 19): store/board_read.BoardReader answers
exactly what the Store answers, and `funnel tui` on a plain SQLite file draws the same board
from it, opening the Store only once the first cards are up (tui/board_data.StoreOpening)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel_tui.domain.validation import FollowUpDraft
from funnel_tui.store import Store, due_read
from funnel_tui.store.times import utc_text
from funnel_tui.store.board_read import BoardReader
from funnel_tui.tui.board_data import FirstRead, StoreOpening, read_board
from test_due_read import CLOCKS, OWNERS, STAGES, fill, offsets

REPO = Path(__file__).resolve().parents[1]

deals = st.lists(
    st.fixed_dictionaries({
        "owner": st.sampled_from(OWNERS),
        "status": st.sampled_from(("open", "open", "won", "lost")),
        "deleted": st.booleans(),
        "stage": st.sampled_from(STAGES),
        "followups": st.lists(st.tuples(offsets, st.sampled_from(("open", "done"))), max_size=2),
    }),
    max_size=30,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("board-read") / "template.db"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    return path


CURRENCIES = ("CNY", "CNY", "USD", "EUR")
# Exchange rates into CNY as the rep sets them (settings rate:USD …): none, some, all.
RATES = (None, {"rate:USD": "7.1"}, {"rate:USD": "7.1", "rate:EUR": "7.8123456789"})


def _spread(path: Path, data: list[dict], now, *, mixed: bool = False, rates: dict | None = None) -> None:
    """Amounts, probabilities, next follow-ups and close times as varied as a pipeline's
    (fill() writes the deals; the store keeps these columns itself); `mixed`: in several
    currencies, with the exchange `rates` set."""
    con = sqlite3.connect(path)
    for n, d in enumerate(data, start=1):
        due = sorted(now + off for off, status in d["followups"] if status == "open")
        con.execute("UPDATE deal SET amount = ?, probability = ?, next_follow_up_at = ?, closed_at = "
                    "CASE WHEN status = 'open' THEN NULL ELSE ? END, risk_level = ?, lead_score = ?, "
                    "currency = ? WHERE id = ?",
                    ((n * 7919) % 50 * 10_000, (n * 37) % 101, utc_text(due[0]) if due else None,
                     utc_text(now - timedelta(hours=n % 5)), ("low", "medium", "high", None)[n % 4],
                     (None, 3, 7)[n % 3], CURRENCIES[n % len(CURRENCIES)] if mixed else "CNY", n))
    for key, value in (rates or {}).items():
        con.execute("INSERT INTO setting (key, value) VALUES (?, ?)", (key, value))
    con.commit()
    con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=deals, now=st.sampled_from(CLOCKS), limit=st.integers(1, 7),
       shares=st.sampled_from([None, ("0.7", "0.9"), ("0.5", "")]), mixed=st.booleans(),
       rates=st.sampled_from(RATES))
def test_the_board_reader_answers_what_the_store_answers(template, tmp_path, data, now, limit, shares, mixed,
                                                         rates):
    path = fill(template, tmp_path, data, now)
    _spread(path, data, now, mixed=mixed, rates=rates)
    store = Store(path)
    if shares:
        store.set_setting("tier_a_share", shares[0])
        store.set_setting("tier_b_share", shares[1])
    store.set_setting("lang", "zh")
    reader = BoardReader(due_read.open_plain(path))
    try:
        assert reader.stages() == store.stages()
        for key in ("lang", "theme", "tier_a_share", "me"):
            assert reader.get_setting(key) == store.get_setting(key)
            assert reader.get_setting(key, "x") == store.get_setting(key, "x")
        for status in ("open", "won", "lost"):
            assert reader.board_totals(status=status) == store.board_totals(status=status)
            for stage in STAGES:
                assert reader.board_column(stage, limit=limit, status=status) == \
                    store.board_column(stage, limit=limit, status=status)
        assert reader.tier_cutoffs() == store.tier_cutoffs()
        assert read_board(reader, False, {"lead": limit}) == read_board(store, False, {"lead": limit})
    finally:
        reader.close()
        store.close()


def _two_pipelines(store: Store, now, tz) -> None:
    """Schema v5 as a rep fills it: a renewals pipeline beside new business, `demo` archived,
    `negotiation` split (its deals move to `terms`), deals in both pipelines, playbook ticks."""
    store.add_pipeline("renewals", name="Renewals", name_zh="续费", now=now,
                       parts=[("renew-due", "Renewal due", "到期提醒"), ("renew-talk", "Talks", "续费沟通"),
                              ("renewed", "Renewed", "续费成功")])
    store.edit_stage("renew-talk", {"actions": "Call the user\nSend the offer"}, now=now)
    # ids 1–12: renewals 1 4 7 10 (renew-due, renew-talk, …); new business 2 qualified, 3 demo,
    # 5 lead, 6 qualified, 8 negotiation, 9 lead, 11 demo, 12 negotiation.
    for k in range(12):
        renewal = k % 3 == 0
        deal_id = store.add_deal({"customer": f"客户 {k:02d}", "amount": str(1000 * (k + 1)),
                                  "stage": ("renew-due", "renew-talk")[k % 2] if renewal else STAGES[k % 4]},
                                 now=now, tz=tz, pipeline="renewals" if renewal else None)
        if k % 2:
            store.add_follow_up(FollowUpDraft(deal_id, now + timedelta(hours=k - 6)), now=now)
    store.lose_deal(3, "price", now=now)  # lost in demo, which is archived below
    store.move_deal(11, "qualified", now=now)  # demo's open deal moves on first
    store.move_deal(5, "won", now=now)
    for deal_id, n in ((8, 1), (2, 2), (9, 2), (4, 2)):  # 8's tick stays with negotiation
        stage = store.stage(store.get_deal(deal_id)["stage"])
        for item, _text in stage.checklist()[:n]:
            assert store.set_tick(deal_id, item, True, now=now)
    store.split_stage("negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")], now=now)
    store.archive_stage("demo", now=now)


def _same_board(store: Store, path) -> None:
    """Every read the board's first frame makes, from the sqlite3 reader and from the Store."""
    store.forget_stages()
    reader = BoardReader(due_read.open_plain(path))
    try:
        assert reader.all_stages() == store.all_stages()
        assert reader.pipelines() == store.pipelines()
        for pipeline in (None, "main", "renewals", "续费", "New business"):
            assert reader.pipeline(pipeline) == store.pipeline(pipeline)
            assert reader.stages(pipeline) == store.stages(pipeline), pipeline
            for lost in (False, True):
                assert read_board(reader, lost, {}, pipeline) == read_board(store, lost, {}, pipeline)
        cards = [c for key in {s.key for s in store.all_stages()} for c in store.board_column(key, limit=50)]
        assert reader.tick_counts(cards) == store.tick_counts(cards)
        assert reader.tier_cutoffs() == store.tier_cutoffs()
    finally:
        reader.close()


def test_pipelines_archived_stages_and_ticks_read_as_the_store_reads_them(store, db_path, now, tz):
    """Schema v5: the default pipeline's live stages make the columns (archived ones never),
    another pipeline's when named, and the cards' playbook ticks; undo is followed too."""
    _two_pipelines(store, now, tz)
    _same_board(store, db_path)
    # By hand: the default pipeline without demo, negotiation split; renewals its own three.
    reader = BoardReader(due_read.open_plain(db_path))
    try:
        assert [s.key for s in reader.stages()] == ["lead", "qualified", "terms", "price", "won", "expansion"]
        assert [s.key for s in reader.stages("renewals")] == ["renew-due", "renew-talk", "renewed"]
        board = read_board(reader, False, {})
        assert "demo" not in board and "renew-due" not in board
        assert sorted(c["id"] for c in board["lead"][0]) == sorted(
            d["id"] for d in store.list_deals() if d["stage"] == "lead")
        ticked = {c["id"]: c["ticked"] for rows, _totals, _lost in board.values() for c in rows if c["ticked"]}
        assert ticked == {2: 2, 9: 2}  # 8 ticked in negotiation, and sits in terms now
        assert {c["id"]: c["ticked"] for c in read_board(reader, False, {}, "renewals")["renew-talk"][0]} == \
            {4: 2, 10: 0}
    finally:
        reader.close()
    for _step in range(3):  # the archive, the split, then the last tick taken back
        assert store.undo(now=now) is not None
        _same_board(store, db_path)
    reader = BoardReader(due_read.open_plain(db_path))
    try:
        assert [s.key for s in reader.stages()] == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
        assert reader.tick_counts([store.get_deal(4), store.get_deal(8)]) == {4: 1, 8: 1}
    finally:
        reader.close()


def test_the_store_opens_only_when_asked_and_then_answers_everything(store, db_path, now, tz):
    store.add_deal({"customer": "Acme", "amount": "100"}, now=now, tz=tz)
    store.set_setting("theme", "textual-light")
    reader = BoardReader(due_read.open_plain(db_path))
    opened = []

    def open_store():
        opened.append(1)
        return Store(db_path)

    opening = StoreOpening(reader, open_store)
    reader.close()  # what the first frame needs was read at once
    assert opening.stages() == store.stages()
    assert opening.get_setting("theme") == "textual-light" and opening.get_setting("lang", "en") == "en"
    assert opening.pipelines() == store.pipelines()  # the board binds `P` only with a second one
    assert opening.pipeline() == store.pipeline()  # and names the one shown in its title
    # what the board's title and the Summary's heading ask of a team: SQLite has none
    assert opening.view_owner is store.view_owner is None
    assert opening.team_role() is store.team_role() is None
    assert opening.seen_as(None) == store.seen_as(None) and opening.seen_as("王磊") == store.seen_as("王磊")
    assert opened == []
    assert opening.count_deals() == 1  # anything else opens the Store
    assert opened == [1]
    opening.set_setting("theme", "nord")
    assert opening.get_setting("theme") == "nord"  # the Store's from now on
    opening.open_in_background()
    assert opened == [1]


def test_the_first_frame_tiers_by_amount_when_the_setting_says_so(store, db_path, now, tz):
    """With `tiering amount` the first cards carry the amount tiers the Store gives (the
    thresholds and a rate for USD), never the ABC ranks; a bad threshold is refused alike."""
    from funnel_tui.domain.tiers import AmountTiers
    from funnel_tui.store import StoreError

    for amount in ("80000000", "79999999.99", "1000"):
        store.add_deal({"customer": f"c{amount}", "amount": amount}, now=now, tz=tz)
    store.add_deal({"customer": "usd", "amount": "20000000", "currency": "USD"}, now=now, tz=tz)
    store.set_setting("tiering", "amount")
    store.set_setting("rate:USD", "7.1")
    reader = BoardReader(due_read.open_plain(db_path))
    try:
        scheme = reader.tier_cutoffs()
        assert isinstance(scheme, AmountTiers) and scheme == store.tier_cutoffs()
        store.set_setting("tier_major_min", "90000000")  # above key: out of order
        with pytest.raises(StoreError) as fast:
            reader.tier_cutoffs()
        with pytest.raises(StoreError) as slow:
            store.tier_cutoffs()
        assert str(fast.value) == str(slow.value)
    finally:
        reader.close()


def test_a_store_that_fails_to_open_fails_where_it_is_needed(store, db_path):
    reader = BoardReader(due_read.open_plain(db_path))

    def broken():
        raise OSError("disk I/O error")

    opening = StoreOpening(reader, broken)
    reader.close()
    opening.open_in_background()  # quietly: the error belongs to the call that needs the Store
    with pytest.raises(OSError):
        opening.count_deals()
    with pytest.raises(OSError):
        opening.get_deal(1)


@pytest.mark.parametrize("pipelines", [False, True])
async def test_the_board_from_the_plain_read_looks_the_same(store, db_path, now, tz, pipelines):
    """The same screen, drawn from the sqlite3 first read through StoreOpening and from the
    Store itself; the Store opens once the first cards are up. `pipelines`: schema v5 with a
    second pipeline (the `P` key), archived and split stages and ticks; `P` shows renewals."""
    from funnel_tui.tui.app import FunnelApp

    if pipelines:
        _two_pipelines(store, now, tz)
    else:
        for k in range(30):
            deal_id = store.add_deal({"customer": f"客户 {k:02d}", "amount": str(1000 * (k + 1)),
                                      "stage": STAGES[k % 4]}, now=now, tz=tz)
            if k % 3:
                store.add_follow_up(FollowUpDraft(deal_id, now + timedelta(hours=k - 10)), now=now)
        store.lose_deal(3, "price", now=now)
        store.move_deal(4, "won", now=now)
    shots = []
    for plain in (False, True):
        if plain:
            reader = BoardReader(due_read.open_plain(db_path))
            source = StoreOpening(reader, lambda: Store(db_path))
            first = FirstRead(reader, done=reader.close)
        else:
            source, first = store, FirstRead(store)
        app = FunnelApp(source, lambda: now, tz=tz, lang="en", first_read=first)
        async with app.run_test(size=(160, 45)) as pilot:
            for _ in range(5):
                await pilot.app.workers.wait_for_complete()
                await pilot.pause()
            shots.append(app.export_screenshot())
            if plain:
                assert source._store is not None  # opened after the first cards
            if pipelines:
                await pilot.press("P")  # the renewals board
                for _ in range(5):
                    await pilot.app.workers.wait_for_complete()
                    await pilot.pause()
                assert [c.stage.key for c in app.screen_stack[0].columns] == ["renew-due", "renew-talk", "renewed"]
                shots.append(app.export_screenshot())
            elif plain:
                await pilot.press("L")  # a move goes through the Store
                for _ in range(3):
                    await pilot.app.workers.wait_for_complete()
                    await pilot.pause()
    half = len(shots) // 2
    assert shots[:half] == shots[half:]
    if pipelines:
        first, renewals = (re.sub(r"<[^>]+>", "", shot).replace("&#160;", " ") for shot in shots[:2])
        assert "Board · New business" in first and "Terms" in first and "Demo" not in first
        assert "Board · Renewals" in renewals and "Talks" in renewals
    else:
        assert store.get_deal(5)["stage"] == "qualified"  # the first lead card: the most overdue


def test_funnel_tui_draws_its_first_cards_before_sqlalchemy_loads(tmp_path):
    """`funnel tui` on a plain file: when the board has its cards, SQLAlchemy, SQLModel and
    the Store's modules have not been imported; the Store opens right after."""
    db = tmp_path / "t.db"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "XDG_DATA_HOME": str(tmp_path / "data"),
           "FUNNEL_NOW": "2026-11-24T10:00:00+08:00", "TZ": "Asia/Shanghai"}
    for argv in (["add", "Acme", "--follow-up", "+1h"], ["stages", "archive", "demo"],  # schema v5: a second
                 ["pipelines", "add", "renewals", "--name", "Renewals", "--stages", "due:Due", "renewed:Renewed"]):
        subprocess.run([sys.executable, "-m", "funnel_tui", "--db", str(db), *argv],  # pipeline binds `P`
                       check=True, env=env, capture_output=True, timeout=120)
    code = r'''
import sys
import funnel_tui.tui.app as appmod
from funnel_tui.cli import main
seen = {}

def run_app(store, clock, first_read=None, notes=()):
    class App(appmod.FunnelApp):
        CSS_PATH = appmod.FunnelApp.CSS_PATH
        def on_board_loaded(self):
            seen["cards"] = [o.deal["customer"] for o in self.screen_stack[0].column("lead").cards.options
                             if hasattr(o, "deal")]
            seen["columns"] = [c.stage.key for c in self.screen_stack[0].columns]
            seen["orm"] = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "sqlmodel")
                                 or m in ("funnel_tui.store.core", "funnel_tui.models"))
            super().on_board_loaded()
            self.set_timer(0.01, self._check)
        def _check(self):
            seen["opening"] = type(self.store).__name__
            seen["deals"] = self.store.count_deals()
            self.exit()
    App.CSS_PATH = str(appmod.Path(appmod.__file__).with_name("app.tcss"))
    App(store, clock, first_read=first_read, notes=notes).run(headless=True, size=(120, 30))
    return 0

appmod.run_app = run_app
main(sys.argv[1:])
print("SEEN", seen)
'''
    proc = subprocess.run([sys.executable, "-c", code, "--db", str(db), "tui"], env=env, capture_output=True,
                          text=True, timeout=120)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("SEEN ")), None)
    assert line is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    seen = eval(line[5:])  # noqa: S307 - our own subprocess's repr of plain data
    assert seen == {"cards": ["Acme"], "columns": ["lead", "qualified", "negotiation", "won", "expansion"],
                    "orm": [], "opening": "StoreOpening", "deals": 1}


async def test_a_big_pipeline_ranks_its_tiers_after_the_first_frame(store, db_path, now, tz, monkeypatch):
    """Past TIERS_AFTER_FIRST_FRAME open deals the first read ranks tiers only once the board
    has drawn its cards (then the marks follow), and the board takes them from that read."""
    from funnel_tui.domain.rules import TierCutoffs
    from funnel_tui.tui.app import FunnelApp

    for k in range(6):
        store.add_deal({"customer": f"Big {k}", "amount": str(1000 * (k + 1) ** 3)}, now=now, tz=tz)
    monkeypatch.setattr(FirstRead, "TIERS_AFTER_FIRST_FRAME", 3)
    reader = BoardReader(due_read.open_plain(db_path))
    ranked = []
    real = reader.tier_cutoffs
    reader.tier_cutoffs = lambda: ranked.append(1) or real()
    first = FirstRead(reader, done=reader.close)
    first.board.result(timeout=10)
    assert not first.painted.wait(timeout=0.3) and not first.tiers.done()  # waiting for the frame
    opening = StoreOpening(reader, lambda: Store(db_path))
    app = FunnelApp(opening, lambda: now, tz=tz, lang="en", first_read=first)
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(5):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        assert first.painted.is_set() and ranked == [1]
        board = app.screen_stack[0]
        assert board.tiers == store.tier_cutoffs() != TierCutoffs(None, None)
