"""Tiers by amount (domain/tiers.py) and the purge rule's clock (domain/purge.py): hand-computed.

Default thresholds (source document 002): key ≥ 8000万, major ≥ 2000万, regular ≥ 1000万,
maintain below; in fen: 8,000,000,000 / 2,000,000,000 / 1,000,000,000.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from funnel_tui.domain.currency_totals import Rates
from funnel_tui.domain.purge import is_candidate, months_before, purge_after, quiet_since
from funnel_tui.domain.rules import TierCutoffs, cadence
from funnel_tui.domain.tiers import (
    AmountTiers,
    TierSettingError,
    amount_tiers,
    parse_threshold,
    tier_label,
    tiering_of,
)

UTC = timezone.utc
WAN = 10_000 * 100  # 1万 yuan in fen


@pytest.mark.parametrize(("fen", "tier"), [
    (8000 * WAN, "key"), (8000 * WAN - 1, "major"),          # exactly 8000万, one fen below
    (2000 * WAN, "major"), (2000 * WAN - 1, "regular"),      # exactly 2000万
    (1000 * WAN, "regular"), (1000 * WAN - 1, "maintain"),   # exactly 1000万
    (0, "maintain"), (10**15, "key"),
])
def test_default_amount_tiers_at_the_boundaries(fen, tier):
    assert AmountTiers().tier(fen) == tier
    assert AmountTiers().tier_of(fen, 0, "CNY") == tier  # the probability plays no part


def test_thresholds_are_settings_in_yuan():
    tiers = amount_tiers({"tier_key_min": "500", "tier_major_min": "200", "tier_regular_min": "100"})
    assert (tiers.key_min, tiers.major_min, tiers.regular_min) == (50_000, 20_000, 10_000)
    assert [tiers.tier(f) for f in (50_000, 49_999, 20_000, 19_999, 10_000, 9_999)] == [
        "key", "major", "major", "regular", "regular", "maintain"]
    # Unset ones keep the defaults; the way a rep writes an amount is taken.
    assert amount_tiers({}).key_min == 8_000_000_000
    assert parse_threshold("tier_key_min", "8000万") == 8_000_000_000
    assert parse_threshold("tier_key_min", "80,000,000") == 8_000_000_000
    assert parse_threshold("tier_key_min", "0.8亿") == 8_000_000_000


@pytest.mark.parametrize("bad", ["0", "-5", "1.5", "abc", "", "1e20"])
def test_a_threshold_that_is_not_whole_positive_yuan_is_refused_naming_the_setting(bad):
    if bad == "":
        assert amount_tiers({"tier_key_min": bad}).key_min == 8_000_000_000  # empty: the default
        return
    with pytest.raises(TierSettingError, match="tier_key_min"):
        parse_threshold("tier_key_min", bad)


def test_thresholds_out_of_order_are_refused():
    with pytest.raises(TierSettingError, match="tier_key_min > tier_major_min"):
        amount_tiers({"tier_regular_min": "30000000"})  # above major's 2000万


def test_another_currency_is_compared_at_its_rate_exactly_or_has_no_tier():
    tiers = AmountTiers(rates=Rates("CNY", {"USD": Decimal("7.1")}))
    # key in USD cents: ⌈8,000,000,000 × 10 / 71⌉ = ⌈1,126,760,563.38⌉ = 1,126,760,564
    assert tiers.thresholds_in("USD")[0] == 1_126_760_564
    assert tiers.tier(1_126_760_564, "USD") == "key"      # × 7.1 = 8,000,000,004.4 fen
    assert tiers.tier(1_126_760_563, "USD") == "major"    # × 7.1 = 7,999,999,997.3 fen
    # No rate: no tier, never compared as if it were yuan.
    assert tiers.tier(10**15, "EUR") is None
    assert tiers.tier(0, "EUR") is None
    assert tier_label(None, "en") == "?"


def test_abc_and_amount_tiers_answer_the_same_questions():
    abc = TierCutoffs(a_min=5_000, b_min=1_000)
    assert abc.tier_of(10_000, 50, "USD") == "A"  # weighted 5,000: ABC ranks as stored
    assert abc.tier_of(10_000, 9, None) == "C"
    assert (abc.lowest, AmountTiers.lowest) == ("C", "maintain")
    assert AmountTiers.codes == ("key", "major", "regular", "maintain")


def test_the_tier_drives_the_cadence_either_way():
    assert [cadence(t).days for t in ("A", "B", "C")] == [1, 7, 30]
    assert [cadence(t).days for t in ("key", "major", "regular", "maintain")] == [1, 3, 7, 30]
    assert cadence(None).days == 30  # no tier (a currency without a rate): monthly, as C


def test_tier_names_in_both_languages():
    assert [tier_label(c, "en") for c in ("key", "major", "regular", "maintain")] == [
        "key", "major", "regular", "maintain"]
    assert [tier_label(c, "zh") for c in ("key", "major", "regular", "maintain")] == ["关键", "重点", "一般", "维持"]
    assert tier_label("B", "zh") == "B"


def test_tiering_setting():
    assert tiering_of(None) == "abc" and tiering_of(" Amount ") == "amount"
    with pytest.raises(TierSettingError, match="abc or amount"):
        tiering_of("value")


# --- the purge rule's clock ---------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def test_two_months_back_on_the_reps_calendar():
    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert months_before(now, 2, SHANGHAI) == datetime(2026, 9, 24, 2, 0, tzinfo=UTC)
    # New York: 10:00 EST (-5) now is 15:00 UTC; 10:00 on 24 September is EDT (-4): 14:00 UTC.
    ny_now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert months_before(ny_now, 2, NEW_YORK) == datetime(2026, 9, 24, 14, 0, tzinfo=UTC)
    # A day the earlier month lacks becomes its last day; years roll over.
    assert months_before(datetime(2026, 4, 30, 4, 0, tzinfo=UTC), 2, SHANGHAI) == datetime(2026, 2, 28, 4, 0, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, 4, 0, tzinfo=UTC), 2, SHANGHAI) == datetime(2025, 11, 15, 4, 0, tzinfo=UTC)
    # Shanghai's date differs from UTC's at 01:00 local: the local date counts.
    assert months_before(datetime(2026, 11, 30, 17, 0, tzinfo=UTC), 1, SHANGHAI) == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)


def test_the_purge_rule_exactly_at_two_months():
    cutoff = datetime(2026, 9, 24, 2, 0, tzinfo=UTC)
    deal = {"status": "open", "deleted_at": None, "created_at": cutoff - timedelta(days=90),
            "stage_entered_at": cutoff - timedelta(days=80), "last_contact_at": cutoff}
    assert quiet_since(deal) == cutoff
    assert is_candidate(deal, "maintain", "maintain", cutoff=cutoff)  # quiet exactly two months
    touched = {**deal, "last_contact_at": cutoff + timedelta(microseconds=1)}
    assert not is_candidate(touched, "maintain", "maintain", cutoff=cutoff)  # a touch restarts it
    moved = {**deal, "stage_entered_at": cutoff + timedelta(seconds=1)}
    assert not is_candidate(moved, "C", "C", cutoff=cutoff)  # so does a move
    assert not is_candidate(deal, "regular", "maintain", cutoff=cutoff)  # not the lowest tier
    assert not is_candidate(deal, None, "maintain", cutoff=cutoff)  # no tier (no rate)
    for status in ("won", "lost"):
        assert not is_candidate({**deal, "status": status}, "maintain", "maintain", cutoff=cutoff)


def test_purge_after_months_setting():
    assert purge_after(None) == 2 and purge_after("3") == 3
    for bad in ("0", "61", "two", "1.5"):
        with pytest.raises(ValueError, match="purge_after_months"):
            purge_after(bad)


def test_the_cards_mark_follows_the_tiering():
    from funnel_tui.domain.tiers import tier_mark

    usd = {"amount": 100, "probability": 10, "currency": "USD"}
    assert tier_mark(AmountTiers(), {"amount": 8000 * WAN, "probability": 10, "currency": "CNY"}, "en") == "key"
    assert tier_mark(AmountTiers(), {"amount": 100, "probability": 10, "currency": "CNY"}, "en") == "mnt"
    assert tier_mark(AmountTiers(), {"amount": 1000 * WAN, "probability": 10, "currency": "CNY"}, "zh") == "一般"
    assert tier_mark(AmountTiers(), usd, "en") == "?"
    assert tier_mark(TierCutoffs(a_min=5, b_min=1), usd, "zh") == "A"  # weighted 10 ≥ 5
