"""`funnel summary` and `funnel review` from the command line: shapes, options, literal text."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from funnel_tui.store import Store

# Store and command-line behaviour is the same on a SQLite file and on a team server (issue 18).
pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]

NOW_ISO = "2026-11-24T10:00:00+08:00"  # Tuesday
NOW = datetime.fromisoformat(NOW_ISO).astimezone(timezone.utc)
SUMMARY_KEYS = {"owner", "as_of", "stages", "won", "lost", "win_rate", "won_amount", "weighted_pipeline",
                "avg_cycle_days", "tiers", "lost_reasons", "by_source"}
STAGE_KEYS = {"key", "name", "reached", "current", "conversion_to_next", "avg_days_in_stage", "open_amount",
              "weighted_amount"}


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def run(funnel):
    """`run(*argv)` -> (code, out, err) against this test's database (conftest's funnel)."""
    return funnel


@pytest.fixture
def filled(db_path):
    """王磊 (me): won 1054.00 after 10 days, lost one in demo, one open in qualified;
    a hostile rep `Acme [/]` with a hostile source and lost reason."""
    store = Store(db_path)
    store.set_setting("me", "王磊")
    a = store.add_deal({"customer": "华信科技", "amount": "1054", "owner": "王磊", "source": "展会"}, now=ago(30))
    store.move_deal(a, "negotiation", now=ago(25))
    store.move_deal(a, "won", now=ago(20))
    b = store.add_deal({"customer": "B", "amount": "500", "owner": "王磊", "stage": "demo"}, now=ago(12))
    store.lose_deal(b, "price", now=ago(3))
    c = store.add_deal({"customer": "C", "amount": "2000", "owner": "王磊"}, now=ago(9))
    store.move_deal(c, "qualified", now=ago(5))
    d = store.add_deal({"customer": "Evil [/]", "amount": "80", "owner": "Acme [/]",
                        "source": "[@click=app.quit]x"}, now=ago(2))
    store.lose_deal(d, "[bold]too pricey[/bold]", now=ago(1))
    store.close()
    return {"a": a, "b": b, "c": c, "d": d}


def test_summary_json_shape_and_units(run, filled):
    code, out, err = run("summary", "--format", "json")
    assert code == 0, err
    s = json.loads(out)
    assert SUMMARY_KEYS <= set(s)
    assert all(STAGE_KEYS <= set(st) for st in s["stages"])
    assert s["owner"] is None and s["as_of"] == "2026-11-24T10:00:00+08:00"
    assert (s["won"], s["lost"]) == (1, 2)
    assert s["win_rate"] == 0.3333 and s["win_rate_small_sample"] is True
    assert s["won_amount"] == 1054.0  # major units
    assert s["weighted_pipeline"] == 500.0  # C: 2000 × 25 %
    assert s["avg_cycle_days"] == 10.0
    stages = {st["key"]: st for st in s["stages"]}
    assert [st["reached"] for st in s["stages"]] == [4, 3, 2, 1, 1, 0]
    assert stages["lead"]["conversion_to_next"] == 0.75
    assert (stages["lead"]["conversion_n"], stages["lead"]["conversion_d"]) == (3, 4)
    assert stages["expansion"]["conversion_to_next"] is None
    assert stages["negotiation"]["avg_days_in_stage"] == 5.0
    assert stages["qualified"]["open_amount"] == 2000.0
    assert s["lost_reasons"] == {"price": 1, "[bold]too pricey[/bold]": 1}
    assert s["by_source"]["展会"] == {"reached_first": 1, "won": 1, "lost": 0, "win_rate": 1.0, "small_sample": True}
    assert s["tiers"] == {"A": 1, "B": 0, "C": 0}


def test_owner_me_and_by_owner(run, filled):
    code, out, _ = run("summary", "--owner", "me", "--format", "json")
    s = json.loads(out)
    assert s["owner"] == "王磊" and (s["won"], s["lost"]) == (1, 1)
    code, out, _ = run("summary", "--by-owner", "--format", "json")
    reps = json.loads(out)
    assert [r["owner"] for r in reps] == ["Acme [/]", "王磊"]
    assert reps[1] == s
    code, out, _ = run("summary", "--by-owner", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["owner"] for r in rows] == ["Acme [/]", "王磊"]
    assert rows[1]["won_amount"] == "1054.0"
    assert rows[1]["lead_conversion"] == "1.0" and rows[0]["lead_conversion"] == "0.0"


def test_tables_render_hostile_text_literally(run, filled):
    code, out, _ = run("summary", "--by-owner")
    assert code == 0 and "Acme [/]" in out and "王磊" in out
    code, out, _ = run("summary")
    assert "[@click=app.quit]x" in out and "[bold]too pricey[/bold]" in out
    assert "1,054" in out and "1/3 33%*" in out
    code, out, _ = run("summary", "--owner", "Acme [/]")
    assert code == 0 and "Acme [/]" in out


def test_since_until_and_bad_dates(run, filled):
    code, out, _ = run("summary", "--since", "2026-11-14", "--until", "2026-11-23", "--format", "json")
    s = json.loads(out)
    assert [st["reached"] for st in s["stages"]][:3] == [2, 1, 0]  # C (15th) and D (22nd)
    code, _, err = run("summary", "--since", "someday")
    assert code == 1 and "since" in err
    code, _, err = run("summary", "--since", "2026-11-20", "--until", "2026-11-10")
    assert code == 1 and "until" in err


def test_as_of_before_and_after_a_move(run, filled):
    # C moved lead → qualified on 2026-11-19 10:00 Shanghai (5 days before NOW).
    code, out, _ = run("summary", "--owner", "me", "--as-of", "2026-11-18", "--format", "json")
    s = json.loads(out)
    stages = {st["key"]: st for st in s["stages"]}
    assert s["as_of"] == "2026-11-18T23:59:59+08:00"
    assert stages["lead"]["current"] == 1 and stages["qualified"]["current"] == 0
    assert s["lost"] == 0  # B was lost on the 21st
    code, out, _ = run("summary", "--owner", "me", "--as-of", "2026-11-19 12:00", "--format", "json")
    stages = {st["key"]: st for st in json.loads(out)["stages"]}
    assert stages["lead"]["current"] == 0 and stages["qualified"]["current"] == 1


def test_summary_csv_is_the_stage_table(run, filled):
    code, out, _ = run("summary", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["key"] for r in rows] == ["lead", "qualified", "demo", "negotiation", "won", "expansion"]
    assert rows[0]["reached"] == "4" and rows[0]["conversion_to_next"] == "0.75"


def test_empty_database(run):
    code, out, _ = run("summary", "--format", "json")
    s = json.loads(out)
    assert code == 0 and s["win_rate"] is None and s["stages"][0]["reached"] == 0
    assert run("summary")[0] == 0
    code, out, _ = run("summary", "--by-owner")
    assert code == 0 and "No deals" in out
    assert run("review")[0] == 0


@pytest.fixture
def leaking(db_path):
    """Twelve leads a week for the last two whole weeks, of which two qualified each week."""
    store = Store(db_path)
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    for week in (1, 2):
        start = monday - timedelta(weeks=week) + timedelta(days=1)
        ids = [store.add_deal({"customer": f"W{week}-{i}", "amount": "100"}, now=start) for i in range(12)]
        for i in ids[:2]:
            store.move_deal(i, "qualified", now=start + timedelta(days=2))
    won = store.add_deal({"customer": "Big", "amount": "1054", "stage": "negotiation"}, now=ago(40))
    store.move_deal(won, "won", now=ago(0.5))
    store.close()


def test_review_flags_a_bottleneck_after_two_low_weeks(run, leaking):
    code, out, err = run("review", "--format", "json")
    assert code == 0, err
    r = json.loads(out)
    assert r["week_start"] == "2026-11-23T00:00:00+08:00"
    metrics = {m["metric"]: m for m in r["metrics"]}
    assert metrics["new_deals"]["last_week"] == 12 and metrics["new_deals"]["avg_4_weeks"] == 6.0
    assert metrics["wins"]["this_week"] == 1 and metrics["won_amount"]["this_week"] == 1054.0
    lead = next(c for c in r["conversion"] if c["stage"] == "lead")
    assert lead["last_week"] == {"n": 2, "d": 12, "ratio": 0.1667}
    assert lead["bottleneck"] is True
    code, out, _ = run("review")
    assert "BOTTLENECK" in out
    code, out, _ = run("review", "--threshold", "10", "--format", "json")
    assert next(c for c in json.loads(out)["conversion"] if c["stage"] == "lead")["bottleneck"] is False
    assert run("review", "--threshold", "0")[0] == 1
