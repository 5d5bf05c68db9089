"""Profiles of the tools reps leave: which of their columns are which of our fields, how their
values are written, and which of their stage names are which of our stages.

A profile is recognised from a file's header without options. Each profile names `required`
header groups (every group must have one of its headers present: a Zoho deals export has
`Closing Date`, HubSpot's has `Deal Stage`, so neither is taken for the other); among the
profiles whose requirements hold, the one matching the most of its `distinctive` headers, then
the most of its columns, wins. A tie is refused with the candidates named (`--profile KEY`).
`tests/test_import_profiles.py` runs every profile's sample header against every other.

A user's saved mapping (`--map … --save-profile NAME`, profiles.saved) is a profile too and is
tried first. `REGISTRY` lists the built-in ones (`funnel import --profiles` prints it).
"""

from __future__ import annotations

import importlib
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

# How a column's cells are read (exchange.column_readers builds the reader for each).
TEXT, AMOUNT, CURRENCY, PROBABILITY, DATE, MOMENT, STAGE, STATUS, EXTERNAL_ID = (
    "text", "amount", "currency", "probability", "date", "moment", "stage", "status", "external_id")

# The deal fields a column may fill, and how each is read when a mapping does not say.
FIELD_READS: dict[str, str] = {
    "uid": TEXT, "external_id": EXTERNAL_ID, "customer": TEXT, "title": TEXT, "industry": TEXT,
    "company_size": TEXT, "contact_name": TEXT, "contact_role": TEXT, "contact_phone": TEXT,
    "contact_email": TEXT, "source": TEXT, "lead_score": TEXT, "owner": TEXT, "stage": STAGE,
    "status": STATUS, "amount": AMOUNT, "currency": CURRENCY, "probability": PROBABILITY,
    "expected_close": DATE, "created_at": MOMENT, "stage_entered_at": MOMENT,
    "last_contact_at": MOMENT, "next_follow_up_at": MOMENT, "closed_at": MOMENT,
    "risk_level": TEXT, "risk_note": TEXT, "mitigation": TEXT, "budget": TEXT,
    "decision_chain": TEXT, "pain_points": TEXT, "competitors": TEXT, "lost_reason": TEXT,
    "notes": TEXT,
}

# Conventions a profile may fix (exchange.amounts, .probabilities, .calendar_dates use the same words).
POINT_DECIMAL, COMMA_DECIMAL = "point", "comma"
PERCENT_SCALE, FRACTION_SCALE = "percent", "fraction"

PROFILE_MODULES = ("funnel", "template_zh", "pipedrive", "hubspot", "salesforce", "zoho", "odoo",
                   "twenty", "wukong", "cordys")


def norm(header: str) -> str:
    """A header as profiles key it: NFKC (full-width brackets), casefolded, no spaces or `_`."""
    t = unicodedata.normalize("NFKC", header).casefold()
    return "".join(t.split()).replace("_", "").lstrip("\ufeff")


@dataclass(frozen=True)
class Column:
    """What one header of a tool's export is: our field, how its cells are read, and options
    for the reader (e.g. scale=10000 for a 万元 amount, unit_currency="CNY")."""

    field: str
    read: str = ""
    options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self):
        if self.field not in FIELD_READS:
            raise ValueError(f"{self.field!r} is not a deal field")
        if not self.read:
            object.__setattr__(self, "read", FIELD_READS[self.field])

    @property
    def opts(self) -> dict[str, Any]:
        return dict(self.options)


def col(field_: str, read: str = "", **options: Any) -> Column:
    return Column(field_, read, tuple(sorted(options.items())))


@dataclass(frozen=True)
class StageName:
    """A tool's stage name: our stage key (None: the pipeline's first stage, for a lost deal
    whose stage the file does not say) and the status it implies (None: from the status column)."""

    stage: str | None
    status: str | None = None


@dataclass(frozen=True)
class Profile:
    key: str
    name: str
    source: str  # where the header names and value formats come from (see each module's docstring)
    columns: Mapping[str, Column]  # header as written by the tool -> Column
    required: tuple[tuple[str, ...], ...]  # groups of headers; each group needs one present
    distinctive: tuple[str, ...] = ()  # headers only this tool writes
    stages: Mapping[str, StageName] = field(default_factory=dict)  # tool's stage name -> ours
    statuses: Mapping[str, str] = field(default_factory=dict)  # status column value -> open|won|lost
    id_prefix: str = ""  # external_id = prefix + the tool's id
    decimal: str | None = None  # how the tool writes amounts, when it always does the same
    date_order: str | None = None
    probability_scale: str | None = None
    signs: Mapping[str, str] = field(default_factory=dict)  # a shared sign's meaning ("¥": "CNY")
    twins: tuple[str, ...] = ()  # fields two columns may both fill (their values must agree per row)
    sample: tuple[str, ...] = ()  # a header as the tool writes it (tests, and --profiles)
    silent: tuple[str, ...] = ()  # headers read but not imported, and not reported as ignored
    saved: bool = False  # a user's saved mapping
    title_as_customer: bool = False  # a deal without an organisation is its own customer (its title)
    currency: str | None = None  # the currency of amounts that name none (a saved profile's)

    def keyed(self) -> dict[str, Column]:
        return {norm(h): c for h, c in self.columns.items()}

    def stage_of(self, name: str) -> StageName | None:
        return _stage_index(self).get(norm(name))

    def status_of(self, value: str) -> str | None:
        return {norm(k): v for k, v in self.statuses.items()}.get(norm(value))


