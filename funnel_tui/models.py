"""SQLModel tables: the schema and nothing else.

Rules the schema itself enforces (so they hold even when the ORM is bypassed):
- money is an integer count of minor units (cents/分), never a float;
- probability is 0–100, lead score 0–10, status and kinds come from fixed lists;
- every CHECK constraint has a name, so table rebuilds during migrations keep it;
- timestamps are aware datetimes stored as UTC (SQLModel's UTCDateTime).

Indexes match the screen queries: the board's per-stage top-K by next follow-up, the
per-stage sums (covering, so SUM(amount) needs no table look-ups), open follow-ups by due
time, and history by deal.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from funnel_tui.domain.vocab import (
    DEAL_STATUSES,
    FOLLOWUP_KINDS,
    FOLLOWUP_STATUSES,
    HISTORY_KINDS,
    RISK_LEVELS,
    STAGE_KINDS,
)

# Bumped by every schema migration (see store.migrations); kept in PRAGMA user_version on
# SQLite and in the funnel_schema table on a server (store.pg_schema).
SCHEMA_VERSION = 8

# Money is 64-bit everywhere: BIGINT on a server (a 32-bit integer ends at ¥21,474,836.47
# in fen); SQLite's INTEGER is already 64-bit, and its DDL stays as it always was.
MONEY = BigInteger().with_variant(Integer(), "sqlite")

OPEN_DEAL = "status = 'open' AND deleted_at IS NULL"  # live deals on the board
OPEN_FOLLOWUP = "status = 'open'"


def _partial(name: str, *columns, where: str) -> Index:
    """A partial index; SQLite uses it only when a query names the WHERE terms literally."""
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _text_column(default: str = "") -> Column:
    """A NOT NULL text column with a server default, so a migration can add it to old rows."""
    return Column(String, nullable=False, server_default=text(f"'{default}'"))


class Pipeline(SQLModel, table=True):
    """A set of stages (新签 new business, 续费 renewals…); exactly one is the default."""

    __tablename__ = "pipeline"

    key: str = Field(primary_key=True, max_length=32)
    name: str
    name_zh: str = ""
    position: int = Field(unique=True)
    is_default: bool = False


class Stage(SQLModel, table=True):
    """A funnel stage of one pipeline, ordered by `position` within it.

    Never deleted once deals have seen it: split, merge and archive set `archived`, and a
    split or merge sets `maps_to`, the stage its history counts as now (domain.stages)."""

    __tablename__ = "stage"
    __table_args__ = (
        CheckConstraint(_in("kind", STAGE_KINDS), name="ck_stage_kind"),
        CheckConstraint(
            "probability IS NULL OR probability BETWEEN 0 AND 100",
            name="ck_stage_probability",
        ),
        CheckConstraint(
            "max_dwell_days IS NULL OR max_dwell_days > 0", name="ck_stage_max_dwell"
        ),
        UniqueConstraint("pipeline", "position", name="uq_stage_position"),
    )

    key: str = Field(primary_key=True, max_length=32)
    position: int
    name: str
    name_zh: str = ""
    probability: Optional[int] = None
    max_dwell_days: Optional[int] = None
    kind: str = "open"
    pipeline: str = Field(default="main", sa_column=Column(
        String, ForeignKey("pipeline.key"), nullable=False, server_default=text("'main'")))
    archived: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    maps_to: Optional[str] = None
    # The playbook: entry condition (进入条件), key actions (关键动作), outputs (输出物); one item
    # per line, in English and Chinese.
    entry: str = Field(default="", sa_column=_text_column())
    entry_zh: str = Field(default="", sa_column=_text_column())
    actions: str = Field(default="", sa_column=_text_column())
    actions_zh: str = Field(default="", sa_column=_text_column())
    outputs: str = Field(default="", sa_column=_text_column())
    outputs_zh: str = Field(default="", sa_column=_text_column())


class Deal(SQLModel, table=True):
    """One opportunity with one customer."""

    __tablename__ = "deal"
    __table_args__ = (
        CheckConstraint(_in("status", DEAL_STATUSES), name="ck_deal_status"),
        CheckConstraint("probability BETWEEN 0 AND 100", name="ck_deal_probability"),
        CheckConstraint("amount >= 0", name="ck_deal_amount"),
        CheckConstraint(
            "lead_score IS NULL OR lead_score BETWEEN 0 AND 10", name="ck_deal_lead_score"
        ),
        CheckConstraint(
            "risk_level IS NULL OR " + _in("risk_level", RISK_LEVELS),
            name="ck_deal_risk_level",
        ),
        CheckConstraint("length(customer) BETWEEN 1 AND 200", name="ck_deal_customer"),
        CheckConstraint("length(currency) = 3", name="ck_deal_currency"),
        CheckConstraint(
            "status = 'open' OR closed_at IS NOT NULL", name="ck_deal_closed_at"
        ),
        CheckConstraint(
            "status <> 'lost' OR length(lost_reason) > 0", name="ck_deal_lost_reason"
        ),
        CheckConstraint("version >= 1", name="ck_deal_version"),
        # SQLite stores whatever it is given: without these a raw INSERT could put 12.5 or
        # 'abc' into amount, or '2026-02-30' into expected_close (PostgreSQL types do this).
        # date() alone accepts Feb 30 (SQLite 3.40); the julianday round trip does not.
        CheckConstraint(
            "typeof(amount) = 'integer' AND typeof(probability) = 'integer'",
            name="ck_deal_whole_numbers",
        ).ddl_if(dialect="sqlite"),
        CheckConstraint(
            "expected_close IS NULL OR date(julianday(expected_close)) IS expected_close",
            name="ck_deal_expected_close",
        ).ddl_if(dialect="sqlite"),
        # The board: per stage, open deals by next follow-up (overdue first).
        _partial("ix_deal_board", "stage", "next_follow_up_at", where=OPEN_DEAL),
        # Column headers: count, Σ amount, Σ weighted per stage and currency without table look-ups.
        _partial("ix_deal_stage_money", "stage", "currency", "amount", "probability", where=OPEN_DEAL),
        # Dwell warnings: per stage, the open deals that entered it longest ago.
        _partial("ix_deal_dwell", "stage", "stage_entered_at", where=OPEN_DEAL),
        # "No next step": open deals without a follow-up, longest in their stage first.
        _partial("ix_deal_no_next", "stage_entered_at",
                 where=OPEN_DEAL + " AND next_follow_up_at IS NULL"),
        # "Silent": open deals by how long since the last contact (or creation).
        _partial("ix_deal_quiet", text("coalesce(last_contact_at, created_at)"), where=OPEN_DEAL),
        # Won and lost columns: newest first per stage, with their sums index-only. (No plain
        # index on status: SQLite's planner, having no statistics, would seek it for
        # status = 'open' and read half the table instead of using the partial indexes.)
        _partial("ix_deal_won", "stage", "closed_at", "amount", "probability", "currency",
                 where="status = 'won' AND deleted_at IS NULL"),
        _partial("ix_deal_lost", "stage", "closed_at", "amount", "probability", "currency",
                 where="status = 'lost' AND deleted_at IS NULL"),
        Index("ix_deal_owner_status", "owner", "status"),
        # The funnel summary: one index-only pass grouped by rep, status, stage, source and
        # lost reason gives every per-deal sum (count, amount, weighted, cycle, dwell).
        Index(
            "ix_deal_summary",
            "owner", "status", "stage", "source", "lost_reason", "currency", "amount", "probability",
            "created_at", "closed_at", "stage_entered_at",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # Search (store.search): no pattern of a search can seek a B-tree, so on SQLite this
        # index is what the GLOB scans instead of the table (a tenth of its size); on a server
        # a trigram index (pg_trgm) narrows the regex search to the rows that can match.
        Index(
            "ix_deal_search", "search_key",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
            postgresql_using="gin", postgresql_ops={"search_key": "gin_trgm_ops"},
        ),
    )

    id: Optional[int] = Field(default=None, sa_column=Column(Integer, primary_key=True))
    uid: str = Field(unique=True, max_length=36)
    external_id: Optional[str] = Field(default=None, unique=True)
    customer: str
    title: str = ""
    industry: str = ""
    company_size: str = ""
    contact_name: str = ""
    contact_role: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    source: str = ""
    lead_score: Optional[int] = None
    owner: str = ""
    stage: str = Field(sa_column=Column(ForeignKey("stage.key"), nullable=False))
    status: str = "open"
    amount: int = Field(default=0, sa_type=MONEY)  # minor units (cents / 分)
    currency: str = "CNY"
    probability: int = 0
    # True when the rep set the probability; otherwise it follows the stage default.
    probability_custom: bool = False
    expected_close: Optional[date] = None
    risk_level: Optional[str] = None
    risk_note: str = ""
    mitigation: str = ""
    budget: str = ""
    decision_chain: str = ""
    pain_points: str = ""
    competitors: str = ""
    lost_reason: str = ""
    notes: str = ""
    created_at: datetime
    updated_at: datetime
    stage_entered_at: datetime
    last_contact_at: Optional[datetime] = None
    # Denormalised: due time of the earliest open follow-up (kept by the store).
    next_follow_up_at: Optional[datetime] = None
    closed_at: Optional[datetime] = None
    deleted_at: Optional[datetime] = None
    # Optimistic concurrency: a save from a stale copy is refused.
    version: int = 1
    # Customer, title and contact as pinyin search finds them (domain.pinyin.deal_search_key),
    # kept by the store whenever one of them is written; never shown, never exported.
    search_key: str = Field(default="", sa_column_kwargs={"server_default": ""})


class FollowUp(SQLModel, table=True):
    """A planned action on a deal; completing it logs a touch."""

    __tablename__ = "followup"
    __table_args__ = (
        CheckConstraint(_in("kind", FOLLOWUP_KINDS), name="ck_followup_kind"),
        CheckConstraint(_in("status", FOLLOWUP_STATUSES), name="ck_followup_status"),
        _partial("ix_followup_open_due", "due_at", where=OPEN_FOLLOWUP),
        Index("ix_followup_deal", "deal_id", "status", "due_at"),
    )

    id: Optional[int] = Field(default=None, sa_column=Column(Integer, primary_key=True))
    deal_id: int = Field(sa_column=Column(ForeignKey("deal.id"), nullable=False))
    kind: str = "call"
    due_at: datetime
    note: str = ""
    status: str = "open"
    created_at: datetime
    done_at: Optional[datetime] = None


class Touch(SQLModel, table=True):
    """A logged contact with the customer."""

    __tablename__ = "touch"
    __table_args__ = (
        CheckConstraint(_in("kind", FOLLOWUP_KINDS), name="ck_touch_kind"),
        Index("ix_touch_deal", "deal_id", "at"),
    )

    id: Optional[int] = Field(default=None, sa_column=Column(Integer, primary_key=True))
    deal_id: int = Field(sa_column=Column(ForeignKey("deal.id"), nullable=False))
    followup_id: Optional[int] = Field(
        default=None, sa_column=Column(ForeignKey("followup.id"), nullable=True)
    )
    kind: str = "call"
    at: datetime
    note: str = ""
    # Set (never deleted) when the action that logged it is undone.
    voided_at: Optional[datetime] = None


class History(SQLModel, table=True):
    """Append-only record of every change to a deal (triggers forbid UPDATE/DELETE).

    `action` groups the rows written by one user action, so undo can revert it whole.
    """

    __tablename__ = "history"
    __table_args__ = (
        CheckConstraint(_in("kind", HISTORY_KINDS), name="ck_history_kind"),
        Index("ix_history_deal", "deal_id", "at"),
        Index("ix_history_action", "action"),
        # By kind and time; covering for the weekly review's counts of entries, wins, losses.
        Index("ix_history_stage_at", "kind", "at", "to_stage", "from_stage", "deal_id"),
        # Stage entries and exits only (created/imported/stage rows carry to_stage):
        # per-stage sums in index order, and each deal's path for reached and --as-of.
        Index(
            "ix_history_flow", "to_stage", "from_stage", "at", "deal_id",
            sqlite_where=text("to_stage IS NOT NULL"),
            postgresql_where=text("to_stage IS NOT NULL"),
        ),
        Index(
            "ix_history_path", "deal_id", "to_stage", "from_stage", "at",
            sqlite_where=text("to_stage IS NOT NULL"),
            postgresql_where=text("to_stage IS NOT NULL"),
        ),
    )

    id: Optional[int] = Field(default=None, sa_column=Column(Integer, primary_key=True))
    # NULL only on rows of stage and pipeline changes (field "stage:…"/"pipeline:…"): no deal.
    deal_id: Optional[int] = Field(default=None, sa_column=Column(ForeignKey("deal.id"), nullable=True))
    at: datetime
    kind: str
    from_stage: Optional[str] = None
    to_stage: Optional[str] = None
    field: Optional[str] = None
    old: Optional[str] = None
    new: Optional[str] = None
    # Undo appends the inverse rows under action "undo:<action>" and marks both actions in
    # the `undo` table; nothing here is ever rewritten.
    action: str = ""
    # Who did it: the PostgreSQL role on a server (set by the server itself, store.pg_schema);
    # on SQLite the OS user. '' on rows written before authors were kept (and by the bulk
    # import's SQLite fast path).
    author: str = Field(default="", sa_column_kwargs={"server_default": ""})


class Undo(SQLModel, table=True):
    """One undo: the action it took back (`action`) and the action its inverse history rows
    were written under (`undo_action`). Append-only like history (triggers forbid UPDATE and
    DELETE). Every reader of history skips the rows of both, so after an action and its undo
    every number is as it was; `at` says from when (`--as-of` replays it).

    A table of marks rather than a flag on history rows: history stays strictly append-only
    on every backend (no trigger has to allow "this one column, once"), and undoing an import
    of 100k deals writes one row here instead of rewriting 250k history rows.
    """

    __tablename__ = "undo"

    id: Optional[int] = Field(default=None, sa_column=Column(Integer, primary_key=True))
    action: str = Field(unique=True)  # an action is undone at most once
    undo_action: str = Field(unique=True)
    at: datetime


class ChecklistTick(SQLModel, table=True):
    """A ticked (or unticked) item of a stage's playbook on one deal: `item` is `actions.0`,
    `outputs.1`, … (domain.stages.StageDef.checklist). Every tick is in history too."""

    __tablename__ = "checklist_tick"

    deal_id: int = Field(sa_column=Column(ForeignKey("deal.id"), primary_key=True))
    stage: str = Field(primary_key=True, max_length=32)
    item: str = Field(primary_key=True, max_length=40)
    done: bool = False
    at: datetime


class Lesson(SQLModel, table=True):
    """What a won or lost deal taught (经验 for a win, 教训 for a loss), one per deal, shared
    with the team (store.lessons). The deal's stage and lost reason code are kept as they were
    when the lesson was written, and its customer and owner too: on a team server a colleague
    reads the lesson without seeing the deal."""

    __tablename__ = "lesson"
    __table_args__ = (
        CheckConstraint("outcome IN ('won', 'lost')", name="ck_lesson_outcome"),
        CheckConstraint("length(text) BETWEEN 1 AND 2000", name="ck_lesson_text"),
        Index("ix_lesson_stage", "outcome", "stage", "reason"),
        Index("ix_lesson_updated", "updated_at"),  # the panel's newest 200
    )

    deal_id: int = Field(sa_column=Column(ForeignKey("deal.id"), primary_key=True, autoincrement=False))
    outcome: str  # won / lost
    # Where it was won (the open stage the deal left for the win) or lost (the stage it stayed in).
    stage: str = Field(max_length=32)
    # A lost deal's reason code (`price`), or its own words when they are no code; '' for a win.
    reason: str = ""
    text: str
    customer: str = ""
    owner: str = ""
    # Who wrote it: set by the server to the connected role (store.pg_schema); the OS user on SQLite.
    author: str = Field(default="", sa_column_kwargs={"server_default": ""})
    created_at: datetime
    updated_at: datetime


class Setting(SQLModel, table=True):
    """Small key/value settings kept with the data (theme, language, tier thresholds)."""

    __tablename__ = "setting"

    key: str = Field(primary_key=True)
    value: str = ""


class ScorecardRule(SQLModel, table=True):
    """One rule of the lead scorecard (domain.scorecard): a deal attribute or a behaviour in its
    touches, and the points it gives. Pipeline setup like the stages: every change is a history
    row without a deal (field `scorecard:<id>`), and undo puts the rule back."""

    __tablename__ = "scorecard_rule"
    __table_args__ = (
        CheckConstraint("kind IN ('attribute', 'behaviour')", name="ck_scorecard_kind"),
        CheckConstraint("points BETWEEN -10 AND 10 AND points <> 0", name="ck_scorecard_points"),
    )

    id: Optional[int] = Field(default=None, sa_column=Column(Integer, primary_key=True))
    position: int = 0
    kind: str
    # attribute: a deal column; behaviour: a touch kind code or 'any'
    field: str
    # a band of head counts (`50-200`, `201-`) or words separated by `|`
    pattern: str = ""
    points: int
    label: str = ""
    label_zh: str = ""
