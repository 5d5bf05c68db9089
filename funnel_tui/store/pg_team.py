"""A team on one PostgreSQL server: roles, grants and row-level security (`funnel team …`).

Two group roles carry every right; each person is a login role in one of them:
- `funnel_rep`: sees and changes the deals they own (`deal.owner` = their role name), and the
  follow-ups, touches and history of those deals; adds deals (a deal without an owner
  becomes theirs); cannot hand a deal to someone else, delete history or deals.
- `funnel_lead`: sees and changes every deal, and may reassign them (change `owner`), and
  sets up the pipeline (stages, tier shares).
Stages are read by both. Personal settings are each role's own (pg_schema). Lessons
(issue 17) are read by everyone and changed only by their author.

Row-level security does the filtering on the server, so a rep's `funnel list`, board and
summary show only their deals whatever the client asks. The administrator (the database's
owner or a superuser) runs `init_team` (idempotent), then `add_member` for each person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from funnel_tui.domain.text import clean_text
from funnel_tui.i18n import _
from funnel_tui.store.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

REP_ROLE = "funnel_rep"
LEAD_ROLE = "funnel_lead"
ROLES = (REP_ROLE, LEAD_ROLE)
CHILD_TABLES = ("followup", "touch", "history", "checklist_tick")

_GROUPS = f"{REP_ROLE}, {LEAD_ROLE}"
_NO_DEAL = {"history": "history.deal_id IS NULL OR "}

POLICIES = (
    # Group roles, once per cluster (CREATE ROLE has no IF NOT EXISTS).
    *(f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{r}') THEN CREATE ROLE {r} NOLOGIN; END IF;
       END $$""" for r in ROLES),
    "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %%I TO " + _GROUPS + "', current_database()); END $$",
    f"GRANT USAGE ON SCHEMA public TO {_GROUPS}",
    f"GRANT SELECT, INSERT, UPDATE ON deal, followup, touch TO {_GROUPS}",
    # History: read and append; never UPDATE or DELETE (the triggers refuse those for everyone).
    f"GRANT SELECT, INSERT ON history TO {_GROUPS}",
    # Undo marks (issue 13), where the schema has them: read and append, like history.
    f"""DO $$ BEGIN IF to_regclass('undo') IS NOT NULL THEN
        EXECUTE 'GRANT SELECT, INSERT ON undo TO {_GROUPS}'; END IF; END $$""",
    f"GRANT SELECT ON pipeline, stage, setting, funnel_schema TO {_GROUPS}",
    # The pipeline itself (pipelines, stages, tier shares) is the lead's to set; an undo of a
    # stage or pipeline the lead added removes it again.
    f"GRANT INSERT, UPDATE ON stage, setting, pipeline TO {LEAD_ROLE}",
    f"GRANT DELETE ON stage, pipeline TO {LEAD_ROLE}",
    # A deal's playbook ticks (issue 16): whoever works the deal ticks them.
    f"GRANT SELECT, INSERT, UPDATE ON checklist_tick TO {_GROUPS}",
    f"GRANT SELECT, INSERT, UPDATE ON funnel_user_setting TO {_GROUPS}",
    # The lead scorecard (issue 17): team setup like the stages, read by all (a rep's writes
    # score their deals with it), changed by the lead; no row-level policy (no owner).
    f"""DO $$ BEGIN IF to_regclass('scorecard_rule') IS NOT NULL THEN
        EXECUTE 'GRANT SELECT ON scorecard_rule TO {_GROUPS}';
        EXECUTE 'GRANT INSERT, UPDATE, DELETE ON scorecard_rule TO {LEAD_ROLE}'; END IF; END $$""",
    # Lessons (issue 17) are the team's: everyone reads them all; each person writes lessons on
    # the deals they see, and changes or (undo) removes only their own.
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON lesson TO {_GROUPS}",
    "ALTER TABLE lesson ENABLE ROW LEVEL SECURITY",
    *(f"DROP POLICY IF EXISTS {name} ON lesson" for name in (
        "team_reads_lessons", "author_adds_lesson", "author_changes_lesson", "author_removes_lesson")),
    f"CREATE POLICY team_reads_lessons ON lesson FOR SELECT TO {_GROUPS} USING (true)",
    f"""CREATE POLICY author_adds_lesson ON lesson FOR INSERT TO {_GROUPS}
       WITH CHECK (author = current_user AND EXISTS (SELECT 1 FROM deal d WHERE d.id = lesson.deal_id))""",
    f"""CREATE POLICY author_changes_lesson ON lesson FOR UPDATE TO {_GROUPS}
       USING (author = current_user) WITH CHECK (author = current_user)""",
    f"CREATE POLICY author_removes_lesson ON lesson FOR DELETE TO {_GROUPS} USING (author = current_user)",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {_GROUPS}",
    # A deal added without an owner belongs to whoever adds it (so the rep's own policy holds).
    """CREATE OR REPLACE FUNCTION funnel_deal_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.owner IS NULL OR NEW.owner = '' THEN NEW.owner := current_user; END IF; RETURN NEW; END $$""",
    "DROP TRIGGER IF EXISTS tr_deal_owner ON deal",
    "CREATE TRIGGER tr_deal_owner BEFORE INSERT ON deal FOR EACH ROW EXECUTE FUNCTION funnel_deal_owner()",
    # Row-level security: a rep's own deals; a lead's, everyone's.
    "ALTER TABLE deal ENABLE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS rep_own_deals ON deal",
    f"""CREATE POLICY rep_own_deals ON deal TO {REP_ROLE}
       USING (owner = current_user) WITH CHECK (owner = current_user)""",
    "DROP POLICY IF EXISTS lead_all_deals ON deal",
    f"CREATE POLICY lead_all_deals ON deal TO {LEAD_ROLE} USING (true) WITH CHECK (true)",
    *(stmt for table in CHILD_TABLES for stmt in (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS rep_own_deals ON {table}",
        # The deal's own policy applies inside the subquery: visible deal, visible rows.
        # History rows without a deal are the lead's stage changes: everyone reads them (the
        # stages as they stood at a past moment), only the lead writes them.
        f"""CREATE POLICY rep_own_deals ON {table} TO {REP_ROLE}
           USING ({_NO_DEAL.get(table, "")}EXISTS (SELECT 1 FROM deal d WHERE d.id = {table}.deal_id))
           WITH CHECK (EXISTS (SELECT 1 FROM deal d WHERE d.id = {table}.deal_id))""",
        f"DROP POLICY IF EXISTS lead_all_deals ON {table}",
        f"CREATE POLICY lead_all_deals ON {table} TO {LEAD_ROLE} USING (true) WITH CHECK (true)",
    )),
)


