"""Backups of a team server: pg_dump (custom format) into the backups folder, pg_restore into
a new database.

A server's backups sit in the data folder's `backups/` (0700), each file 0600, named
`<database>-<UTC stamp>-<reason>.dump`. Each is written to a `.part` file, read back with
`pg_restore --list` (a dump that cannot be listed cannot be restored), and only then gets
its final name. The password reaches pg_dump through its environment (PGPASSWORD), never on
a command line that `ps` would show. A rep's dump holds what the rep can see (row-level
security stays on: `--enable-row-security`); an administrator's holds everything.

Restore never overwrites the live database: it creates a new one beside it and restores into
that, or, when the role may not create databases or pg_restore is missing, prints exactly
the commands an administrator runs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from funnel_tui.i18n import _
from funnel_tui.paths import data_dir, ensure_private_dir, make_private_file

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

UTC = timezone.utc
DUMP_TIMEOUT = 3600
STAMP = "%Y%m%dT%H%M%S%fZ"  # as store/backup.py names SQLite backups


class ServerBackupError(RuntimeError):
    """A dump or restore did not happen; the message says why (backup.BackupError's kin)."""


@dataclass(frozen=True, slots=True)
class DumpInfo:
    """One dump in the backups folder (the shape of backup.BackupInfo)."""

    path: Path
    at: datetime  # aware UTC, from the file name
    reason: str
    size: int


def tool(name: str) -> str | None:
    """pg_dump / pg_restore / createdb: on PATH, else the newest /usr/lib/postgresql/N/bin."""
    found = shutil.which(name)
    if found:
        return found
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        for version in sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: int(p.name),
                              reverse=True):
            candidate = version / "bin" / name
            if candidate.exists():
                return str(candidate)
    return None


def server_backups_dir() -> Path:
    return data_dir() / "backups"


def _safe(text: str) -> str:
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in text)[:40] or "x"


def dump_name(url: "URL", reason: str, now: datetime) -> str:
    return f"{_safe(url.database or 'db')}-{now.astimezone(UTC).strftime(STAMP)}-{_safe(reason)}.dump"


def _conn_args(url: "URL", db: str | None = None) -> list[str]:
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    return args + ["--dbname", db or url.database or "postgres"]


def _env(url: "URL") -> dict[str, str]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return env


def _first_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return (lines[0] if lines else "?")[:300]


def dump(url: "URL", *, reason: str, row_security: bool, now: datetime | None = None) -> DumpInfo:
    """pg_dump the server's database into the backups folder, verified; returns it."""
    pg_dump = tool("pg_dump")
    if pg_dump is None:
        raise ServerBackupError(_("pg_dump was not found (install the PostgreSQL client, e.g. apt-get install "
                            "postgresql-client); nothing was backed up"))
    now = now or datetime.now(UTC)
    folder = server_backups_dir()
    ensure_private_dir(folder)
    dest = folder / dump_name(url, reason, now)
    n = 1
    while dest.exists():
        dest = folder / dump_name(url, f"{reason}-{n}", now)
        n += 1
    part = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    fd = os.open(part, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    argv = [pg_dump, "--format=custom", "--no-password", "--file", str(part), *_conn_args(url)]
    if row_security:
        argv.insert(2, "--enable-row-security")
    try:
        done = subprocess.run(argv, env=_env(url), capture_output=True, text=True, timeout=DUMP_TIMEOUT)
        if done.returncode != 0:
            raise ServerBackupError(_("pg_dump failed: {detail}; nothing was backed up").format(
                detail=_first_error(done.stderr)))
        listed = subprocess.run([tool("pg_restore") or "pg_restore", "--list", str(part)],
                                capture_output=True, text=True, timeout=600)
        if listed.returncode != 0 or "TABLE DATA" not in listed.stdout:
            raise ServerBackupError(_("the dump could not be read back ({detail}); nothing was backed up").format(
                detail=_first_error(listed.stderr)))
    except (OSError, subprocess.TimeoutExpired) as exc:
        part.unlink(missing_ok=True)
        raise ServerBackupError(_("pg_dump could not run: {detail}").format(detail=exc)) from None
    except ServerBackupError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    make_private_file(dest)
    return DumpInfo(dest, now.astimezone(UTC), reason, dest.stat().st_size)


def list_dumps(url: "URL") -> list[DumpInfo]:
    """This server database's dumps, newest first."""
    folder = server_backups_dir()
    if not folder.is_dir():
        return []
    pat = re.compile(rf"^{re.escape(_safe(url.database or 'db'))}-(\d{{8}}T\d{{12}}Z)-([A-Za-z0-9_-]+)\.dump$")
    out = []
    for p in folder.iterdir():
        m = pat.match(p.name)
        if m:
            try:
                out.append(DumpInfo(p, datetime.strptime(m.group(1), STAMP).replace(tzinfo=UTC),
                                      m.group(2), p.stat().st_size))
            except (ValueError, OSError):
                continue
    out.sort(key=lambda b: (b.at, b.path.name), reverse=True)
    return out


@dataclass(frozen=True)
class RestorePlan:
    """Where a dump goes back: a new database beside the live one, and the commands for it."""

    database: str
    commands: list[str]


def restore_plan(url: "URL", dump_file: Path, now: datetime | None = None) -> RestorePlan:
    now = now or datetime.now(UTC)
    new_db = f"{url.database or 'funnel'}_restored_{now.astimezone(UTC).strftime('%Y%m%d%H%M%S')}"
    conn = " ".join(shlex.quote(a) for a in _conn_args(url, "postgres")[:-2])
    return RestorePlan(new_db, [
        f"createdb {conn} {shlex.quote(new_db)}",
        f"pg_restore {conn} --no-owner --dbname {shlex.quote(new_db)} {shlex.quote(str(dump_file))}",
    ])


def restore_into_new(engine, url: "URL", dump_file: Path, now: datetime | None = None) -> tuple[RestorePlan, bool]:
    """Create the plan's database and pg_restore into it. Returns (plan, done); done False
    means it could not (no permission, no pg_restore) and the plan's commands are for the
    administrator. The live database is never touched."""
    plan = restore_plan(url, dump_file, now)
    pg_restore = tool("pg_restore")
    if pg_restore is None:
        return plan, False
    try:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            raw.rollback()
            raw.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            try:
                from psycopg import sql

                raw.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(plan.database)))
            finally:
                raw.autocommit = False
    except Exception:  # noqa: BLE001 - no CREATEDB right (or no server): the admin runs the plan
        return plan, False
    done = subprocess.run([pg_restore, "--no-owner", "--no-password", *_conn_args(url, plan.database),
                           str(dump_file)], env=_env(url), capture_output=True, text=True, timeout=DUMP_TIMEOUT)
    if done.returncode != 0:
        raise ServerBackupError(_("pg_restore into the new database {db} failed: {detail}; the live database "
                            "is unchanged").format(db=plan.database, detail=_first_error(done.stderr)))
    return plan, True


def dump_engine(engine, *, reason: str, now: datetime | None = None) -> DumpInfo:
    """dump() for the store's engine: row-level security stays on unless the role bypasses it."""
    with engine.connect() as conn:
        bypass = conn.exec_driver_sql(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user").scalar()
    return dump(engine.url, reason=reason, row_security=not bypass, now=now)
