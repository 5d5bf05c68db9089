"""`funnel settings tiering|tier_*_min|purge_after_months` and `funnel purge` (list, JSON shape,
keep, remove, --apply with and without --yes, undo) on both backends."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from funnel_tui.store import Store

pytestmark = pytest.mark.both_backends


@pytest.fixture
def quiet(db_path, now, tz):
    """Two quiet small deals (since 2026-09-01), one fresh one, one big quiet one."""
    s = Store(db_path)
    old = now.replace(month=9, day=1)
    ids = [s.add_deal({"customer": c, "amount": a}, now=old if c != "Fresh" else now - timedelta(days=1), tz=tz)
           for c, a in (("华信科技", "5万"), ("Acme", "1000"), ("Fresh", "100"), ("大单", "9000万"))]
    s.close()
    return ids


def test_settings_for_tiering_are_checked(funnel):
    assert funnel("settings", "tiering", "amount") == (0, "tiering = amount\n", "")
    code, _out, err = funnel("settings", "tiering", "value")
    assert code == 1 and "abc or amount" in err
    assert funnel("settings", "tier_key_min", "1亿").out == "tier_key_min = 100000000\n"
    code, _out, err = funnel("settings", "tier_regular_min", "30000000")  # above major (2000万)
    assert code == 1 and "tier_major_min" in err
    code, _out, err = funnel("settings", "tier_major_min", "12.5")
    assert code == 1 and "whole number of yuan" in err
    assert funnel("settings", "purge_after_months", "3").out == "purge_after_months = 3\n"
    code, _out, err = funnel("settings", "purge_after_months", "0")
    assert code == 1 and "1 to 60" in err


def test_purge_json_shape_and_one_at_a_time(funnel, quiet):
    funnel("settings", "tiering", "amount")
    code, out, _ = funnel("purge", "--format", "json")
    assert code == 0
    got = json.loads(out)
    assert set(got) == {"as_of", "tiering", "lowest_tier", "purge_after_months", "cutoff", "candidates"}
    assert (got["tiering"], got["lowest_tier"], got["purge_after_months"]) == ("amount", "maintain", 2)
    assert got["cutoff"] == "2026-09-24T10:00:00+08:00"
    assert [c["deal_id"] for c in got["candidates"]] == [quiet[0], quiet[1]]
    first = got["candidates"][0]
    assert set(first) == {"deal_id", "customer", "title", "stage", "owner", "amount", "amount_minor", "currency",
                          "tier", "quiet_since", "quiet_days"}
    assert (first["amount"], first["amount_minor"], first["tier"], first["quiet_days"]) == (
        "50000.00", 5_000_000, "maintain", 84)
    assert first["quiet_since"] == "2026-09-01T10:00:00+08:00"
    code, out, _ = funnel("purge", "keep", str(quiet[0]), "--note", "还在走预算")
    assert code == 0 and "kept" in out
    code, out, _ = funnel("purge", "remove", str(quiet[1]), "--note", "dead")
    assert code == 0 and "removed" in out
    code, _out, err = funnel("purge", "remove", str(quiet[2]), "--note", "x")
    assert code == 1 and "not in the purge queue" in err
    assert json.loads(funnel("purge", "--format", "json").out)["candidates"] == []
    shown = json.loads(funnel("show", str(quiet[1]), "--format", "json").out)
    assert (shown["status"], shown["lost_reason"]) == ("lost", "purged: dead")


def test_purge_apply_needs_yes_then_backs_up_and_undoes_in_one_step(funnel, quiet):
    code, _out, err = funnel("purge", "--apply")  # ABC: the 9000万 deal is A, the rest C
    assert code == 1 and "would mark 2 deals lost" in err and "--yes" in err
    code, out, _ = funnel("purge", "--apply", "--yes", "--note", "年底清理")
    assert code == 0 and "purged 2 deals" in out and "backup first:" in out
    code, out, _ = funnel("undo")
    assert code == 0 and "the purge of 2 deals" in out
    assert [c["deal_id"] for c in json.loads(funnel("purge", "--format", "json").out)["candidates"]] == quiet[:2]


def test_purge_table_in_chinese(funnel, quiet):
    funnel("settings", "tiering", "amount")
    funnel("settings", "lang", "zh")
    code, out, _ = funnel("purge")
    assert code == 0 and "清理队列" in out and "维持" in out and "华信科技" in out


def test_export_and_summary_follow_the_tiering(funnel, quiet, db_path, now):
    import csv
    import io
    from decimal import Decimal

    s = Store(db_path)
    usd = s.add_deal({"customer": "US Co", "amount": "500", "currency": "USD"}, now=now)
    s.close()
    funnel("settings", "tiering", "amount")
    code, out, _ = funnel("export", "-")
    assert code == 0
    tiers = {int(r["id"]): r["tier"] for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))}
    # 9000万 is key; 5万, 1000, 100 are maintain; USD without a rate has no tier: '?'.
    assert tiers == {quiet[0]: "maintain", quiet[1]: "maintain", quiet[2]: "maintain", quiet[3]: "key", usd: "?"}
    got = json.loads(funnel("summary", "--format", "json").out)
    assert got["tiering"] == "amount" and set(got["tiers"]) == {"A", "B", "C"}  # A/B/C stay as documented
    assert got["amount_tiers"]["key"] == {"deals": 1, "amount": 90_000_000.0}
    assert got["amount_tiers"]["maintain"] == {"deals": 3, "amount": 51_100.0}
    assert got["amount_tiers"]["unrated"] == {"deals": 1, "amount_by_currency": {"USD": 500.0}}
    funnel("settings", "rate", "USD", "7.1")
    got = json.loads(funnel("summary", "--format", "json").out)
    assert got["amount_tiers"]["maintain"] == {"deals": 4, "amount": 54_650.0}  # 500 × 7.1 = 3,550
    assert Decimal("500") * Decimal("7.1") == 3550