_STAGE_INDEX: dict[int, dict[str, StageName]] = {}


def _stage_index(p: Profile) -> dict[str, StageName]:
    hit = _STAGE_INDEX.get(id(p))
    if hit is None:
        hit = _STAGE_INDEX[id(p)] = {norm(k): v for k, v in p.stages.items()}
    return hit


@dataclass
class Match:
    """A header matched to a profile: per column the Column (None: ignored), and the
    ignored headers by name (tables.ignored_line reports them)."""

    profile: Profile
    header: list[str]
    columns: list[Column | None]
    ignored: list[str]

    @property
    def fields(self) -> dict[str, list[int]]:
        """field -> the indexes of the columns that fill it (two only for a profile's twins)."""
        out: dict[str, list[int]] = {}
        for i, c in enumerate(self.columns):
            if c is not None:
                out.setdefault(c.field, []).append(i)
        return out


class ProfileUnclear(ValueError):
    """No profile fits the header, or two fit equally well; the message says which and how to
    choose (`--profile KEY`, `--map "Header=field"`)."""

    def __init__(self, message: str, candidates: Sequence[str] = ()):
        super().__init__(message)
        self.candidates = list(candidates)


def builtin_profiles() -> list[Profile]:
    return [importlib.import_module(f"{__name__}.{m}").PROFILE for m in PROFILE_MODULES]


REGISTRY: dict[str, Profile] = {}


def registry() -> dict[str, Profile]:
    """Built-in profiles by key, in the order `funnel import --profiles` lists them."""
    if not REGISTRY:
        REGISTRY.update((p.key, p) for p in builtin_profiles())
    return REGISTRY


def score(profile: Profile, header: Sequence[str]) -> tuple[int, int] | None:
    """(distinctive headers present, columns present), or None when a requirement fails."""
    keys = {norm(h) for h in header}
    if not all(any(norm(h) in keys for h in group) for group in profile.required):
        return None
    columns = profile.keyed()
    return (sum(1 for h in profile.distinctive if norm(h) in keys),
            sum(1 for k in keys if k in columns))


def match_header(profile: Profile, header: Sequence[str]) -> Match:
    """Map `header` with `profile`; two columns filling one field is refused."""
    columns = profile.keyed()
    silent = {norm(h) for h in profile.silent}
    out: list[Column | None] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for raw in header:
        c = columns.get(norm(raw))
        if c is not None and c.field in seen and c.field not in profile.twins:
            raise ProfileUnclear(f"header: columns {seen[c.field]!r} and {raw!r} both mean {c.field}; "
                                 "keep one of them, or map them with --map")
        if c is None:
            if raw.strip() and norm(raw) not in silent:
                ignored.append(raw)
        else:
            seen[c.field] = raw
        out.append(c)
    return Match(profile, list(header), out, ignored)


def recognise(header: Sequence[str], *, saved: Sequence[Profile] = (), choose: str | None = None) -> Match:
    """The profile for `header` (see the module doc); ProfileUnclear when none or two fit."""
    everything = [*saved, *registry().values()]
    if choose is not None:
        chosen = next((p for p in everything if p.key == choose), None)
        if chosen is None:
            raise ProfileUnclear(f"--profile {choose!r}: no such profile; see funnel import --profiles",
                                 [p.key for p in everything])
        return match_header(chosen, header)
    for p in saved:  # the rep's own mapping for this tool comes first
        if score(p, header) is not None:
            return match_header(p, header)
    scored = [(s, p) for p in registry().values() if (s := score(p, header)) is not None]
    if not scored:
        raise ProfileUnclear("header: no customer column, and no profile knows these columns; name "
                             "them with --map \"Header=field\" (fields: customer, title, amount, stage, …), "
                             "e.g. --map \"Account=customer\". The first line of the file must be the header")
    scored.sort(key=lambda sp: sp[0], reverse=True)
    best = scored[0][0]
    tied = [p for s, p in scored if s == best]
    if len(tied) > 1:
        names = " or ".join(f"{p.name} (--profile {p.key})" for p in tied)
        raise ProfileUnclear(f"header: the columns fit {names} equally well; say which", [p.key for p in tied])
    return match_header(tied[0], header)


def describe() -> list[tuple[str, str, str]]:
    """(key, name, source) of each built-in profile, for `funnel import --profiles`."""
    return [(p.key, p.name, p.source) for p in registry().values()]
