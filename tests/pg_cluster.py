"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl, 127.0.0.1 and a socket dir.

One cluster per test session (conftest's `pg_cluster` fixture). It listens on 127.0.0.1 at a
free port and on a unix socket in its own temp dir, never on another address. The superuser
`postgres` connects without a password (trust, loopback only); every other role needs its
password (scram), so the tests can see a wrong one refused. fsync is off: a test cluster
needs speed, not durability.

Run as root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
Without PostgreSQL binaries the fixture skips with the reason (CI installs them: .ci/run).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"
TEMPLATE_DB = "funnel_template"


def pg_bindir() -> Path | None:
    """Where initdb and pg_ctl live: PATH, else the newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted((p for p in root.iterdir() if (p / "bin" / "initdb").exists()),
                          key=lambda p: int(p.name) if p.name.isdigit() else 0)
        if versions:
            return versions[-1] / "bin"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A running cluster: `url(db, user, password)` builds SQLAlchemy URLs to it."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="funnel-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        self._counter = 0

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / argv[0]), *argv[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> "Cluster":
        if self.as_root:
            shutil.chown(self.root, "postgres")
        os.chmod(self.root, 0o700)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        hba = self.data / "pg_hba.conf"
        # The superuser alone gets in without a password, and only over loopback or the socket.
        hba_text = ("local all all trust\n"
                    f"host all {SUPERUSER} 127.0.0.1/32 trust\n"
                    "host all all 127.0.0.1/32 scram-sha-256\n")
        self._write_as_owner(hba, hba_text)
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.root} -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=100 -c shared_buffers=64MB")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")
        return self

    def _write_as_owner(self, path: Path, text: str) -> None:
        path.write_text(text)
        if self.as_root:
            shutil.chown(path, "postgres")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{db}"

    def admin(self, db: str = "postgres"):
        """An autocommit psycopg connection as the superuser (CREATE DATABASE needs one)."""
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=db,
                               autocommit=True)

    def new_database(self, *, template: str | None = TEMPLATE_DB) -> str:
        """A fresh database (a copy of the template with the schema, or empty); its name."""
        self._counter += 1
        name = f"t{os.getpid()}_{self._counter}"
        tpl = template or "template0"
        with self.admin() as con:
            con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}" STRATEGY FILE_COPY')
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
