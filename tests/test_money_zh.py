"""Chinese money display (funnel_tui.domain.money.format_compact_zh): 万 and 亿, hand-rounded."""

from __future__ import annotations

import pytest

from funnel_tui.domain.money import MAX_AMOUNT_MINOR, format_compact, format_compact_in, format_compact_zh, parse_amount


@pytest.mark.parametrize(
    ("minor", "shown"),
    [
        (0, "0"),
        (49, "0"),  # ¥0.49 rounds to 0
        (50, "1"),  # ¥0.50 rounds half up
        (800_000, "8,000"),  # below 1万: the whole amount, grouped
        (999_949, "9,999"),  # ¥9,999.49
        (999_950, "1万"),  # ¥9,999.50 rounds to 10,000 = 1万
        (1_000_000, "1万"),
        (1_234_500, "1.2万"),  # 1.2345万
        (1_235_000, "1.2万"),  # 1.235万: tenths 12.35 -> 12
        (1_250_000, "1.3万"),  # 1.25万: half up -> 1.3万
        (1_255_000, "1.3万"),
        (12_500_000, "12.5万"),
        (12_000_000, "12万"),  # no trailing .0
        (120_000_000, "120万"),
        (9_999_500_000, "9999.5万"),  # ¥99,995,000
        (9_999_949_999, "9999.9万"),  # ¥99,999,499.99
        (9_999_950_000, "1亿"),  # 9999.995万 would round to 10000.0万: shown in 亿
        (10_000_000_000, "1亿"),
        (32_000_000_000, "3.2亿"),
        (32_050_000_000, "3.2亿"),  # 3.205亿 -> 3.2亿
        (32_060_000_000, "3.2亿"),
        (32_150_000_000, "3.2亿"),  # 3.215亿: tenths 32.15 -> 32
        (32_500_000_000, "3.3亿"),  # 3.25亿: half up
        (99_999_499_999_999, "9999.9亿"),  # ¥999,994,999,999.99
        (99_999_500_000_000, "1万亿"),  # 9999.95亿 rounds up into 万亿
        (10**14, "1万亿"),
        (MAX_AMOUNT_MINOR, "10万亿"),  # the largest single amount
        (2**63 - 1, "92,233.7万亿"),  # the largest 64-bit sum: ¥92,233,720,368,547,758.07
        (-12_500_000, "-12.5万"),  # differences keep their sign
        (-800_000, "-8,000"),
        (-49, "0"),  # no "-0"
        (-(2**63), "-92,233.7万亿"),
    ],
)
def test_format_compact_zh(minor, shown):
    assert format_compact_zh(minor) == shown


def test_beyond_64_bits():
    assert format_compact_zh(10**30) == "10,000,000,000,000,000万亿"


def test_by_language():
    assert format_compact_in(12_500_000, "zh") == "12.5万"
    assert format_compact_in(12_500_000, "en") == format_compact(12_500_000) == "125k"


@pytest.mark.parametrize(("text", "minor"), [("12.5万", 12_500_000), ("3亿", 30_000_000_000), ("¥3.2亿", 32_000_000_000),
                                             ("0.5亿", 5_000_000_000), ("8,000", 800_000)])
def test_parsing_reads_what_is_shown(text, minor):
    assert parse_amount(text) == minor


def test_shown_values_parse_back_within_rounding():
    for minor in (1_234_500, 12_500_000, 32_000_000_000, 800_000, 9_999_950_000):
        back = parse_amount(format_compact_zh(minor))
        assert abs(back - minor) <= max(minor // 20, 50)
