"""paths' own reading of the XDG dirs on Linux (no platformdirs import at start, issue 19)
gives what platformdirs gives, or steps aside for platformdirs."""

from __future__ import annotations

import itertools
import sys

import platformdirs
import pytest

from funnel_tui import paths

XDG_VALUES = (None, "", "relative/dir", "/abs/xdg", "/abs/xdg/", "~/tilde")
HOME_VALUES = (None, "", "relative", "/home/rep", "/home/rep/", "/")


@pytest.mark.skipif(sys.platform != "linux", reason="the shortcut is Linux's")
@pytest.mark.parametrize("xdg, home", list(itertools.product(XDG_VALUES, HOME_VALUES)))
def test_config_and_data_dirs_are_platformdirs(monkeypatch, xdg, home):
    for var, value in (("XDG_CONFIG_HOME", xdg), ("XDG_DATA_HOME", xdg), ("XDG_CACHE_HOME", xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    for ours, theirs, variable in ((paths.config_dir_unmade, platformdirs.user_config_path, "XDG_CONFIG_HOME"),
                                   (paths.data_dir_unmade, platformdirs.user_data_path, "XDG_DATA_HOME"),
                                   (paths.cache_dir_unmade, platformdirs.user_cache_path, "XDG_CACHE_HOME")):
        try:
            expected = theirs(paths.APP_NAME, appauthor=False)
        except RuntimeError:  # no home platformdirs can name: ours must step aside too
            assert paths._plain_xdg(variable, "~/x") is None
            continue
        assert ours() == expected
        assert str(ours()) == str(expected)


def test_android_and_other_systems_ask_platformdirs(monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", "/abs/xdg")
    monkeypatch.setenv("ANDROID_DATA", "/data")
    assert paths._plain_xdg("XDG_CONFIG_HOME", "~/.config") is None
    monkeypatch.delenv("ANDROID_DATA")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert paths._plain_xdg("XDG_CONFIG_HOME", "~/.config") is None
