"""The funnel contract across stage changes (domain/funnel.py): renamed, reordered, split,
merged and archived stages, with hand-computed cases over plain rows; and the stage set as it
stood at a past moment (`--as-of`), and the seed's slow-stage rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from itertools import count

from funnel_tui.domain.funnel import facts_from_rows, summarize
from funnel_tui.domain.stage_history import SETUP_KIND, slow_stages, stage_json, stages_as_of
from funnel_tui.domain.stage_plan import merge_stage, move_stage, split_stage
from funnel_tui.domain.stages import DEFAULT_STAGES, StageDef

UTC = timezone.utc
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


class Book:
    """Deals and history rows as the store writes them, stage changes included."""

    def __init__(self, stages=DEFAULT_STAGES):
        self.stages: list[StageDef] = list(stages)
        self.deals: list[dict] = []
        self.history: list[dict] = []
        self._hid = count(1)
        self._act = count(1)

    def _row(self, deal_id, at, kind, **kw):
        row = {"id": next(self._hid), "deal_id": deal_id, "at": at, "kind": kind, "from_stage": None,
               "to_stage": None, "field": None, "old": None, "new": None, "action": kw.pop("action", "")}
        row.update(kw)
        self.history.append(row)

    def deal(self, at, stage="lead", *, amount=100_00, probability=10) -> dict:
        d = {"id": len(self.deals) + 1, "owner": "me", "source": "web", "stage": stage, "status": "open",
             "amount": amount, "probability": probability, "created_at": at, "stage_entered_at": at,
             "closed_at": None, "lost_reason": "", "deleted_at": None}
        self.deals.append(d)
        self._row(d["id"], at, "created", to_stage=stage, action=f"a{next(self._act)}")
        return d

    def move(self, d, stage, at, *, relabel=False, action=None):
        action = action or f"a{next(self._act)}"
        self._row(d["id"], at, "stage", from_stage=d["stage"], to_stage=stage, field="stage",
                  old=d["stage"], new=stage, action=action)
        if not relabel:  # a split's or merge's move keeps the stay's clock
            self._row(d["id"], at, "field", field="stage_entered_at", old=d["stage_entered_at"].isoformat(),
                      new=at.isoformat(), action=action)
            d["stage_entered_at"] = at
        d["stage"] = stage
        if not relabel and stage == "won":
            self._row(d["id"], at, "won", field="status", old="open", new="won", action=action)
            d["status"], d["closed_at"] = "won", at

    def lose(self, d, at):
        action = f"a{next(self._act)}"
        self._row(d["id"], at, "lost", field="status", old="open", new="lost", action=action)
        self._row(d["id"], at, "field", field="lost_reason", old="", new="price", action=action)
        self._row(d["id"], at, "field", field="closed_at", old=None, new=at.isoformat(), action=action)
        d.update(status="lost", lost_reason="price", closed_at=at)

    def change(self, plan, at):
        """A stage change: setup rows for each changed stage, relabel moves for its deals."""
        action = f"a{next(self._act)}"
        old = {s.key: s for s in self.stages}
        for s in plan.stages:
            if old.get(s.key) != s:
                self._row(None, at, SETUP_KIND, field=f"stage:{s.key}", old=stage_json(old.get(s.key)),
                          new=stage_json(s), action=action)
        self.stages = [s for s in self.stages if s.key not in {p.key for p in plan.stages}] + plan.stages
        for source, target in plan.moves.items():
            for d in self.deals:
                if d["stage"] == source:
                    self.move(d, target, at, relabel=True, action=action)

    def stages_at(self, as_of):
        return stages_as_of(self.stages, self.history, as_of) if as_of else self.stages

    def summary(self, *, now, as_of=None):
        stages = self.stages_at(as_of)
        facts = facts_from_rows(stages, self.deals, self.history, now=now, as_of=as_of)
        return summarize(stages, facts, as_of=as_of or now)


def line(summary, key):
    return next(s for s in summary["stages"] if s["key"] == key)


def keys(summary):
    return [s["key"] for s in summary["stages"]]


def reached(summary):
    return [s["reached"] for s in summary["stages"]]


# --- a split, then as of before and after it ------------------------------------------------


def split_book() -> Book:
    """A 0→2 qualified 2→5 negotiation 5 (split day 10: → terms) → price 14 → won 20;
    B lead 1 → negotiation 4, still there; C lead 2 → negotiation 6, lost day 8;
    D (after the split) lead 12 → terms 15 → price 18."""
    b = Book()
    a = b.deal(day(0))
    b.move(a, "qualified", day(2))
    b.move(a, "negotiation", day(5))
    bee = b.deal(day(1))
    b.move(bee, "negotiation", day(4))
    c = b.deal(day(2))
    b.move(c, "negotiation", day(6))
    b.lose(c, day(8))
    b.change(split_stage(b.stages, "negotiation", [("terms", "Terms", "条款谈判"), ("price", "Price", "价格确认")]),
             day(10))
    b.move(a, "price", day(14))
    b.move(a, "won", day(20))
    d = b.deal(day(12))
    b.move(d, "terms", day(15))
    b.move(d, "price", day(18))
    return b


def test_after_a_split_old_history_counts_as_the_first_part():
    s = split_book().summary(now=day(30))
    assert keys(s) == ["lead", "qualified", "demo", "terms", "price", "won", "expansion"]
    assert reached(s) == [4, 4, 4, 4, 2, 1, 0]
    assert (line(s, "terms")["conversion_n"], line(s, "terms")["conversion_d"]) == (2, 4)
    assert line(s, "price")["conversion_to_next"] == 0.5
    # Stays: lead 2+3+4+3 days; terms: A 5→14 (the split's move is no exit) and D 15→18.
    assert line(s, "lead")["avg_days_in_stage"] == 3.0 and line(s, "lead")["completed_stays"] == 4
    assert line(s, "qualified")["avg_days_in_stage"] == 3.0
    assert line(s, "terms")["completed_stays"] == 2 and line(s, "terms")["avg_days_in_stage"] == 6.0
    assert line(s, "price")["avg_days_in_stage"] == 6.0
    assert [line(s, k)["current"] for k in ("terms", "price", "won")] == [1, 1, 1]  # C is lost
    assert line(s, "terms")["current_avg_dwell"] == 26.0  # B, in since day 4: the clock ran on
    assert line(s, "price")["current_avg_dwell"] == 12.0
    assert s["lost"] == 1 and s["won"] == 1


def test_as_of_before_a_split_shows_the_stages_as_they_were():
    b = split_book()
    s = b.summary(now=day(30), as_of=day(9))
    assert keys(s) == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
    assert reached(s) == [3, 3, 3, 3, 0, 0]
    assert line(s, "lead")["avg_days_in_stage"] == 3.0  # A 2, B 3, C 4
    assert line(s, "qualified")["completed_stays"] == 1
    assert line(s, "negotiation")["current"] == 2
    assert line(s, "negotiation")["current_avg_dwell"] == 4.5  # A 4 days, B 5 days
    assert s["lost"] == 1 and s["deals"] == 3


def test_as_of_after_a_split_shows_its_parts():
    s = split_book().summary(now=day(30), as_of=day(16))
    assert keys(s) == ["lead", "qualified", "demo", "terms", "price", "won", "expansion"]
    assert reached(s) == [4, 4, 4, 4, 1, 0, 0]
    assert line(s, "terms")["completed_stays"] == 1 and line(s, "terms")["avg_days_in_stage"] == 9.0
    assert line(s, "terms")["current"] == 2 and line(s, "terms")["current_avg_dwell"] == 6.5  # B 12, D 1
    assert line(s, "price")["current"] == 1 and line(s, "price")["current_avg_dwell"] == 2.0


def test_stages_as_of_reads_the_setup_rows_back():
    b = split_book()
    then = {s.key: s for s in b.stages_at(day(9))}
    assert set(then) == {s.key for s in DEFAULT_STAGES}
    assert then["negotiation"] == next(s for s in DEFAULT_STAGES if s.key == "negotiation")
    later = {s.key: s for s in b.stages_at(day(11))}
    assert later["negotiation"].archived and later["negotiation"].maps_to == "terms"
    assert later["terms"].position == 5 and later["won"].position == 7


# --- merge, reorder, rename, archive ----------------------------------------------------------


def test_merged_stages_count_as_one_stay_in_the_stage_they_went_into():
    b = Book()
    x = b.deal(day(0))
    b.move(x, "qualified", day(1))
    b.move(x, "demo", day(3))
    y = b.deal(day(0))
    b.move(y, "qualified", day(2))
    b.change(merge_stage(b.stages, "qualified", "demo"), day(5))
    b.move(x, "negotiation", day(6))
    s = b.summary(now=day(10))
    assert keys(s) == ["lead", "demo", "negotiation", "won", "expansion"]
    assert reached(s) == [2, 2, 1, 0, 0]
    assert line(s, "lead")["avg_days_in_stage"] == 1.5  # X 1, Y 2
    assert line(s, "demo")["completed_stays"] == 1 and line(s, "demo")["avg_days_in_stage"] == 5.0  # X 1→6
    assert line(s, "demo")["current"] == 1 and line(s, "demo")["current_avg_dwell"] == 8.0  # Y since day 2
    before = b.summary(now=day(10), as_of=day(4))
    assert keys(before)[:3] == ["lead", "qualified", "demo"]
    assert line(before, "qualified")["current"] == 1 and line(before, "demo")["current"] == 1


def test_a_reorder_counts_reached_in_the_new_order():
    b = Book()
    p = b.deal(day(0))
    b.move(p, "qualified", day(1))
    b.move(p, "demo", day(2))
    q = b.deal(day(0))
    b.move(q, "demo", day(3))
    b.change(move_stage(b.stages, "demo", before="qualified"), day(4))
    s = b.summary(now=day(5))
    assert keys(s)[:4] == ["lead", "demo", "qualified", "negotiation"]
    # P entered qualified, now after demo: its highest stage is qualified.
    assert reached(s)[:4] == [2, 2, 1, 0]
    assert line(s, "demo")["current"] == 2
    assert reached(b.summary(now=day(5), as_of=day(3.5)))[:4] == [2, 2, 2, 0]  # the old order


def test_a_rename_changes_no_number():
    b = Book()
    d = b.deal(day(0))
    b.move(d, "qualified", day(2))
    b.lose(b.deal(day(1)), day(3))
    before = b.summary(now=day(9))
    b.stages = [replace(s, name="Interested", name_zh="有意向") if s.key == "qualified" else s for s in b.stages]
    after = b.summary(now=day(9))
    assert line(after, "qualified")["name"] == "Interested"
    strip = lambda s: [{k: v for k, v in st.items() if k not in ("name", "name_zh")} for st in s["stages"]]  # noqa: E731
    assert strip(before) == strip(after)


def test_an_archived_stage_keeps_its_place_in_reached():
    b = Book()
    lost = b.deal(day(0))
    b.move(lost, "demo", day(1))
    b.lose(lost, day(2))
    b.deal(day(0))
    b.stages = [replace(s, archived=True) if s.key == "demo" else s for s in b.stages]
    s = b.summary(now=day(5))
    assert keys(s) == ["lead", "qualified", "negotiation", "won", "expansion"]
    assert reached(s) == [2, 1, 0, 0, 0]  # the lost deal got past qualified, not to negotiation
    assert line(s, "qualified")["conversion_to_next"] == 0.0


# --- the seed's rule ------------------------------------------------------------------------------


def test_slow_stage_needs_four_weeks_running_above_the_limit():
    weeks = [(day(35 - 7 * i), day(42 - 7 * i)) for i in range(6)]  # 0 = this week, 1 = last week…
    slow = [("negotiation", weeks[w][0] + timedelta(days=1) - timedelta(days=20), weeks[w][0] + timedelta(days=1))
            for w in (1, 2, 3, 4)]
    found = slow_stages(DEFAULT_STAGES, slow, weeks)
    assert [f["stage"] for f in found] == ["negotiation"]
    assert [w["avg_days"] for w in found[0]["weeks"]] == [20.0] * 4 and found[0]["limit"] == 15
    # One quick stay in week 3 brings its average to 12.5 days: the run is broken.
    quick = ("negotiation", weeks[3][0] + timedelta(days=1) - timedelta(days=5), weeks[3][0] + timedelta(days=1))
    assert slow_stages(DEFAULT_STAGES, [*slow, quick], weeks) == []
    # A week without a completed stay breaks it too; this week (still running) does not count.
    assert slow_stages(DEFAULT_STAGES, slow[:3], weeks) == []
