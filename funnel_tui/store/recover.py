"""Bringing back what a damaged (or older, or set-aside) database holds that the current one
lacks: `funnel backup recover FILE` (SQLite only).

Two steps:
1. salvage: what SQLite can still read of FILE goes into a fresh scratch file — with the
   `sqlite3` program's `.recover` when it is installed (it walks every page, even ones the
   broken b-tree no longer reaches), else row by row, skipping past rows that cannot be read;
2. merge, in one transaction after a verified backup of the current database: deals whose
   `uid` the current database does not know are added (new ids); deals the file holds at a
   higher `version` are brought up to that version; history rows, follow-ups and touches the
   current database lacks are appended to their deals. Nothing is ever deleted, and history
   stays append-only. Rows are matched by what they are (a deal by uid, a history row by its
   deal, time, kind, field and values), so running it twice adds nothing the second time.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from funnel_tui.i18n import _
from funnel_tui.store import health

SALVAGE_TIMEOUT = 600  # seconds for `sqlite3 .recover` on a big file
TABLES = ("stage", "setting", "deal", "followup", "touch", "history")


@dataclass
class Recovered:
    """What `recover` found and copied (or would copy, in a dry run)."""

    how: str = ""  # "sqlite3 .recover" or "row by row"
    deals_read: int = 0
    deals_added: int = 0
    deals_updated: int = 0
    history: int = 0
    follow_ups: int = 0
    touches: int = 0
    skipped: list[str] = field(default_factory=list)  # why some rows could not come back


# --- 1. salvage ---------------------------------------------------------------------------------


def recover_program() -> str | None:
    """The sqlite3 program, if it can `.recover`: that needs its sqlite_dbpage table, which
    some builds leave out (Debian's 3.40, Ubuntu's 3.45: `.recover` then fails half-way)."""
    cli = shutil.which("sqlite3")
    if cli is None:
        return None
    try:
        probe = subprocess.run([cli, ":memory:", "SELECT count(*) FROM pragma_module_list "
                                                 "WHERE name = 'sqlite_dbpage'"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return cli if probe.returncode == 0 and probe.stdout.strip() == "1" else None


def salvage(damaged: Path, into: Path, *, use_cli: bool = True) -> str:
    """Copy what can be read of `damaged` into the new file `into`; returns how."""
    cli = recover_program() if use_cli else None
    if cli is not None:
        try:
            dump = subprocess.run([cli, "-readonly", str(damaged), ".recover"], capture_output=True,
                                  timeout=SALVAGE_TIMEOUT)
            if dump.returncode == 0 and dump.stdout:  # partial output of a failed run is never used
                load = subprocess.run([cli, "-bail", str(into)], input=dump.stdout, capture_output=True,
                                      timeout=SALVAGE_TIMEOUT)
                if load.returncode == 0 and _has_deals(into):
                    return "sqlite3 .recover"
        except (OSError, subprocess.SubprocessError):
            pass
        into.unlink(missing_ok=True)
    _row_by_row(damaged, into)
    return "row by row"


def _has_deals(path: Path) -> bool:
    try:
        con = sqlite3.connect(path)
        try:
            con.execute("SELECT count(*) FROM deal").fetchone()
            return True
        finally:
            con.close()
    except sqlite3.Error:
        return False


def _row_by_row(damaged: Path, into: Path) -> None:
    """Without the sqlite3 program: the schema as the damaged file states it, then each table's
    rows in rowid order; a read that fails skips ahead (1, 2, 4, … rowids) past the bad page."""
    src = health.connect(damaged)
    dst = sqlite3.connect(into)
    try:
        # Read-only still; it only lets SQLite load a schema whose root pages lie past the end
        # of a truncated file (otherwise nothing at all can be read).
        src.execute("PRAGMA writable_schema = ON")
        schema = src.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                             "AND name NOT LIKE 'sqlite_%' AND type = 'table'").fetchall()
        for row in schema:
            dst.execute(row[2])
        for row in schema:
            name = row[1]
            cols = [r[1] for r in src.execute(f'PRAGMA table_info("{name}")')]
            quoted = ", ".join(f'"{c}"' for c in cols)
            insert = f'INSERT OR IGNORE INTO "{name}" (rowid, {quoted}) VALUES ({", ".join("?" * (len(cols) + 1))})'
            dst.executemany(insert, _readable_rows(src, name, quoted))
        dst.commit()
    finally:
        src.close()
        dst.close()


def _readable_rows(src: sqlite3.Connection, table: str, quoted: str):
    """Every row that can be read, in rowid order. A read that fails (a page torn off or
    overwritten) keeps the rows before it and starts again just past the last good rowid:
    one rowid at a time for a while (ids are dense), then leaps, so a broken tail ends."""
    last = -(2 ** 63)
    misses = 0
    while last < 2 ** 62:
        try:
            for row in src.execute(f'SELECT rowid, {quoted} FROM "{table}" WHERE rowid > ? ORDER BY rowid',
                                   (last,)):
                yield row
                last, misses = row[0], 0
            return
        except sqlite3.DatabaseError:
            misses += 1
            base = max(last, 0)
            last = base + (1 if misses < 1000 else 2 ** min(misses - 990, 62))


# --- 2. merge -------------------------------------------------------------------------------------


def _columns(con: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r[1] for r in con.execute(f'PRAGMA {schema}.table_info("{table}")')]


def merge(db_path: Path, source: Path, *, dry_run: bool = False) -> Recovered:
    """Copy into the database at `db_path` what `source` (a salvaged file) has and it lacks."""
    out = Recovered()
    con = health.connect(db_path, read_only=False)
    con.isolation_level = None
    try:
        con.execute("PRAGMA busy_timeout = 5000")
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("ATTACH DATABASE ? AS old", (health.uri(source),))
        missing = [t for t in ("deal",) if not _columns(con, "old", t)]
        if missing:
            out.skipped.append(_("the file holds no readable deal table"))
            return out
        con.execute("BEGIN IMMEDIATE")
        try:
            _merge_in(con, out)
            con.execute("ROLLBACK" if dry_run else "COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return out


def _shared(con: sqlite3.Connection, table: str, skip: tuple[str, ...] = ()) -> list[str]:
    old = set(_columns(con, "old", table))
    return [c for c in _columns(con, "main", table) if c in old and c not in skip]


def _merge_in(con: sqlite3.Connection, out: Recovered) -> None:
    q = lambda cols, p="": ", ".join(f'{p}"{c}"' for c in cols)  # noqa: E731
    x = con.execute
    out.deals_read = x("SELECT count(*) FROM old.deal").fetchone()[0]
    if _shared(con, "setting"):
        x('INSERT OR IGNORE INTO main.setting (key, value) SELECT key, value FROM old.setting')
    known_stage = "o.stage IN (SELECT key FROM main.stage)"
    bad = x(f"SELECT count(*) FROM old.deal o WHERE NOT ({known_stage})").fetchone()[0]
    if bad:
        out.skipped.append(_("{n} deals in a stage this database does not have").format(n=bad))
    deal_cols = _shared(con, "deal", skip=("id", "uid"))
    # Deals both hold, where the file's is newer: bring them up to its version.
    x("CREATE TEMP TABLE newer AS SELECT d.id AS id FROM old.deal o JOIN main.deal d ON d.uid = o.uid "
      f"WHERE o.version > d.version AND {known_stage}")
    out.deals_updated = x("SELECT count(*) FROM temp.newer").fetchone()[0]
    x(f"UPDATE OR IGNORE main.deal SET ({q(deal_cols)}) = (SELECT {q(deal_cols, 'o.')} FROM old.deal o "
      "WHERE o.uid = deal.uid) WHERE id IN (SELECT id FROM temp.newer)")
    # Deals only the file holds (an external id the database already uses would clash: skipped).
    clash = x("SELECT count(*) FROM old.deal o WHERE NOT EXISTS (SELECT 1 FROM main.deal d WHERE d.uid = o.uid) "
              "AND o.external_id IS NOT NULL AND EXISTS (SELECT 1 FROM main.deal d "
              "WHERE d.external_id = o.external_id)").fetchone()[0]
    if clash:
        out.skipped.append(_("{n} deals whose external id another deal here already has").format(n=clash))
    before = x("SELECT count(*) FROM main.deal").fetchone()[0]
    x(f"INSERT OR IGNORE INTO main.deal (uid, {q(deal_cols)}) SELECT o.uid, {q(deal_cols, 'o.')} FROM old.deal o "
      f"WHERE NOT EXISTS (SELECT 1 FROM main.deal d WHERE d.uid = o.uid) AND {known_stage} ORDER BY o.id")
    out.deals_added = x("SELECT count(*) FROM main.deal").fetchone()[0] - before
    x("CREATE TEMP TABLE idmap AS SELECT o.id AS old_id, d.id AS new_id FROM old.deal o "
      "JOIN main.deal d ON d.uid = o.uid")
    x("CREATE UNIQUE INDEX temp.ix_idmap ON idmap(old_id)")
    out.history = _merge_history(con, q)
    out.follow_ups = _merge_follow_ups(con, q)
    out.touches = _merge_touches(con, q)
    # The deal's next step is its earliest open follow-up (kept by the store; recomputed here).
    x("UPDATE main.deal SET next_follow_up_at = (SELECT min(f.due_at) FROM main.followup f "
      "WHERE f.deal_id = deal.id AND f.status = 'open') WHERE id IN (SELECT new_id FROM temp.idmap)")


def _merge_history(con: sqlite3.Connection, q) -> int:
    cols = _shared(con, "history", skip=("id", "deal_id"))
    same = " AND ".join(f'h."{c}" IS x."{c}"' for c in cols if c in ("at", "kind", "field", "old", "new", "action"))
    cur = con.execute(
        f"INSERT INTO main.history (deal_id, {q(cols)}) SELECT m.new_id, {q(cols, 'h.')} FROM old.history h "
        f"JOIN temp.idmap m ON m.old_id = h.deal_id WHERE NOT EXISTS (SELECT 1 FROM main.history x "
        f"WHERE x.deal_id = m.new_id AND {same}) ORDER BY h.id")
    return cur.rowcount


def _merge_follow_ups(con: sqlite3.Connection, q) -> int:
    x = con.execute
    key = "x.deal_id = m.new_id AND x.created_at IS f.created_at AND x.kind IS f.kind"
    x("CREATE TEMP TABLE fmap AS SELECT f.id AS old_id, x.id AS new_id, m.new_id AS deal_id FROM old.followup f "
      f"JOIN temp.idmap m ON m.old_id = f.deal_id JOIN main.followup x ON {key}")
    state = [c for c in ("status", "due_at", "done_at", "note") if c in _shared(con, "followup")]
    x(f"UPDATE main.followup SET ({q(state)}) = (SELECT {q(state, 'f.')} FROM old.followup f "
      "JOIN temp.fmap fm ON fm.old_id = f.id WHERE fm.new_id = followup.id) "
      "WHERE id IN (SELECT fm.new_id FROM temp.fmap fm JOIN temp.newer n ON n.id = fm.deal_id)")
    cols = _shared(con, "followup", skip=("id", "deal_id"))
    cur = x(f"INSERT INTO main.followup (deal_id, {q(cols)}) SELECT m.new_id, {q(cols, 'f.')} FROM old.followup f "
            "JOIN temp.idmap m ON m.old_id = f.deal_id WHERE f.id NOT IN (SELECT old_id FROM temp.fmap) ORDER BY f.id")
    added = cur.rowcount
    x("INSERT INTO temp.fmap SELECT f.id, x.id, m.new_id FROM old.followup f JOIN temp.idmap m "
      f"ON m.old_id = f.deal_id JOIN main.followup x ON {key} WHERE f.id NOT IN (SELECT old_id FROM temp.fmap)")
    return added


def _merge_touches(con: sqlite3.Connection, q) -> int:
    cols = _shared(con, "touch", skip=("id", "deal_id", "followup_id"))
    cur = con.execute(
        f"INSERT INTO main.touch (deal_id, followup_id, {q(cols)}) SELECT m.new_id, fm.new_id, {q(cols, 't.')} "
        "FROM old.touch t JOIN temp.idmap m ON m.old_id = t.deal_id LEFT JOIN temp.fmap fm ON fm.old_id = t.followup_id "
        "WHERE NOT EXISTS (SELECT 1 FROM main.touch x WHERE x.deal_id = m.new_id AND x.at IS t.at "
        "AND x.kind IS t.kind AND x.note IS t.note) ORDER BY t.id")
    return cur.rowcount


def recover(db_path: Path, damaged: Path, *, dry_run: bool = False, use_cli: bool = True) -> Recovered:
    """Salvage `damaged` into a scratch file beside the database, merge it, remove the scratch."""
    with tempfile.TemporaryDirectory(prefix=".funnel-recover-", dir=Path(db_path).parent) as tmp:
        scratch = Path(tmp) / "salvaged.db"
        how = salvage(Path(damaged), scratch, use_cli=use_cli)
        result = merge(Path(db_path), scratch, dry_run=dry_run)
        result.how = how
        return result
