"""Versioned schema migrations, keyed by SQLite's PRAGMA user_version.

Version 1 is the first released schema. Each later step is a function `(conn) -> None`
registered as MIGRATIONS[from_version]; it runs inside the migration's one transaction.
The steps: 1 → 2 adds the `undo` marks (issue 13); 2 → 3 signs history rows (`author`, issue 18);
3 → 4 gives the deal indexes the board's headers, its won/lost columns and the summary read the
currency, so amounts are summed per currency (issue 15, `recreate_indexes`); 4 → 5 gives deals
their pinyin search keys and lost reasons their codes (issue 14); 6 → 7 adds the lead scorecard's
rules, with the default scorecard (issue 17, `seed_scorecard`); 7 → 8 adds the lessons of won
and lost deals (issue 17, store.lessons).
`migrate` does, in this order (the SQLite "12-step" procedure for table changes):

1. a verified backup (backup API + integrity_check) - no backup, no migration;
2. PRAGMA foreign_keys = OFF, *outside* any transaction (inside one it is silently ignored).
   With foreign keys on, rebuilding a parent table (create new, copy, DROP old, rename)
   cascades the DROP's implicit DELETE into the child tables, or fails half-way;
3. BEGIN IMMEDIATE, re-read user_version (another terminal may have migrated meanwhile);
4. every step from the database's version up to SCHEMA_VERSION;
5. PRAGMA foreign_key_check must be empty, or everything rolls back;
6. user_version = SCHEMA_VERSION, COMMIT, foreign keys back on, integrity_check.

`rebuild_table` is the helper for the steps SQLite's ALTER TABLE cannot do (a new CHECK,
a changed column): it builds the table from the current models, so a migrated database
ends up with exactly the DDL a fresh one gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from funnel_tui.domain.scorecard import DEFAULT_RULES
from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine

MIGRATIONS: dict[int, Callable[["Connection"], None]] = {}

# The undo marks are append-only like history (schema.py creates both sets on a new database;
# the v1 → v2 step below on an old one: the same text, so both end with the same schema).
UNDO_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS tr_undo_no_update BEFORE UPDATE ON undo
       BEGIN SELECT RAISE(ABORT, 'undo marks are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS tr_undo_no_delete BEFORE DELETE ON undo
       BEGIN SELECT RAISE(ABORT, 'undo marks are append-only'); END""",
)


class MigrationError(RuntimeError):
    """The upgrade did not happen; the database is as it was (and a backup exists)."""


def user_version(conn: "Connection") -> int:
    """The schema version a SQLite database says it has (PRAGMA user_version)."""
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)