def init_team(target: str) -> tuple[int, int]:
    """Schema (created or migrated), the server's rules, the two group roles, their grants and
    the row-level policies, in one transaction; safe to run again. Returns the schema
    versions (from, to), as migrate_server does."""
    from funnel_tui.store.pg_engine import create_pg_engine
    from funnel_tui.store.pg_schema import migrate_server

    engine = create_pg_engine(target)
    try:
        versions = migrate_server(engine)
        apply_team_rules(engine)
        return versions
    finally:
        engine.dispose()


def apply_team_rules(engine, *, only_if_team: bool = False) -> bool:
    """The group roles, grants and policies (again: a migration may have added a table or a
    sequence the groups need). `only_if_team`: do nothing on a server without a team.
    Returns whether they were applied."""
    from funnel_tui.store.pg_schema import SCHEMA_LOCK, lock

    with engine.connect() as conn:
        with conn.begin():
            if only_if_team and not conn.exec_driver_sql(
                    f"SELECT count(*) = 2 FROM pg_roles WHERE rolname IN ('{REP_ROLE}', '{LEAD_ROLE}')").scalar():
                return False
            lock(conn, SCHEMA_LOCK)
            for stmt in POLICIES:
                conn.exec_driver_sql(stmt)
    return True


def check_name(name: str) -> str:
    """A person's role name: their owner name on every deal. Plain and short, because it is
    also the user name in their connection URL."""
    text = clean_text(name)
    if not text or text != name or len(text.encode()) > 63 or text.lower().startswith(("pg_", "funnel_")):
        raise StoreError(_("team: {name!r} cannot be a name here: 1–63 bytes, no control characters, "
                           "not starting with pg_ or funnel_").format(name=name))
    if text.lower() in ("public", "current_user", "session_user", "none", "me"):
        raise StoreError(_("team: {name!r} is a reserved word; choose another name").format(name=name))
    return text


