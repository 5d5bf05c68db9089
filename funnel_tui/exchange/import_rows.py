"""RowParser: the rows of an import file → complete, validated deal columns.

The file side is exchange.reading's ImportPlan (the profile's column readers: amounts, dates,
probabilities, stages, currencies, each distinct cell read once). RowParser adds what makes a
row a deal, column by column (parse_columns, the import's hot path): text cleaned and checked
as everywhere else (validate_field), defaults, and the deal invariants over whole columns
(_complete_columns). tests/reference_import.py states the same rules one row at a time, and a
property test keeps the two equal.

Whole-column evidence comes before conversion: a speculative plan (one pass, the importer's
way with big files) raises NeedsEvidence when a value only its whole column can decide turns
up; parse_columns then has the plan read the whole file's evidence and reads the rows again.
Every value read before that moment reads the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timezone, tzinfo
from typing import Any, Sequence

from funnel_tui.domain.pinyin import deal_search_keys
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.validation import TEXT_FIELDS, FieldError, lost_without_reason, validate_field
from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.exchange import profiles as P
from funnel_tui.exchange.cells import Cell, NeedsEvidence, cell_text
from funnel_tui.exchange.formula_guard import unguard
from funnel_tui.exchange.import_cells import ASCII_FAST, fast_text
from funnel_tui.exchange.import_read import ImportFileError
from funnel_tui.exchange.reading import ImportPlan, ReadColumns, TextReader
from funnel_tui.i18n import _

DEFAULT_CURRENCY = "CNY"
NO_REASON = "not in the imported file"  # the importer passes it in the rep's language
# Fields the profile readers hand over as text that the deal validator still has to check.
CHECKED = ("lead_score", "risk_level")


class RowRejected(ValueError):
    pass


@dataclass(slots=True)
class ParsedRows:
    """Rows as columns: `columns[name][k]` is deal column `name` of row k (junk where
    `reasons[k]` says why the row is rejected); `follow[k]` its follow-up due or None."""

    columns: dict[str, list[Any]]
    follow: list[Any]
    reasons: list[str | None]
    stored_times: dict | None = None  # {id: (moment, its stored text)} for some moments (stage_chunk)


def check_columns(plan: ImportPlan) -> None:
    """Refuse a mapping that cannot give a deal its customer (ImportFileError says how)."""
    fields = plan.match.fields
    if "customer" in fields or (plan.match.profile.title_as_customer and "title" in fields):
        return
    raise ImportFileError(_("header: no customer column in this {tool} file; name it with --map \"Header=customer\" (our columns: "
        "customer, 客户名称). The first line of the file must be the header").format(tool=plan.match.profile.name))


class CleanText:
    """A profile's text reader, then the deal's own cleaning (validate_field, fast where that is
    provably the same): control characters out, lengths, e-mail shape, our export's formula
    guard taken off. An empty cell is "" (customer: required, checked once the row is complete)."""

    __slots__ = ("inner", "name", "limit", "validate", "field", "plain")

    def __init__(self, inner: Any, name: str, validate):
        self.inner, self.name, self.validate, self.field = inner, name, validate, name
        self.limit = ASCII_FAST.get(name, -1)
        self.plain = type(inner) is TextReader  # its read is the cell's text, trimmed: inlined below

    def observe(self, cells) -> None:
        pass

    def read(self, cell: Cell) -> Any:
        if self.plain and type(cell) is str:
            text = cell.strip()
        else:
            text = self.inner.read(cell)
        if not text:
            return None if self.name == "external_id" else ""
        if text[:1] == "'":
            text = unguard(text)
        # Plain short ASCII is the common case: clean_text would only trim it.
        if text.isascii() and text.isprintable() and len(text) <= self.limit:
            return text.strip()
        if self.name != "external_id":
            value = fast_text(self.name, text)
            if value is not None:
                return value
        return self.validate(self.name, text)

    def read_many(self, cells) -> tuple[dict, list]:
        """read() of a column's distinct cells at once, its common cases inlined (one loop,
        not a call per cell: an import cleans millions of cells): ({cell: value}, the cells
        left for read(), which are the guarded, non-text and unusual ones)."""
        got: dict = {}
        if not self.plain or self.name == "external_id":
            return got, list(cells)
        rest: list = []
        name, limit = self.name, self.limit
        for cell in cells:
            if type(cell) is not str:
                rest.append(cell)
                continue
            text = cell.strip()
            if not text:
                got[cell] = ""
            elif text[0] == "'":
                rest.append(cell)  # perhaps our export's formula guard: read() takes it off
            elif text.isascii() and text.isprintable() and len(text) <= limit:
                got[cell] = text
            else:
                value = fast_text(name, text)
                if value is None:
                    rest.append(cell)
                else:
                    got[cell] = value
        return got, rest


class Checked:
    """A text cell the deal validator reads (lead score 0–10, risk level 高/中/低)."""

    __slots__ = ("name", "validate", "field")

    def __init__(self, name: str, validate):
        self.name, self.validate, self.field = name, validate, name

    def observe(self, cells) -> None:
        pass

    def read(self, cell: Cell) -> Any:
        return self.validate(self.name, cell_text(cell).strip())


@dataclass
class RowParser:
    """Turns rows of an import file (cells) into complete deals, or the reason each is refused."""

    plan: ImportPlan
    stages: Sequence[StageDef]
    now: datetime
    tz: tzinfo
    owner: str | None = None  # for rows that name none
    currency: str = DEFAULT_CURRENCY  # for rows whose amount and columns name none
    unknown_stages: dict[str, int] = field(default_factory=dict)
    rounded: int = 0  # probabilities rounded to a whole percent (the report says so)
    evidence_passes: int = 0  # how often the whole file was read for a column's evidence
    no_reason: str = NO_REASON  # a lost deal's reason when the file has no column for one
    _cache: dict = field(default_factory=dict)

    def __post_init__(self):
        check_columns(self.plan)
        self._by_key = {s.key: s for s in self.stages}
        self._first = sorted(self.stages, key=lambda s: s.position)[0]
        self._won = next((s for s in self.stages if s.kind == "won"), None)
        self._foreign = self.plan.match.profile.title_as_customer
        self._width = len(self.plan.table.header)
        self._closes = any(pc.column.opts.get("closes") for pc in self.plan.columns)
        self._wrap_readers()

    def _wrap_readers(self) -> None:
        """Text columns clean as they are read: one pass over each column's distinct cells."""
        for pc in self.plan.columns:
            name = pc.column.field
            if isinstance(pc.reader, (CleanText, Checked)):
                continue
            if name in TEXT_FIELDS and pc.column.read in (P.TEXT, P.EXTERNAL_ID):
                pc.reader = CleanText(pc.reader, name, self._field)
            elif name in CHECKED:
                pc.reader = Checked(name, self._field)

    @property
    def given(self) -> frozenset[str]:
        """The deal fields the file carries (an update applies only these)."""
        fields = set(self.plan.match.fields)
        if self._closes:
            fields |= {"expected_close", "closed_at"}
        return frozenset(fields)

    def _field(self, name: str, value: str) -> Any:
        """validate_field, memoised: repeated values (owners, sources, scores) are checked once."""
        key = (name, value)
        hit = self._cache.get(key, self)
        if hit is not self:
            return hit
        result = validate_field(name, value, stages=self.stages, now=self.now, tz=self.tz)
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[key] = result
        return result

    def read(self, rows: Sequence[Sequence[Cell]]) -> ReadColumns:
        """The plan's typed columns for these rows; the whole file's evidence first when a
        value needs it (then the rows are read again, by readers that saw every row)."""
        try:
            return self.plan.read_columns(rows, split_close=False)
        except NeedsEvidence:
            self.plan.gather_evidence()
            self._wrap_readers()
            self.evidence_passes += 1
            return self.plan.read_columns(rows, split_close=False)

    def parse(self, cells: Sequence[Cell]) -> tuple[dict[str, Any], datetime | None]:
        """One row: (deal columns, follow-up due), or RowRejected with every reason."""
        result = self.parse_many([cells])[0]
        if isinstance(result, str):
            raise RowRejected(result)
        return result

    def parse_many(self, rows: Sequence[Sequence[Cell]]) -> list[tuple[dict[str, Any], datetime | None] | str]:
        """parse() for many rows: (deal columns, follow-up due) per row, or the reason (str)
        a row is rejected. The same answers as the reference row by row (a test compares them)."""
        parsed = self.parse_columns(rows)
        names = list(parsed.columns)
        out: list[Any] = []
        for reason, values, follow in zip(parsed.reasons, zip(*parsed.columns.values()), parsed.follow):
            out.append(reason if reason is not None else (dict(zip(names, values)), follow))
        return out

    def parse_columns(self, rows: Sequence[Sequence[Cell]]) -> ParsedRows:
        """Many rows at once, column by column: the import's hot path. Rejected rows keep their
        place (with junk values) and a reason."""
        read = self.read(rows)
        for name, times in read.unknown_stages.items():
            self.unknown_stages[name] = self.unknown_stages.get(name, 0) + times
        self.rounded += sum(1 for k in read.rounded_rows if read.reasons[k] is None)
        parsed = self._complete_columns(read.values, list(read.reasons), len(rows))
        parsed.stored_times = read.stored_times
        return parsed

    def _complete_columns(self, raw: dict[str, list[Any]], reasons: list[str | None], n: int) -> ParsedRows:
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
        # Stage and status from the few (stage, status) combinations a file holds.
        combos: dict[tuple, tuple[str, str, int]] = {}

        def settle(stage_key: Any, status: Any) -> tuple[str, str, int]:
            stage = self._by_key[stage_key or self._first.key]
            if status is None:
                status = "won" if stage.kind in ("won", "post") else "open"
            if status == "won" and stage.kind == "open" and self._won is not None:
                stage = self._won  # other CRMs keep a won deal in its last open stage
            return stage.key, status, stage.probability if stage.probability is not None else 0

        settled = []
        for combo in zip(given("stage"), given("status")):
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
        closed_raw, expected = given("closed_at"), given("expected_close")
        if "_close" in raw:
            # A profile's close date: expected while the deal is open, its closing day once closed.
            tz, close = self.tz, raw["_close"]
            expected = [x if x is not None or s != "open" else d for x, s, d in zip(expected, statuses, close)]
            closed_raw = [c if c is not None or s == "open" or d is None else
                          datetime.combine(d, time(0), tzinfo=tz).astimezone(timezone.utc)
                          for c, s, d in zip(closed_raw, statuses, close)]
        closed = [None if s == "open" else (c or e or now) for s, c, e in zip(statuses, closed_raw, entered_raw)]
        uids = [u or None for u in given("uid")]
        if "lost_reason" not in raw:
            # The file has no column for it (a Salesforce report): a lost deal says so, in words.
            deal["lost_reason"] = [self.no_reason if s == "lost" else "" for s in statuses]
        else:  # a word of the list is kept as its code (`no budget`, 预算 -> budget), once per value
            codes: dict[str, str] = {}
            deal["lost_reason"] = [codes[r] if r in codes else codes.setdefault(r, LOST_REASON.canonical(r))
                                   for r in deal["lost_reason"]]
        lost_reason = deal["lost_reason"]
        no_customer, no_reason = str(FieldError("customer", _("is required"))), lost_without_reason()
        for k in range(n):
            if reasons[k] is not None:
                continue
            if not customer[k]:
                reasons[k] = no_customer
            elif statuses[k] == "lost" and not lost_reason[k]:
                reasons[k] = no_reason
            elif uids[k] is not None:
                try:
                    uids[k] = _check_uid(uids[k])
                except RowRejected as exc:
                    reasons[k] = str(exc)
        currency = self.currency
        deal.update(
            uid=uids,
            lead_score=given("lead_score"),
            stage=stages,
            status=statuses,
            amount=[a or 0 for a in given("amount")],
            currency=[c or currency for c in given("currency")],
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
            search_key=deal_search_keys(customer, deal["title"], deal["contact_name"]),
        )
        follow = [f if s == "open" else None for f, s in zip(given("next_follow_up_at"), statuses)]
        return ParsedRows(deal, follow, reasons)


def _check_uid(text: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        raise RowRejected(_("uid: {text} is not a UUID (leave it empty for a new deal)").format(
            text=repr(text))) from None
