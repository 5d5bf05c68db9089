"""CSV export for the team lead: opens cleanly in Excel, runs no formula, streams any size.

- Columns: CSV_COLUMNS + EXPORT_ONLY (DESIGN §6), the same values `deal_record` gives.
- UTF-8 with BOM by default (Excel needs it to read Chinese), CRLF, ISO dates with the
  local offset, plain major-unit numbers.
- OWASP CSV-injection guard: a text cell starting with = + - @ tab CR (or full-width
  ＝＋－＠) gets a leading apostrophe. A text cell that already starts with apostrophes
  followed by a trigger gets one more, so import can undo the guard exactly.
- Atomic (temp file in the same folder, fsync, rename), 0600, never over the database,
  its -wal/-shm or its backups.
- Strict encodings: a character the chosen encoding cannot hold is reported with its row
  and column, never replaced with "?".
- Rows are streamed from the store in chunks and formatted without building datetimes
  per cell more than once, so memory stays flat at any pipeline size.

This module holds the two exports; the formatting is in export_format (Python) and
export_sql (lines SQLite builds), the writing in export_write, the guard in formula_guard.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, tzinfo
from typing import Any, Sequence

from funnel_tui.domain.rules import TierCutoffs
from funnel_tui.domain.tiers import AmountTiers
from funnel_tui.exchange.columns import CSV_COLUMNS, EXPORT_COLUMNS, TIME_COLUMNS
from funnel_tui.exchange.export_format import NUMERIC_COLUMNS, UTC, LocalTime, naive_utc, plain, row_formatter
from funnel_tui.exchange.export_sql import EPOCH, SQL_WINDOW, SqlLines, offset_spans
from funnel_tui.exchange.export_write import ExportError, ExportResult, resolve_destination, write_csv
from funnel_tui.exchange.formula_guard import guard
from funnel_tui.domain.lessons import group_lessons
from funnel_tui.i18n import _, active_lang


# --- the two exports --------------------------------------------------------------------------


def export_deals(
    store: Any,
    dest: str | os.PathLike | None,
    *,
    now: datetime,
    tz: tzinfo,
    owner: str | None = None,
    status: str | Sequence[str] = "open",
    stage: str | None = None,
    encoding: str = "utf-8-sig",
    stdout: Any = None,
    folder: bool = False,
) -> ExportResult:
    """Export deals (all DESIGN §6 columns) to `dest` (a file, a folder, or "-"/None for
    stdout); `folder`: `dest` is a folder even if it does not exist yet (the board's `x`)."""

    statuses = (status,) if isinstance(status, str) else tuple(status)
    if not statuses or any(s not in ("open", "won", "lost", "all") for s in statuses):
        raise ExportError(_("status: {value} is not a status; use open, won, lost or all").format(value=repr(status)))
    path = resolve_destination(dest, now=now, tz=tz, db_path=getattr(store, "path", None), folder=folder)
    # Cutoffs, not a per-deal map: a tier is one comparison and memory stays flat at 1M.
    tiers = store.tier_cutoffs(owner=owner)
    fmt = row_formatter(now=now, tz=tz, tiers=tiers)
    spec = _export_sql(now=now, tz=tz, tiers=tiers)
    if spec is not None:
        as_bytes = encoding in ("utf-8", "utf-8-sig")  # SQLite's own text is the file's bytes
        with store.stream_export_lines(spec, owner=owner, status=status, stage=stage, as_bytes=as_bytes) as found:
            if found is not None:
                lines = SqlLines(*found, fmt, len(spec.text_columns), len(EXPORT_COLUMNS) - 1 - len(spec.text_columns),
                                  as_bytes=as_bytes)
                n = write_csv(path, EXPORT_COLUMNS, lines, encoding=encoding, stdout=stdout)
                return ExportResult(path, n, encoding)
    with store.stream_deals(owner=owner, status=status, stage=stage) as chunks:
        rows = (fmt(r) for chunk in chunks for r in chunk)
        n = write_csv(path, EXPORT_COLUMNS, rows, encoding=encoding, stdout=stdout)
    return ExportResult(path, n, encoding)


def _export_sql(*, now: datetime, tz: tzinfo, tiers: TierCutoffs | AmountTiers):
    """What SQLite needs to build the export lines itself (None: use the Python formatter)."""
    from funnel_tui.store.bulk_export import ExportSql
    from funnel_tui.store.today import amount_tier_sql

    spans = offset_spans(tz)
    if spans is None:
        return None
    local = LocalTime(tz)
    now_naive = now.astimezone(UTC).replace(tzinfo=None)
    text = frozenset(c for c in CSV_COLUMNS if c not in NUMERIC_COLUMNS and c not in TIME_COLUMNS
                     and c != "expected_close")

    def dwell(entered: str) -> int:
        return max(int((now_naive - naive_utc(entered)) / timedelta(days=1)), 0)

    return ExportSql(
        spans=spans, window=(SQL_WINDOW[0].isoformat(" "), SQL_WINDOW[1].isoformat(" ")),
        now_us=(now_naive - EPOCH) // timedelta(microseconds=1),
        tier_a=getattr(tiers, "a_min", None), tier_b=getattr(tiers, "b_min", None), text_columns=text,
        time_columns=TIME_COLUMNS, local_fallback=local, dwell_fallback=dwell,
        tier_case=amount_tier_sql(tiers, "amount", "currency") if isinstance(tiers, AmountTiers) else None,
    )


def summary_rows(store: Any, *, now: datetime, owner: str | None = None) -> tuple[list[str], list[list]]:
    """The per-stage table of store.summary, one row per stage.

    `open_amount` and `weighted_amount` are in `currency` (the base, at the rep's rates when
    deals are in other currencies; empty when a currency has no rate); a pipeline in several
    currencies also gets one `open_amount_<CODE>` and `weighted_amount_<CODE>` column per currency."""
    from funnel_tui.store.summary import DealSet

    data = store.summary(now=now, deals=DealSet(owner=owner))
    header = ["stage", "name", "reached", "current", "conversion_to_next", "avg_days_in_stage",
              "open_amount", "weighted_amount", "currency"]
    codes = sorted({code for st in data.get("stages", []) for key in ("open_amount", "weighted_amount")
                    for code in st[f"{key}_by_currency"]})
    apart = [f"{key}_{code}" for code in codes for key in ("open_amount", "weighted_amount")]
    if any(code != data.get("currency") for code in codes):
        header += apart
    rows = []
    for st in data.get("stages", []):
        row = []
        for col in header:
            if col == "currency":
                v: Any = data.get("currency")
            elif col in apart:
                key, _sep, code = col.rpartition("_")
                v = plain(st[f"{key}_by_currency"].get(code, 0))
            else:
                v = st.get("key" if col == "stage" else col)
            if col in ("open_amount", "weighted_amount") and isinstance(v, int):
                v = plain(v)
            elif isinstance(v, float):
                v = round(v, 4)
            row.append(_summary_cell(v))
        rows.append(row)
    return header, rows


def _summary_cell(v: Any) -> Any:
    if v is None:
        return ""
    return guard(v) if isinstance(v, str) else v


def export_summary(
    store: Any,
    dest: str | os.PathLike | None,
    *,
    now: datetime,
    tz: tzinfo,
    owner: str | None = None,
    encoding: str = "utf-8-sig",
    stdout: Any = None,
) -> ExportResult:
    """The per-stage summary table as CSV (same encoding, guard and atomic write)."""
    path = resolve_destination(dest, now=now, tz=tz, db_path=getattr(store, "path", None), kind="summary")
    header, rows = summary_rows(store, now=now, owner=owner)
    n = write_csv(path, header, rows, encoding=encoding, stdout=stdout)
    return ExportResult(path, n, encoding)


LESSON_COLUMNS = ("deal_id", "customer", "owner", "outcome", "stage", "stage_name", "reason", "reason_label",
                  "lesson", "author", "created_at", "updated_at")


def export_lessons(
    store: Any,
    dest: str | os.PathLike | None,
    *,
    now: datetime,
    tz: tzinfo,
    owner: str | None = None,
    encoding: str = "utf-8-sig",
    stdout: Any = None,
) -> ExportResult:
    """The team's lessons of won and lost deals (`funnel export --lessons`), one row each, in
    the order `funnel lessons` groups them: codes for scripts beside the names in the rep's
    language, times local, text cells formula-guarded (same encoding and atomic write)."""
    path = resolve_destination(dest, now=now, tz=tz, db_path=getattr(store, "path", None), kind="lessons")
    groups = group_lessons(store.lessons(owner=owner), store.all_stages(), active_lang())
    rows = []
    for g in groups:
        for lesson in g["lessons"]:
            when = [datetime.fromisoformat(lesson[k]).astimezone(tz).isoformat(timespec="seconds")
                    for k in ("created_at", "updated_at")]
            rows.append([lesson["deal_id"], guard(lesson["customer"]), guard(lesson["owner"]), g["outcome"],
                         g["stage"], guard(g["stage_name"]), guard(g["reason"]), guard(g["reason_label"]),
                         guard(lesson["text"]), guard(lesson["author"]), *when])
    n = write_csv(path, LESSON_COLUMNS, rows, encoding=encoding, stdout=stdout)
    return ExportResult(path, n, encoding)