def add_member(target: str, name: str, password: str, *, lead: bool) -> bool:
    """Create the login role `name` in funnel_rep or funnel_lead (or move an existing one
    there and set its password). Returns True when the role is new.

    The password is hashed on this side (SCRAM-SHA-256, as the server stores it) and never
    goes into an error message: a failure reports the server's first line only."""
    from psycopg import sql

    from funnel_tui.store.pg_engine import create_pg_engine

    name = check_name(name)
    if not password:
        raise StoreError(_("team: give a password (--password)"))
    group, other = (LEAD_ROLE, REP_ROLE) if lead else (REP_ROLE, LEAD_ROLE)
    engine = create_pg_engine(target)
    try:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            try:
                with raw.transaction():
                    cur = raw.cursor()
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (0x46554E03,))
                    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
                    new = cur.fetchone() is None
                    who = sql.Identifier(name)
                    # Hashed here (libpq's SCRAM-SHA-256): the password itself never reaches the
                    # server, its logs or pg_stat_activity.
                    verifier = raw.pgconn.encrypt_password(password.encode(), name.encode(),
                                                           b"scram-sha-256").decode()
                    verb = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}" if new else "ALTER ROLE {} LOGIN PASSWORD {}")
                    cur.execute(verb.format(who, sql.Literal(verifier)))
                    cur.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), who))
                    cur.execute(sql.SQL("SELECT pg_has_role({}, {}, 'member')").format(
                        sql.Literal(name), sql.Literal(other)))
                    if cur.fetchone()[0]:
                        cur.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), who))
            except Exception as exc:  # noqa: BLE001 - the statement holds the password: never show it
                first = str(getattr(exc, "diag", None) and exc.diag.message_primary or "") or type(exc).__name__
                raise StoreError(_("team: the server refused ({detail})").format(detail=first)) from None
            conn.rollback()  # SQLAlchemy's view of the connection: nothing of its own to commit
        return new
    finally:
        engine.dispose()


def team_role(conn: "Connection") -> str | None:
    """'lead', 'rep' or None (no team on this server, or a role in neither group) for the
    connected role. A superuser counts as a lead (the server lets it see everything)."""
    return conn.exec_driver_sql(
        f"SELECT CASE WHEN (SELECT count(*) FROM pg_roles WHERE rolname IN ('{LEAD_ROLE}', '{REP_ROLE}')) < 2 "
        f"THEN NULL WHEN pg_has_role(current_user, '{LEAD_ROLE}', 'member') THEN 'lead' "
        f"WHEN pg_has_role(current_user, '{REP_ROLE}', 'member') THEN 'rep' END").scalar()


def server_has_deals(conn: "Connection") -> bool:
    """Whether the database holds (or ever held) a deal, whoever owns it: the deal id sequence
    has been used. Row-level security hides other reps' deals from a count, not this."""
    return bool(conn.exec_driver_sql(
        "SELECT last_value IS NOT NULL FROM pg_sequences WHERE sequencename = 'deal_id_seq'").scalar()) or bool(
        conn.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM deal)").scalar())
