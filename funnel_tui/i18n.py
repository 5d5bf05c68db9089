"""The rep's language: gettext catalogs, chosen once per process, read only when needed.

English is the source language, so in English every function here returns its argument and
no file is read. Chinese comes from `funnel_tui/locale/zh_CN/LC_MESSAGES/funnel.mo`, read the
first time a Chinese string is asked for. This module imports nothing from funnel_tui and no
third-party package (`gettext` itself only when the catalog is read), so `funnel due` and
`funnel --help` use it for free.

How each room calls it:
- start-up (the CLI's `main()`, the App's `__init__`) chooses the language once:
  `activate(resolve_lang(store.get_setting("lang")))`; before that, everything is English.
- a screen, a command, an error message: `_("Nothing due")`,
  `ngettext("{n} deal", "{n} deals", n).format(n=n)`, `pgettext("stage kind", "open")`.
  Placeholders are named (`{n}`, `{customer}`) so a translation may reorder them.
- text fixed at import time (BINDINGS descriptions, column titles, vocabulary labels) is
  marked with `N_("Undo")` or `NP_("risk level", "high")`: they return the English text
  unchanged, Babel extracts it, and the place that shows it translates it with `_(text)` or
  `pgettext(context, text)`.
- code that must speak one language whatever is active (a label in a given language, tests):
  `translator("zh").gettext(...)`.

`make i18n` extracts the strings (the keywords are `BABEL_KEYWORDS` below), updates the
catalog and compiles it; tests/test_i18n_catalog.py fails on any string without a translation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

__all__ = [
    "LANGS",
    "BABEL_KEYWORDS",
    "DOMAIN",
    "LOCALE_DIR",
    "N_",
    "NP_",
    "Translator",
    "_",
    "activate",
    "active_lang",
    "gettext",
    "ngettext",
    "npgettext",
    "pgettext",
    "resolve_lang",
    "translator",
    "using",
]

LANGS = ("en", "zh")
DOMAIN = "funnel"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# Our short language code -> the catalog's directory under LOCALE_DIR.
_CATALOG_DIRS = {"zh": "zh_CN"}

# What Babel extracts (babel.messages.extract keyword specs): (1, "c") is the context argument.
BABEL_KEYWORDS: dict[str, object] = {
    "_": None,
    "gettext": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "NP_": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}


class Translator(Protocol):
    """The part of `gettext.NullTranslations` the app uses."""

    def gettext(self, message: str, /) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...
    def pgettext(self, context: str, message: str, /) -> str: ...
    def npgettext(self, context: str, singular: str, plural: str, n: int, /) -> str: ...


class _Source:
    """English, the language the strings are written in: no catalog, no file."""

    def gettext(self, message: str, /) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str, /) -> str:
        return message

    def npgettext(self, context: str, singular: str, plural: str, n: int, /) -> str:
        return singular if n == 1 else plural


_SOURCE = _Source()
_loaded: dict[str, Translator] = {"en": _SOURCE}
_active = "en"


def catalog_path(lang: str) -> Path:
    """Where the compiled catalog of `lang` lives (it may not exist for "en")."""
    return LOCALE_DIR / _CATALOG_DIRS.get(lang, lang) / "LC_MESSAGES" / f"{DOMAIN}.mo"


def translator(lang: str) -> Translator:
    """The translations of `lang` ("en" or "zh"), read from the package on first use.

    A missing catalog (a broken install) falls back to English, as gettext's `fallback=True`
    does: a wrong language is better than a command that cannot run. The catalog test keeps
    the shipped one complete.
    """
    found = _loaded.get(lang)
    if found is not None:
        return found
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    import gettext as _gettext  # ~1 ms, and only when a Chinese string is first needed

    try:
        with open(catalog_path(lang), "rb") as fh:
            found = _gettext.GNUTranslations(fh)
    except OSError:
        found = _SOURCE
    _loaded[lang] = found
    return found


def _lang_of(value: str) -> str | None:
    """"zh" for any zh* locale name (zh_CN.UTF-8, zh_TW, zh), "en" for en*, else None."""
    name = value.strip().split(".")[0].split("@")[0].casefold()
    if name.startswith("zh"):
        return "zh"  # one Chinese catalog (Simplified) serves every zh locale
    if name.startswith("en"):
        return "en"
    return None


def resolve_lang(setting: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to use: the `lang` setting when it is "en" or "zh", else the locale.

    The locale is read as gettext does: the first of LC_ALL, LC_MESSAGES, LANG that is set
    names the locale; zh_* means Chinese, anything else English. LANGUAGE (a list such as
    `zh_CN:en`) goes first, as in GNU gettext, unless the locale is C/POSIX.
    """
    if setting:
        chosen = setting.strip().casefold()
        if chosen in LANGS:
            return chosen
    env = os.environ if environ is None else environ
    locale_name = next((env[v] for v in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(v)), "")
    if locale_name and locale_name.split(".")[0] not in ("C", "POSIX"):
        for part in env.get("LANGUAGE", "").split(":"):
            lang = _lang_of(part) if part else None
            if lang:
                return lang
    return _lang_of(locale_name) or "en"


def activate(lang: str) -> None:
    """Make `lang` the language of `_()` and friends for this process."""
    global _active
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    _active = lang


def active_lang() -> str:
    return _active


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Speak `lang` inside the block, then the language before it (tests, one-off output)."""
    before = _active
    activate(lang)
    try:
        yield
    finally:
        activate(before)


def gettext(message: str) -> str:
    """`message` in the active language ("" stays "": gettext would answer the catalog's header)."""
    return translator(_active).gettext(message) if message else message


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the active language (Chinese has one form)."""
    return translator(_active).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` in the active language, told apart from the same English word elsewhere."""
    return translator(_active).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translator(_active).npgettext(context, singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for translation without translating it now (translate where shown)."""
    return message


def NP_(context: str, message: str) -> str:
    """Like `N_`, with a context (translate where shown with `pgettext(context, message)`)."""
    return message
