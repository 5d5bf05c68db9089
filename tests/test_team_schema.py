"""Issue 18: the server's schema — parity with SQLite, versions and migration, pg_dump backups.

Parity: the same tables, columns, indexes and named CHECKs on both, the same refusals
(append-only history, no deal deleted) as triggers; the expected differences are named
here, each with its reason.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlalchemy import text

from conftest import NOW

# SQLite-only CHECKs: what a server's column types enforce by themselves (bigint/integer
# columns hold whole numbers only, a date column only real dates).
SQLITE_ONLY_CHECKS = {"ck_deal_whole_numbers", "ck_deal_expected_close"}


def _sqlite_catalog(path) -> dict:
    con = sqlite3.connect(path)
    try:
        tables = {r[0]: r[1] for r in con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
        columns = {t: {r[1] for r in con.execute(f'PRAGMA table_info("{t}")')} for t in tables}
        indexes = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
        triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        checks = {name for sql in tables.values() for name in re.findall(r"CONSTRAINT (\w+) CHECK", sql)}
        notnull = {(t, r[1]) for t in tables for r in con.execute(f'PRAGMA table_info("{t}")') if r[3]}
    finally:
        con.close()
    return {"tables": set(tables), "columns": columns, "indexes": indexes, "triggers": triggers,
            "checks": checks, "notnull": notnull}


def _server_catalog(store) -> dict:
    with store.engine.connect() as conn:
        q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
        tables = {r[0] for r in q("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        columns = {}
        notnull = set()
        for t, c, nullable in q("SELECT table_name, column_name, is_nullable FROM information_schema.columns "
                                "WHERE table_schema = 'public'"):
            columns.setdefault(t, set()).add(c)
            if nullable == "NO":
                notnull.add((t, c))
        indexes = {r[0] for r in q("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
                                   "AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' "
                                   "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'u')")}
        triggers = {r[0] for r in q("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
        checks = {r[0] for r in q("SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = "
                                  "c.connamespace WHERE c.contype = 'c' AND n.nspname = 'public'")}
        types = dict(((t, c), ty) for t, c, ty in q(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"))
    return {"tables": tables, "columns": columns, "indexes": indexes, "triggers": triggers,
            "checks": checks, "notnull": notnull, "types": types}


def test_the_server_schema_matches_sqlites(tmp_path, pg_url):
    from funnel_tui.store import Store
    from funnel_tui.store.pg_schema import SERVER_ONLY_TABLES

    Store(tmp_path / "f.db").close()
    lite = _sqlite_catalog(tmp_path / "f.db")
    server = _server_catalog(Store(pg_url))

    assert server["tables"] - set(SERVER_ONLY_TABLES) == lite["tables"]
    for table in lite["tables"]:
        assert server["columns"][table] == lite["columns"][table], table
    assert {x for x in server["notnull"] if x[0] in lite["tables"]} == lite["notnull"]
    # SQLite's automatic unique indexes are not in sqlite_master's sql; the named ones match.
    assert server["indexes"] == lite["indexes"]
    assert lite["checks"] - server["checks"] == SQLITE_ONLY_CHECKS
    assert server["checks"] - lite["checks"] == set()
    # The same refusals by the same names, plus TRUNCATE (which SQLite has not) and authors
    # (of history rows, and of lessons: issue 17).
    assert lite["triggers"] <= server["triggers"]
    append_only = {t for t in ("history", "undo") if t in lite["tables"]}
    assert server["triggers"] - lite["triggers"] == {
        *(f"tr_{t}_no_truncate" for t in append_only), "tr_deal_no_truncate", "tr_history_author",
        "tr_deal_owner", "tr_lesson_author"}
    # 64-bit money.
    assert server["types"][("deal", "amount")] == "bigint"


def test_the_servers_checks_refuse_what_sqlites_refuse(tmp_path, pg_url):
    from sqlalchemy.exc import DBAPIError, IntegrityError

    from funnel_tui.store import Store

    bad = [
        "UPDATE deal SET probability = 250",
        "UPDATE deal SET amount = -1",
        "UPDATE deal SET status = 'maybe'",
        "UPDATE deal SET status = 'lost', closed_at = NULL",
        "UPDATE deal SET status = 'lost', lost_reason = ''",
        "UPDATE deal SET currency = 'YUAN'",
        "UPDATE deal SET lead_score = 11",
        "UPDATE deal SET risk_level = 'extreme'",
        "UPDATE deal SET customer = ''",
        "UPDATE deal SET version = 0",
        "UPDATE stage SET probability = 101",
    ]
    for target in (tmp_path / "f.db", pg_url):
        store = Store(target)
        store.add_deal({"customer": "Checked"}, now=NOW)
        for sql in bad:
            with pytest.raises((IntegrityError, DBAPIError)):
                with store.engine.begin() as conn:
                    conn.execute(text(sql))
        assert store.get_deal(1)["probability"] == 10
        store.close()


def test_a_server_of_another_version_is_read_never_written(pg_url, funnel):
    from funnel_tui.store import Store
    from funnel_tui.store.pg_schema import ServerSchemaMismatch

    admin = Store(pg_url)
    admin.add_deal({"customer": "Old"}, now=NOW)
    with admin.engine.begin() as conn:
        conn.execute(text("INSERT INTO funnel_schema (version) VALUES (99)"))
    with pytest.raises(ServerSchemaMismatch, match="newer than this funnel-tui"):
        Store(pg_url)
    cli = funnel.__class__(funnel._request, pg_url)
    res = cli("list", "--format", "json")
    assert res.code == 0 and "Old" in res.out and "version 99" in res.err
    res = cli("add", "New")
    assert res.code == 1 and "read-only" in res.err


def test_a_server_made_before_versions_is_migrated_by_the_admin(pg_empty_url, funnel):
    """A v1 server (what the issue tried: 32-bit amount, no triggers, no version table):
    refused for writing with the command to run; `funnel team migrate` upgrades it."""
    from sqlalchemy import create_engine

    from funnel_tui.store import Store

    url = pg_empty_url
    v1 = create_engine(url)
    with v1.begin() as conn:
        conn.execute(text("CREATE TABLE stage (key varchar(32) PRIMARY KEY, position integer UNIQUE NOT NULL, "
                          "name varchar NOT NULL, name_zh varchar NOT NULL, probability integer, "
                          "max_dwell_days integer, kind varchar NOT NULL)"))
    # The rest of v1 is today's tables less `history.author` and `deal.search_key` (and its
    # trigram index, so no pg_trgm either), and less issue 16's pipelines, playbook ticks and
    # history rows without a deal, with a 32-bit amount.
    from funnel_tui.domain.stages import DEFAULT_STAGES
    from funnel_tui.models import SQLModel

    later = {"stage", "pipeline", "checklist_tick", "lesson"}
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in later]
    with v1.begin() as conn:
        conn.execute(text("CREATE EXTENSION pg_trgm"))
        for t in tables:
            t.create(conn)
        conn.execute(text("DROP INDEX ix_deal_search"))
        conn.execute(text("ALTER TABLE deal DROP COLUMN search_key"))
        conn.execute(text("DROP EXTENSION pg_trgm"))
        conn.execute(text("ALTER TABLE history DROP COLUMN author"))
        conn.execute(text("ALTER TABLE history ALTER COLUMN deal_id SET NOT NULL"))
        conn.execute(text("ALTER TABLE deal ALTER COLUMN amount TYPE integer"))
        conn.execute(text("INSERT INTO stage VALUES (:key, :position, :name, :name_zh, :probability, "
                          ":max_dwell_days, :kind)"),
                     [{k: v for k, v in st.as_row().items() if k in {
                         "key", "position", "name", "name_zh", "probability", "max_dwell_days", "kind"}}
                      for st in DEFAULT_STAGES])
        conn.execute(text("INSERT INTO deal (uid, customer, title, industry, company_size, contact_name, "
                          "contact_role, contact_phone, contact_email, source, owner, stage, status, amount, "
                          "currency, probability, probability_custom, risk_note, mitigation, budget, "
                          "decision_chain, pain_points, competitors, lost_reason, notes, created_at, updated_at, "
                          "stage_entered_at, version) VALUES ('u1', 'Kept', '', '', '', '', '', '', '', '', 'ann', "
                          "'lead', 'open', 100, 'CNY', 10, false, '', '', '', '', '', '', '', '', now(), now(), "
                          "now(), 1)"))
        # A lost Chinese deal whose reason is a word of the list: the upgrade gives it a key and a code.
        conn.execute(text("INSERT INTO deal (uid, customer, title, industry, company_size, contact_name, "
                          "contact_role, contact_phone, contact_email, source, owner, stage, status, amount, "
                          "currency, probability, probability_custom, risk_note, mitigation, budget, "
                          "decision_chain, pain_points, competitors, lost_reason, notes, created_at, updated_at, "
                          "stage_entered_at, closed_at, version) VALUES ('u2', '华信科技', '', '', '', '张三', '', '', '', '', "
                          "'ann', 'lead', 'lost', 5, 'CNY', 10, false, '', '', '', '', '', '', 'no budget', '', now(), "
                          "now(), now(), now(), 1)"))
    v1.dispose()
    cli = funnel.__class__(funnel._request, url)
    res = cli("add", "Refused", "--amount", "30000000")
    assert res.code == 1 and "team migrate" in res.err and "version 1" in res.err, res.err
    res = cli("list", "--format", "json")  # still readable meanwhile
    assert res.code == 0 and "Kept" in res.out and "team migrate" in res.err, res.err
    res = cli("show", "1")  # reads what v1 lacks (authors of history): one line, the command to run
    assert res.code == 3 and "team migrate" in res.err and "Traceback" not in res.err, res.err
    assert "UndefinedColumn" not in res.err and res.err.count("funnel:") == 2, res.err
    res = cli("team", "migrate")
    assert res.code == 0, res.err
    assert "from version 1 to" in res.out and "backup first:" in res.out and ".dump" in res.out
    store = Store(url)
    assert [d["customer"] for d in store.list_deals()] == ["Kept"]
    (found,) = store.search_deals("hxkj")  # the upgrade built the keys, on the server too
    assert found["customer"] == "华信科技" and [d["id"] for d in store.search_deals("zhangsan")] == [found["id"]]
    assert store.get_deal(found["id"])["lost_reason"] == "budget"
    store.add_deal({"customer": "Big", "amount": str(10 ** 10)}, now=NOW)
    assert store.board_totals()["lead"]["amount"] == 10 ** 12 + 100  # Kept: 100 fen
    with pytest.raises(Exception, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM history"))
    # Issue 16's step: the stages in the default pipeline with their playbooks, a stage
    # change (history without a deal) and a playbook tick written and undone.
    assert [p.key for p in store.pipelines()] == ["main"]
    assert store.stage("lead").items("actions", "zh") == ["初步需求调研", "发送产品简介"]
    store.add_stage("intro", now=NOW, name="Intro", after="lead")
    assert "intro" in {s.key for s in store.all_stages()}
    store.undo(now=NOW)
    assert "intro" not in {s.key for s in store.all_stages()}
    assert cli("team", "migrate", "--without-backup").out.count("already version") == 1


def test_backup_create_list_and_restore_on_a_server(pg_url, funnel, pg_cluster, team_member):
    from funnel_tui.store import Store

    store = Store(pg_url)
    store.add_deal({"customer": "Backed up", "amount": "42"}, now=NOW)
    cli = funnel.__class__(funnel._request, pg_url)
    res = cli("backup", "create")
    assert res.code == 0 and "pg_dump" in res.out, res.err
    res = cli("backup", "list", "--format", "json")
    dumps = __import__("json").loads(res.out)
    assert len(dumps) == 1 and dumps[0]["file"].endswith(".dump")
    from pathlib import Path

    assert Path(dumps[0]["path"]).stat().st_mode & 0o777 == 0o600
    res = cli("backup", "restore", "latest")
    assert res.code == 0 and "new database" in res.out, res.err
    new_db = re.search(r"into the new database (\S+);", res.out).group(1)
    restored = Store(pg_cluster.url(new_db))
    assert [d["customer"] for d in restored.list_deals()] == ["Backed up"]
    restored.close()
    pg_cluster.drop_database(new_db)
    # A rep who may not create databases gets the exact commands instead.
    rep = funnel.__class__(funnel._request, team_member("eve"))
    res = rep("backup", "restore", dumps[0]["path"])
    assert res.code == 0 and "createdb" in res.out and "pg_restore" in res.out and "pw-eve" not in res.out
