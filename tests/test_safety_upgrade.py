"""Issue 5 item 3: upgrades. A v1 database (tests/fixtures/schema_v1.db, hostile and Chinese
data) upgrades with a verified backup first, foreign keys off during the table rebuild, every
row intact, and ends with the schema a fresh database gets; a newer database is only read.

The real steps run first (v1→v2 undo marks, v2→v3 history authors, v3→v4 money per
currency, v4→v5 stages of the rep's own, issue 16); then a test-only step (helpers_procs.install_v2, after the real ones:
followup gains a column by a full table rebuild) runs in a worker process, so patching the
models never leaks into other tests. Tables and columns the real steps add are named here;
every v1 row keeps every v1 value.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from helpers_procs import run_cli, run_worker

FIXTURE = Path(__file__).parent / "fixtures" / "schema_v1.db"
NEW_TABLES = {"undo", "pipeline", "checklist_tick", "scorecard_rule", "lesson"}  # added by the real steps (v2, v5, v7, v8)


def _test_version() -> int:
    """The test-only step (helpers_procs.install_v2) comes after every real migration."""
    from funnel_tui.models import SCHEMA_VERSION

    return SCHEMA_VERSION + 1


TEST_VERSION = _test_version()

# Columns the real steps since v1 added, with the value an upgraded old row gets.
ADDED_SINCE_V1 = {"history": {"author": ""}}


def deal_since_v1(row: dict) -> dict:
    """What the upgrade makes of a v1 deal row: its search key built (store.search), a lost
    reason that is a word of the list kept as its code (a synonym such as 价格太高 stays); every
    other column as it was."""
    from funnel_tui.domain.pinyin import deal_search_key
    from funnel_tui.domain.vocab import LOST_REASON

    return {**row, "search_key": deal_search_key(row["customer"], row["title"], row["contact_name"]),
            "lost_reason": LOST_REASON.canonical(row["lost_reason"])}


@pytest.fixture
def v1(tmp_path) -> Path:
    path = tmp_path / "data" / "funnel.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    os.chmod(path, 0o600)
    return path


def dump(path: Path) -> dict[str, list[dict]]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {n: [dict(r) for r in con.execute(f'SELECT * FROM "{n}" ORDER BY rowid')] for n in names}
    finally:
        con.close()


def pragma(path: Path, name: str):
    con = sqlite3.connect(path)
    try:
        return con.execute(f"PRAGMA {name}").fetchall()
    finally:
        con.close()


def schema(path: Path) -> set[tuple]:
    """sqlite_master without root pages, quoting and whitespace (RENAME adds quotes)."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    finally:
        con.close()
    norm = lambda sql: None if sql is None else re.sub(r"\s+", " ", sql.replace('"', "")).strip()  # noqa: E731
    return {(t, n, tb, norm(s)) for t, n, tb, s in rows}


def test_fixture_is_v1_with_hostile_and_chinese_rows():
    data = dump(FIXTURE)
    assert pragma(FIXTURE, "user_version") == [(1,)]
    customers = {d["customer"] for d in data["deal"]}
    assert {"Acme [/]", "[@click=app.quit]X[/]", "'; DROP TABLE deal; --", "𠮷野家", "华为技术有限公司"} <= customers
    assert all(data[t] for t in ("deal", "followup", "touch", "history", "setting", "stage"))
    assert any(t["followup_id"] for t in data["touch"])  # touch → followup references exist


def test_upgrade_keeps_every_row_backs_up_first_and_matches_a_fresh_schema(v1, tmp_path):
    before = dump(v1)
    assert run_worker("migrate_v2", str(v1)).strip() == "migrated"

    after = dump(v1)
    assert pragma(v1, "user_version") == [(TEST_VERSION,)]
    assert pragma(v1, "integrity_check") == [("ok",)]
    assert pragma(v1, "foreign_key_check") == []
    assert set(after) == set(before) | NEW_TABLES
    for table, rows in before.items():
        old_columns = set(rows[0]) if rows else set()
        if table == "followup":
            assert [{k: v for k, v in r.items() if k != "outcome"} for r in after[table]] == rows
            assert {r["outcome"] for r in after[table]} == {""}
        elif table == "deal":
            assert after[table] == [deal_since_v1(r) for r in rows]
            assert [r["lost_reason"] for r in after[table] if r["lost_reason"]] == ["价格太高"]  # a synonym: as written
            assert {r["customer"]: r["search_key"].split("\x1f")[1] for r in after[table]}["华为技术有限公司"] \
                == "HuaWeiJiShuYouXianGongSi"
        elif table in ADDED_SINCE_V1:
            added = ADDED_SINCE_V1[table]
            assert [{k: v for k, v in r.items() if k not in added} for r in after[table]] == rows, table
            assert all({k: r[k] for k in added} == added for r in after[table]), table
        else:  # every v1 row and value intact (v5 adds columns to stage)
            assert [{k: v for k, v in r.items() if k in old_columns} for r in after[table]] == rows, table
    # Triggers survived the rebuild: history is still append-only.
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con = sqlite3.connect(v1)
        con.execute("DELETE FROM history")

    # The verified backup was taken before anything changed: v1, every row, private.
    backups = sorted((v1.parent / "backups").glob(f"funnel-*-migrate-v1-to-v{TEST_VERSION}.db"))
    assert len(backups) == 1
    assert pragma(backups[0], "user_version") == [(1,)]
    assert dump(backups[0]) == before
    assert backups[0].stat().st_mode & 0o777 == 0o600

    fresh = tmp_path / "fresh.db"
    assert run_worker("fresh_v2", str(fresh)).strip() == "created"
    assert schema(v1) == schema(fresh), (
        "models.py changed the schema without a migration. Before the first release: rebuild "
        "the fixture (PYTHONPATH=. python tests/fixtures/make_v1.py). After it: add a migration.")
    assert schema(v1) != schema(FIXTURE)  # the comparison can tell v1 from v2


