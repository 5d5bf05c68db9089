"""The rep's own settings — `me`, `lang`, `theme`, `export_dir` — in one small file in the
user's config dir (`~/.config/funnel-tui/settings.toml` on Linux), not in each database: the
language chosen on the demo is the language of the rep's own pipeline, and the name given
once owns every new deal, whichever database is open.

Read them through `Store.get_setting` / `Store.set_setting` (the one API: the store sends
these keys here on SQLite, and to the connected role on a team server); this module is the
file itself. The file is TOML a person can edit; it is written whole, atomically, 0600.
Standard library only (tomllib), so the command line pays nothing for it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from funnel_tui import paths

PERSONAL = ("me", "lang", "theme", "export_dir")
# Also the rep's, never shown by `funnel settings`: the first start asked for the name.
ASKED_NAME = "asked_name"
FILE_NAME = "settings.toml"
_HEADER = "# funnel-tui: your own settings. `funnel settings KEY VALUE` changes them.\n"


class ConfigError(ValueError):
    """The settings file cannot be read or written (the message says which and why)."""


def path() -> Path:
    """Where the file lives (its folder is created, private, on first use)."""
    return paths.config_dir() / FILE_NAME


def read(where: Path | None = None) -> dict[str, str]:
    """Every setting in the file ({} when there is none yet)."""
    target = where or path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"settings: cannot read {target}: {exc}") from None
    import tomllib  # here, not at the top: no settings file, no parser (`funnel due` at a prompt)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings: {target} is not valid TOML ({exc}); fix it or delete it") from None
    return {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int, float, bool))}


def get(key: str, where: Path | None = None) -> str | None:
    return read(where).get(key)


def set_value(key: str, value: str | None, where: Path | None = None) -> None:
    """Write `key = value` (None removes it), keeping the other keys; atomic, 0600."""
    target = where or path()
    values = read(target)
    if value is None:
        values.pop(key, None)
    else:
        values[key] = value
    body = _HEADER + "".join(f"{k} = {_toml_string(v)}\n" for k, v in sorted(values.items()))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"settings: cannot write {target}: {exc.strerror or exc}") from None


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, plus DEL, which TOML wants escaped."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
