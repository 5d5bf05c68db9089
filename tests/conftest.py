"""Shared fixtures: a temp-file store, a fixed clock and an explicit time zone."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings as hypothesis_settings

# The property tests draw the same examples on every run (`make test`, CI): a red build is the
# code's, never the draw's. HYPOTHESIS_PROFILE=explore draws fresh examples, to hunt for more.
hypothesis_settings.register_profile("repeatable", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Tuesday 2026-11-24 10:00 in Shanghai: the clock every test starts from.
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def tz():
    return TZ


def pytest_generate_tests(metafunc):
    """Tests marked `both_backends` (a module's pytestmark, or one test) run twice: on a
    SQLite file and on a database of the session's PostgreSQL cluster (`db_path` is then the
    database's URL). `sqlite_only` keeps a test that reads the file itself on SQLite."""
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_backends") is None:
        return
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        return
    metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request) -> str:
    """Which database the test runs on: sqlite unless parametrized (see above)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db_path(tmp_path, backend, request):
    if backend == "postgresql":
        return request.getfixturevalue("pg_url")
    return tmp_path / "funnel.db"


# --- a PostgreSQL server for the team-mode tests (tests/pg_cluster.py) ----------------------


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway cluster per session on 127.0.0.1 and a socket dir, with a template
    database that has the schema and the team roles (`funnel team init`)."""
    from pg_cluster import TEMPLATE_DB, Cluster, pg_bindir

    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb) on this machine: apt-get install postgresql "
                    "(.ci/run does)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed: pip install -e '.[dev]' (or '.[team]')")
    cluster = Cluster(bindir).start()
    try:
        with cluster.admin() as con:
            con.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        from funnel_tui.store.pg_team import init_team

        init_team(cluster.url(TEMPLATE_DB))
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster):
    """A fresh database with the schema and team set-up, as the superuser; dropped after."""
    name = pg_cluster.new_database()
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


def db_name(url: str) -> str:
    """The database a server URL names (its last part)."""
    return url.rsplit("/", 1)[1]


@pytest.fixture
def team_member(pg_url, pg_cluster):
    """`team_member(name, lead=False)`: add a rep (or lead) with the password `pw-<name>` to the
    test's server database, and return the URL that connects as them."""
    from funnel_tui.store.pg_team import add_member

    def member(name: str, *, lead: bool = False) -> str:
        add_member(pg_url, name, f"pw-{name}", lead=lead)
        return pg_cluster.url(db_name(pg_url), name, f"pw-{name}")

    return member


@pytest.fixture
def team(pg_url, team_member):
    """ann and bob (reps) and lea (lead) on a fresh server database, a Store opened as each of
    them, and `admin`: the superuser's."""
    from funnel_tui.store import Store

    urls = {name: team_member(name, lead=lead) for name, lead in (("ann", False), ("bob", False), ("lea", True))}
    stores = {name: Store(url) for name, url in urls.items()}
    stores["admin"] = Store(pg_url)
    yield stores
    for s in stores.values():
        s.close()


@pytest.fixture
def pg_empty_url(pg_cluster):
    """A fresh, empty database (no schema), as the superuser; dropped after."""
    name = pg_cluster.new_database(template=None)
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@pytest.fixture
def store(db_path):
    from funnel_tui.store import Store

    s = Store(db_path)
    yield s
    s.close()


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory):
    """One cache dir for the run (start-up check stamps, keyed by each database's real path),
    outside every test's own folder (some tests list theirs); set for the whole session, so
    module-scoped fixtures' processes use it too."""
    path = tmp_path_factory.mktemp("xdg-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(path)
    yield path
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path, monkeypatch, _cache_dir):
    """Never touch the real data dir: platformdirs resolves under tmp."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(_cache_dir))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("FUNNEL_DB", raising=False)
    monkeypatch.delenv("FUNNEL_NOW", raising=False)


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise():
    """The gettext language is one per process (funnel_tui.i18n.activate): every test starts in
    English, and whatever a test (or an App it builds) switches on is switched off after it."""
    from funnel_tui import i18n

    i18n.activate("en")
    yield
    i18n.activate("en")


class CliResult(NamedTuple):
    code: int
    out: str
    err: str


class FunnelCli:
    """`funnel` run in this process (cli.main) at the tests' clock, NOW in Shanghai.

    `funnel("due", "--format", "json")` runs against the test's db_path and returns
    CliResult(code, out, err); `funnel.code(db, *argv)` runs against `db` and leaves the
    output for the test to read with capsys or capsysbinary.
    """

    def __init__(self, request, db_path):
        self._request, self.db = request, db_path

    def code(self, db, *argv: str) -> int:
        from funnel_tui.cli import main

        return main(["--db", str(db), *argv])

    def __call__(self, *argv: str) -> CliResult:
        capsys = self._request.getfixturevalue("capsys")  # asked for here: a test may use capsysbinary
        code = self.code(self.db, *argv)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)


@pytest.fixture
def funnel(request, monkeypatch, db_path):
    """The command line, run in-process: see FunnelCli."""
    monkeypatch.setenv("FUNNEL_NOW", NOW.astimezone(TZ).isoformat())
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield FunnelCli(request, db_path)
    monkeypatch.delenv("TZ")
    time.tzset()


# --- the one stand-in for FunnelApp in screen and form tests --------------------------------


@pytest.fixture
def tui_host(request, now, tz):
    """`tui_host(screen=None, store=None, lang="en")` builds the test app: it implements the
    TUI's `AppContext` (store, now(), tz, lang, and the app's own error path and help) and pushes
    `screen()` at start. `open(form)` pushes a form and keeps what it hands back in
    `result`; `quit_called` says whether anything ran `app.quit` (hostile text must not)."""
    from textual.app import App

    from funnel_tui.tui.services import ScreenServices

    unset = object()

    class TuiHost(ScreenServices, App):
        UNSET = unset

        def __init__(self, store, screen, lang):
            from funnel_tui.i18n import activate

            activate(lang)  # as FunnelApp does: the screens' words are read as they are built
            super().__init__()
            self.store = store
            self.tz = tz
            self.lang = lang
            self.pipeline = None
            self.first_screen = screen
            self.result = unset
            self.quit_called = False

        def now(self):
            return now

        def on_mount(self):
            if self.first_screen is not None:
                self.push_screen(self.first_screen())

        def open(self, screen):
            self.result = unset
            self.push_screen(screen, callback=self._got)

        def _got(self, value):
            self.result = value

        def action_quit(self):  # a hostile [@click=app.quit] must never get here
            self.quit_called = True

    def make(screen=None, *, store=None, lang: str = "en") -> TuiHost:
        return TuiHost(store if store is not None else request.getfixturevalue("store"), screen, lang)

    return make
