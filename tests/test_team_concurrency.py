"""Issue 18: concurrency on a server, with real processes (tests/pg_workers.py).

Row locks (SELECT … FOR UPDATE) queue simultaneous writes to one deal, so both succeed;
advisory locks serialize imports and first-open schema creation; a stale form is still
refused by the deal's version.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOW

pytestmark = pytest.mark.slow
WORKERS = Path(__file__).with_name("pg_workers.py")


def _run_together(jobs: list[list[str]], timeout: int = 240) -> list[dict]:
    """Start every worker, wait until all are ready, release them at once; their JSON lines."""
    env = {**os.environ, "PYTHONPATH": str(WORKERS.parent.parent)}
    procs = [subprocess.Popen([sys.executable, str(WORKERS), *job], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for job in jobs]
    try:
        for p in procs:
            line = p.stdout.readline().strip()
            assert line == "ready", p.stderr.read()[-3000:]
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            assert p.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def test_ten_reps_write_at_once_and_nothing_is_lost_or_refused(pg_url, team_member):
    from funnel_tui.store import Store

    reps = [f"rep{i}" for i in range(10)]
    urls = {name: team_member(name) for name in reps}
    boss = team_member("boss", lead=True)
    admin = Store(pg_url)
    shared = admin.add_deal({"customer": "Everyone's", "owner": "boss"}, now=NOW)
    rounds = 8
    jobs = [["rep_day", urls[name], name, str(rounds)] for name in reps]
    # Three of the lead's terminals hammer one deal at the same moment.
    jobs += [["same_deal", boss, str(shared), f"t{k}", str(rounds)] for k in range(3)]
    results = _run_together(jobs)
    assert [r["refused"] for r in results] == [[]] * len(jobs)
    assert [r["done"] for r in results] == [rounds] * len(jobs)

    deals = admin.list_deals(status="all")
    assert len(deals) == 10 * rounds + 1
    for name in reps:
        mine = [d for d in deals if d["owner"] == name]
        assert sorted(d["customer"] for d in mine) == sorted(f"{name}-{i}" for i in range(rounds))
        assert all(d["stage"] == "qualified" and d["last_contact_at"] is not None for d in mine)
        # Each rep sees exactly their own.
        rep = Store(urls[name])
        assert rep.count_deals(status="all") == rounds
        rep.close()
    # The shared deal: every terminal's every change is there, in history and in fact.
    touches = admin.deal_touches(shared)
    assert len(touches) == 3 * rounds
    history = admin.deal_history(shared)
    notes = [h for h in history if h["field"] == "notes"]
    assert len(notes) == 3 * rounds
    assert all(h["author"] == "boss" for h in history[1:])
    assert len(admin.deal_follow_ups(shared, open_only=True)) == 3 * rounds
    # Every notes change is a new version; last contact moved once (every touch is at NOW).
    assert admin.get_deal(shared)["version"] == 1 + 3 * rounds + 1
    admin.close()


def test_a_stale_edit_from_a_form_is_still_refused(pg_url):
    from funnel_tui.store import StaleDealError, Store

    a, b = Store(pg_url), Store(pg_url)
    deal = a.add_deal({"customer": "Form"}, now=NOW)
    seen = b.get_deal(deal)["version"]  # b opens the edit form
    a.update_deal(deal, {"title": "from a"}, now=NOW, expected_version=seen)
    with pytest.raises(StaleDealError, match="changed elsewhere"):
        b.update_deal(deal, {"title": "from b"}, now=NOW, expected_version=seen)
    assert a.get_deal(deal)["title"] == "from a"


def test_simultaneous_first_opens_create_the_schema_once(pg_empty_url):
    from funnel_tui.store import Store

    results = _run_together([["first_open", pg_empty_url] for _ in range(4)])
    assert [r["stages"] for r in results] == [6] * 4
    with Store(pg_empty_url).engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM stage").scalar() == 6
        assert conn.exec_driver_sql("SELECT count(*) FROM funnel_schema").scalar() == 1


def test_two_imports_of_one_file_at_once_take_turns(pg_url, tmp_path, monkeypatch):
    from funnel_tui.cli import main
    from funnel_tui.store import Store

    source = Store(tmp_path / "source.db")
    for i in range(150):
        source.add_deal({"customer": f"Imported {i}", "amount": str(i)}, now=NOW)
    csv = tmp_path / "deals.csv"
    assert main(["--db", str(tmp_path / "source.db"), "export", str(csv)]) == 0
    results = _run_together([["import_file", pg_url, str(csv)] for _ in range(2)])
    assert [r["code"] for r in results] == [0, 0], results
    store = Store(pg_url)
    assert store.count_deals(status="all") == 150
    outs = sorted(r["out"] for r in results)
    assert any("150 duplicate" in o or "duplicates 150" in o or "150 duplicates" in o for o in outs), outs
    # Each import says where its backup (a pg_dump) is.
    assert all("backup first:" in r["out"] and ".dump" in r["out"] for r in results), outs


def test_a_second_done_on_one_follow_up_waits_then_is_refused(pg_url):
    """The one real conflict: two terminals completing the same follow-up. The second waits
    for the first's row lock, then sees it done and is refused; one touch is logged."""
    import threading
    import time
    from datetime import timedelta

    from funnel_tui.domain.validation import FollowUpDraft
    from funnel_tui.store import Store, StoreError
    from funnel_tui.store import followups
    from funnel_tui.store.history import new_action

    a, b = Store(pg_url), Store(pg_url)
    deal = a.add_deal({"customer": "Once"}, now=NOW)
    fid = a.add_follow_up(FollowUpDraft(deal, NOW + timedelta(hours=1)), now=NOW)
    outcome: dict = {}

    def second():
        started = time.monotonic()
        try:
            b.complete_follow_up(fid, now=NOW, note="b")
            outcome["b"] = "done"
        except StoreError as exc:
            outcome["b"] = str(exc)
        outcome["waited"] = time.monotonic() - started

    with a.write() as conn:
        followups.complete_follow_up(conn, fid, now=NOW, action=new_action(), note="a")
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.8)  # b is now waiting on the row lock a holds
        assert thread.is_alive()
    thread.join(30)
    assert "already done" in outcome["b"], outcome
    assert outcome["waited"] >= 0.5
    assert [t["note"] for t in a.deal_touches(deal)] == ["a"]