def migrate(engine: "Engine", *, from_version: int) -> "Path | None":
    """Upgrade an older database to SCHEMA_VERSION. Returns the backup taken first."""
    from funnel_tui.models import SCHEMA_VERSION
    from funnel_tui.store.backup import BackupError, backup_before
    from funnel_tui.store.engine import WRITE_OPTION

    missing = [v for v in range(from_version, SCHEMA_VERSION) if v not in MIGRATIONS]
    if missing:
        raise MigrationError(_("no migration from schema version {version}; this database cannot be upgraded")
                             .format(version=missing[0]))
    reason = f"migrate-v{from_version}-to-v{SCHEMA_VERSION}"
    try:
        # A retry after a failed upgrade reuses that attempt's backup while the database is
        # unchanged: a second copy may not fit on a nearly full disk.
        backup = earlier_backup(engine, reason) or backup_before(engine, reason=reason)
    except (BackupError, OSError) as exc:
        raise MigrationError(_("no upgrade without a backup, and the backup failed: {error}").format(error=exc)) from None

    with engine.connect() as conn:
        raw = conn.connection.driver_connection  # no SQLAlchemy autobegin: still outside a txn
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            if raw.execute("PRAGMA foreign_keys").fetchone()[0] != 0:
                raise MigrationError(_("could not switch foreign keys off; nothing changed"))
            wconn = conn.execution_options(**{WRITE_OPTION: True})
            with wconn.begin():
                version = user_version(wconn)
                if version >= SCHEMA_VERSION:
                    return backup  # another process upgraded it while we waited
                for step in range(version, SCHEMA_VERSION):
                    try:
                        MIGRATIONS[step](wconn)
                    except MigrationError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - the cause, in one line, rolled back
                        cause = getattr(exc, "orig", None) or exc
                        raise MigrationError(_(
                            "the upgrade from schema version {step} to {next} failed ({cause}); nothing "
                            "changed, the backup {backup} is kept").format(
                            step=step, next=step + 1, cause=f"{type(cause).__name__}: {cause}",
                            backup=backup)) from None
                bad = wconn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if bad:
                    tables = sorted({row[0] for row in bad})
                    raise MigrationError(_("upgrade would leave {n} rows pointing at nothing (in {tables}); "
                                           "nothing changed").format(n=len(bad), tables=", ".join(tables)))
                wconn.exec_driver_sql(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")
        finally:
            raw.execute("PRAGMA foreign_keys = ON")
        ok = raw.execute("PRAGMA integrity_check").fetchone()[0]
    if ok != "ok":
        raise MigrationError(_("database failed its integrity check after the upgrade: {problem}; "
                               "restore the backup {backup}").format(problem=ok, backup=backup))
    return backup


def earlier_backup(engine: "Engine", reason: str) -> "Path | None":
    """The newest backup taken for this very upgrade, if the database has not changed since."""
    from pathlib import Path

    from funnel_tui.store.backup import list_backups
    from funnel_tui.store.health import fingerprint

    db = engine.url.database or ""
    if engine.dialect.name != "sqlite" or not db:
        return None
    path = Path(db)
    same = [b for b in list_backups(path) if b.reason == reason]
    if same and fingerprint(same[0].path) == fingerprint(path) is not None:
        return same[0].path
    return None


def rebuild_table(conn: "Connection", table: "Table", computed: dict[str, str] | None = None) -> None:
    """Rebuild `table` to its current model definition, keeping every row.

    Create `_new_<name>` from the model, copy the columns both versions share, drop the old
    table, rename, then recreate the model's indexes and this table's triggers. Must run
    inside `migrate` (foreign keys off, one transaction, foreign_key_check afterwards).
    `computed` gives columns (new or changed) a SQL expression over the old row, computed in
    the same copy.
    """
    computed = computed or {}
    from sqlalchemy.schema import CreateIndex, CreateTable

    name = table.name
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise MigrationError(f"refusing to rebuild {name} with foreign keys on (it would cascade)")
    dialect = conn.dialect
    old_cols = [r[1] for r in conn.exec_driver_sql(f'PRAGMA table_info("{name}")')]
    triggers = [
        r[0] for r in conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (name,))
    ]
    tmp = f"_new_{name}"
    ddl = str(CreateTable(table).compile(dialect=dialect)).strip()
    head = f"CREATE TABLE {name} ("
    if not ddl.startswith(head):
        raise MigrationError(f"unexpected DDL for {name}")
    conn.exec_driver_sql(f'CREATE TABLE "{tmp}" (' + ddl[len(head):])
    shared = [c.name for c in table.columns if c.name in old_cols or c.name in computed]
    cols = ", ".join(f'"{c}"' for c in shared)
    values = ", ".join(computed.get(c, f'"{c}"') for c in shared)
    conn.exec_driver_sql(f'INSERT INTO "{tmp}" ({cols}) SELECT {values} FROM "{name}"')
    conn.exec_driver_sql(f'DROP TABLE "{name}"')
    conn.exec_driver_sql(f'ALTER TABLE "{tmp}" RENAME TO "{name}"')
    for index in table.indexes:
        conn.execute(CreateIndex(index))
    for sql in triggers:
        conn.exec_driver_sql(sql)


def _v1_undo_marks(conn: "Connection") -> None:
    """v1 → v2: the `undo` table, filled from the undos v1 wrote (their inverse rows carry the
    action "undo:<undone action>"), so every reader skips the same rows on old and new data."""
    from funnel_tui.models import Undo

    Undo.__table__.create(conn)
    for ddl in UNDO_TRIGGERS:
        conn.exec_driver_sql(ddl)
    conn.exec_driver_sql(
        "INSERT INTO undo (action, undo_action, at) "
        "SELECT substr(action, 6), action, min(at) FROM history "
        "WHERE action >= 'undo:' AND action < 'undo;' GROUP BY action ORDER BY min(id)")  # ix_history_action


MIGRATIONS[1] = _v1_undo_marks


def _v2_history_authors(conn: "Connection") -> None:
    """v2 → v3: history rows carry their author (`author`, '' for the rows written before)."""
    from funnel_tui.models import History

    rebuild_table(conn, History.__table__)


MIGRATIONS[2] = _v2_history_authors


def recreate_indexes(conn: "Connection", table: "Table", names: tuple[str, ...]) -> None:
    """Drop the named indexes of `table` and create them as the models define them now (an
    index holds no data of its own: nothing to copy, nothing lost)."""
    from sqlalchemy.schema import CreateIndex

    for index in table.indexes:
        if index.name in names:
            conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')
            conn.execute(CreateIndex(index))


