"""The schema on a PostgreSQL server: what the server enforces, and which version it is.

The tables, columns, indexes and named CHECKs come from models.py, as on SQLite (the two
SQLite-only CHECKs, whole numbers and real calendar dates, are what PostgreSQL's column
types enforce by themselves). On top of them, `install_rules` gives the server what
SQLite's triggers give a file:
- history is append-only: UPDATE, DELETE and TRUNCATE are refused (triggers, for everyone,
  the table's owner included);
- deals are never deleted (DELETE and TRUNCATE refused);
- every history row carries its author, set by the server to the connected role (a client
  cannot write someone else's name);
- personal settings (`me`, `lang`, `theme`) live per role in funnel_user_setting.

Versions: the table funnel_schema holds one row per version applied (a server created before
it existed, with a deal table and no funnel_schema, is version 1). `ensure_pg_schema` creates
a missing schema under an advisory lock (so simultaneous first opens create it once) and
refuses a server whose version is not models.SCHEMA_VERSION; `migrate_server` (the admin's
`funnel team migrate`) runs the steps. Every statement here works inside one transaction:
PostgreSQL's DDL is transactional, so a failed step leaves the server as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from funnel_tui.domain.vocab import LOST_REASON
from funnel_tui.i18n import _
from funnel_tui.store.migrations import money_per_currency, seed_scorecard
from funnel_tui.store.pg_engine import connection_problem
from funnel_tui.store.schema import NewerSchemaError, create_schema

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

# Advisory lock keys (pg_advisory_xact_lock): one per thing that must happen one at a time.
SCHEMA_LOCK = 0x46554E01  # creating or migrating the schema
IMPORT_LOCK = 0x46554E02  # an import (two imports of one file: the second finds duplicates)

VERSION_TABLE = "funnel_schema"
USER_SETTING_TABLE = "funnel_user_setting"
# Server-only objects (not in models.py): the schema-parity test names them as the expected
# difference from a SQLite file.
SERVER_ONLY_TABLES = (VERSION_TABLE, USER_SETTING_TABLE)


class ServerSchemaMismatch(NewerSchemaError):
    """The server's schema is not the version this funnel-tui writes: read, never written."""


def lock(conn: "Connection", key: int) -> None:
    """Wait for the transaction-scoped advisory lock `key` (released at commit/rollback)."""
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(key)})")


def has_deal_table(conn: "Connection") -> bool:
    return conn.exec_driver_sql("SELECT to_regclass('deal') IS NOT NULL").scalar()


