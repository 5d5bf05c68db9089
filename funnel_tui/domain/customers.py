"""When two customer names are the same company: 华信科技有限公司 and 华信科技, `ACME Inc.` and
`Acme`, `ＡＣＭＥ` and `acme`.

`customer_key` reduces a name to what tells companies apart: full-width letters and digits
folded to half-width (NFKC), case folded, a bracketed part dropped (`(北京)`, `（上海）`,
`(China)`), legal-form and group suffixes removed from the end (有限公司, 股份有限公司, 集团,
Co., Ltd., Inc., GmbH, …), then spaces and punctuation removed. Two names with the same key
are the same customer as far as a warning goes: the new-deal form says so and offers the
existing deal, and never refuses (two deals with one customer are normal).
"""

from __future__ import annotations

import re
import unicodedata

# Chinese legal forms and group words, longest first (each is stripped from the end, repeatedly).
ZH_SUFFIXES = tuple(sorted((
    "集团股份有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司",
    "股份公司", "总公司", "分公司", "公司", "集团", "控股",
), key=len, reverse=True))

# Latin legal forms as whole words (after case folding and with dots removed).
EN_SUFFIXES = frozenset({
    "co", "company", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc",
    "llp", "lp", "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv",
    "oy", "ab", "as", "pte", "pty", "kk", "group", "holding", "holdings",
})

_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
_WORD = re.compile(r"[^\W_]+")


def customer_key(name: str) -> str:
    """The comparable core of a customer name ("" for a blank one)."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    core = _BRACKETED.sub(" ", text)
    words = _WORD.findall(core.replace(".", ""))
    changed = True
    while words and changed:
        changed = False
        if len(words) > 1 and words[-1] in EN_SUFFIXES:
            words.pop()
            changed = True
            continue
        last = words[-1]
        for suffix in ZH_SUFFIXES:
            if last.endswith(suffix) and (len(last) > len(suffix) or len(words) > 1):
                words[-1] = last[: -len(suffix)]
                if not words[-1]:
                    words.pop()
                changed = True
                break
    key = "".join(words)
    return key or "".join(_WORD.findall(text))


def search_needle(name: str) -> str:
    """The longest word of the name's core, for a bounded LIKE query that finds candidates
    (the store then compares whole keys)."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    words = [w for w in _WORD.findall(_BRACKETED.sub(" ", text).replace(".", ""))
             if w not in EN_SUFFIXES]
    if not words:
        return ""
    word = max(words, key=len)
    for suffix in ZH_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            word = word[: -len(suffix)]
            break
    return word


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (ａｃｍｅ１): stored names may use them."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


__all__ = ["customer_key", "full_width", "search_needle"]
