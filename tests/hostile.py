"""The hostile-input corpus (issue 5, item 6), shared by the CLI, TUI and CSV tests.

`HOSTILE` maps a short label to the raw text a rep might paste or a file might carry.
`CLEANED` is what the store keeps of it (clean_text: escape sequences, control and bidi
characters removed; markup-like text kept as is, to be rendered literally).
`assert_terminal_safe` checks bytes that reached a terminal (stdout/stderr).
"""

from __future__ import annotations

import re

HOSTILE: dict[str, str] = {
    "markup_close": "Acme [/]",
    "markup_style": "[bold red]x",
    "markup_action": "[@click=app.quit]X[/]",
    "csv_hyperlink": '=HYPERLINK("http://x","点我")',
    "phone_plus": "+86 138 0000 0000",
    "minus_percent": "-5% 折扣",
    "at_sum": "@SUM(1)",
    "tab_formula": "\t=1",
    "fullwidth_equals": "＝1",
    "osc_title": "Bob\x1b]0;PWNED\x1b\\",
    "csi_query": "a\x1b[6n",
    "bidi_override": "\u202eevil",
    "nul": "x\x00y",
    "sql_injection": "'; DROP TABLE deal; --",
    "percent_underscore": "100%_off",
    "astral_cjk": "𠮷野家",
    "emoji": "😀客户",
    "quotes_comma_newline": "客户“引号”, 逗号\n多行",
}
TOO_LONG = "长" * 10_000  # refused: customer allows 200 characters
EMPTY = ""  # refused: customer is required

# What a single-line field (customer, title) stores for each entry.
CLEANED: dict[str, str] = {
    "markup_close": "Acme [/]",
    "markup_style": "[bold red]x",
    "markup_action": "[@click=app.quit]X[/]",
    "csv_hyperlink": '=HYPERLINK("http://x","点我")',
    "phone_plus": "+86 138 0000 0000",
    "minus_percent": "-5% 折扣",
    "at_sum": "@SUM(1)",
    "tab_formula": "=1",
    "fullwidth_equals": "＝1",
    "osc_title": "Bob",
    "csi_query": "a",
    "bidi_override": "evil",
    "nul": "xy",
    "sql_injection": "'; DROP TABLE deal; --",
    "percent_underscore": "100%_off",
    "astral_cjk": "𠮷野家",
    "emoji": "😀客户",
    "quotes_comma_newline": "客户“引号”, 逗号 多行",
}

# Entries a command line can carry: argv strings end at NUL, so the OS itself refuses it.
ARGV_SAFE = {k: v for k, v in HOSTILE.items() if "\x00" not in v}

# C0 controls other than newline, DEL, C1 controls, and the bidi/format characters that can
# reorder or hide what the terminal shows.
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def unsafe_chars(text: str) -> list[str]:
    return sorted({repr(m.group()) for m in _UNSAFE.finditer(text)})


def assert_terminal_safe(data: bytes | str, where: str = "output") -> str:
    """Decode and check terminal output: no ESC or other control char except newline."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    bad = unsafe_chars(text)
    assert not bad, f"{where} carries control characters {bad}: {text[:300]!r}"
    return text
