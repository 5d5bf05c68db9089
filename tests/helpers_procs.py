"""Worker processes for the safety tests: run as `python tests/helpers_procs.py MODE ...`.

Each mode is a real process the tests start (and sometimes SIGKILL). Acknowledgements go
to stdout one line at a time, flushed, *after* the store call returned, so the parent
knows exactly which changes were committed before the kill.

The parent side (spawn helpers) is at the bottom; tests import it from here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve()
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
STAGE_CYCLE = ("qualified", "demo", "negotiation", "lead")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def ready_set_go() -> None:
    """Tell the parent we are up, then wait for its go: both workers start their loops at once."""
    say("ready")
    sys.stdin.readline()


# --- workers ---------------------------------------------------------------------------------


def crash_loop(db: str, tag: str) -> None:
    """add_deal + move_deal forever; ack each after its commit."""
    from funnel_tui.store import Store

    store = Store(db)
    i = 0
    while True:
        deal_id = store.add_deal({"customer": f"{tag}-{i}", "amount": str(i)}, now=NOW)
        say(f"add {tag}-{i} {deal_id}")
        for stage in STAGE_CYCLE[: 1 + i % len(STAGE_CYCLE)]:
            store.move_deal(deal_id, stage, now=NOW)
            say(f"move {deal_id} {stage}")
        i += 1


def big_import(db: str, n: str, tag: str) -> None:
    """One import of `n` deals in ONE transaction (the CSV importer's DealImporter if present)."""
    from funnel_tui.store import Store

    store = Store(db)
    n = int(n)
    at = NOW
    chunk = 5000
    try:
        from funnel_tui.store.bulk_import import DealImporter, ImportRow
    except ImportError:  # the importer not built yet: the same single transaction by hand
        DealImporter = None
    from funnel_tui.store.tables import D

    blank = {c.name: "" for c in D.columns if c.default is not None and c.default.arg == ""}
    blank.pop("external_id", None)
    rows = [{**blank, "customer": f"{tag}-{i}", "stage": "lead", "status": "open", "amount": i, "currency": "CNY",
             "probability": 10, "probability_custom": False, "created_at": at, "stage_entered_at": at,
             "closed_at": None} for i in range(n)]
    if DealImporter is not None:
        with DealImporter(store, now=NOW) as imp:
            say("begin")
            for k in range(0, n, chunk):
                imp.add([ImportRow(k + j, r, frozenset(r)) for j, r in enumerate(rows[k:k + chunk])])
                say(f"progress {k + chunk}")
    else:
        import uuid

        from sqlalchemy import insert

        with store.write() as conn:
            say("begin")
            for k in range(0, n, chunk):
                part = [{**r, "uid": str(uuid.uuid4()), "updated_at": at, "version": 1}
                        for r in rows[k:k + chunk]]
                conn.execute(insert(D), part)
                say(f"progress {k + chunk}")
    say(f"committed {n}")


def counter(db: str, n: str, mode: str) -> None:
    """Read-modify-write a counter n times inside store.write() (BEGIN IMMEDIATE).

    mode "deferred" removes the protection: the transaction opens with a plain BEGIN.
    Errors are counted, not raised, so the parent can see what a lost race costs.
    """
    from sqlalchemy import exc, select, update

    from funnel_tui.store import Store
    from funnel_tui.store.errors import StoreError
    from funnel_tui.store.tables import SET

    if mode == "deferred":
        import funnel_tui.store.core as core

        core.WRITE_OPTION = "not_the_write_option"  # store.write() now opens a plain BEGIN
    store = Store(db)
    ready_set_go()
    errors = 0
    for _ in range(int(n)):
        try:
            with store.write() as conn:
                value = int(conn.execute(select(SET.c.value).where(SET.c.key == "counter")).scalar())
                conn.execute(update(SET).where(SET.c.key == "counter").values(value=str(value + 1)))
        except (exc.OperationalError, StoreError):  # the store reports "database is locked" as a StoreError
            errors += 1
    say(f"errors {errors}")


def deal_bump(db: str, deal_id: str, n: str) -> None:
    """Two apps editing one deal: read, then save with expected_version; reload on refusal."""
    from funnel_tui.store import StaleDealError, Store

    store = Store(db)
    ready_set_go()
    stale = 0
    for _ in range(int(n)):
        while True:
            deal = store.get_deal(int(deal_id))
            try:
                store.update_deal(int(deal_id), {"amount": str((deal["amount"] + 100) // 100)},
                                  now=NOW, expected_version=deal["version"])
                break
            except StaleDealError:
                stale += 1  # changed elsewhere: reload and apply again
    say(f"stale {stale}")


def install_v2() -> None:
    """A test-only schema after the real ones (SCHEMA_VERSION + 1): followup gains an
    `outcome` column by a full table rebuild. (Named v2 when v1 was the only real version.)"""
    from sqlalchemy import Column, String, text

    from funnel_tui import models
    from funnel_tui.store import migrations

    table = models.FollowUp.__table__
    table.append_column(Column("outcome", String, nullable=False, server_default=text("''")))
    real = models.SCHEMA_VERSION
    models.SCHEMA_VERSION = real + 1
    migrations.MIGRATIONS[real] = lambda conn: migrations.rebuild_table(conn, table)


def _remove_fk_protection() -> None:
    """Rewrite migrate/rebuild_table without the foreign-keys-off step (for the negative test)."""
    import inspect
    import textwrap

    from funnel_tui.store import migrations

    for name, cuts in {
        "migrate": ['raw.execute("PRAGMA foreign_keys = OFF")',
                    'if raw.execute("PRAGMA foreign_keys").fetchone()[0] != 0:'],
        "rebuild_table": ['if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():'],
    }.items():
        src = textwrap.dedent(inspect.getsource(getattr(migrations, name)))
        for cut in cuts:
            assert cut in src, f"{name} changed; update the negative test ({cut})"
            src = src.replace(cut, "if False:" if cut.startswith("if ") else "pass")
        exec(compile(src, migrations.__file__, "exec"), migrations.__dict__)


def migrate_v2(db: str, *flags: str) -> None:
    install_v2()
    if "--fk-on" in flags:
        _remove_fk_protection()
    from funnel_tui.store import Store

    try:
        Store(db).close()
    except Exception as exc:  # noqa: BLE001 - the parent reads what went wrong
        say(f"failed {type(exc).__name__}: {exc}")
        return
    say("migrated")


def fresh_v2(db: str) -> None:
    install_v2()
    from funnel_tui.store import Store

    Store(db).close()
    say("created")


def hold_store(db: str) -> None:
    """One Store kept open, like the board: commands on stdin, an ack on stdout after each.

    `add NAME` adds a deal; `edit ID NOTES` edits one; `follow ID` plans a follow-up;
    `owner X` lists deals of an owner (an index read); `count` counts. A refusal is
    answered `refused <exit code> <message>` (the process goes on, as the board does)."""
    from datetime import timedelta

    from funnel_tui.domain.validation import FollowUpDraft
    from funnel_tui.store import Store, StoreError

    store = Store(db)
    say("ready")
    for line in sys.stdin:
        cmd, _sep, arg = line.strip().partition(" ")
        try:
            if cmd == "add":
                say(f"added {store.add_deal({'customer': arg}, now=NOW)}")
            elif cmd == "edit":
                deal_id, _sep, notes = arg.partition(" ")
                store.update_deal(int(deal_id), {"notes": notes}, now=NOW)
                say(f"edited {deal_id}")
            elif cmd == "follow":
                fid = store.add_follow_up(FollowUpDraft(deal_id=int(arg), due_at=NOW + timedelta(days=2),
                                                        kind="call", note="回访"), now=NOW)
                say(f"followed {fid}")
            elif cmd == "owner":
                say(f"listed {len(store.list_deals(owner=arg, status='all'))}")
            elif cmd == "count":
                say(f"count {store.count_deals(status='all')}")
        except StoreError as exc:
            say(f"refused {exc.exit_code} {exc}")


def board_probe(db: str, *keys: str) -> None:
    """The board as `funnel tui` opens it (the start-up checks, their notes toasted), driven
    headless: press `keys`, then print {"cards": [customer…], "toasts": [...], "screen": the
    screen on top} as JSON."""
    import argparse
    import asyncio
    from zoneinfo import ZoneInfo

    from textual.worker import WorkerCancelled

    from funnel_tui.cli.admin import open_for_board
    from funnel_tui.tui.app import FunnelApp

    store, notes = open_for_board(argparse.Namespace(db=db, demo=False))
    app = FunnelApp(store, lambda: NOW, tz=ZoneInfo("Asia/Shanghai"), lang="en", export_dir=tempfile.gettempdir(),
                    notes=notes)

    async def settle(pilot) -> None:
        for _ in range(4):
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                continue
            await pilot.pause()

    async def drive() -> dict:
        async with app.run_test(size=(160, 45), notifications=True) as pilot:
            await settle(pilot)
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            cards = [row["customer"] for column in app.screen.columns for row in column.rows]
            return {"cards": cards, "toasts": [n.message for n in app._notifications],
                    "screen": type(app.screen).__name__}

    sys.stdout.write(json.dumps(asyncio.run(drive()), ensure_ascii=False))


def cli_v2_failing(db: str, *argv: str) -> None:
    """`funnel --db DB ARGV…` with a test schema after the real ones whose upgrade step fails
    in SQLite; prints {"code", "out", "err"} as JSON (the CLI's own streams captured)."""
    import contextlib
    import io

    install_v2()
    from funnel_tui import models
    from funnel_tui.store import migrations

    failing = models.SCHEMA_VERSION - 1
    migrations.MIGRATIONS[failing] = lambda conn: conn.exec_driver_sql("SELECT no_such_function()")
    import funnel_tui.cli as cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["--db", db, *argv])
    sys.stdout.write(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue()}))


