"""Pinyin search keys: find 华信科技 by `huaxin`, `hxkj`, `华x` or `科技`.

**What matches.** A query (folded: NFKC, lower case, spaces dropped, ü typed as v) matches a
field when, starting at some character of it, the query reads over consecutive characters:
- a Chinese character in the query stands for itself;
- a run of letters, digits or other signs spells the following characters, either in full
  pinyin — the last one may be cut short (`hua`, `huax`, `huaxin`, `xinke`, `huaxinkeji`) — or
  by initials (`hxkj`, `xk`, `zgyd` for 中国移动); a character that is not Chinese spells itself
  (`ibm`, `3m`, `ibmzg` for IBM中国).
So `huaxin` finds 华信科技 (the spelling starts where a character starts), `uaxin` does not, and
a mix such as `华x`, `华xin`, `hx科技` works. Initials and full pinyin are not mixed inside one
run (`hxinkj` finds nothing): keeping each run one or the other is what lets SQL answer exactly.

**Readings.** pypinyin's phrase dictionary picks the reading in context: 重庆 chongqing,
银行 yinhang, 行业 hangye, 长沙 changsha, 成长 chengzhang, 厦门 xiamen, 六安 luan, 蚌埠
bengbu. A person's name (`person=True`: contacts, owners) also gets the surname reading of
its first character when that differs (曾伟 zengwei as well as cengwei, 单 shan, 解 xie, 区 ou,
查 zha, 朴 piao …). ü is written v (绿 lv), as pinyin keyboards take it.

**The stored key** (`deal_search_key`, one TEXT column, built when a deal is written): one
record per field (customer, title, contact) joined by RS (\\x1e); a record's parts joined by
US (\\x1f): the folded text, then for each reading its FULL and INITIALS form:

    华信科技 US HuaXinKeJi US HXKJ          IBM中国 -> ibm中国 US IBMZhongGuo US IBMZG

FULL writes each Chinese character as its syllable with a capital, and every other character
upper-cased: a capital (or a non-letter) marks where a character's spelling starts, so a
case-sensitive match that starts on a capital starts on a character.

**The query in SQL** (`search_query`): a query without Chinese is one case-sensitive GLOB whose
first letter is a capital and whose other letters match either case — `huaxin` ->
`*H[uU][aA][xX][iI][nN]*` — and that is exact: on FULL it is the full-pinyin rule, on INITIALS
(all capitals) the initials rule, and the separators keep it inside one part. A query of only
Chinese is a plain substring, also exact. A mixed query (`华x`) narrows with a GLOB per
Chinese run and each candidate is then checked with `SearchQuery.check` in Python. SQLite's
GLOB cannot use a B-tree index with a leading `*`; an index on the key column lets it scan the
index instead of the table. PostgreSQL gets the same patterns as POSIX regexes (`~`).

pypinyin (about 180 ms to import) is imported only to build keys, never to match a query.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

__all__ = [
    "KEY_VERSION",
    "FieldKeys",
    "SearchQuery",
    "deal_search_key",
    "deal_search_keys",
    "field_keys",
    "fold",
    "matches",
    "parse_search_key",
    "search_key",
    "search_query",
]

# Bump when the key format or the readings change (a new pypinyin, a new surname): a store
# that records the version its keys were built with can then rebuild them.
KEY_VERSION = 1
RS, US = "\x1e", "\x1f"  # never in cleaned text: clean_text drops control characters
_HAN = re.compile("[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_SYLLABLE = re.compile(r"[a-z]+")

# First characters read differently as a surname than in ordinary words (pypinyin's choice
# is kept too, so either spelling finds the person).
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha",
    "盖": "ge", "缪": "miao", "翟": "zhai", "覃": "qin", "乐": "yue", "种": "chong", "繁": "po",
    "员": "yun", "召": "shao", "秘": "bi", "折": "she", "隗": "wei", "黑": "he", "句": "gou",
    "尉": "wei",
}
# Compound surnames that start with one of those characters read as pypinyin has them.
COMPOUND_SURNAMES = ("尉迟", "单于")


def is_han(ch: str) -> bool:
    return bool(_HAN.fullmatch(ch))


def fold(text: str) -> str:
    """Text as keys and queries compare it: NFKC, casefolded, no spaces, no control
    characters, ü as v."""
    if text.isascii() and text.isprintable():  # the common case: NFKC and casefold change nothing else
        return text.lower().replace(" ", "")
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ü", "v")
    if folded.isprintable():  # no control, format or separator characters but the space
        return folded.replace(" ", "")
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))


def _mark(ch: str) -> str:
    """A character as it stands at a spelling start in FULL/INITIALS (ASCII letters capitalised)."""
    return ch.upper() if "a" <= ch <= "z" else ch


@dataclass(frozen=True, slots=True)
class FieldKeys:
    """One field's search keys: its folded text and, per reading, (FULL, INITIALS)."""

    text: str
    spellings: tuple[tuple[str, str], ...]

    def record(self) -> str:
        return US.join([self.text, *(part for pair in self.spellings for part in pair)])

    def tokens(self, reading: int) -> list[tuple[str, str]]:
        """(character, spelling) per character of the text, for one reading: the syllable
        of a Chinese character, the character itself otherwise."""
        full = self.spellings[reading][0]
        out, pos = [], 0
        for ch in self.text:
            if is_han(ch) and pos < len(full) and "A" <= full[pos] <= "Z":
                m = _SYLLABLE.match(full, pos + 1)
                end = m.end() if m else pos + 1
                out.append((ch, full[pos:end].lower()))
                pos = end
            else:
                out.append((ch, ch))
                pos += 1
        return out


