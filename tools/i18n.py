"""`make i18n`: extract the strings, update the zh_CN catalog, compile it (with Babel).

    python tools/i18n.py          extract -> update funnel.po -> compile funnel.mo
    python tools/i18n.py check    report strings without a translation and a stale .mo (exit 1)

Extraction reads the files `babel.cfg` names with the keywords of `funnel_tui.i18n`
(`_`, `N_`, `ngettext`, `pgettext`, `NP_`, …) and keeps `# Translators:` comments. The
template stays in memory: only the .po (what people edit) and the .mo (what ships) are
committed. New strings arrive with an empty translation — or with the glossary's Chinese when
their English is exactly a glossary term — and changed strings come back marked fuzzy with
the old translation as a hint. The catalog test fails on either until someone translates or
confirms them and runs `make i18n` again. Running it twice changes nothing.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from funnel_tui.i18n import BABEL_KEYWORDS, DOMAIN, LOCALE_DIR  # noqa: E402

LOCALE = "zh_CN"
PO = LOCALE_DIR / LOCALE / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")
GLOSSARY = LOCALE_DIR / "GLOSSARY.md"
WIDTH = 100

Key = str | tuple[str, str]  # a message id, or (context, id) as Babel keys them


def extract() -> Catalog:
    """Every marked string of the package, as a template catalog."""
    with open(REPO / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    template = Catalog(project="funnel-tui", domain=DOMAIN, fuzzy=False)
    found = extract_from_dir(str(REPO), method_map, options_map, keywords=BABEL_KEYWORDS,
                             comment_tags=("Translators:",), strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read_catalog(path: Path = PO) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, locale=LOCALE, domain=DOMAIN)


def glossary() -> dict[tuple[str | None, str], str]:
    """(context or None, English) -> the one Chinese term, from the tables of GLOSSARY.md."""
    terms: dict[tuple[str | None, str], str] = {}
    cell = re.compile(r"\|\s*([^|]*?)\s*(?=\|)")
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = cell.findall(line)
        if len(cells) < 3 or not cells[0] or set(cells[0]) <= set("-: ") or cells[0] == "English":
            continue
        terms[(cells[2] or None, cells[0])] = cells[1]
    return terms


def glossary_term(terms: dict[tuple[str | None, str], str], context: str | None, msgid: str) -> str | None:
    """The glossary's Chinese for a catalog string: an entry for its context, else a general one."""
    return terms.get((context, msgid)) or terms.get((None, msgid))


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return all(strings)


def new_catalog() -> Catalog:
    """An empty zh_CN catalog with the project's header."""
    catalog = Catalog(locale=LOCALE, domain=DOMAIN, project="funnel-tui", version="catalog 1",
                      copyright_holder="the funnel-tui authors", msgid_bugs_address="the funnel-tui issues",
                      last_translator="the funnel-tui team", language_team="简体中文",
                      header_comment="# Simplified Chinese for funnel-tui. Words: GLOSSARY.md; run `make i18n`\n"
                                     "# after editing (it checks and compiles).", fuzzy=False)
    catalog.revision_date = catalog.creation_date
    return catalog


def update(template: Catalog, catalog: Catalog | None = None) -> Catalog:
    """The .po brought in line with `template`: new strings added (glossary terms filled in),
    changed ones fuzzy, gone ones dropped. Header dates are kept, so a run that finds
    nothing new writes the same bytes."""
    if catalog is None:
        catalog = read_catalog() if PO.exists() else new_catalog()
    catalog.update(template, update_creation_date=False)
    catalog.obsolete.clear()
    terms = glossary()
    for message in catalog:
        if message.id and not message.pluralizable and not message.string:
            chinese = glossary_term(terms, message.context, message.id)
            if chinese:
                message.string = chinese
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=WIDTH, include_lineno=False, ignore_obsolete=True)
    return buf.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def problems(template: Catalog, catalog: Catalog) -> list[str]:
    """What keeps the catalog from being whole: one line per string."""
    out: list[str] = []
    wanted = {m.id if not m.context else (m.context, m.id) for m in template if m.id}
    for message in catalog:
        if not message.id:
            continue
        key: Key = message.id if not message.context else (message.context, message.id)
        where = f"{message.context + ' | ' if message.context else ''}{message.id!r}"
        if key not in wanted:
            out.append(f"stale (no longer in the code): {where}")
        elif message.fuzzy:
            out.append(f"fuzzy (confirm or fix, then drop the fuzzy flag): {where}")
        elif not _translated(message):
            out.append(f"no translation: {where}")
        else:
            out.extend(f"{where}: {p}" for p in placeholder_problems(message.id, message.string))
    have = {m.id if not m.context else (m.context, m.id) for m in catalog if m.id}
    for key in sorted(wanted - have, key=str):
        out.append(f"missing from the catalog (run make i18n): {key!r}")
    terms = glossary()
    for message in catalog:
        if message.id and not message.pluralizable and message.string and not message.fuzzy:
            chinese = glossary_term(terms, message.context, message.id)
            if chinese and message.string != chinese:
                where = f"{message.context + ' | ' if message.context else ''}{message.id!r}"
                out.append(f"glossary: {where} is {chinese!r} in GLOSSARY.md, not {message.string!r}")
    for message, errors in catalog.check():
        out.extend(f"{message.id!r}: {e}" for e in errors)
    if catalog.obsolete:
        out.append(f"{len(catalog.obsolete)} obsolete (#~) entries: run make i18n")
    return out


_BRACES = re.compile(r"\{([^{}:!]*)[^{}]*\}")


def placeholder_problems(msgid, msgstr) -> list[str]:
    """A translation must keep every `{name}` placeholder of the English (and add none)."""
    ids = msgid if isinstance(msgid, (list, tuple)) else [msgid]
    strs = msgstr if isinstance(msgstr, (list, tuple)) else [msgstr]
    wanted = {p for s in ids for p in _BRACES.findall(s)}
    return [f"placeholders {sorted(set(_BRACES.findall(s)))} differ from {sorted(wanted)}"
            for s in strs if set(_BRACES.findall(s)) != wanted]


def main(argv: Iterable[str]) -> int:
    args = list(argv)
    template = extract()
    if args[:1] == ["check"]:
        catalog = read_catalog()
        found = problems(template, catalog)
        if MO.read_bytes() != mo_bytes(catalog):
            found.append(f"{MO.relative_to(REPO)} is not compiled from the .po: run make i18n")
        for line in found:
            print(line)
        return 1 if found else 0
    if args:
        print(__doc__)
        return 2
    catalog = update(template)
    PO.parent.mkdir(parents=True, exist_ok=True)
    PO.write_bytes(po_bytes(catalog))
    catalog = read_catalog()  # compile exactly what was written
    MO.write_bytes(mo_bytes(catalog))
    todo = problems(template, catalog)
    total = sum(1 for m in catalog if m.id)
    print(f"{PO.relative_to(REPO)}: {total} strings, {total - len(todo)} translated")
    for line in todo:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
