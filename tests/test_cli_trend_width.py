"""`funnel trend` fits 80 columns after a pipeline split: the cohorts are spread over as many
tables as the steps need, no number is cut, and each table still names its steps."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from funnel_tui.cli import main
from funnel_tui.cli.trend import EDGES, GAP, PERIOD_WIDTH, step_chunks
from funnel_tui.domain.text import display_width
from funnel_tui.exchange.demo import fill_demo
from funnel_tui.store import Store


@pytest.fixture
def split_db(tmp_path, now):
    """The demo (seed 5), then Demo and Negotiation each split in two: seven steps."""
    path = tmp_path / "split.db"
    store = Store(path)
    fill_demo(store, deals=120, seed=5, now=now - timedelta(days=1))
    store.split_stage("demo", [("demo1", "Technical demo", "技术演示"), ("prop", "Written proposal", "书面方案")],
                      now=now - timedelta(hours=12))
    store.split_stage("negotiation", [("terms", "Terms negotiation", "条款谈判"),
                                      ("price", "Price confirmation", "价格确认")], now=now - timedelta(hours=11))
    store.close()
    return path


def test_step_chunks_fill_each_table_then_start_the_next():
    base = EDGES + PERIOD_WIDTH
    assert step_chunks([9, 9, 9], base + 3 * (GAP + 9)) == [[0, 1, 2]]
    assert step_chunks([9, 9, 9], base + 3 * (GAP + 9) - 1) == [[0, 1], [2]]
    assert step_chunks([90, 9], 80) == [[0], [1]]  # a step wider than the room still gets a table
    assert step_chunks([], 80) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_trend_table_fits_80_columns_after_a_split(split_db, capsys, monkeypatch, lang):
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    monkeypatch.setenv("COLUMNS", "80")
    if lang == "zh":
        monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    args = ["--db", str(split_db), "trend", "--as-of", "2026-11-24 10:00"]
    assert main([*args, "--format", "json"]) == 0
    t = json.loads(capsys.readouterr().out)
    assert len(t["steps"]) == 7
    assert main(args) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(display_width(line) for line in lines) <= 80
    # Every period's row, across the tables, holds each step's n/d whole.
    for p in t["periods"]:
        label = p["label"] + ("…" if p["partial"] else "")
        cells = " ".join(line for line in lines if line.strip().startswith(label + " "))
        for st in t["steps"]:
            c = p["conversion"][st["stage"]]
            if c["d"]:
                assert f"{c['n']}/{c['d']} " in cells + " ", (label, st["stage"], cells)
    assert sum(1 for line in lines if line.strip().startswith(("period", "周期"))) >= 3  # ≥2 cohort tables + flow
