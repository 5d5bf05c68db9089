"""RowParser: the cells of an import file's records → complete, validated deal columns.

Column by column (parse_columns, the import's hot path): each distinct cell of a column is
converted once, then the deal invariants run over whole columns. tests/reference_import.py
states the same rules one row at a time, and a property test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Mapping, Sequence

from funnel_tui.domain.dates import DEFAULT_TIME
from funnel_tui.domain.pinyin import deal_search_key
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.validation import TEXT_FIELDS, FieldError, validate_field
from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.exchange.formula_guard import unguard
from funnel_tui.exchange.import_cells import (
    ASCII_FAST,
    CACHED,
    TEXT,
    TIME,
    column_plan,
    fast_text,
    fast_timestamp,
)
from funnel_tui.exchange.import_headers import (
    CLOSE_DATE,
    HUBSPOT_CLOSED,
    HUBSPOT_ID,
    PIPEDRIVE_ID,
    PROB_FRACTION,
    WAN,
    HeaderMap,
    norm_header,
)


class RowRejected(ValueError):
    pass


_NO_EMPTY = object()  # a column whose empty cell goes through its converter


@dataclass(slots=True)
class ParsedRows:
    """Rows as columns: `columns[name][k]` is deal column `name` of row k (junk where
    `reasons[k]` says why the row is rejected); `follow[k]` its follow-up due or None."""

    columns: dict[str, list[Any]]
    follow: list[Any]
    reasons: list[str | None]


@dataclass
class RowParser:
    """Turns the cells of one row into a complete deal (or RowRejected with the reason)."""

    header: HeaderMap
    stages: Sequence[StageDef]
    now: datetime
    tz: tzinfo
    stage_map: Mapping[str, str] = field(default_factory=dict)  # norm(old) -> new
    owner: str | None = None
    unknown_stages: dict[str, int] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)

    def __post_init__(self):
        self._by_key = {s.key: s for s in self.stages}
        self._first = sorted(self.stages, key=lambda s: s.position)[0]
        self._won = next((s for s in self.stages if s.kind == "won"), None)
        self._cols = [(i, f, column_plan(f, how)) for i, spec in enumerate(self.header.fields) if spec
                      for f, how in [spec]]
        self._width = len(self.header.header)
        self._foreign = self.header.source in ("pipedrive", "hubspot")
        self._stages_seen: dict[str, tuple[str, str | None]] = {}
        # What an empty cell means per plain column, asked of the validator once.
        self._empty: dict[str, Any] = {}
        for _, name, how in self._cols:
            if how in (TEXT, TIME, CACHED):
                try:
                    self._empty[name] = self._field(name, "")
                except FieldError:
                    self._empty[name] = ""  # customer: required, checked once the row is complete
        self._converters = [self._converter(name, how) for _, name, how in self._cols]
        self._keys = ["_close" if how == CLOSE_DATE else name for _, name, how in self._cols]

    def _field(self, name: str, value: str) -> Any:
        """validate_field, memoised: repeated values (stage, owner, dates) are checked once."""
        key = (name, value)
        hit = self._cache.get(key, self)
        if hit is not self:
            return hit
        result = validate_field(name, value, stages=self.stages, now=self.now, tz=self.tz)
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[key] = result
        return result

    def parse(self, cells: list[str]) -> tuple[dict[str, Any], datetime | None]:
        """One row: (deal columns, follow-up due), or RowRejected with every reason."""
        result = self.parse_many([cells])[0]
        if isinstance(result, str):
            raise RowRejected(result)
        return result

    def parse_many(self, rows: Sequence[list[str]]) -> list[tuple[dict[str, Any], datetime | None] | str]:
        """parse() for many rows: (deal columns, follow-up due) per row, or the reason (str)
        a row is rejected. The same answers as parse() row by row (a test compares them)."""
        parsed = self.parse_columns(rows)
        names = list(parsed.columns)
        out: list[Any] = []
        for reason, values, follow in zip(parsed.reasons, zip(*parsed.columns.values()), parsed.follow):
            out.append(reason if reason is not None else (dict(zip(names, values)), follow))
        return out

    def parse_columns(self, rows: Sequence[list[str]]) -> "ParsedRows":
        """Many rows at once, column by column: the import's hot path.

        Each distinct cell of a column is converted once (stages, owners, dates, amounts
        repeat a lot), then the row rules (_complete_columns) run over whole columns. Rejected
        rows keep their place (with junk values) and a reason.
        """
        n = len(rows)
        reasons: list[str | None] = [None] * n
        width = self._width
        if any(len(cells) != width for cells in rows):
            for j, cells in enumerate(rows):
                if len(cells) != width:
                    reasons[j] = f"{len(cells)} cells but the header has {width} (ragged row)"
            rows = [cells if len(cells) == width else [""] * width for cells in rows]
        columns = list(zip(*rows)) if n else [()] * width
        errors: dict[int, list[str]] = {}
        raw: dict[str, list[Any]] = {}
        for (i, name, _how), key, convert in zip(self._cols, self._keys, self._converters):
            column = columns[i]
            table: dict[str, Any] = {}
            bad: dict[str, str] = {}
            for cell in set(column):
                try:
                    table[cell] = convert(cell)
                except FieldError as exc:
                    bad[cell] = f"{exc.field}: {exc.message}"
            if bad:
                for k, cell in enumerate(column):
                    if cell in bad and reasons[k] is None:
                        errors.setdefault(k, []).append(bad[cell])
                if name == "stage":
                    for cell in bad:
                        self._count_unknown_stage(cell, sum(1 for k, c in enumerate(column)
                                                            if c == cell and reasons[k] is None))
            values = list(map(table.get, column))
            if name == "stage":
                raw["_status_from_stage"] = [None if v is None else v[1] for v in values]
                values = [None if v is None else v[0] for v in values]
            raw[key] = values
        for k, messages in errors.items():
            reasons[k] = "; ".join(messages)
        return self._complete_columns(raw, reasons, n)

    def _complete_columns(self, raw: dict[str, list[Any]], reasons: list[str | None], n: int) -> "ParsedRows":
        """Fill defaults and apply the deal invariants over whole columns; the first rule a
        row breaks is its reason (customer, then lost reason, then uid). The same rules
        written row by row are tests/reference_import.py; a property test compares them."""
        absent = [None] * n

        def given(name: str, default: Any = None) -> list[Any]:
            return raw[name] if name in raw else (absent if default is None else [default] * n)

        deal: dict[str, list[Any]] = {f: given(f, "") for f in TEXT_FIELDS}
        deal["external_id"] = given("external_id")
        customer = deal["customer"]
        if self._foreign:
            customer = deal["customer"] = [c or t for c, t in zip(customer, deal["title"])]
        if self.owner:
            deal["owner"] = [o or self.owner for o in deal["owner"]]
        # Stage and status from the few (stage, status, status-from-stage) combinations.
        has_status = "status" in raw
        combos: dict[tuple, tuple[str, str, int]] = {}

        def settle(stage_key: Any, status: Any, from_stage: Any) -> tuple[str, str, int]:
            stage = self._by_key[stage_key or self._first.key]
            status = status or from_stage or "open"
            if not has_status and from_stage is None and stage.kind in ("won", "post"):
                status = "won"
            if status == "won" and stage.kind == "open" and self._won is not None:
                stage = self._won  # other CRMs keep a won deal in its last open stage
            return stage.key, status, stage.probability if stage.probability is not None else 0

        settled = []
        for combo in zip(given("stage"), given("status"), given("_status_from_stage")):
            hit = combos.get(combo)
            if hit is None:
                hit = combos[combo] = settle(*combo)
            settled.append(hit)
        stages, statuses, defaults = ([list(c) for c in zip(*settled)] if settled else ([], [], []))
        prob = given("probability")
        # A deal cannot have been created after it entered its stage, nor closed before.
        now = self.now
        entered_raw, created_raw = given("stage_entered_at"), given("created_at")
        entered = [e or c or now for e, c in zip(entered_raw, created_raw)]
        created = [c or e for c, e in zip(created_raw, entered)]
        close_ = given("_close")
        closed = [None if s == "open" else (c or h or e or now)
                  for s, c, h, e in zip(statuses, given("closed_at"), close_, entered_raw)]
        expected = given("expected_close")
        if "_close" in raw:
            tz = self.tz
            expected = [x if x is not None or s != "open" or h is None else h.astimezone(tz).date()
                        for x, s, h in zip(expected, statuses, close_)]
        uids = [u or None for u in given("uid")]
        lost_reason = deal["lost_reason"]
        for k in range(n):
            if reasons[k] is not None:
                continue
            if not customer[k]:
                reasons[k] = "customer: is required"
            elif statuses[k] == "lost" and not lost_reason[k]:
                reasons[k] = "lost_reason: is required when status is lost"
            elif uids[k] is not None:
                try:
                    uids[k] = _check_uid(uids[k])
                except RowRejected as exc:
                    reasons[k] = str(exc)
        deal.update(
            uid=uids,
            lead_score=given("lead_score"),
            stage=stages,
            status=statuses,
            amount=[a or 0 for a in given("amount")],
            currency=[c or "CNY" for c in given("currency")],
            probability=[d if p is None else p for p, d in zip(prob, defaults)],
            probability_custom=[p is not None and p != d for p, d in zip(prob, defaults)],
            expected_close=expected,
            risk_level=given("risk_level"),
            created_at=created,
            stage_entered_at=entered,
            last_contact_at=given("last_contact_at"),
            closed_at=closed,
            deleted_at=absent,
            # Built here, in the reader (a forked process for a big file), not by the writer.
            search_key=list(map(deal_search_key, customer, deal["title"], deal["contact_name"])),
        )
        follow = [f if s == "open" else None for f, s in zip(given("next_follow_up_at"), statuses)]
        return ParsedRows(deal, follow, reasons)

    # -- per-cell converters: one per plain column, shared by parse() and parse_many() ------

    def _converter(self, name: str, how: str):
        """The function turning one cell of this column into its field value (or FieldError)."""
        empty = self._empty
        blank = empty.get(name, _NO_EMPTY)

        def with_empty(convert):
            if blank is _NO_EMPTY:
                return convert
            return lambda cell: blank if not cell else convert(cell)

        if how is TEXT:
            limit = ASCII_FAST[name]

            def text(cell: str) -> str:
                if cell[:1] == "'":
                    cell = unguard(cell)
                # Plain short ASCII is the common case: clean_text would only trim it.
                if cell.isascii() and cell.isprintable() and len(cell) <= limit:
                    return cell.strip()
                value = fast_text(name, cell)
                return self._field(name, cell) if value is None else value

            plain = with_empty(text)
            if name == "lost_reason":  # a word of the list is kept as its code (`没预算` -> budget)
                return lambda cell: LOST_REASON.canonical(plain(cell))
            return plain
        if how is TIME:
            def moment(cell: str):
                value = fast_timestamp(cell)
                return self._field(name, cell) if value is None else value

            return with_empty(moment)
        if how is CACHED:
            return with_empty(lambda cell: self._field(name, cell))
        if how == PIPEDRIVE_ID or how == HUBSPOT_ID:
            def ident(cell: str):
                cell = cell.strip()
                return self._field(name, f"{how}:{cell}" if cell else "")

            return ident
        if how == WAN:
            return self._wan
        if how == PROB_FRACTION:
            return self._fraction
        if name == "uid":
            return lambda cell: cell.strip() or None
        if name == "stage":
            return self._stage
        if name == "next_follow_up_at":
            return self._follow_up
        if how == CLOSE_DATE:
            return lambda cell: self._field("closed_at", cell)
        return lambda cell: self._field(name, cell)

    def _count_unknown_stage(self, cell: str, times: int) -> None:
        key = cell.strip()
        self.unknown_stages[key] = self.unknown_stages.get(key, 0) + times

    def _wan(self, cell: str) -> int:
        text = cell.strip().replace(",", "").replace("，", "")
        if not text:
            return 0
        try:
            value = Decimal(text) * 10_000
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise FieldError("amount", f"{cell!r} is not a number of 万元; use e.g. 12.5") from None
        return self._field("amount", format(value, "f"))

    def _fraction(self, cell: str) -> int | None:
        text = cell.strip()
        if not text:
            return None
        try:
            value = Decimal(text)
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise FieldError("probability", f"{cell!r} is not a probability; HubSpot gives 0–1, e.g. 0.4") from None
        if not 0 <= value <= 1:
            raise FieldError("probability", f"{cell!r} is out of range; HubSpot gives 0–1, e.g. 0.4")
        return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def _stage(self, cell: str) -> tuple[str, str | None]:
        hit = self._stages_seen.get(cell)
        if hit is None:
            hit = self._stages_seen[cell] = self._stage_uncached(cell)
        return hit

    def _stage_uncached(self, cell: str) -> tuple[str, str | None]:
        text = cell.strip()
        key = norm_header(text)
        status = HUBSPOT_CLOSED.get(key) if self.header.source == "hubspot" else None
        if key in self.stage_map:
            text = self.stage_map[key]
        elif status == "won" and self._won is not None:
            text = self._won.key
        elif status == "lost":
            text = self._first.key  # the stage it was lost in is not in the file
        if not text:
            return self._first.key, status
        return self._field("stage", text), status

    def _follow_up(self, cell: str) -> datetime | None:
        text = cell.strip()
        fast = fast_timestamp(text)  # our own export's form
        if fast is not None:
            return fast
        if len(text) == 10:  # a bare date: the start of the working day, as elsewhere
            d = self._field("next_follow_up_at", text)
            if d is not None:
                local = d.astimezone(self.tz)
                if local.time() == time(0, 0):
                    return datetime.combine(local.date(), DEFAULT_TIME, tzinfo=self.tz).astimezone(d.tzinfo)
            return d
        return self._field("next_follow_up_at", text)


def _check_uid(text: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        raise RowRejected(f"uid: {text!r} is not a UUID (leave it empty for a new deal)") from None
