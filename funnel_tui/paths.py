"""Where the rep's files live (platformdirs). Functions only: no work at import time."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "funnel-tui"


def data_dir() -> Path:
    """The data dir, created private (0700) on first use."""
    path = data_dir_unmade()
    ensure_private_dir(path)
    return path


def data_dir_unmade() -> Path:
    """Where the data dir is, without creating it (for a read that must leave no trace)."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def config_dir_unmade() -> Path:
    """Where the config dir is, without creating it (for a read that must leave no trace)."""
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    from platformdirs import user_config_path

    path = user_config_path(APP_NAME, appauthor=False)
    ensure_private_dir(path)
    return path


def default_db_path() -> Path:
    return data_dir() / "funnel.db"


def demo_db_path() -> Path:
    return data_dir() / "demo.db"


def is_demo_db(path: Path) -> bool:
    """Whether `path` is the demo database in the data dir (no folder is created to tell)."""
    from platformdirs import user_data_path

    return path.resolve() == (user_data_path(APP_NAME, appauthor=False) / "demo.db").resolve()


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
