"""Pinyin search keys (funnel_tui.domain.pinyin): readings, the match rule, and its SQL form.

The SQL tests run the real patterns in SQLite (GLOB) and through Python's re (the regexes a
PostgreSQL store would use), against keys built here, so the stored format and the query rule
cannot drift apart.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel_tui.domain.pinyin import (
    FieldKeys,
    deal_search_key,
    field_keys,
    fold,
    matches,
    parse_search_key,
    search_key,
    search_query,
)

REPO = Path(__file__).resolve().parents[1]


def full(text: str, person: bool = False) -> list[str]:
    return [f.lower() for f, _i in field_keys(text, person=person).spellings]


def initials(text: str, person: bool = False) -> list[str]:
    return [i.lower() for _f, i in field_keys(text, person=person).spellings]


# --- readings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spelled"),
    [
        ("华信科技", "huaxinkeji"),
        ("中国移动", "zhongguoyidong"),
        # Polyphonic characters take the reading of the word they are in.
        ("重庆", "chongqing"),
        ("重要", "zhongyao"),
        ("银行", "yinhang"),
        ("行业", "hangye"),
        ("长沙", "changsha"),
        ("成长", "chengzhang"),
        ("长城汽车", "changchengqiche"),
        ("厦门", "xiamen"),
        ("六安", "luan"),
        ("蚌埠", "bengbu"),
        ("招商银行", "zhaoshangyinhang"),
        ("银行行长", "yinhanghangzhang"),
        ("音乐", "yinyue"),
        ("会计", "kuaiji"),
        ("重庆山城机电", "chongqingshanchengjidian"),
        # ü is written v, as pinyin keyboards take it.
        ("绿色", "lvse"),
        # Latin, digits and signs spell themselves; spaces are dropped.
        ("IBM中国", "ibmzhongguo"),
        ("3M", "3m"),
        ("CRM 年度订阅", "crmniandudingyue"),
        ("Acme Robotics", "acmerobotics"),
        ("Ｆｕｌｌ宽", "fullkuan"),  # full-width Latin folds to ASCII (NFKC)
    ],
)
def test_full_pinyin_reading(text, spelled):
    assert full(text) == [spelled]


def test_initials():
    assert initials("华信科技") == ["hxkj"]
    assert initials("中国移动") == ["zgyd"]  # zh counts as z
    assert initials("IBM中国") == ["ibmzg"]
    assert initials("重庆") == ["cq"]


def test_keys_mark_where_each_spelling_starts():
    keys = field_keys("IBM中国")
    assert keys.text == "ibm中国"
    assert keys.spellings == (("IBMZhongGuo", "IBMZG"),)
    assert keys.tokens(0) == [("i", "i"), ("b", "b"), ("m", "m"), ("中", "zhong"), ("国", "guo")]


@pytest.mark.parametrize(
    ("name", "readings"),
    [
        ("曾伟", ["cengwei", "zengwei"]),  # pypinyin's reading first, then the surname's
        ("单立新", ["danlixin", "shanlixin"]),
        ("解晓东", ["jiexiaodong", "xiexiaodong"]),
        ("区家明", ["qujiaming", "oujiaming"]),
        ("查良镛", ["chaliangyong", "zhaliangyong"]),
        ("张伟", ["zhangwei"]),  # no second reading when there is none
        ("尉迟恭", ["yuchigong"]),  # compound surnames come right from pypinyin
        ("单于平", ["chanyuping"]),
        ("长孙晟", ["zhangsuncheng"]),
    ],
)
def test_person_names_also_carry_the_surname_reading(name, readings):
    assert full(name, person=True) == readings
    assert full(name) == readings[:1]  # a company name gets no surname reading


def test_a_character_without_reading_stands_for_itself():
    keys = field_keys("〇号仓")
    assert keys.spellings[0][0] == "LingHaoCang"
    # U+9FEF is a CJK character pypinyin 0.55 has no reading for: it spells itself.
    odd = field_keys("华\u9fef科")
    assert odd.spellings == (("Hua\u9fefKe", "H\u9fefK"),)
    assert odd.tokens(0) == [("华", "hua"), ("\u9fef", "\u9fef"), ("科", "ke")]
    assert matches("华\u9fef", odd) and matches("h\u9fefk", odd) and matches("hua\u9fefke", odd)


# --- the match rule ---------------------------------------------------------------------------

HITS = [
    ("huaxin", "华信科技"),  # full pinyin from a character boundary
    ("huax", "华信科技"),  # the last syllable may be cut short while typing
    ("hua", "华信科技"),
    ("xinke", "华信科技"),
    ("huaxinkeji", "华信科技"),
    ("HuaXin", "华信科技"),  # case does not matter
    ("hua xin", "华信科技"),  # nor spaces
    ("hxkj", "华信科技"),  # initials
    ("xk", "华信科技"),
    ("zgyd", "中国移动"),
    ("yd", "中国移动"),
    ("华x", "华信科技"),  # mixed
    ("华xin", "华信科技"),
    ("hx科技", "华信科技"),
    ("huaxin科j", "华信科技"),
    ("科技", "华信科技"),  # plain Chinese substring
    ("chongqing", "重庆山城机电"),
    ("cqsc", "重庆山城机电"),
    ("yinhang", "招商银行"),
    ("ibm", "IBM中国"),
    ("ibmzg", "IBM中国"),
    ("zg", "IBM中国"),
    ("ibmzhong", "IBM中国"),
    ("bm", "IBM中国"),  # Latin text is a plain substring
    ("3m", "3M"),
    ("3", "3M"),
    ("acmerob", "Acme Robotics"),
    ("acme rob", "Acme Robotics"),
    ("ｈｘｋｊ", "华信科技"),  # full-width typing folds
    ("lv", "绿色"),
    ("lü", "绿色"),  # ü typed as itself
    ("", "华信科技"),  # an empty query finds everything
]

MISSES = [
    ("uaxin", "华信科技"),  # does not start where a character starts
    ("inke", "华信科技"),
    ("huaxinkejix", "华信科技"),  # longer than the text
    ("hxkjx", "华信科技"),
    ("huaxkj", "华信科技"),  # full pinyin and initials are not mixed in one run
    ("hxinkj", "华信科技"),
    ("x华", "华信科技"),  # order matters
    ("华k", "华信科技"),  # k is not how 信 starts
    ("科技华", "华信科技"),
    ("zhongqing", "重庆"),  # 重庆 is chongqing, not the dictionary's first reading
    ("hangyin", "银行"),
    ("yinxing", "银行"),
    ("3n", "3M"),
    ("xinhua", "华信科技"),
]


@pytest.mark.parametrize(("query", "text"), HITS)
def test_hits(query, text):
    assert matches(query, text)


@pytest.mark.parametrize(("query", "text"), MISSES)
def test_misses(query, text):
    assert not matches(query, text)


def test_surname_reading_matches_only_in_person_fields():
    key = parse_search_key(deal_search_key("曾氏集团", "年度订阅", "曾伟"))
    assert matches("zengwei", key) and matches("zw", key) and matches("cengwei", key)
    assert not matches("zengshi", key)  # the customer is not a person


def test_a_query_stays_inside_one_field():
    key = parse_search_key(deal_search_key("华信", "科技", ""))
    assert matches("huaxin", key) and matches("keji", key)
    assert not matches("huaxinkeji", key) and not matches("hxkj", key) and not matches("华信科", key)


# --- the stored key and SQL ---------------------------------------------------------------------


def test_stored_key_format():
    stored = deal_search_key("华信科技", "CRM 年度订阅", "曾伟")
    assert stored == ("华信科技\x1fHuaXinKeJi\x1fHXKJ"
                      "\x1ecrm年度订阅\x1fCRMNianDuDingYue\x1fCRMNDDY"
                      "\x1e曾伟\x1fCengWei\x1fCW\x1fZengWei\x1fZW")
    assert parse_search_key(stored)[2] == FieldKeys("曾伟", (("CengWei", "CW"), ("ZengWei", "ZW")))
    assert search_key(*parse_search_key(stored)) == stored


def test_search_query_shapes():
    q = search_query("huaxin")
    assert q.globs == ("*H[uU][aA][xX][iI][nN]*",) and q.exact
    assert q.regexes == ("H[uU][aA][xX][iI][nN]",)
    assert search_query("科技").globs == ("*科技*",) and search_query("科技").exact
    mixed = search_query("华x科技")
    assert mixed.globs == ("*华*", "*科技*") and not mixed.exact
    assert search_query("a*b?[c").globs == ("*A[*][bB][?][[][cC]*",)
    assert search_query("  ").globs == ()


def _sqlite(keys: list[str]):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE deal (id INTEGER PRIMARY KEY, search_key TEXT)")
    db.executemany("INSERT INTO deal (search_key) VALUES (?)", [(k,) for k in keys])
    return db


def _sql_ids(db, query: str) -> set[int]:
    q = search_query(query)
    where = " AND ".join(["search_key GLOB ?"] * len(q.globs)) or "1"
    rows = db.execute(f"SELECT id, search_key FROM deal WHERE {where}", q.globs).fetchall()
    return {i for i, key in rows if q.exact or q.check(key)}


CORPUS = [("华信科技", "CRM 年度订阅", "张伟"), ("中国移动", "5G 专网", "曾伟"), ("重庆山城机电", "ERP 升级", "单立新"),
          ("IBM中国", "数据平台 PoC", "Sam Lee"), ("3M", "年度许可", "李娜"), ("招商银行", "私有化部署", "查良镛"),
          ("Acme [Robotics]*", "a_b%c", "O'Brien")]


@pytest.mark.parametrize("query", [q for q, _t in HITS + MISSES] + ["zw", "zengwei", "dlx", "shanlixin", "[r", "*", "_b%",
                                                                       "5g", "poc", "o'b", "张", "zhangw", "li"])
def test_sql_finds_exactly_what_matches_finds(query):
    keys = [deal_search_key(*row) for row in CORPUS]
    db = _sqlite(keys)
    expected = {i + 1 for i, key in enumerate(keys) if matches(query, parse_search_key(key))}
    assert _sql_ids(db, query) == expected


_ALPHABET = list("华信科技中国移动重庆银行长沙厦门乐曾单绿") + list("abhmxzigu") + list("37") + list(" (*[?%_-")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(alphabet=_ALPHABET, max_size=8), min_size=3, max_size=3),
       pick=st.integers(0, 10_000), start=st.integers(0, 40), length=st.integers(1, 12),
       junk=st.text(alphabet=_ALPHABET, max_size=5), form=st.sampled_from(["text", "full", "initials", "junk", "mix"]))
def test_sql_and_python_agree_on_any_text(texts, pick, start, length, junk, form):
    """GLOB (exact queries) and the regexes say exactly what matches() says; a mixed query's
    GLOB finds a superset that check() narrows to the same answer."""
    stored = deal_search_key(texts[0], texts[1], texts[2])
    fields = parse_search_key(stored)
    field = fields[pick % 3]
    full_, initials_ = field.spellings[pick % len(field.spellings)]
    source = {"text": field.text, "full": full_.lower(), "initials": initials_.lower(), "junk": junk,
              "mix": field.text[: start % 4] + full_.lower()[start % 7:]}[form]
    query = source[start % (len(source) or 1):][:length]
    expected = matches(query, fields)
    db = _sqlite([stored])
    sq = search_query(query)
    where = " AND ".join(["search_key GLOB ?"] * len(sq.globs)) or "1"
    found = bool(db.execute(f"SELECT count(*) FROM deal WHERE {where}", sq.globs).fetchone()[0])
    by_regex = all(re.search(r, stored) for r in sq.regexes)
    if sq.exact:
        assert found == expected and by_regex == expected
    else:
        assert found >= expected and by_regex >= expected  # a superset
        assert sq.check(stored) == expected


def _reference_keys(text: str, person: bool = False) -> FieldKeys:
    """field_keys the slow way: fold by the full rule, spell character by character (_spell)."""
    import unicodedata

    from funnel_tui.domain.pinyin import _HAN, COMPOUND_SURNAMES, SURNAME_READINGS, _spell, _syllables, is_han

    folded = unicodedata.normalize("NFKC", text).casefold().replace("ü", "v")
    folded = "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))
    readings = [s for m in re.finditer(f"(?:{_HAN.pattern})+", folded) for s in _syllables(m[0])]
    spellings = [_spell(folded, readings)]
    if person and folded and is_han(folded[0]) and not folded.startswith(COMPOUND_SURNAMES):
        surname = SURNAME_READINGS.get(folded[0])
        if surname and readings[0] != surname:
            spellings.append(_spell(folded, [surname, *readings[1:]]))
    return FieldKeys(folded, tuple(spellings))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=_ALPHABET + list("ＩＢＭü\t\x1e\u00a0\u3000\u200bÉß"), max_size=12), person=st.booleans())
def test_keys_built_run_by_run_equal_the_character_by_character_reference(text, person):
    assert field_keys(text, person=person) == _reference_keys(text, person)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=_ALPHABET + list("ＩＢＭü\t\x1e\u00a0\u3000\u200bÉß"), max_size=12), person=st.booleans())
def test_a_stored_record_built_straight_equals_the_keys_record(text, person):
    """The import's fast way to a field's record (pinyin._record) says what field_keys does."""
    from funnel_tui.domain.pinyin import _record

    assert _record.__wrapped__(text, person) == _reference_keys(text, person).record()


def test_fold():
    assert fold(" Hua Xin\t") == "huaxin"
    assert fold("ＩＢＭ") == "ibm"
    assert fold("a\x1eb\x1f") == "ab"  # separators can never be typed into a query


# --- cost -------------------------------------------------------------------------------------


def test_pypinyin_is_imported_only_to_build_keys():
    code = (
        "import sys\n"
        "from funnel_tui.domain import pinyin\n"
        "q = pinyin.search_query('huaxin')\n"
        "assert pinyin.matches('hx', pinyin.parse_search_key('华信\\x1fHuaXin\\x1fHX'))\n"
        "print('pypinyin' in sys.modules)\n"
        "pinyin.field_keys('华信')\n"
        "print('pypinyin' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(*[st.none() | st.text(alphabet=_ALPHABET + list("曾单 "), max_size=8)] * 3), max_size=6))
def test_search_keys_of_columns_are_each_deals_key(rows):
    """deal_search_keys (the import's, per chunk) gives deal_search_key row by row."""
    from funnel_tui.domain.pinyin import deal_search_keys

    columns = [list(c) for c in zip(*rows)] or [[], [], []]
    assert deal_search_keys(*columns) == [deal_search_key(*row) for row in rows]