# Tone marks off, ü as v: pypinyin's TONE style converted by a table is twice as fast as its
# NORMAL style, which runs a regex per character.
_TONELESS = str.maketrans({**{c: "a" for c in "āáǎà"}, **{c: "e" for c in "ēéěèêếề"}, **{c: "i" for c in "īíǐì"},
                           **{c: "o" for c in "ōóǒò"}, **{c: "u" for c in "ūúǔù"}, **{c: "v" for c in "ǖǘǚǜü"},
                           **{c: "n" for c in "ńňǹ"}, "ḿ": "m", "\u0300": None, "\u0304": None, "\u030c": None})


@lru_cache(maxsize=65_536)
def _syllables(run: str) -> tuple[str, ...]:
    """pypinyin's reading of a run of Chinese characters, one syllable (or the character
    itself, when pypinyin has none) per character."""
    from pypinyin import Style, lazy_pinyin  # heavy: only when keys are built

    out = lazy_pinyin(run, style=Style.TONE, errors=lambda chars: list(chars))
    if len(out) != len(run):  # never seen; keep one item per character whatever happens
        out = [lazy_pinyin(ch, style=Style.TONE, errors=lambda c: [c])[0] for ch in run]
    plain = (s.translate(_TONELESS) for s in out)
    return tuple(s if _SYLLABLE.fullmatch(s) else ch for s, ch in zip(plain, run))


def _spell(text: str, syllables: Sequence[str]) -> tuple[str, str]:
    full, initials, it = [], [], iter(syllables)
    for ch in text:
        if is_han(ch):
            s = next(it)
            if s == ch:  # no known reading: the character stands for itself
                full.append(ch)
                initials.append(ch)
            else:
                full.append(s[0].upper() + s[1:])
                initials.append(s[0].upper())
        else:
            full.append(_mark(ch))
            initials.append(_mark(ch))
    return "".join(full), "".join(initials)


@lru_cache(maxsize=65_536)
def _run_spelling(run: str) -> tuple[str, str]:
    """FULL and INITIALS of one run of Chinese characters (_spell, kept per run: a company's
    name recurs in its branches, projects and contacts)."""
    return _spell(run, _syllables(run))


_HAN_RUNS = re.compile(f"((?:{_HAN.pattern})+)")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@lru_cache(maxsize=4096)
def field_keys(text: str, *, person: bool = False) -> FieldKeys:
    """The search keys of one field (customer, title, contact); `person` adds surname readings.

    Built run by run: other characters are their own spelling (ASCII letters capitalised),
    each run of Chinese characters is spelled once (_run_spelling) — an import builds one key
    per deal, and this keeps it to a few microseconds (the reference, character by character,
    is `_spell`; a test keeps the two equal)."""
    folded = fold(text)
    if folded.isascii():
        upper = folded.upper()  # ASCII upper() changes a-z only, as _mark does
        return FieldKeys(folded, ((upper, upper),))
    spellings = [_spelled(folded)]
    if person and folded and is_han(folded[0]) and not folded.startswith(COMPOUND_SURNAMES):
        surname = SURNAME_READINGS.get(folded[0])
        if surname:
            readings = [s for m in _HAN_RUNS.finditer(folded) for s in _syllables(m[0])]
            if readings[0] != surname:
                spellings.append(_spell(folded, [surname, *readings[1:]]))
    return FieldKeys(folded, tuple(spellings))


def search_key(*fields: FieldKeys) -> str:
    """The stored key of several fields (see the module doc)."""
    return RS.join(f.record() for f in fields)


def deal_search_key(customer: str | None, title: str | None, contact_name: str | None) -> str:
    """What a deal stores in its search-key column: customer, title and contact."""
    return RS.join((_record(customer or ""), _record(title or ""), _record(contact_name or "", True)))


def deal_search_keys(customers: Sequence[str | None], titles: Sequence[str | None],
                     contacts: Sequence[str | None]) -> list[str]:
    """deal_search_key of whole columns at once (the import's reader: a chunk of deals)."""
    customers, titles, contacts = ([t or "" for t in col] if None in col else col
                                   for col in (customers, titles, contacts))
    return list(map(RS.join, zip(map(_record, customers), map(_record, titles),
                                 map(_record, contacts, repeat(True)))))