def server_version(conn: "Connection") -> int:
    """The schema version of the server: funnel_schema's newest row, 1 for a server made
    before versions were kept, 0 for an empty one."""
    if conn.exec_driver_sql(f"SELECT to_regclass('{VERSION_TABLE}') IS NOT NULL").scalar():
        return int(conn.exec_driver_sql(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}").scalar())
    return 1 if has_deal_table(conn) else 0


RULES = (
    # SQLite's julianday(), so the analytics' SQL (store/summary*.py, review.py) reads the same
    # on both: days as a fraction since noon UTC, 4714 BC, from a time or its UTC text.
    """CREATE OR REPLACE FUNCTION julianday(timestamptz) RETURNS double precision
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
       'SELECT extract(epoch FROM $1)::double precision / 86400.0 + 2440587.5'""",
    """CREATE OR REPLACE FUNCTION julianday(text) RETURNS double precision
       LANGUAGE sql STABLE PARALLEL SAFE AS 'SELECT julianday($1::timestamptz)'""",
    # Refusals, each named as SQLite's triggers are.
    """CREATE OR REPLACE FUNCTION funnel_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION USING MESSAGE = TG_ARGV[0]; END $$""",
    "DROP TRIGGER IF EXISTS tr_deal_no_delete ON deal",
    """CREATE TRIGGER tr_deal_no_delete BEFORE DELETE ON deal
       FOR EACH ROW EXECUTE FUNCTION funnel_refuse('deals are never deleted; set deleted_at')""",
    "DROP TRIGGER IF EXISTS tr_deal_no_truncate ON deal",
    """CREATE TRIGGER tr_deal_no_truncate BEFORE TRUNCATE ON deal
       FOR EACH STATEMENT EXECUTE FUNCTION funnel_refuse('deals are never deleted; set deleted_at')""",
    # The author of a history row is whoever is connected: the server says so, not the client.
    """CREATE OR REPLACE FUNCTION funnel_history_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.author := current_user; RETURN NEW; END $$""",
    "DROP TRIGGER IF EXISTS tr_history_author ON history",
    """CREATE TRIGGER tr_history_author BEFORE INSERT ON history
       FOR EACH ROW EXECUTE FUNCTION funnel_history_author()""",
    # A lesson's author is whoever wrote it first; the server says so, and keeps it on a change.
    """CREATE OR REPLACE FUNCTION funnel_lesson_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF TG_OP = 'INSERT' THEN NEW.author := current_user; ELSE NEW.author := OLD.author; END IF;
RETURN NEW; END $$""",
    "DROP TRIGGER IF EXISTS tr_lesson_author ON lesson",
    """CREATE TRIGGER tr_lesson_author BEFORE INSERT OR UPDATE ON lesson
       FOR EACH ROW EXECUTE FUNCTION funnel_lesson_author()""",
    f"""CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
       version integer NOT NULL PRIMARY KEY,
       applied_at timestamptz NOT NULL DEFAULT now(),
       applied_by text NOT NULL DEFAULT current_user)""",
    f"""CREATE TABLE IF NOT EXISTS {USER_SETTING_TABLE} (
       username text NOT NULL DEFAULT current_user,
       key text NOT NULL,
       value text NOT NULL DEFAULT '',
       PRIMARY KEY (username, key))""",
    # Everyone sees and changes only their own personal settings (the owner of the table too).
    f"ALTER TABLE {USER_SETTING_TABLE} ENABLE ROW LEVEL SECURITY",
    f"ALTER TABLE {USER_SETTING_TABLE} FORCE ROW LEVEL SECURITY",
    f"DROP POLICY IF EXISTS own_settings ON {USER_SETTING_TABLE}",
    f"""CREATE POLICY own_settings ON {USER_SETTING_TABLE}
       USING (username = current_user) WITH CHECK (username = current_user)""",
)


# Tables whose rows are never changed or removed once written, with the refusal's words (the
# same names and words as SQLite's triggers; TRUNCATE, which SQLite has not, refused too).
# A table listed here that this schema does not have yet is skipped.
APPEND_ONLY = {"history": "history is append-only", "undo": "undo marks are append-only"}


def _append_only(table: str, words: str) -> list[str]:
    out = []
    for event, name, per in (("UPDATE", "no_update", "ROW"), ("DELETE", "no_delete", "ROW"),
                             ("TRUNCATE", "no_truncate", "STATEMENT")):
        out += [f"DROP TRIGGER IF EXISTS tr_{table}_{name} ON {table}",
                f"CREATE TRIGGER tr_{table}_{name} BEFORE {event} ON {table} "
                f"FOR EACH {per} EXECUTE FUNCTION funnel_refuse('{words}')"]
    return out


def install_rules(conn: "Connection") -> None:
    """(Re)install the server's triggers, the version table and personal settings; idempotent."""
    for ddl in RULES:
        conn.exec_driver_sql(ddl)
    for table, words in APPEND_ONLY.items():
        if conn.exec_driver_sql(f"SELECT to_regclass('{table}') IS NOT NULL").scalar():
            for ddl in _append_only(table, words):
                conn.exec_driver_sql(ddl)


def _record_version(conn: "Connection", version: int) -> None:
    conn.exec_driver_sql(
        f"INSERT INTO {VERSION_TABLE} (version) VALUES ({int(version)}) ON CONFLICT (version) DO NOTHING")


def install_extensions(conn: "Connection") -> None:
    """pg_trgm, for the search index (models: ix_deal_search, a trigram index the search's
    regexes use). A trusted extension of PostgreSQL's contrib: the database's owner may add it.
    A server without contrib is told apart; any other refusal (no permission) is left to the
    connection's own message, as creating the tables would be."""
    if conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first():
        return
    if not conn.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").first():
        raise ServerSchemaMismatch(_(
            "the server lacks the pg_trgm extension (PostgreSQL's contrib), which deal search needs: "
            "install the server's contrib package (e.g. postgresql-contrib) and try again"))
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def create_server_schema(conn: "Connection") -> None:
    """A new schema on an empty server: the tables, stages, rules and its version."""
    from funnel_tui.models import SCHEMA_VERSION

    install_extensions(conn)
    create_schema(conn)
    install_rules(conn)
    _record_version(conn, SCHEMA_VERSION)


def mismatch_message(version: int, expected: int) -> str:
    if version < expected:
        return _("the server's schema is version {have}; this funnel-tui writes version {want}. "
                 "Your administrator upgrades it with: funnel --db URL team migrate").format(
                     have=version, want=expected)
    return _("the server's schema is version {have}, newer than this funnel-tui understands "
             "({want}); upgrade funnel-tui").format(have=version, want=expected)


def open_server(engine: "Engine", *, read_only: bool) -> None:
    """At Store open: the schema ensured (or, read-only, the connection tried), with a failure
    to connect named by its cause (pg_engine.connection_problem)."""
    from sqlalchemy.exc import DBAPIError

    try:
        if read_only:
            with engine.connect():
                pass
        else:
            ensure_pg_schema(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise connection_problem(exc, engine.url) from None


def ensure_pg_schema(engine: "Engine") -> None:
    """Create the schema on an empty server (once, however many terminals open it at the same
    moment), or refuse one whose version is not ours."""
    from funnel_tui.models import SCHEMA_VERSION

    with engine.connect() as conn:
        with conn.begin():
            version = server_version(conn)
            if version == 0:
                lock(conn, SCHEMA_LOCK)
                version = server_version(conn)  # another terminal may have created it meanwhile
                if version == 0:
                    create_server_schema(conn)
                    version = SCHEMA_VERSION
    if version != SCHEMA_VERSION:
        raise ServerSchemaMismatch(mismatch_message(version, SCHEMA_VERSION))


# --- migrations on a server -------------------------------------------------------------------


def add_missing(conn: "Connection") -> list[str]:
    """The additive step any version can take: tables, columns and indexes models.py has and
    the server lacks (new columns get their model's server default). Returns what it added."""
    from sqlalchemy import inspect
    from sqlalchemy.schema import CreateIndex

    from funnel_tui import models  # noqa: F401 - registers the tables
    from sqlmodel import SQLModel

    added = []
    insp = inspect(conn)
    have_tables = set(insp.get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in have_tables:
            table.create(conn)
            added.append(table.name)
            continue
        have_cols = {c["name"] for c in insp.get_columns(table.name)}
        for col in table.columns:
            if col.name in have_cols:
                continue
            ddl = f'ALTER TABLE {table.name} ADD COLUMN "{col.name}" {col.type.compile(conn.dialect)}'
            if col.server_default is not None:
                ddl += f" DEFAULT {_default_sql(col)}"
            if not col.nullable:
                ddl += " NOT NULL"
            conn.exec_driver_sql(ddl)
            added.append(f"{table.name}.{col.name}")
        have_ix = {i["name"] for i in insp.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have_ix:
                conn.execute(CreateIndex(index))
                added.append(index.name)
    return added


def _default_sql(col) -> str:
    arg = col.server_default.arg
    text = getattr(arg, "text", arg)
    return f"'{text}'" if isinstance(text, str) and not hasattr(arg, "text") else str(text)


def _from_v1(conn: "Connection") -> None:
    """A v1 server (made before versions were kept): 64-bit money (v1 had a 32-bit amount),
    then what v2 and v3 add — the undo marks, filled from the undos v1 wrote (their inverse
    rows carry the action "undo:<undone action>", as on SQLite), and history's authors."""
    conn.exec_driver_sql("ALTER TABLE deal ALTER COLUMN amount TYPE BIGINT")
    add_missing(conn)
    conn.exec_driver_sql(
        "INSERT INTO undo (action, undo_action, at) "
        "SELECT substr(action, 6), action, min(at) FROM history "
        "WHERE action LIKE 'undo:%%' AND substr(action, 6) NOT IN (SELECT action FROM undo) "
        "GROUP BY action ORDER BY min(id)")


def _from_v4_stages(conn: "Connection") -> None:
    """v4 → v5, stages of the rep's own (issue 16), as SQLite's step does: pipelines (the
    default one holds every existing stage), a stage's position unique within its pipeline,
    history rows without a deal (stage changes), playbook ticks, and the default stages'
    playbooks. Idempotent: v1's step may already have added the tables and columns."""
    from sqlalchemy import and_, text, update

    from funnel_tui import models
    from funnel_tui.domain.stages import DEFAULT_PIPELINE_DEF, DEFAULT_STAGES, SECTIONS

    models.Pipeline.__table__.create(conn, checkfirst=True)
    row = DEFAULT_PIPELINE_DEF.as_row()
    conn.execute(text(
        "INSERT INTO pipeline (key, name, name_zh, position, is_default) "
        "VALUES (:key, :name, :name_zh, :position, :is_default) ON CONFLICT (key) DO NOTHING"), row)
    add_missing(conn)
    have = {r[0] for r in conn.exec_driver_sql(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'stage'::regclass")}
    if "stage_position_key" in have:  # before v5: unique across all stages
        conn.exec_driver_sql("ALTER TABLE stage DROP CONSTRAINT stage_position_key")
    if "uq_stage_position" not in have:
        conn.exec_driver_sql("ALTER TABLE stage ADD CONSTRAINT uq_stage_position UNIQUE (pipeline, position)")
    if "stage_pipeline_fkey" not in have:
        conn.exec_driver_sql("ALTER TABLE stage ADD CONSTRAINT stage_pipeline_fkey "
                             "FOREIGN KEY (pipeline) REFERENCES pipeline (key)")
    conn.exec_driver_sql("ALTER TABLE history ALTER COLUMN deal_id DROP NOT NULL")
    stage = models.Stage.__table__
    texts = [f"{section}{suffix}" for section in SECTIONS for suffix in ("", "_zh")]
    for s in DEFAULT_STAGES:  # a v4 server could not edit stages' playbooks: these are the defaults
        conn.execute(update(stage).where(and_(stage.c.key == s.key, *(stage.c[t] == "" for t in texts)))
                     .values(**{t: getattr(s, t) for t in texts}))


def _from_v5_search(conn: "Connection") -> None:
    """v5 → v6, as on SQLite (store.migrations): deals get their search keys (the column and its
    trigram index by add_missing, the keys built here, by pages), and lost reasons that are
    words of the list become codes — one UPDATE per distinct reason."""
    from sqlalchemy import select, update

    from funnel_tui.store.search import rebuild_keys
    from funnel_tui.store.tables import D

    add_missing(conn)
    rebuild_keys(conn)
    for (old,) in conn.execute(select(D.c.lost_reason).where(D.c.lost_reason != "").distinct()).all():
        new = LOST_REASON.canonical(old)
        if new != old:
            conn.execute(update(D).where(D.c.lost_reason == old).values(lost_reason=new))


def _from_v6_scorecard(conn: "Connection") -> None:
    """v6 → v7, as on SQLite: the scorecard's rules table (add_missing), seeded with the default
    scorecard when empty. Its grants (read for all, changes for the lead) are pg_team's."""
    add_missing(conn)
    seed_scorecard(conn)


# Explicit steps by the version they start from; a version without one takes add_missing
# (v1's step already brought v2's and v3's additions, so theirs find nothing to add). v3 → v4
# redefines indexes under their old names, which add_missing cannot see: it has its own step;
# v4 → v5 brings stages of the rep's own, v5 → v6 builds the search keys, v6 → v7 the scorecard,
# v7 → v8 adds lessons.
def _server_lessons(conn: "Connection") -> None:
    """v7 → v8, as on SQLite: the lesson table (its author trigger is among the RULES, its
    grants and policies among pg_team's)."""
    add_missing(conn)


PG_STEPS: dict[int, Callable[["Connection"], None]] = {
    1: _from_v1, 3: money_per_currency, 4: _from_v4_stages, 5: _from_v5_search, 6: _from_v6_scorecard,
    7: _server_lessons}


def migrate_server(engine: "Engine") -> tuple[int, int]:
    """Bring the server to SCHEMA_VERSION in one transaction: (from, to). Refuses a newer one."""
    from funnel_tui.models import SCHEMA_VERSION

    with engine.connect() as conn:
        with conn.begin():
            lock(conn, SCHEMA_LOCK)
            version = server_version(conn)
            if version == 0:
                create_server_schema(conn)
                return 0, SCHEMA_VERSION
            if version > SCHEMA_VERSION:
                raise ServerSchemaMismatch(mismatch_message(version, SCHEMA_VERSION))
            install_extensions(conn)
            for step in range(version, SCHEMA_VERSION):
                PG_STEPS.get(step, add_missing)(conn)
            if version == SCHEMA_VERSION:  # the schema stands; search keys of other rules are built again
                from funnel_tui.store.search import KEY_VERSION, key_version, rebuild_keys

                if key_version(conn) != KEY_VERSION:
                    rebuild_keys(conn)
            install_rules(conn)
            for v in range(version, SCHEMA_VERSION + 1):
                _record_version(conn, v)
    return version, SCHEMA_VERSION
