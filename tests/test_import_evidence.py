"""Whole-column evidence before conversion, in an import that reads its file once.

The importer reads chunk by chunk (and big files in a forked reader) with speculative readers:
a value only its whole column can decide (`12.000`, `03/04/2024`, a bare `0.4`) stops the read,
the whole file's evidence is gathered, and the chunk is read again. The outcome must be exactly
what reading the whole file first gives (ImportPlan.observe over every row, then read_columns).
"""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path

import pytest

from funnel_tui.exchange.importer import ImportOptions, import_file
from funnel_tui.exchange.reading import ReadOptions, plan_import
from funnel_tui.store import Store

HEADER = ["customer", "amount", "expected_close", "probability"]


def _write(path: Path, rows) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def _late_evidence(n=1500):
    """Ambiguous values at the top; what decides them only far below (many chunks later)."""
    rows = [[f"C{i}", "12.000" if i % 2 else "7", "03/04/2024" if i % 3 else "", "0.4" if i % 5 == 0 else ""]
            for i in range(n)]
    rows[-1] = ["Last", "1.234,56", "15/03/2024", "60"]
    return rows


def _two_pass(path: Path, tz):
    """The foundations' way: every row's evidence first, then every value."""
    with plan_import(path, ReadOptions(tz=tz)) as plan:
        rows = [r.cells for r in plan.table.records]
        plan.observe(rows)
        out = plan.read_columns(rows)
    return out


@pytest.mark.parametrize("reader", ["inline", "fork"])
def test_one_pass_with_late_evidence_equals_two_passes(tmp_path, now, tz, reader):
    if reader == "fork" and not hasattr(os, "fork"):
        pytest.skip("the forked reader needs os.fork")
    src = _write(tmp_path / "late.csv", _late_evidence())
    expected = _two_pass(src, tz)
    assert expected.reasons == [None] * 1500
    store = Store(tmp_path / f"{reader}.db")
    try:
        rep = import_file(store, src, now=now, tz=tz, batch=100, reader=reader, options=ImportOptions(saved=()))
        deals = sorted(store.list_deals(status="all"), key=lambda d: d["id"])
    finally:
        store.close()
    assert (rep.inserted, rep.rejected, rep.evidence_passes) == (1500, 0, 1)
    assert [d["amount"] for d in deals] == [a or 0 for a in expected.values["amount"]]
    assert [d["expected_close"] for d in deals] == expected.values["expected_close"]
    stored_prob = [d["probability"] if d["probability_custom"] else None for d in deals]
    assert stored_prob == [p if p not in (None, 10) else None for p in expected.values["probability"]]
    # What the evidence decided: a decimal comma, day first, and percents (0.4 is 0.4 %, rounded to 0).
    assert deals[1]["amount"] == 1_200_000 and deals[-1]["amount"] == 123_456  # 12.000 is twelve thousand
    assert deals[1]["expected_close"] == date(2024, 4, 3) and deals[-1]["expected_close"] == date(2024, 3, 15)
    assert deals[0]["probability"] == 0 and rep.rounded_probabilities == 300


def test_no_evidence_pass_for_our_own_shapes(store, tmp_path, now, tz):
    rows = [[f"C{i}", f"{1000 + i}.50", "2024-03-15", "40"] for i in range(300)]
    rep = import_file(store, _write(tmp_path / "own.csv", rows), now=now, tz=tz, batch=50,
                      options=ImportOptions(saved=()))
    assert (rep.inserted, rep.evidence_passes) == (300, 0)


def test_a_column_that_cannot_decide_refuses_its_ambiguous_values(store, tmp_path, now, tz):
    rows = [["A", "12.000", "", ""], ["B", "1,234.56", "", ""], ["C", "1.234,56", "", ""], ["D", "5", "", ""]]
    src = _write(tmp_path / "both.csv", rows)
    rep = import_file(store, src, now=now, tz=tz, batch=1, options=ImportOptions(saved=()))
    assert (rep.inserted, rep.rejected, rep.evidence_passes) == (3, 1, 1)
    assert "line 2: amount: '12.000' can be 12 or 12000" in rep.reasons[0]
    assert "--decimal-comma or --decimal-point" in rep.reasons[0]
    again = import_file(store, src, now=now, tz=tz, options=ImportOptions(saved=(), decimal="point"))
    # --decimal-point reads 12.000 as 12 and refuses the row written with a decimal comma.
    assert (again.inserted, again.rejected, again.evidence_passes) == (3, 1, 0)
    assert "--decimal-point was given" in again.reasons[0]
