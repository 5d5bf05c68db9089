"""The shortcuts `funnel due` takes at start (issue 19) give exactly what the long way gives:
backup stamps read without strptime, table pieces of ASCII words without the patterns, text
cleaned and measured without the per-character walk, patterns compiled on first use."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from datetime import datetime, timezone

from funnel_tui.cli import table_layout
from funnel_tui.domain import text as text_mod
from funnel_tui.domain.lazy_re import lazy_compile
from funnel_tui.store.backup import STAMP, stamp_time

# Characters the shortcuts must tell apart: ASCII (with controls and brackets), Chinese and
# full-width marks, combining marks, wide emoji, invisible format characters, odd spaces.
ALPHABET = ("ab Z_09()[]-.,\t\n\x1b\x7f\x00" "东方制造（）【】、，。" "e\u0301\u0300" "😀👩\u200d\u200c"
            "\u202e\u3000\xa0\u2028\x85\ufff0\U00020bb7")


def _words(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(ALPHABET) for _i in range(rnd.randint(0, 12))) for _j in range(n)]


def _strptime_or_none(text: str):
    try:
        return datetime.strptime(text, STAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _stamp_or_none(text: str):
    try:
        return stamp_time(text)
    except ValueError:
        return None


def test_stamp_time_is_strptime_on_every_stamp_the_backup_pattern_matches():
    fields = (("0000", "0001", "2026", "9999"), ("00", "01", "02", "12", "13", "99"),
              ("00", "01", "28", "29", "30", "31", "32"), ("00", "09", "23", "24", "29"),
              ("00", "59", "60", "99"), ("00", "59", "60", "61", "62"), ("000000", "000001", "999999", "123456"))
    for y, mo, d, h, mi, s, f in itertools.product(*fields):
        stamp = f"{y}{mo}{d}T{h}{mi}{s}{f}Z"
        assert _stamp_or_none(stamp) == _strptime_or_none(stamp), stamp
    assert stamp_time("20261124T020000123456Z") == datetime(2026, 11, 24, 2, 0, 0, 123456, tzinfo=timezone.utc)


def test_pieces_of_ascii_words_are_what_the_patterns_give():
    words = [w for w in _words(4000, 1) if w.isascii()] + ["followup_id", "__a", "a__b_", "_", "(x)", "a[1]", "a)b"]
    for word in words:
        for free_text, header in ((False, False), (True, False), (True, True)):
            pattern = table_layout._compiled(table_layout._HEADER_PIECES if header else
                                             table_layout._TEXT_PIECES if free_text else table_layout._NAME_PIECES)
            expected = [p for w in word.split() for p in pattern.findall(w)]
            assert table_layout.pieces(word, free_text=free_text, header=header) == expected, (word, free_text, header)


def test_clean_text_of_printable_text_is_the_long_way():
    for word in _words(4000, 2) + ["  Acme  ", "e\u0301cole", "东方制造 ", "😀"]:
        for multiline in (False, True):
            long_way = unicodedata.normalize("NFC", text_mod._removed(word, multiline)).strip()
            assert text_mod.clean_text(word, multiline=multiline) == long_way, repr(word)


def test_display_width_of_ascii_is_the_per_character_sum():
    for word in _words(4000, 3) + ["".join(map(chr, range(128)))]:
        assert text_mod.display_width(word) == sum(text_mod._char_width(ch) for ch in word), repr(word)


def test_a_lazy_pattern_compiles_on_first_use_and_behaves_as_compiled():
    lazy = lazy_compile(r"(a+)(b)?", re.IGNORECASE)
    assert lazy._compiled is None
    assert lazy.fullmatch("AAb").groups() == ("AA", "b")
    assert lazy.sub("-", "xaay") == "x-y"
    assert lazy.pattern == "(a+)(b)?" and lazy.flags & re.IGNORECASE
    assert lazy.compiled() is lazy.compiled()


def test_the_date_and_text_modules_compile_nothing_until_used():
    """Importing dates, dates_zh, text and health compiles no pattern, and a Chinese rep's
    due table (dates shown in Chinese, printable names cleaned) compiles none of them."""
    code = """
import re, sys
from datetime import datetime, timezone
import calendar, dataclasses, inspect, locale, pathlib, sqlite3, tokenize, unicodedata  # their own patterns
import funnel_tui.i18n, funnel_tui.domain.lazy_re
before = set(re._cache)
from funnel_tui.domain import dates, dates_zh, text
from funnel_tui.store import health
assert set(re._cache) == before, set(re._cache) - before
now = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
assert dates.format_shown(now, timezone.utc, now=now, lang="zh") == "11月24日 周二 02:00"
assert text.clean_text("东方制造 Acme") == "东方制造 Acme"
lazy = [v for m in (dates, dates_zh, text, health) for v in vars(m).values()
        if isinstance(v, funnel_tui.domain.lazy_re.LazyPattern)]
assert len(lazy) >= 20 and all(v._compiled is None for v in lazy), len(lazy)
print("ok")
"""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip() == "ok", run.stderr


def test_english_stage_names_are_the_keys_so_due_reads_none(tmp_path):
    """`funnel due`'s English table skips reading the stages: stage_names would map every
    key to itself (and a key it lacks shows as itself anyway)."""
    from funnel_tui.cli.common import stage_names
    from funnel_tui.i18n import activate, active_lang
    from funnel_tui.store import Store

    store = Store(str(tmp_path / "f.db"))
    before = active_lang()
    try:
        activate("en")
        names = stage_names(store)
        assert names and all(key == name for key, name in names.items())
        activate("zh")
        assert any(key != name for key, name in stage_names(store).items())
    finally:
        activate(before)
        store.close()