def test_no_backup_no_upgrade(v1):
    # Guards "verified backup first": the backups folder cannot be made, so nothing migrates.
    (v1.parent / "backups").write_text("in the way")
    before = dump(v1)
    out = run_worker("migrate_v2", str(v1))
    assert out.startswith("failed MigrationError: no upgrade without a backup"), out
    assert pragma(v1, "user_version") == [(1,)]
    assert dump(v1) == before


def test_rebuild_with_foreign_keys_on_breaks_the_upgrade(v1):
    # Guards "foreign keys off during the rebuild": with the step removed, DROP TABLE followup
    # runs an implicit DELETE that the touch rows' references refuse; the upgrade fails (and
    # rolls back). With ON DELETE CASCADE it would instead delete them: next test.
    before = dump(v1)
    out = run_worker("migrate_v2", str(v1), "--fk-on")
    assert out.startswith("failed") and "FOREIGN KEY constraint failed" in out, out
    assert pragma(v1, "user_version") == [(1,)]
    assert dump(v1) == before


@pytest.mark.parametrize("foreign_keys", ["ON", "OFF"])
def test_sqlite_rebuild_cascades_child_rows_away_when_foreign_keys_are_on(tmp_path, foreign_keys):
    # Why migrate switches them off: the 12-step rebuild of a parent table, done with foreign
    # keys on, silently deletes every child row of an ON DELETE CASCADE reference.
    con = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    con.executescript("""
        CREATE TABLE deal (id INTEGER PRIMARY KEY, customer TEXT);
        CREATE TABLE note (id INTEGER PRIMARY KEY, deal_id INTEGER REFERENCES deal(id) ON DELETE CASCADE);
        INSERT INTO deal VALUES (1, '华为'), (2, 'Acme [/]');
        INSERT INTO note (deal_id) VALUES (1), (1), (2);
    """)
    con.execute(f"PRAGMA foreign_keys = {foreign_keys}")
    con.executescript("""
        BEGIN;
        CREATE TABLE _new_deal (id INTEGER PRIMARY KEY, customer TEXT, owner TEXT DEFAULT '');
        INSERT INTO _new_deal (id, customer) SELECT id, customer FROM deal;
        DROP TABLE deal;
        ALTER TABLE _new_deal RENAME TO deal;
        COMMIT;
    """)
    notes = con.execute("SELECT count(*) FROM note").fetchone()[0]
    assert notes == (0 if foreign_keys == "ON" else 3)


def test_newer_database_is_refused_for_writing_and_opens_read_only(v1):
    from funnel_tui.store import NewerSchemaError, Store, StoreError

    con = sqlite3.connect(v1)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    before = dump(v1)

    with pytest.raises(NewerSchemaError, match=r"schema version 99, newer .* upgrade funnel-tui"):
        Store(v1)
    ro = Store(v1, read_only=True)
    try:
        assert len(ro.list_deals(status="all")) == 22  # 23 deals, one deleted
        with pytest.raises(StoreError, match="read-only"):
            ro.set_setting("language", "en")
    finally:
        ro.close()

    listing = run_cli(["--db", str(v1), "list", "--status", "all", "--format", "json"])
    assert listing.returncode == 0
    err = listing.stderr.decode()
    assert "schema version 99" in err and "read-only" in err
    assert "华为技术有限公司" in listing.stdout.decode()

    add = run_cli(["--db", str(v1), "add", "新客户"])
    assert add.returncode == 1
    assert "read-only" in add.stderr.decode() and "nothing was written" in add.stderr.decode()
    assert dump(v1) == before
    assert pragma(v1, "user_version") == [(99,)]
