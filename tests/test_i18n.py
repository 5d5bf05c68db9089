"""The language machinery (funnel_tui.i18n): choosing the language, translating, staying cheap."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from funnel_tui import i18n
from funnel_tui.i18n import N_, NP_, _, activate, active_lang, ngettext, pgettext, resolve_lang, translator, using

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("setting", "env", "lang"),
    [
        ("zh", {"LANG": "en_US.UTF-8"}, "zh"),  # the setting wins
        ("en", {"LANG": "zh_CN.UTF-8"}, "en"),
        (" ZH ", {}, "zh"),
        (None, {"LANG": "zh_CN.UTF-8"}, "zh"),
        (None, {"LANG": "zh_TW.UTF-8"}, "zh"),  # one Chinese catalog serves every zh locale
        (None, {"LANG": "zh"}, "zh"),
        (None, {"LANG": "en_US.UTF-8"}, "en"),
        (None, {"LANG": "fr_FR.UTF-8"}, "en"),
        (None, {}, "en"),
        (None, {"LANG": "C.UTF-8"}, "en"),
        ("fr", {"LANG": "zh_CN.UTF-8"}, "zh"),  # a setting we cannot honour: the locale decides
        # LC_ALL beats LC_MESSAGES beats LANG; the first one set decides.
        (None, {"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        (None, {"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        (None, {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "zh_CN.GB18030"}, "zh"),
        # LANGUAGE, as in GNU gettext: a priority list, ignored under the C locale.
        (None, {"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh"),
        (None, {"LANGUAGE": "fr:zh_CN", "LANG": "en_US.UTF-8"}, "zh"),
        (None, {"LANGUAGE": "en_GB:en", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"LANGUAGE": "zh_CN", "LANG": "C"}, "en"),
        (None, {"LANGUAGE": "zh_CN"}, "en"),
        (None, {"LANGUAGE": "de", "LANG": "zh_CN.UTF-8"}, "zh"),
    ],
)
def test_resolve_lang(setting, env, lang):
    assert resolve_lang(setting, env) == lang


def test_english_until_activated_and_back_after_using():
    assert active_lang() == "en"
    assert _("no next step") == "no next step"
    with using("zh"):
        assert active_lang() == "zh"
        assert pgettext("warning", "no next step") == "无下一步"
        assert pgettext("time span", "{n}d").format(n=3) == "3天"
    assert active_lang() == "en"
    assert pgettext("warning", "no next step") == "no next step"


def test_activate_refuses_unknown_languages():
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        activate("fr")
    with pytest.raises(ValueError):
        translator("de")
    assert active_lang() == "en"


def test_english_is_the_source_and_needs_no_catalog():
    en = translator("en")
    assert en.gettext("Board") == "Board"
    assert en.ngettext("{n} deal", "{n} deals", 1) == "{n} deal"
    assert en.ngettext("{n} deal", "{n} deals", 2) == "{n} deals"
    assert en.npgettext("c", "{n} deal", "{n} deals", 0) == "{n} deals"
    assert ngettext("{n} deal", "{n} deals", 5) == "{n} deals"


def test_chinese_catalog_has_one_plural_form():
    zh = translator("zh")
    assert zh.pgettext("follow-up kind", "visit") == "拜访"
    # An untranslated string falls back to its English, as gettext does.
    assert zh.gettext("a string nobody wrote") == "a string nobody wrote"
    assert zh.ngettext("{n} deal", "{n} deals", 1) == "{n} deal"  # not in the catalog yet
    info = zh.info()
    assert info["plural-forms"] == "nplurals=1; plural=0;"
    assert info["language"] == "zh_CN"


def test_markers_return_their_text():
    assert N_("Undo") == "Undo"
    assert NP_("risk level", "high") == "high"


def test_a_missing_catalog_falls_back_to_english(monkeypatch, tmp_path):
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_loaded", {"en": i18n._SOURCE})
    assert translator("zh").pgettext("follow-up kind", "visit") == "visit"


def _imported_after(code: str, *args: str, env: dict | None = None) -> set[str]:
    """Run `code` in a fresh interpreter; the modules it imported (of interest) afterwards."""
    probe = code + "\nimport sys\nprint(','.join(sorted(m for m in sys.modules if m.split('.')[0] in " \
                   "('pypinyin', 'babel', 'textual', 'sqlalchemy'))), file=sys.stderr)\n"
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "XDG_DATA_HOME": d,
                                   "XDG_CONFIG_HOME": d, **(env or {})})
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return {m.split(".")[0] for m in last.split(",") if m}


def test_the_language_layer_costs_nothing_on_the_command_line():
    # Importing i18n and the vocabulary reads no catalog and pulls in nothing heavy.
    code = ("from funnel_tui import i18n\nfrom funnel_tui.domain import vocab, dates, money, pinyin\n"
            "assert list(i18n._loaded) == ['en'], i18n._loaded\n")
    assert _imported_after(code) == set()


@pytest.mark.parametrize("argv", [["--help"], ["due", "--format", "json"]])
def test_help_and_due_import_neither_pypinyin_nor_babel(argv, tmp_path):
    code = ("import sys\nfrom funnel_tui.cli import main\n"
            f"sys.argv = ['funnel', '--db', sys.argv[1], *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n")
    found = _imported_after(code, str(tmp_path / "t.db"), env={"LANG": "zh_CN.UTF-8"})
    assert "pypinyin" not in found and "babel" not in found and "textual" not in found