# The deal indexes that carry the currency since v4 (sums per currency without table look-ups).
CURRENCY_INDEXES = ("ix_deal_stage_money", "ix_deal_won", "ix_deal_lost", "ix_deal_summary")


def money_per_currency(conn: "Connection") -> None:
    """v3 → v4 (SQLite and a server alike): the indexes of CURRENCY_INDEXES as the models have them."""
    from funnel_tui.models import Deal

    recreate_indexes(conn, Deal.__table__, CURRENCY_INDEXES)


MIGRATIONS[3] = money_per_currency


def _v4_stages_of_your_own(conn: "Connection") -> None:
    """v4 → v5: stages of the rep's own (issue 16): pipelines, each stage's pipeline, playbook
    and archived/maps_to, history rows without a deal (stage changes), and the playbook ticks.
    The default stages get the source documents' playbooks; every existing row is kept."""
    from sqlalchemy import and_, insert, update

    from funnel_tui import models
    from funnel_tui.domain.stages import DEFAULT_PIPELINE_DEF, DEFAULT_STAGES, SECTIONS

    models.Pipeline.__table__.create(conn)
    conn.execute(insert(models.Pipeline.__table__).values(**DEFAULT_PIPELINE_DEF.as_row()))
    rebuild_table(conn, models.Stage.__table__)
    deal_id = next(r for r in conn.exec_driver_sql('PRAGMA table_info("history")') if r[1] == "deal_id")
    if deal_id[3]:  # NOT NULL still (v2 → v3 rebuilt history from today's model already otherwise)
        rebuild_table(conn, models.History.__table__)
    models.ChecklistTick.__table__.create(conn)
    stage = models.Stage.__table__
    texts = [f"{section}{suffix}" for section in SECTIONS for suffix in ("", "_zh")]
    for s in DEFAULT_STAGES:  # a v1 database could not edit stages: these are the defaults
        conn.execute(update(stage).where(and_(stage.c.key == s.key, *(stage.c[t] == "" for t in texts)))
                     .values(**{t: getattr(s, t) for t in texts}))


MIGRATIONS[4] = _v4_stages_of_your_own


def _v5_search_keys_and_codes(conn: "Connection") -> None:
    """v5 → v6: deals carry their pinyin search key (`search_key`, store.search), and lost
    reasons that are words of the list become its codes (`no budget`, `预算` -> budget;
    `no budget: CFO left` -> `budget: CFO left`; the rep's own words and synonyms stay). One copy of the
    deal table computes both, calling Python from SQL; history keeps what was written then."""
    from funnel_tui.models import Deal
    from funnel_tui.store.search import SQL_FUNCTION, register_functions

    raw = conn.connection.dbapi_connection
    register_functions(raw)
    raw.create_function("funnel_lost_reason", 1, LOST_REASON.canonical, deterministic=True)
    rebuild_table(conn, Deal.__table__, {
        "search_key": f"{SQL_FUNCTION}(customer, title, contact_name)",
        "lost_reason": "CASE WHEN lost_reason = '' THEN '' ELSE funnel_lost_reason(lost_reason) END",
    })


MIGRATIONS[5] = _v5_search_keys_and_codes


def seed_scorecard(conn: "Connection") -> None:
    """The default scorecard (domain.scorecard.DEFAULT_RULES) into an empty rules table: a new
    database, and the upgrade to schema 7 (SQLite and a server alike)."""
    from sqlalchemy import insert, select

    from funnel_tui.models import ScorecardRule

    table = ScorecardRule.__table__
    if conn.execute(select(table.c.id).limit(1)).first() is not None:
        return
    conn.execute(insert(table), [
        {"position": i, "kind": r.kind, "field": r.field, "pattern": r.pattern, "points": r.points,
         "label": r.label, "label_zh": r.label_zh} for i, r in enumerate(DEFAULT_RULES, 1)])


def _v6_scorecard(conn: "Connection") -> None:
    """v6 → v7: the lead scorecard's rules (issue 17), seeded with the default scorecard. Deals
    keep their scores: a score set before the scorecard counts as set by hand (it holds)."""
    from funnel_tui.models import ScorecardRule

    ScorecardRule.__table__.create(conn)
    seed_scorecard(conn)


MIGRATIONS[6] = _v6_scorecard


def _lessons_table(conn: "Connection") -> None:
    """v7 → v8: the lessons of won and lost deals (issue 17, store.lessons): a new table, no
    existing row changes."""
    from funnel_tui.models import Lesson

    Lesson.__table__.create(conn)


MIGRATIONS[7] = _lessons_table
