"""A rep's own mapping: `--map "Header=field"` on the command line, kept with `--save-profile NAME`.

A saved profile is a small JSON file in the user's config dir (platformdirs, via paths.config_dir):
`<config>/import-profiles/<NAME>.json`, written atomically, mode 0600:

    {"format": "funnel-tui import profile", "version": 1, "name": "acme-sfdc",
     "columns": {"Opportunity Name": "title", "Account Name": "customer", "Amount": "amount"},
     "stages": {"Discovery": "qualified", "Closed Won": "won", "Closed Lost": "lost"},
     "decimal": "comma", "date_order": "dmy", "currency": "USD", "base": "salesforce"}

`columns` maps the file's headers to deal fields (FIELD_READS); `stages` maps the tool's stage
names to our stage keys, or to `lost`; the last three are the reading options that file needs
(null when the column decides); `base` (optional) is the built-in profile the map was laid over,
whose stage names and conventions the saved one keeps. A column mapped to `-` is left out. A saved
profile is recognised when a file has every header it maps (and what its base requires), and is
tried before the built-in ones (profiles.recognise).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from funnel_tui.paths import config_dir
from funnel_tui.exchange.profiles import (
    FIELD_READS,
    Column,
    Match,
    Profile,
    StageName,
    col,
    match_header,
    norm,
    registry,
)

FORMAT, VERSION = "funnel-tui import profile", 1
IGNORE = "-"  # `--map "Header=-"`: a column the profile would read is left out
_NAME = re.compile(r"^[\w-]{1,40}$")
DECIMALS, ORDERS = ("point", "comma"), ("dmy", "mdy", "ymd")


class SavedProfileError(ValueError):
    """A --map item, a profile name or a saved file that cannot be used; the message says why."""


def profiles_dir(base: Path | None = None) -> Path:
    if base is not None:
        return base
    return config_dir() / "import-profiles"


def parse_map(items: Sequence[str]) -> dict[str, str]:
    """`--map "Header=field"` items (repeatable) as {header: field}; a header may hold `=`."""
    out: dict[str, str] = {}
    for item in items:
        header, sep, target = item.rpartition("=")
        header, target = header.strip(), target.strip()
        if not sep or not header or not target:
            raise SavedProfileError(f"map: {item!r} is not Header=field, e.g. 'Opportunity Name=title'")
        if target not in FIELD_READS and target != IGNORE:
            raise SavedProfileError(f"map: {target!r} is not a field; use one of: {', '.join(FIELD_READS)} "
                                    f"(or {IGNORE} to leave the column out)")
        if target in out.values() and target not in ("currency", IGNORE):
            raise SavedProfileError(f"map: two columns are mapped to {target}")
        out[header] = target
    return out


def apply_map(match: Match | None, header: Sequence[str], mapping: Mapping[str, str]) -> Match:
    """The recognised match with `--map` laid over it (or the map alone when nothing was
    recognised); every mapped header must be in the file."""
    keys = {norm(h): h for h in header}
    missing = [h for h in mapping if norm(h) not in keys]
    if missing:
        raise SavedProfileError(f"map: the file has no column {missing[0]!r}; its columns are "
                                + ", ".join(repr(h) for h in header[:10]))
    base = match.profile if match is not None else None
    profile = Profile(
        key=base.key if base is not None else "map",
        name=(base.name + " with --map") if base is not None else "your --map columns",
        source=base.source if base is not None else "--map",
        columns=_overlay(base, mapping), required=(), distinctive=(),
        stages=base.stages if base is not None else {}, statuses=base.statuses if base is not None else {},
        id_prefix=base.id_prefix if base is not None else "", decimal=base.decimal if base else None,
        date_order=base.date_order if base else None,
        probability_scale=base.probability_scale if base else None,
        signs=base.signs if base is not None else {}, twins=base.twins if base is not None else (),
        silent=base.silent if base is not None else (),
        title_as_customer=base.title_as_customer if base is not None else False,
        currency=base.currency if base is not None else None)
    return match_header(profile, header)


def _overlay(base: Profile | None, mapping: Mapping[str, str]) -> dict[str, Column]:
    """The base profile's columns with `mapping` laid over them: a mapped header replaces what
    the profile said of it, a field the map takes over leaves its old column, `-` drops one."""
    columns: dict[str, Column] = dict(base.columns) if base is not None else {}
    taken = set(mapping.values()) - {IGNORE}
    mapped = {norm(m) for m in mapping}
    columns = {h: c for h, c in columns.items() if c.field not in taken and norm(h) not in mapped}
    columns.update({h: col(f) for h, f in mapping.items() if f != IGNORE})
    return columns


def save_profile(name: str, mapping: Mapping[str, str], *, stages: Mapping[str, str] | None = None,
                 decimal: str | None = None, date_order: str | None = None,
                 currency: str | None = None, base: str | None = None,
                 directory: Path | None = None) -> Path:
    """Write the saved profile NAME (replacing one of that name); returns its path. `base`: the
    built-in profile the map was laid over (its stage names and conventions are kept)."""
    if not _NAME.match(name):
        raise SavedProfileError(f"save-profile: {name!r} is not a name; use letters, digits, - and _")
    data = {"format": FORMAT, "version": VERSION, "name": name, "columns": dict(mapping),
            "stages": dict(stages or {}), "decimal": decimal, "date_order": date_order,
            "currency": currency}
    if base is not None:
        data["base"] = base
    _check(data, name)
    folder = profiles_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    tmp = folder / f".{name}.json.{os.getpid()}.part"
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def _check(data: Any, where: str) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SavedProfileError(f"{where}: not a funnel-tui import profile")
    if data.get("version") != VERSION:
        raise SavedProfileError(f"{where}: version {data.get('version')!r}; this funnel-tui reads {VERSION}")
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise SavedProfileError(f"{where}: it maps no columns")
    for header, target in columns.items():
        if not isinstance(header, str) or (target not in FIELD_READS and target != IGNORE):
            raise SavedProfileError(f"{where}: {header!r} is mapped to {target!r}, which is not a field")
    stages = data.get("stages") or {}
    if not isinstance(stages, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in stages.items()):
        raise SavedProfileError(f"{where}: stages must map names to stage keys")
    if data.get("decimal") not in (None, *DECIMALS):
        raise SavedProfileError(f"{where}: decimal is {data.get('decimal')!r}; use point, comma or null")
    if data.get("date_order") not in (None, *ORDERS):
        raise SavedProfileError(f"{where}: date_order is {data.get('date_order')!r}; use dmy, mdy, ymd or null")
    if data.get("base") is not None and data["base"] not in registry():
        raise SavedProfileError(f"{where}: it builds on {data['base']!r}, which is not a profile here")
    cur = data.get("currency")
    if cur is not None and not (isinstance(cur, str) and re.fullmatch(r"[A-Z]{3}", cur)):
        raise SavedProfileError(f"{where}: currency is {cur!r}; use a code such as USD or null")


def profile_of(data: Mapping[str, Any], where: str = "profile") -> Profile:
    """A saved profile's JSON as a Profile (SavedProfileError when it is not one)."""
    _check(data, where)
    base = registry()[data["base"]] if data.get("base") else None
    columns = _overlay(base, data["columns"])
    stages = {k: StageName(None, "lost") if v == "lost" else StageName(v)
              for k, v in (data.get("stages") or {}).items()}
    signs = {"$": data["currency"], "¥": data["currency"]} if data.get("currency") else {}
    mapped = tuple((h,) for h, f in data["columns"].items() if f != IGNORE)
    if base is None:
        return Profile(key=f"saved:{data['name']}", name=f"your saved profile {data['name']!r}",
                       source=where, columns=columns, required=mapped,
                       stages=stages, decimal=data.get("decimal"), date_order=data.get("date_order"),
                       signs=signs, saved=True, currency=data.get("currency"))
    return Profile(key=f"saved:{data['name']}", name=f"your saved profile {data['name']!r} ({base.name})",
                   source=where, columns=columns, required=mapped + base.required,
                   stages={**base.stages, **stages}, statuses=base.statuses, id_prefix=base.id_prefix,
                   decimal=data.get("decimal") or base.decimal,
                   date_order=data.get("date_order") or base.date_order,
                   probability_scale=base.probability_scale, signs={**base.signs, **signs},
                   twins=base.twins, silent=base.silent, saved=True,
                   title_as_customer=base.title_as_customer, currency=data.get("currency") or base.currency)


def load_saved(directory: Path | None = None) -> tuple[list[Profile], list[str]]:
    """Every saved profile, most specific (most columns) first, and a problem line for each
    file that could not be used (reported, never fatal)."""
    folder = profiles_dir(directory)
    profiles: list[Profile] = []
    problems: list[str] = []
    if not folder.is_dir():
        return profiles, problems
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            profiles.append(profile_of(data, str(path)))
        except (OSError, ValueError) as exc:  # JSONDecodeError and SavedProfileError are ValueErrors
            problems.append(f"{path.name}: {exc}")
    profiles.sort(key=lambda p: len(p.columns), reverse=True)
    return profiles, problems
