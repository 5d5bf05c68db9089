"""Tests for funnel_tui.domain.text: cleaning hostile input, LIKE escaping, column widths."""

import pytest

from funnel_tui.domain.text import clean_text, display_width, escape_like, truncate_to_width


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Markup-like text is stored as typed; the view renders it literally.
        ("Acme [/]", "Acme [/]"),
        ("[bold red]x", "[bold red]x"),
        ("[@click=app.quit]X[/]", "[@click=app.quit]X[/]"),
        # Whole escape sequences go, not just the ESC.
        ("Bob\x1b]0;PWNED\x1b\\", "Bob"),
        ("a\x1b[6n", "a"),
        ("a\x1b[31mred\x1b[0m", "ared"),
        ("\x1b]0;title\x07ok", "ok"),
        ("\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("x\x9b31my", "xy"),  # 8-bit CSI
        ("Bob\x1b]0;never terminated", "Bob"),
        ("a\x1bcb", "ab"),  # ESC c (terminal reset)
        # Control and format characters.
        ("\u202eevil", "evil"),
        ("\u2066x\u2069\u200e\u200f", "x"),
        ("x\x00y", "xy"),
        ("a\x7fb\x85c", "ab c"),  # DEL removed; NEL is a line break
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("👩\u200d💻", "👩\u200d💻"),  # ZWJ kept for emoji sequences
        # Non-Latin text untouched.
        ("𠮷野家", "𠮷野家"),
        ("😀客户", "😀客户"),
        ("客户“引号”, 逗号\n多行", "客户“引号”, 逗号 多行"),
        # Whitespace.
        ("  padded\t ", "padded"),
        ("a\r\nb\rc\nd\te", "a b c d e"),
        ("\u3000全角空格\u3000", "全角空格"),
        (None, ""),
        ("", ""),
        # NFC, including a mark that only meets its base once a control char is gone.
        ("e\u0301", "é"),
        ("e\x00\u0301", "é"),
    ],
)
def test_clean_text_single_line(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_multiline_keeps_newlines():
    assert clean_text("客户“引号”, 逗号\n多行", multiline=True) == "客户“引号”, 逗号\n多行"
    assert clean_text(" a\r\nb\rc\td\u2028e \n", multiline=True) == "a\nb\nc d\ne"
    assert clean_text("line1\n\x1b[2Jline2", multiline=True) == "line1\nline2"


def test_clean_text_max_len():
    with pytest.raises(ValueError) as exc:
        clean_text("x" * 10_000, max_len=200)
    assert str(exc.value) == "is 10000 characters long; at most 200 allowed"
    assert clean_text("x" * 200, max_len=200) == "x" * 200
    # Length is measured after cleaning: stripped junk does not count.
    assert clean_text("  " + "x" * 200 + "\x1b[31m  ", max_len=200) == "x" * 200


def test_escape_like():
    assert escape_like("50%_off\\") == "50\\%\\_off\\\\"
    assert escape_like("plain 客户") == "plain 客户"
    assert escape_like("") == ""


def test_display_width():
    assert display_width("客户") == 4
    assert display_width("𠮷") == 2
    assert display_width("abc") == 3
    assert display_width("😀") == 2
    assert display_width("e\u0301") == 1
    assert display_width("") == 0
    assert display_width("ＡＢ") == 4  # fullwidth


@pytest.mark.parametrize(
    ("s", "width", "expected"),
    [
        ("abc", 3, "abc"),
        ("abcdef", 4, "abc…"),
        ("客户管理系统", 5, "客户…"),
        ("客户管理系统", 6, "客户…"),  # a wide char never straddles the limit
        ("𠮷野家", 3, "𠮷…"),
        ("😀客户", 4, "😀…"),
        ("客户", 1, "…"),
        ("客户", 0, ""),
        ("abc", -1, ""),
        ("e\u0301e\u0301e\u0301x", 3, "e\u0301e\u0301…"),
        ("abcdef", 4, "abc…"),
    ],
)
def test_truncate_to_width(s, width, expected):
    assert truncate_to_width(s, width) == expected


def test_truncate_custom_ellipsis():
    assert truncate_to_width("abcdef", 5, "...") == "ab..."
    assert truncate_to_width("abcdef", 2, "...") == "ab"  # ellipsis cannot fit


def test_truncate_never_exceeds_width():
    samples = ["𠮷野家", "😀客户", "客户“引号”, 逗号", "Acme Corp 有限公司", "e\u0301" * 5, "abc", ""]
    for s in samples:
        for width in range(0, 20):
            out = truncate_to_width(s, width)
            assert display_width(out) <= width
            if display_width(s) <= width:
                assert out == s
            else:
                assert out.endswith("…") or width == 0


def test_zero_width_joiners_survive_but_other_format_chars_do_not():
    from funnel_tui.domain.text import clean_text, display_width

    assert clean_text("می\u200cخواهم") == "می\u200cخواهم"  # Persian needs ZWNJ
    assert clean_text("👩\u200d💻") == "👩\u200d💻"
    assert clean_text("a\u200bb\u2066c") == "abc"  # zero-width space, bidi isolate
    assert display_width("a\u200cb") == 2
