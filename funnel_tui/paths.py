"""Where the rep's files live (platformdirs). Functions only: no work at import time."""

from __future__ import annotations

import os
import posixpath
import sys
from pathlib import Path

APP_NAME = "funnel-tui"


def data_dir() -> Path:
    """The data dir, created private (0700) on first use."""
    path = data_dir_unmade()
    ensure_private_dir(path)
    return path


def data_dir_unmade() -> Path:
    """Where the data dir is, without creating it (for a read that must leave no trace)."""
    fast = _plain_xdg("XDG_DATA_HOME", "~/.local/share")
    if fast is not None:
        return fast
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def config_dir_unmade() -> Path:
    """Where the config dir is, without creating it (for a read that must leave no trace)."""
    fast = _plain_xdg("XDG_CONFIG_HOME", "~/.config")
    if fast is not None:
        return fast
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def cache_dir_unmade() -> Path:
    """The user's cache dir for funnel (not created here): what can be lost without harm,
    e.g. the stamp of the last start-up check (store/check_stamp.py)."""
    fast = _plain_xdg("XDG_CACHE_HOME", "~/.cache")
    if fast is not None:
        return fast
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    path = config_dir_unmade()
    ensure_private_dir(path)
    return path


def _plain_xdg(variable: str, default: str) -> Path | None:
    """platformdirs' user dir on plain Linux, without importing it (8 ms, every command reads
    the settings file at start): `variable` when it is absolute, else `default` in an
    absolute HOME, with the app's name. None — ask platformdirs — anywhere else (another
    system, Android, no usable HOME). tests/test_paths_fast.py compares the two."""
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel") or "ANDROID_DATA" in os.environ:
        return None
    base = os.environ.get(variable, "")
    if not posixpath.isabs(base):
        home = os.environ.get("HOME")
        if not home or not posixpath.isabs(home):
            return None
        base = os.path.expanduser(default)
    return Path(os.path.join(base, APP_NAME))


def default_db_path() -> Path:
    return data_dir() / "funnel.db"


def demo_db_path() -> Path:
    return data_dir() / "demo.db"


def is_demo_db(path: Path) -> bool:
    """Whether `path` is the demo database in the data dir (no folder is created to tell)."""
    return path.resolve() == (data_dir_unmade() / "demo.db").resolve()


def export_dir(setting: str | None = None) -> Path:
    """Where `x` on the board writes: the `export_dir` setting, else the user's documents
    folder (platformdirs). Not created here: the export creates it when it writes."""
    if setting:
        return Path(setting).expanduser()
    from platformdirs import user_documents_path

    return user_documents_path()


def backups_dir(db_path: Path) -> Path:
    """Backups sit beside the database they protect, in a private folder."""
    path = db_path.parent / "backups"
    ensure_private_dir(path)
    return path


def screenshot_dir() -> Path:
    """Where the palette's Screenshot goes: Downloads if the rep has that folder, else
    Documents, else `screenshots/` in the data dir (created private)."""
    from platformdirs import user_documents_path, user_downloads_path

    for folder in (user_downloads_path(), user_documents_path()):
        if folder.is_dir():
            return folder
    path = data_dir() / "screenshots"
    ensure_private_dir(path)
    return path


def ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass  # not ours to change (e.g. a shared mount); the files stay 0600 regardless


def make_private_file(path: Path) -> None:
    """0600 for a database, backup or export; its -wal/-shm companions too."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if p.exists():
                os.chmod(p, 0o600)
        except OSError:
            pass
