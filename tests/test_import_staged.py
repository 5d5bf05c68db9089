"""store/staged.py: the reader's half of an import, without SQLAlchemy.

Its column list is spelled out (so a reader forked before SQLAlchemy loads can stage rows);
these tests hold it to the deal table, and prove the reading path loads no SQLAlchemy.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from funnel_tui.store import staged
from funnel_tui.store.times import utc_text
from funnel_tui.store.tables import DATETIME_COLUMNS, D


def test_staged_columns_are_the_deal_table_in_order():
    theirs = ("id", "updated_at", "version", "next_follow_up_at", "deleted_at")
    assert staged.STAGED_COLUMNS == tuple(c for c in D.columns.keys() if c not in theirs)


def test_staged_times_are_the_time_columns_staged():
    assert staged._STAGED_TIMES == frozenset(c for c in staged.STAGED_COLUMNS if c in DATETIME_COLUMNS)


def test_the_reading_path_loads_no_sqlalchemy():
    code = ("import sys\n"
            "from funnel_tui.exchange.import_chunks import read_chunks, forked\n"
            "from funnel_tui.exchange.import_rows import RowParser\n"
            "from funnel_tui.exchange.reading import plan_import\n"
            "import funnel_tui.store.staged\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(
    [timezone.utc, timezone(timedelta(hours=8)), ZoneInfo("Asia/Shanghai")])))
def test_staged_times_are_utc_text(moment):
    """stage_chunk's quick stored form of a time is times.utc_text's (a day: its ISO text)."""
    row = {c: [None] for c in staged.STAGED_COLUMNS}
    row.update(uid=["u"], created_at=[moment], expected_close=[moment.date()])
    got = staged.stage_chunk([2], row, [moment], [None])
    assert got.const["created_at"] == got.const["follow_up_at"] == utc_text(moment)
    assert got.const["expected_close"] == moment.date().isoformat()


def test_new_uids_keep_74_random_bits_and_fix_the_rest():
    """Every one of the 74 random bits varies over 2000 uids; version 7 and variant 10 never do."""
    import uuid

    ints = [uuid.UUID(u).int for u in staged.new_uids(2000)]
    low = (1 << 80) - 1
    ones = zeros = 0
    for i in ints:
        ones |= i & low
        zeros |= ~i & low
    random_bits = (0xFFF << 64) | ((1 << 62) - 1)  # rand_a (12 bits), rand_b (62 bits)
    assert ones & zeros == random_bits
    assert all((i >> 76) & 0xF == 7 and (i >> 62) & 0b11 == 0b10 for i in ints)
    assert len(set(ints)) == 2000 and ints == sorted(ints)
