"""The zh_CN catalog stays whole: every marked string translated, nothing fuzzy or stale, the
glossary's words used, placeholders kept, and the shipped .mo compiled from the .po.

The strings are extracted with Babel from the source tree exactly as `make i18n` does
(tools/i18n.py), so a new `_("...")` without a translation fails here."""

from __future__ import annotations

import copy
import gettext
import importlib.util
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from funnel_tui.domain.stages import DEFAULT_STAGES
from funnel_tui.i18n import catalog_path

REPO = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("funnel_i18n_tool", REPO / "tools" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope="module")
def template():
    return tool.extract()


@pytest.fixture(scope="module")
def catalog():
    return tool.read_catalog()


def test_every_marked_string_has_a_chinese_translation(template, catalog):
    found = tool.problems(template, catalog)
    assert found == [], "run `make i18n`, then translate:\n" + "\n".join(found)


def test_extraction_sees_the_vocabulary_and_the_date_messages(template):
    keys = {(m.context, m.id) for m in template if m.id}
    assert ("follow-up kind", "visit") in keys
    assert ("lost reason", "no budget") in keys
    assert (None, "{text} is not a date; use e.g. 2026-12-01, today, tomorrow, +3d, +2w, fri") in keys
    assert len(keys) >= 60


def test_the_check_can_fail(template, catalog):
    """Each kind of gap is reported: missing, empty, fuzzy, stale, wrong placeholder, off-glossary."""
    broken = copy.deepcopy(catalog)
    visit = broken.get("visit", context="follow-up kind")
    visit.string = "上门"  # the glossary says 拜访
    date_msg = next(m for m in broken if isinstance(m.id, str) and m.id.startswith("{text} is not a date: there is"))
    date_msg.string = "没有这个月"  # lost {text} and {month}
    broken.get("call", context="follow-up kind").flags.add("fuzzy")
    broken.get("email", context="follow-up kind").string = ""
    broken.add("a string the code no longer has", "没了")
    broken.delete("task", context="follow-up kind")
    found = "\n".join(tool.problems(template, broken))
    assert "glossary: follow-up kind | 'visit' is '拜访'" in found
    assert "placeholders" in found
    assert "fuzzy" in found and "'call'" in found
    assert "no translation: follow-up kind | 'email'" in found
    assert "stale" in found and "a string the code no longer has" in found
    assert "missing from the catalog" in found and "'task'" in found


def test_shipped_mo_is_compiled_from_the_po(catalog):
    with open(catalog_path("zh"), "rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    expected = {}
    for m in catalog:
        if not m.id or m.fuzzy:
            continue
        msgid = m.id[0] if m.pluralizable else m.id
        key = f"{m.context}\x04{msgid}" if m.context else msgid
        if m.pluralizable:
            for i, s in enumerate(m.string):
                expected[(key, i)] = s
        else:
            expected[key] = m.string
    got = {k: v for k, v in shipped._catalog.items() if k != ""}  # "" is the header
    assert got == expected


def test_make_i18n_would_change_nothing(template, catalog):
    """The committed .po is what `make i18n` writes (sorted, wrapped, glossary-filled)."""
    assert tool.po_bytes(tool.update(template, copy.deepcopy(catalog))) == tool.PO.read_bytes()


def test_the_mo_ships_in_the_package():
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    relative = catalog_path("zh").relative_to(REPO / "funnel_tui").as_posix()
    assert any(fnmatch(relative, pattern) for pattern in data["funnel_tui"])


# --- the glossary ------------------------------------------------------------------------------


def test_glossary_gives_one_chinese_term_per_english_term():
    seen: dict[tuple, str] = {}
    clashes = []
    for line in tool.GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) < 3 or not cells[0] or set(cells[0]) <= set("-: ") or cells[0] == "English":
            continue
        key = (cells[2] or None, cells[0])
        if key in seen and seen[key] != cells[1]:
            clashes.append(f"{key}: {seen[key]} / {cells[1]}")
        seen[key] = cells[1]
    assert clashes == []
    assert len(seen) == len(tool.glossary()) > 100


def test_glossary_holds_the_source_documents_terms():
    terms = tool.glossary()
    for english, chinese in [("lead score", "线索评分"), ("risk level", "风险等级"), ("probability", "成交概率"),
                             ("amount", "预计成交金额"), ("owner", "跟进人"), ("stage entered", "进入时间"),
                             ("last contact", "最近沟通时间"), ("touch note", "沟通内容摘要"),
                             ("risk note", "风险描述"), ("mitigation", "应对措施"), ("decision chain", "决策链"),
                             ("pain points", "核心痛点"), ("competitors", "竞争对比")]:
        assert terms[(None, english)] == chinese
    assert [terms[("risk level", w)] for w in ("high", "medium", "low")] == ["高", "中", "低"]


def test_default_stage_names_follow_the_glossary():
    terms = tool.glossary()
    for stage in DEFAULT_STAGES:
        assert terms[(None, stage.name)] == stage.name_zh
