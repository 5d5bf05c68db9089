"""The reader's stored time text cut from the cell (DateColumn.read_many's `stored`, looked up by
store/staged.py stage_chunk) is always times.utc_text of the value read: for every cell the
reader accepts, in any shape, offset, zone, fraction, leap day or DST edge, and for cells one
character away from the canonical UTC shape."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from funnel_tui.exchange.calendar_dates import DateColumn
from funnel_tui.exchange.cells import FieldError
from funnel_tui.store import staged
from funnel_tui.store.times import utc_text

ZONES = [timezone.utc, timezone(timedelta(hours=8)), ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"),
         ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("America/St_Johns")]
OFFSETS = ["+00:00"] * 4 + ["Z", "z", "-00:00", "+0000", "+08:00", "-05:30", "+14:00", "-12:00", " UTC", ""]
MUTATE = "0123456789+-:TtZ .,/x\u0663"  # \u0663: an Arabic-Indic three, a digit to isdigit()


def _text(moment: datetime, sep: str, frac: int, offset: str) -> str:
    text = moment.isoformat(sep, "seconds")  # %Y would not pad year 31 to 0031
    if frac:
        text += "." + f"{moment.microsecond:06d}"[:frac]
    return text + offset


@st.composite
def cells(draw) -> str:
    # Years 2–9998: an offset at the ends of the calendar overflows astimezone (main's reader too).
    moment = draw(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31, 23, 59, 59)) | st.sampled_from([
        datetime(2024, 2, 29, 23, 59, 59, 999999), datetime(2024, 3, 10, 2, 30), datetime(2024, 11, 3, 1, 30),
        datetime(2024, 3, 31, 1, 30), datetime(2024, 10, 27, 1, 30), datetime(9998, 12, 31, 23, 59, 59),
        datetime(2, 1, 1), datetime(2025, 8, 11, 14, 27, 35)]))
    text = _text(moment, draw(st.sampled_from("TTT t")), draw(st.sampled_from([0, 0, 1, 3, 6])),
                 draw(st.sampled_from(OFFSETS)))
    if draw(st.booleans()):  # one character changed, or one cut off or added
        at = draw(st.integers(0, len(text)))
        ch = draw(st.sampled_from(MUTATE))
        text = draw(st.sampled_from([text[:at] + ch + text[at + 1:], text[:at] + text[at + 1:],
                                     text[:at] + ch + text[at:]]))
    return text


def _read(column: DateColumn, texts: list[str]) -> tuple[list, dict]:
    """The values the reader gives for `texts` (None where it refuses), as read_columns reads them."""
    stored: dict = {}
    table, rest = column.read_many(set(texts), stored)
    for cell in rest:
        try:
            table[cell] = column.read(cell)
        except FieldError:
            table[cell] = None
    return [table[t] for t in texts], stored


@settings(max_examples=400)
@given(st.lists(cells(), min_size=1, max_size=12), st.sampled_from(ZONES), st.sampled_from(["moment", "date"]))
def test_stored_text_is_utc_text_of_the_value_read(texts, zone, want):
    column = DateColumn("created_at", zone, want)
    values, stored = _read(column, texts)
    for key, (moment, text) in stored.items():
        assert key == id(moment) and text == utc_text(moment)
    if want == "date":
        assert not stored
        return
    # The value read is the one read() gives for the cell alone (read_many changes no reading).
    for text, value in zip(texts, values):
        try:
            alone = DateColumn("created_at", zone, want).read(text)
        except FieldError:
            alone = None
        assert repr(value) == repr(alone)
    row = {c: [None] * len(texts) for c in staged.STAGED_COLUMNS}
    row.update(uid=[f"u{k}" for k in range(len(texts))], created_at=values, last_contact_at=values)
    lines = list(range(2, 2 + len(texts)))
    fast = staged.stage_chunk(lines, row, values, [None] * len(texts), stored)
    slow = staged.stage_chunk(lines, row, values, [None] * len(texts))
    assert repr(fast) == repr(slow)
    want_text = [None if v is None else utc_text(v) for v in values]
    got = fast.columns["created_at"] if "created_at" in fast.columns else [fast.const["created_at"]] * len(texts)
    assert got == want_text


def test_our_exports_utc_shape_is_cut_from_the_cell():
    texts = ["2025-08-11T14:27:35+00:00", "2024-02-29T23:59:59+00:00", "2025-08-11T22:27:35+08:00"]
    values, stored = _read(DateColumn("created_at", ZoneInfo("Asia/Shanghai")), texts)
    assert sorted(text for _, text in stored.values()) == ["2024-02-29 23:59:59.000000", "2025-08-11 14:27:35.000000"]
    assert values[2] == values[0]  # the same moment, another object: formatted, to the same text
    row = {c: [None] * 3 for c in staged.STAGED_COLUMNS}
    row.update(uid=["u"] * 3, created_at=values)
    got = staged.stage_chunk([2, 3, 4], row, values, [None] * 3, stored)
    assert got.columns["created_at"] == [utc_text(v) for v in values]


def test_every_one_character_edit_of_the_utc_shape():
    """A sweep: each canonical text with every character replaced, cut or doubled, per zone."""
    bases = ["2025-08-11T14:27:35+00:00", "2024-02-29T00:00:00+00:00", "2024-03-10T02:30:00+00:00",
             "1999-12-31T23:59:59+00:00"]
    texts = set(bases)
    for base in bases:
        for at in range(len(base) + 1):
            texts.add(base[:at] + base[at + 1:])
            for ch in MUTATE:
                texts.update((base[:at] + ch + base[at + 1:], base[:at] + ch + base[at:]))
    texts = sorted(texts)
    for zone in ZONES:
        values, stored = _read(DateColumn("created_at", zone), texts)
        assert len(stored) >= len(bases)
        for key, (moment, text) in stored.items():
            assert key == id(moment) and text == utc_text(moment)
        row = {c: [None] * len(texts) for c in staged.STAGED_COLUMNS}
        row.update(uid=["u"] * len(texts), created_at=values)
        got = staged.stage_chunk(list(range(len(texts))), row, values, [None] * len(texts), stored)
        assert got.columns["created_at"] == got.columns["follow_up_at"] == [
            None if v is None else utc_text(v) for v in values]


def test_read_columns_gives_stored_times_only_when_staging(tmp_path):
    from funnel_tui.exchange.reading import ReadOptions, plan_import

    path = tmp_path / "deals.csv"
    path.write_text("customer,created_at\n华信,2025-08-11T14:27:35+00:00\n蓝海,2025-08-11T22:27:35+08:00\n",
                    encoding="utf-8")
    with plan_import(path, ReadOptions(tz=timezone.utc)) as plan:
        rows = [rec.cells for rec in plan.table.records]
        assert plan.read_columns(rows).stored_times == {}  # a dry run, the TUI: nothing to stage
        plan.stage_times = True
        read = plan.read_columns(rows)
    first = read.values["created_at"][0]
    assert read.stored_times == {id(first): (first, "2025-08-11 14:27:35.000000")}
