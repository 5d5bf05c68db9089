"""Domain rules at their exact boundaries (DESIGN §2), hand-computed."""

from datetime import datetime, timedelta, timezone

import pytest

from funnel_tui.domain.money import format_compact, format_money, format_plain, parse_amount, weighted_minor
from funnel_tui.domain.rules import abc_tiers, cadence, tier_cutoffs, due_bucket, due_buckets, dwell, silence
from funnel_tui.domain.stages import DEFAULT_STAGES, find_stage

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    "due, bucket",
    [
        (NOW - timedelta(microseconds=1), "overdue"),
        (NOW - 30 * 24 * H, "overdue"),
        (NOW, "24h"),  # now ≤ due < now+24h
        (NOW + 24 * H - timedelta(microseconds=1), "24h"),
        (NOW + 24 * H, "3d"),  # now+24h ≤ due < now+72h
        (NOW + 72 * H - timedelta(microseconds=1), "3d"),
        (NOW + 72 * H, None),
    ],
)
def test_due_bucket_boundaries(due, bucket):
    assert due_bucket(due, NOW) == bucket


def test_due_buckets_groups_and_sorts():
    items = [("c", NOW + 30 * H), ("a", NOW - H), ("b", NOW + H), ("z", NOW + 100 * H), ("a0", NOW - 5 * H)]
    got = due_buckets(items, NOW)
    assert got == {"overdue": ["a0", "a"], "24h": ["b"], "3d": ["c"]}


def test_dwell_near_and_over_at_their_edges():
    entered = NOW - timedelta(days=14)
    assert dwell(entered, NOW, 14).state == "near"  # exactly the limit is not yet past it
    assert dwell(entered - timedelta(seconds=1), NOW, 14).state == "over"
    # near at >= 80 %: 11.2 days of 14
    assert dwell(NOW - timedelta(days=11.2), NOW, 14).state == "near"
    assert dwell(NOW - timedelta(days=11.19), NOW, 14).state == "ok"
    assert dwell(NOW - timedelta(days=400), NOW, None).state == "ok"
    d = dwell(NOW - timedelta(days=20, hours=5), NOW, 15)
    assert (d.state, d.whole_days, d.limit) == ("over", 20, 15)


def test_abc_tiers_hand_computed():
    # total 1000: 500 (cum before 0 → A), 300 (500 <800 → A), 100 (800 → B), 60 (900 → B), 40 (960 → C)
    tiers = abc_tiers([(1, 100), (2, 500), (3, 40), (4, 300), (5, 60)])
    assert tiers == {2: "A", 4: "A", 1: "B", 5: "B", 3: "C"}


def test_abc_one_dominant_deal_is_a_and_zero_is_c():
    assert abc_tiers([(1, 900), (2, 100), (3, 0)]) == {1: "A", 2: "B", 3: "C"}
    assert abc_tiers([(1, 0), (2, 0)]) == {1: "C", 2: "C"}
    assert abc_tiers([]) == {}


def test_abc_equal_values_share_a_tier():
    assert abc_tiers([(2, 10), (1, 10)]) == {1: "A", 2: "A"}
    # 10 equal deals: the group starts at 0 % → all A (order never decides a tier)
    assert set(abc_tiers([(i, 10) for i in range(1, 11)]).values()) == {"A"}
    # 50 | 10 10 10 10 10 (total 100): the tens start at 50 % < 80 % → all A
    assert set(abc_tiers([(0, 50)] + [(i, 10) for i in range(1, 6)]).values()) == {"A"}
    # 80 | 15 | 5: before 15 is 80 % → B; before 5 is 95 % → C
    assert abc_tiers([(1, 80), (2, 15), (3, 5)]) == {1: "A", 2: "B", 3: "C"}


def test_tier_cutoffs_classify_from_one_value():
    cut = tier_cutoffs([(500, 1), (300, 1), (100, 1), (60, 1), (40, 1)])
    assert (cut.a_min, cut.b_min) == (300, 60)
    assert [cut.tier(v) for v in (1000, 300, 299, 60, 59, 0)] == ["A", "A", "B", "B", "C", "C"]
    assert tier_cutoffs([]).tier(10) == "C"
    assert tier_cutoffs([(0, 5)]).tier(0) == "C"


def test_cadence_and_silence():
    assert cadence("A") == timedelta(days=1)
    assert cadence("B") == timedelta(days=7)
    assert cadence("C") == timedelta(days=30)
    created = NOW - timedelta(days=60)
    # B: 8 days since last contact > 7 → silent for 8 days
    assert silence(NOW - timedelta(days=8), created, NOW, "B", None) == pytest.approx(8)
    assert silence(NOW - timedelta(days=6), created, NOW, "B", None) is None
    # a future follow-up means the rep has a plan: not silent
    assert silence(NOW - timedelta(days=8), created, NOW, "B", NOW + H) is None
    # an overdue follow-up is no plan
    assert silence(NOW - timedelta(days=8), created, NOW, "B", NOW - H) == pytest.approx(8)
    # never contacted: counts from creation
    assert silence(None, NOW - timedelta(days=2), NOW, "A", None) == pytest.approx(2)


def test_money_parsing_is_exact():
    assert parse_amount("12,500.50") == 1_250_050
    assert parse_amount("¥3万") == 3_000_000
    assert parse_amount("2.5k") == 250_000
    assert parse_amount("0") == 0
    assert parse_amount("") == 0
    for bad in ("abc", "-5", "1.234", "1e400", "NaN"):
        with pytest.raises(ValueError):
            parse_amount(bad)
    assert weighted_minor(1_000_00, 25) == 25_000
    assert weighted_minor(1, 50) == 1  # half up
    assert format_plain(105_400) == "1054"
    assert format_plain(1_250) == "12.50"
    assert format_money(123_456_700, "CNY") == "1,234,567 CNY"
    assert format_compact(1_250_000) == "12.5k"
    assert format_compact(340_000_000) == "3.4M"


def test_find_stage_by_key_english_and_chinese():
    assert find_stage(DEFAULT_STAGES, "demo").key == "demo"
    assert find_stage(DEFAULT_STAGES, "Demo / Proposal").key == "demo"
    assert find_stage(DEFAULT_STAGES, "proposal").key == "demo"
    assert find_stage(DEFAULT_STAGES, "商务谈判").key == "negotiation"
    assert find_stage(DEFAULT_STAGES, " NEGOTIATION ").key == "negotiation"
    with pytest.raises(ValueError, match="unknown stage 'closing'; use one of: lead, qualified"):
        find_stage(DEFAULT_STAGES, "closing")