@lru_cache(maxsize=4096)
def _record(text: str, person: bool = False) -> str:
    """One field's record of the stored key (titles and contacts repeat across deals): what
    field_keys(text, person=person).record() gives, built straight as text for the common
    shapes (an import makes one per deal, mostly of names it has not seen; a test keeps the
    two equal)."""
    folded = fold(text)
    if folded.isascii():
        upper = folded.upper()
        return f"{folded}{US}{upper}{US}{upper}"
    if person and is_han(folded[0]) and SURNAME_READINGS.get(folded[0]):
        return field_keys(text, person=True).record()  # a second reading: the full way
    full, initials = _spelled(folded)
    return f"{folded}{US}{full}{US}{initials}"


def _spelled(folded: str) -> tuple[str, str]:
    """The full spelling and the initials of folded text: each run of Chinese characters
    spelled, everything else upper-cased (ASCII a-z only, as _mark does)."""
    full: list[str] = []
    initials: list[str] = []
    for i, piece in enumerate(_HAN_RUNS.split(folded)):
        if i % 2:  # a run of Chinese characters (split alternates: other, run, other, …)
            f, n = _run_spelling(piece)
            full.append(f)
            initials.append(n)
        elif piece:
            other = piece.upper() if piece.isascii() else piece.translate(_ASCII_UPPER)
            full.append(other)
            initials.append(other)
    return "".join(full), "".join(initials)


def parse_search_key(stored: str) -> list[FieldKeys]:
    fields = []
    for record in stored.split(RS):
        text, *parts = record.split(US)
        fields.append(FieldKeys(text, tuple(zip(parts[0::2], parts[1::2]))))
    return fields


def _runs(query: str) -> list[tuple[bool, str]]:
    """The query as (is Chinese, run) pieces."""
    return [(is_han(m[0][0]), m[0]) for m in re.finditer(f"(?:{_HAN.pattern})+|(?:(?!{_HAN.pattern}).)+", query)]


def _reads(runs: list[tuple[bool, str]], tokens: list[tuple[str, str]], at: int) -> bool:
    """True when the runs read over tokens starting at token `at` (the rule of the module doc)."""
    if not runs:
        return True
    (chinese, run), rest = runs[0], runs[1:]
    if chinese:
        end = at + len(run)
        return end <= len(tokens) and all(tokens[at + i][0] == ch for i, ch in enumerate(run)) \
            and _reads(rest, tokens, end)
    # Initials: one character of the run per token.
    end = at + len(run)
    if end <= len(tokens) and all(tokens[at + i][1][0] == ch for i, ch in enumerate(run)) \
            and _reads(rest, tokens, end):
        return True
    # Full pinyin: whole spellings, the last one possibly cut short.
    pos, i = 0, at
    while i < len(tokens) and pos < len(run):
        spelling = tokens[i][1]
        piece = run[pos:pos + len(spelling)]
        if not spelling.startswith(piece):
            return False
        pos += len(piece)
        i += 1
        if pos == len(run):
            return _reads(rest, tokens, i)
    return False


def _field_matches(runs: list[tuple[bool, str]], keys: FieldKeys) -> bool:
    for reading in range(max(1, len(keys.spellings))):
        tokens = keys.tokens(reading) if keys.spellings else [(ch, ch) for ch in keys.text]
        if any(_reads(runs, tokens, at) for at in range(len(tokens))):
            return True
    return False


def matches(query: str, target: str | FieldKeys | Sequence[FieldKeys]) -> bool:
    """Does `query` find `target` (raw text, one field's keys, or a deal's parsed keys)?
    An empty query finds everything."""
    q = fold(query)
    if not q:
        return True
    runs = _runs(q)
    if isinstance(target, str):
        target = field_keys(target)
    fields = [target] if isinstance(target, FieldKeys) else target
    return any(_field_matches(runs, f) for f in fields)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A query turned into SQL: every GLOB must hold (SQLite, case-sensitive), or every
    regex (PostgreSQL `~`); when `exact` is False the rows found must still pass `check`."""

    query: str
    globs: tuple[str, ...]
    regexes: tuple[str, ...]
    exact: bool

    def check(self, stored_key: str) -> bool:
        """Does a stored key really match (for rows a non-exact query found)?"""
        return matches(self.query, parse_search_key(stored_key))


def _glob_char(ch: str) -> str:
    return f"[{ch}]" if ch in "*?[" else ch


def search_query(query: str) -> SearchQuery:
    """The SQL side of `matches` for the stored key column (see the module doc)."""
    q = fold(query)
    if not q:
        return SearchQuery(q, (), (), True)
    runs = _runs(q)
    if not any(chinese for chinese, _run in runs):
        head = _mark(q[0])
        glob = "*" + _glob_char(head) + "".join(
            f"[{c}{c.upper()}]" if "a" <= c <= "z" else _glob_char(c) for c in q[1:]) + "*"
        regex = re.escape(head) + "".join(
            f"[{c}{c.upper()}]" if "a" <= c <= "z" else re.escape(c) for c in q[1:])
        return SearchQuery(q, (glob,), (regex,), True)
    chinese_runs = [run for chinese, run in runs if chinese]
    return SearchQuery(q, tuple(f"*{run}*" for run in chinese_runs), tuple(re.escape(r) for r in chinese_runs),
                       exact=len(runs) == 1)
