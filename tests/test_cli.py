"""The command line: a morning's loop, JSON shapes, exit codes, and bad input (issue 2 §5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from funnel_tui.store import Store

# Store and command-line behaviour is the same on a SQLite file and on a team server (issue 18).
pytestmark = [*globals().get("pytestmark", []), pytest.mark.both_backends]

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(funnel):
    """`run(*argv)` -> (code, out, err) against this test's database (conftest's funnel)."""
    return funnel


def test_morning_loop(run, db_path):
    assert run("add", "华信科技", "--amount", "12万", "--follow-up", "today 09:00", "--past", "--owner", "王磊")[0] == 0
    assert run("add", "Acme Robotics", "--stage", "demo", "--follow-up", "tomorrow 09:00")[0] == 0
    code, out, _ = run("due", "--format", "json")
    assert code == 11  # one overdue (09:00 < 10:00)
    items = json.loads(out)
    assert [(i["deal_id"], i["bucket"], i["due_at"]) for i in items] == [
        (1, "overdue", "2026-11-24T09:00:00+08:00"),
        (2, "24h", "2026-11-25T09:00:00+08:00"),  # 23 h ahead
    ]
    assert set(items[0]) == {"followup_id", "deal_id", "customer", "title", "stage", "kind", "due_at", "bucket", "note"}
    code, out, _ = run("done", str(items[0]["followup_id"]), "--note", "聊了预算", "--next", "fri 10:00")
    assert code == 0 and "next follow-up" in out
    code, out, _ = run("move", "1", "next")
    assert code == 0 and "qualified" in out
    assert run("add", "Tyrell Biotech", "--title", "PoC")[0] == 0
    code, out, _ = run("due", "--format", "json")
    assert code == 10 and [i["deal_id"] for i in json.loads(out)] == [2]
    code, out, _ = run("show", "1", "--format", "json")
    shown = json.loads(out)
    assert shown["stage"] == "qualified" and shown["amount"] == 120000.0
    assert [h["kind"] for h in shown["history"]][:1] == ["created"]
    assert any(h["kind"] == "stage" and h["to_stage"] == "qualified" for h in shown["history"])
    assert [t["note"] for t in shown["touches"]] == ["聊了预算"]
    assert [f["due_at"] for f in shown["followups"] if f["status"] == "open"] == ["2026-11-27T10:00:00+08:00"]


def test_due_exit_zero_when_nothing_due(run):
    run("add", "Quiet Co")
    assert run("due")[0] == 0


def test_due_table_caps_rows_with_more_line(run):
    for i in range(30):
        run("add", f"客户{i}", "--follow-up", "+1h")
    code, out, _ = run("due", "--limit", "5")
    assert code == 10
    assert "… and 25 more" in out


@pytest.mark.parametrize(
    "argv, field",
    [
        (["add", "X", "--stage", "closing"], "stage"),
        (["add", "X", "--probability", "250"], "probability"),
        (["add", "X", "--amount", "abc"], "amount"),
        (["add", "X", "--close", "2024-13-01"], "expected_close"),
        (["add", ""], "customer"),
        (["move", "99", "demo"], "deal"),
        (["follow-up", "1", "someday"], "when"),
        (["lose", "1", " "], "lost_reason"),
    ],
)
def test_bad_values_exit_nonzero_with_one_line_and_write_nothing(run, db_path, argv, field):
    run("add", "Existing")
    store = Store(db_path)
    hist_before = len(store.deal_history(1))
    code, out, err = run(*argv)
    assert code == 1
    assert err.count("\n") == 1 and field in err
    assert store.count_deals(status="all") == 1
    assert len(store.deal_history(1)) == hist_before


def test_markup_and_controls_print_literally(run):
    run("add", "Acme [/] \x1b]0;PWNED\x07 [@click=app.quit]x")
    code, out, _ = run("list", "--format", "json")
    [deal] = json.loads(out)
    assert deal["customer"] == "Acme [/]  [@click=app.quit]x"
    code, out, _ = run("list")
    assert "Acme [/]" in out and "\x1b" not in out


def test_list_json_keys_are_the_csv_columns(run):
    from funnel_tui.exchange.columns import CSV_COLUMNS

    run("add", "Keys Ltd", "--amount", "1054")
    [deal] = json.loads(run("list", "--format", "json")[1])
    assert list(deal) == list(CSV_COLUMNS)
    assert deal["amount"] == 1054.0
    csv_out = run("list", "--format", "csv")[1]
    assert csv_out.splitlines()[0] == ",".join(CSV_COLUMNS)


def test_warnings_json_shape(run):
    run("add", "Old Co")
    code, out, _ = run("warnings", "--format", "json")
    rows = json.loads(out)
    assert rows and set(rows[0]) == {"deal_id", "customer", "stage", "kind", "days", "limit"}


def test_help_explains_every_command():
    proc = subprocess.run([sys.executable, "-m", "funnel_tui", "--help"], capture_output=True, text=True,
                          cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0
    for name in ("add", "move", "lose", "reopen", "follow-up", "done", "log", "snooze", "due", "warnings",
                 "list", "show", "stages", "undo", "demo"):
        assert name in proc.stdout


def test_warnings_table_shows_worst_of_each_kind_with_true_counts(run):
    for i in range(15):
        run("add", f"Stale {i}")
    code, out, _ = run("warnings", "--limit", "3")
    assert code == 0
    assert "15 no_next_step" in out
    assert "… and 12 more" in out
    assert len(__import__("json").loads(run("warnings", "--format", "json")[1])) == 15


def test_due_notify_uses_notify_send_or_says_it_cannot(run, tmp_path, monkeypatch):
    run("add", "Ring Co", "--follow-up", "today 09:00", "--past")
    # No notifier on PATH: said on stderr, exit code still tells what is due.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, _, err = run("due", "--notify")
    assert code == 11 and "no desktop notifier" in err
    # A notify-send on PATH is called with the counts.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "notified.txt"
    script = bin_dir / "notify-send"
    script.write_text(f"#!/bin/sh\nprintf '%s|' \"$@\" > {log}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    code, _, err = run("due", "--notify")
    assert code == 11 and err == ""
    assert log.read_text() == "funnel: follow-ups|1 overdue · 0 due soon|"


def test_settings_show_set_and_refuse(run):
    assert run("settings", "me", "王磊")[0] == 0
    assert run("settings", "me")[1].strip() == "王磊"
    code, _, err = run("settings", "lang", "fr")
    assert code == 1 and "lang:" in err
    code, _, err = run("settings", "tier_a_share", "0.97")
    assert code == 1 and "must be below tier B" in err
    assert run("settings", "tier_a_share", "0.7")[0] == 0
    rows = json.loads(run("settings", "--format", "json")[1])
    assert {r["key"]: r["value"] for r in rows}["tier_a_share"] == "0.7"
    run("add", "Mine Co", "--owner", "王磊", "--amount", "100")
    summary = json.loads(run("summary", "--owner", "me", "--format", "json")[1])
    assert summary["owner"] == "王磊"