def cli_batch(spec_file: str) -> None:
    """Run many `funnel` invocations, each in its own forked process with its own stdout/stderr.

    Importing the CLI and store once and forking per command keeps 100+ real invocations
    inside the time budget (a fresh interpreter costs ~0.6 s each). Results go to stdout as
    JSON: [{"argv", "code", "out", "err"}] with out/err as latin-1 strings of the raw bytes.
    """
    import funnel_tui.cli as cli
    import funnel_tui.store.core  # noqa: F401 - loaded before forking: each child starts warm
    import rich.console  # noqa: F401
    import rich.table  # noqa: F401

    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    env = spec.get("env", {})
    jobs = max(1, int(spec.get("jobs", 1)))  # >1 only for runs that do not depend on each other
    running: dict[int, int] = {}
    codes: dict[int, int] = {}

    def reap() -> None:
        pid, status = os.waitpid(-1, 0)
        codes[running.pop(pid)] = os.waitstatus_to_exitcode(status)

    with tempfile.TemporaryDirectory() as tmp:
        for k, run in enumerate(spec["runs"]):
            while len(running) >= jobs:
                reap()
            argv, run_env = (run["argv"], run.get("env", {})) if isinstance(run, dict) else (run, {})
            out_p, err_p = Path(tmp, f"{k}.out"), Path(tmp, f"{k}.err")
            pid = os.fork()
            if pid == 0:  # child: a real process whose fds 1 and 2 are files
                try:
                    os.environ.update(env)
                    os.environ.update(run_env)
                    fo = os.open(out_p, os.O_WRONLY | os.O_CREAT, 0o600)
                    fe = os.open(err_p, os.O_WRONLY | os.O_CREAT, 0o600)
                    os.dup2(fo, 1)
                    os.dup2(fe, 2)
                    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
                    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
                    try:
                        code = cli.main(argv)
                    except SystemExit as exc:  # argparse usage errors
                        code = exc.code if isinstance(exc.code, int) else 2
                    except BaseException:  # noqa: BLE001 - a crash: show the traceback like python does
                        import traceback

                        traceback.print_exc()
                        code = 99
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(locals().get("code", 98) or 0)
            running[pid] = k
        while running:
            reap()
        results = [{"argv": run["argv"] if isinstance(run, dict) else run, "code": codes[k],
                    "out": Path(tmp, f"{k}.out").read_bytes().decode("latin-1"),
                    "err": Path(tmp, f"{k}.err").read_bytes().decode("latin-1")}
                   for k, run in enumerate(spec["runs"])]
    sys.stdout.write(json.dumps(results))


