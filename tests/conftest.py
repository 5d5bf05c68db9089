"""Shared fixtures: a temp-file store, a fixed clock and an explicit time zone."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

# Tuesday 2026-11-24 10:00 in Shanghai: the clock every test starts from.
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def tz():
    return TZ


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "funnel.db"


@pytest.fixture
def store(db_path):
    from funnel_tui.store import Store

    s = Store(db_path)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path, monkeypatch):
    """Never touch the real data dir: platformdirs resolves under tmp."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
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