# --- parent side ----------------------------------------------------------------------------


def worker_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FUNNEL_DB", "FUNNEL_NOW")}
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def spawn(mode: str, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HERE), mode, *map(str, args)], env=worker_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def run_worker(mode: str, *args: str, timeout: float = 60) -> str:
    p = subprocess.run([sys.executable, str(HERE), mode, *map(str, args)], env=worker_env(),
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{mode} worker failed: {p.stderr[-2000:]}"
    return p.stdout


def run_cli_many(runs: list, tmp_path: Path, env: dict | None = None, jobs: int = 1) -> list[dict]:
    """Each run (an argv, or {"argv", "env"}) as its own process (see cli_batch); bytes out/err.

    jobs=2 runs two at a time: only for runs that do not depend on each other (reads).
    """
    spec = tmp_path / f"cli-{os.getpid()}-{len(runs)}-{id(runs)}.json"
    spec.write_text(json.dumps({"runs": runs, "env": env or {}, "jobs": jobs}), encoding="utf-8")
    raw = run_worker("cli_batch", str(spec), timeout=120)
    out = json.loads(raw)
    for r in out:
        r["out"] = r["out"].encode("latin-1")
        r["err"] = r["err"].encode("latin-1")
    return out


def run_cli(argv: list[str], env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """One `python -m funnel_tui ...` in a fresh interpreter (bytes out/err)."""
    return subprocess.run([sys.executable, "-m", "funnel_tui", *argv], env=worker_env(**(env or {})),
                          capture_output=True, timeout=timeout, cwd=str(REPO))


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    {
        "crash_loop": crash_loop,
        "big_import": big_import,
        "counter": counter,
        "deal_bump": deal_bump,
        "migrate_v2": migrate_v2,
        "fresh_v2": fresh_v2,
        "cli_batch": cli_batch,
        "cli_v2_failing": cli_v2_failing,
        "hold_store": hold_store,
        "board_probe": board_probe,
    }[mode](*rest)
