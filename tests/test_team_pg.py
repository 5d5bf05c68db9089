"""Issue 18: a team on one PostgreSQL server (the session's throwaway cluster, tests/pg_cluster.py).

Row-level security (a rep's own deals, a lead's all), the server's own rules (append-only
history, no deal deleted, authors), 64-bit money, per-user undo and settings, `funnel team`,
schema versions, pg_dump backups, named connection errors, and `demo` on a server.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from conftest import NOW, db_name

BIG = 10 ** 10  # ¥10,000,000,000 in yuan: 10^12 fen


def test_a_rep_sees_and_changes_only_their_own_deals_and_the_lead_sees_all(team):
    from funnel_tui.domain.validation import TouchDraft
    from funnel_tui.store import NotFound, StoreError

    ann, bob, lea = team["ann"], team["bob"], team["lea"]
    a1 = ann.add_deal({"customer": "Ann Co", "amount": "100"}, now=NOW)
    b1 = bob.add_deal({"customer": "Bob Co", "amount": "200"}, now=NOW)
    ann.log_touch(TouchDraft(a1, note="called"), now=NOW)

    assert [d["customer"] for d in ann.list_deals()] == ["Ann Co"]
    assert [d["owner"] for d in ann.list_deals()] == ["ann"]  # a new deal is its adder's
    assert [d["customer"] for d in bob.list_deals()] == ["Bob Co"]
    assert sorted(d["customer"] for d in lea.list_deals()) == ["Ann Co", "Bob Co"]
    with pytest.raises(NotFound):
        bob.get_deal(a1)
    assert bob.deal_history(a1) == [] and bob.deal_touches(a1) == []
    assert len(lea.deal_touches(a1)) == 1
    with pytest.raises(NotFound):
        bob.move_deal(a1, "qualified", now=NOW)
    # Board, Today and Summary read what the server shows: ann's own funnel.
    ann_totals = ann.board_totals()  # (each column also carries its totals per currency)
    assert {k: {f: v[f] for f in ("count", "amount", "weighted")} for k, v in ann_totals.items()} == {
        "lead": {"count": 1, "amount": 10000, "weighted": 1000}}
    assert lea.board_totals()["lead"]["count"] == 2
    assert ann.summary(now=NOW)["stages"][0]["reached"] == 1
    assert ann.owners() == ["ann"] and lea.owners() == ["ann", "bob"]

    # A rep cannot hand a deal away (the server refuses, nothing changes); a lead can.
    with pytest.raises(StoreError, match="no permission"):
        ann.update_deal(a1, {"owner": "bob"}, now=NOW)
    assert lea.get_deal(a1)["owner"] == "ann"
    lea.update_deal(a1, {"owner": "bob"}, now=NOW)
    assert [d["customer"] for d in ann.list_deals()] == []
    assert sorted(d["customer"] for d in bob.list_deals()) == ["Ann Co", "Bob Co"]
    # Nor can a rep add a deal in someone else's name.
    with pytest.raises(StoreError, match="no permission"):
        ann.add_deal({"customer": "Sneaky", "owner": "bob"}, now=NOW)
    assert ann.team_role() == "rep" and lea.team_role() == "lead"


def test_history_is_append_only_and_deals_are_never_deleted_on_the_server(team):
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    admin, ann = team["admin"], team["ann"]
    deal = ann.add_deal({"customer": "Kept"}, now=NOW)
    ann.move_deal(deal, "qualified", now=NOW)
    for who in (admin, ann):  # not even the table's owner
        for sql in ("UPDATE history SET old = 'x'", "DELETE FROM history", "TRUNCATE history",
                    "DELETE FROM deal", "TRUNCATE deal CASCADE"):
            with pytest.raises((DBAPIError, ProgrammingError)) as info:
                with who.engine.begin() as conn:
                    conn.execute(text(sql))
            assert "append-only" in str(info.value) or "never deleted" in str(info.value) \
                or "permission denied" in str(info.value), sql
    assert len(admin.deal_history(deal)) == 3
    assert admin.get_deal(deal)["stage"] == "qualified"


def test_history_rows_carry_their_author_set_by_the_server(team):
    ann, lea = team["ann"], team["lea"]
    deal = ann.add_deal({"customer": "Signed"}, now=NOW)
    lea.move_deal(deal, "qualified", now=NOW)
    # A client that writes another name is overruled by the server.
    with lea.engine.begin() as conn:
        conn.execute(text("INSERT INTO history (deal_id, at, kind, action, author) "
                          "VALUES (:d, now(), 'touch', 'x', 'ann')"), {"d": deal})
    authors = [(h["kind"], h["author"]) for h in lea.deal_history(deal)]
    assert authors[0] == ("created", "ann")
    assert ("stage", "lea") in authors and authors[-1] == ("touch", "lea")


def test_ten_billion_yuan_at_probability_100_works_everywhere(team, capsys):
    from funnel_tui.cli import main

    admin = team["admin"]
    deal = admin.add_deal({"customer": "Whale", "amount": str(BIG), "probability": "100", "owner": "ann"}, now=NOW)
    admin.add_deal({"customer": "Minnow", "amount": "300000", "probability": "90", "owner": "ann"}, now=NOW)
    fen = BIG * 100
    assert admin.get_deal(deal)["amount"] == fen
    totals = admin.board_totals()["lead"]
    assert totals["amount"] == fen + 30_000_000 and totals["weighted"] == fen + 27_000_000
    assert admin.summary(now=NOW)["weighted_pipeline"] == fen + 27_000_000
    admin.update_deal(deal, {"amount": str(BIG * 2)}, now=NOW)
    admin.warnings(now=NOW)
    assert admin.tiers()[deal] == "A"
    assert main(["--db", admin.target, "export", "-", "--encoding", "utf-8"]) == 0
    out = capsys.readouterr().out
    assert "20000000000" in out and "Whale" in out


def test_undo_takes_back_only_your_own_last_change(team):
    ann, bob = team["ann"], team["bob"]
    lea = team["lea"]
    a = ann.add_deal({"customer": "A"}, now=NOW)
    b = bob.add_deal({"customer": "B"}, now=NOW)
    lea.move_deal(a, "qualified", now=NOW)  # the lead's change, after ann's
    res = ann.undo(now=NOW)  # ann's newest own change: adding A (not the lead's move)
    assert res["deal_ids"] == [a]
    assert bob.get_deal(b)["customer"] == "B"  # bob's deal untouched
    assert lea.undo(now=NOW)["deal_ids"] == [a]
    assert bob.undo(now=NOW)["deal_ids"] == [b]
    assert ann.undo(now=NOW) is None and bob.undo(now=NOW) is None


def test_personal_settings_belong_to_each_role(team):
    ann, bob = team["ann"], team["bob"]
    assert ann.get_setting("me") == "ann" and bob.get_setting("me") == "bob"
    ann.set_setting("lang", "zh")
    ann.set_setting("theme", "nord")
    assert ann.get_setting("lang") == "zh" and bob.get_setting("lang") is None
    assert bob.get_setting("theme") is None
    bob.set_setting("lang", "en")
    assert ann.get_setting("lang") == "zh"


def test_team_init_is_idempotent_and_add_rep_updates_an_existing_person(pg_url, pg_cluster, funnel):
    from funnel_tui.store import Store

    assert funnel.code(pg_url, "team", "init") == 0
    assert funnel.code(pg_url, "team", "init") == 0
    res = funnel.__class__(funnel._request, pg_url)("team", "add-rep", "cai", "--password", "one")
    assert res.code == 0 and "one" not in res.out + res.err and "cai" in res.out
    res = funnel.__class__(funnel._request, pg_url)("team", "add-lead", "cai", "--password", "two")
    assert res.code == 0 and "two" not in res.out + res.err
    s = Store(pg_cluster.url(db_name(pg_url), "cai", "two"))
    assert s.team_role() == "lead"
    s.close()


@pytest.mark.parametrize("case", ["password", "port", "database", "permission"])
def test_connection_errors_name_the_cause_and_never_the_password(pg_url, pg_cluster, funnel, case):
    from funnel_tui.store.pg_team import add_member

    db = db_name(pg_url)
    add_member(pg_url, "dan", "s3cret-pw", lead=False)
    url, want = {
        "password": (pg_cluster.url(db, "dan", "Wrong-s3cret"), "authentication failed"),
        "port": (pg_cluster.url(db, "dan", "s3cret-pw").replace(f":{pg_cluster.port}/", ":1/"),
                 "server not reachable"),
        "database": (pg_cluster.url("no_such_db", "dan", "s3cret-pw"), "no such database"),
        "permission": (pg_cluster.url("postgres", "dan", "s3cret-pw"), "no permission"),
    }[case]
    res = funnel.__class__(funnel._request, url)("list")
    assert res.code == 1, res
    assert want in res.err, res.err
    assert "s3cret" not in res.err + res.out
    assert res.err.count("\n") == 1


def test_demo_refuses_a_server_that_holds_deals(team, funnel, pg_url):
    team["bob"].add_deal({"customer": "Live"}, now=NOW)
    # ann cannot see bob's deal, and still the server's pipeline is not hers to fill.
    ann_url = team["ann"].target
    for url, argv in ((ann_url, ("demo",)), (pg_url, ("demo", "--reset"))):
        res = funnel.__class__(funnel._request, url)(*argv)
        assert res.code == 1 and "already holds deals" in res.err, res
    assert team["admin"].count_deals(status="all") == 1


def test_demo_fills_an_empty_server(pg_empty_url, funnel):
    from funnel_tui.store import Store

    res = funnel.__class__(funnel._request, pg_empty_url)("demo", "--deals", "20")
    assert res.code == 0, res.err
    assert Store(pg_empty_url).count_deals(status="all") == 20


def test_view_owner_narrows_the_board_and_today_to_one_rep(team):
    from datetime import timedelta

    from funnel_tui.domain.validation import FollowUpDraft

    admin, lea = team["admin"], team["lea"]
    for owner in ("ann", "bob"):
        deal = admin.add_deal({"customer": f"{owner} Co", "owner": owner, "amount": "10"}, now=NOW)
        admin.add_follow_up(FollowUpDraft(deal, NOW + timedelta(hours=2)), now=NOW)
    assert lea.board_totals()["lead"]["count"] == 2
    lea.view_owner = "bob"
    assert lea.board_totals()["lead"]["count"] == 1
    assert [c["customer"] for c in lea.board_column("lead")] == ["bob Co"]
    assert [d.customer for d in lea.due(now=NOW)] == ["bob Co"]
    assert {w.customer for w in lea.warnings(now=NOW)} <= {"bob Co"}
    lea.view_owner = None
    assert len(lea.due(now=NOW)) == 2


async def test_a_lead_switches_the_board_between_reps_from_the_palette(team, tz, tmp_path):
    from textual.command import CommandList

    from funnel_tui.tui.app import FunnelApp
    from funnel_tui.tui.screens.board import BoardScreen

    admin, lea = team["admin"], team["lea"]
    for owner in ("ann", "bob"):
        admin.add_deal({"customer": f"{owner} Co", "owner": owner}, now=NOW)
    app = FunnelApp(lea, lambda: NOW, tz=tz, lang="en", export_dir=tmp_path)

    def lead_cards():
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        return sorted(o.prompt.plain.split("\n")[0] for o in screen.column("lead").cards.options
                      if hasattr(o, "deal_id"))

    async def settle(pilot):
        for _i in range(20):
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()

    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await settle(pilot)
        assert [c.split()[0] for c in lead_cards()] == ["ann", "bob"]
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Show bob")
        await settle(pilot)
        await pilot.pause(0.3)
        prompts = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert any(p.startswith("Show bob's deals") for p in prompts), prompts
        await pilot.press("enter")
        await settle(pilot)
        assert lea.view_owner == "bob"
        assert [c.split()[0] for c in lead_cards()] == ["bob"]
        assert "bob's deals" in str(app.screen.query_one("#board-title").render())  # whose, in the title
        assert any("Showing bob's deals" in str(n.message) for n in app._notifications)


async def test_a_rep_is_not_offered_other_reps(team, tz, tmp_path):
    from textual.command import CommandList

    from funnel_tui.tui.app import FunnelApp

    team["admin"].add_deal({"customer": "bob Co", "owner": "bob"}, now=NOW)
    app = FunnelApp(team["ann"], lambda: NOW, tz=tz, lang="en", export_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Show")
        await pilot.pause(0.5)
        prompts = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert not any(p.startswith(("Show every rep", "Show bob", "Show ann")) for p in prompts), prompts
        assert prompts  # the palette did answer (with the board's own actions)


def test_sqlite_users_never_load_the_server_driver(tmp_path):
    """`funnel due` and `funnel add` on a file: no psycopg, no team-mode module imported."""
    import subprocess
    import sys

    db = tmp_path / "f.db"
    code = ("import sys\nfrom funnel_tui.cli import main\n"
            f"main(['--db', {str(db)!r}, 'add', 'Acme', '--follow-up', '+1h'])\n"
            f"main(['--db', {str(db)!r}, 'due'])\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('psycopg', 'funnel_tui.store.pg_')))\n"
            "print('LOADED', bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr


def test_team_commands_refuse_a_sqlite_file_and_bad_names(funnel, pg_url):
    res = funnel("team", "init")
    assert res.code == 1 and "PostgreSQL server" in res.err
    cli = funnel.__class__(funnel._request, pg_url)
    for name in ("pg_admin", "funnel_rep", "a\x07b", "x" * 64, "public"):
        res = cli("team", "add-rep", name, "--password", "pw")
        assert res.code == 1 and "team:" in res.err, (name, res)
    res = cli("team", "whoami")
    assert res.code == 0 and res.out.startswith("postgres (")


def test_on_sqlite_history_is_signed_by_the_os_user_and_undo_stays_ones_own(tmp_path, monkeypatch):
    import getpass

    from funnel_tui.store import Store

    db = tmp_path / "f.db"
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    alice = Store(db)
    a = alice.add_deal({"customer": "Alice's"}, now=NOW)
    alice.set_setting("me", "Alice W")  # renaming oneself does not lose one's undo
    alice.move_deal(a, "qualified", now=NOW)
    monkeypatch.setattr(getpass, "getuser", lambda: "bob")
    bob = Store(db)
    b = bob.add_deal({"customer": "Bob's"}, now=NOW)
    assert {h["author"] for h in bob.deal_history(a)} == {"alice"}
    assert bob.deal_history(b)[0]["author"] == "bob"
    assert alice.undo(now=NOW)["deal_ids"] == [a]
    assert alice.undo(now=NOW)["deal_ids"] == [a]  # back past the rename
    assert alice.undo(now=NOW) is None
    assert bob.get_deal(b)["customer"] == "Bob's"
    assert bob.undo(now=NOW)["deal_ids"] == [b]


def test_the_pipeline_settings_are_the_leads(team):
    from funnel_tui.store import StoreError

    with pytest.raises(StoreError, match="no permission"):
        team["ann"].set_setting("tier_a_share", "0.7")
    team["lea"].set_setting("tier_a_share", "0.7")
    assert team["ann"].get_setting("tier_a_share") == "0.7"
    with team["lea"].engine.begin() as conn:
        conn.execute(text("UPDATE stage SET max_dwell_days = 30 WHERE key = 'lead'"))
    with pytest.raises(Exception, match="permission denied"):
        with team["ann"].engine.begin() as conn:
            conn.execute(text("UPDATE stage SET max_dwell_days = 40 WHERE key = 'lead'"))


def test_real_funnel_processes_see_their_own_and_undo_their_own(team, tmp_path):
    """The done-when cases once more as a rep types them: one `funnel` process per command."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "FUNNEL_NOW": NOW.isoformat(), "XDG_DATA_HOME": str(tmp_path / "d"),
           "XDG_CONFIG_HOME": str(tmp_path / "c")}

    def funnel(who: str, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "funnel_tui", "--db", team[who].target, *argv],
                              capture_output=True, text=True, env=env, timeout=120)

    assert funnel("ann", "add", "Ann's deal").returncode == 0
    assert funnel("bob", "add", "Bob's deal").returncode == 0
    assert funnel("ann", "move", "1", "qualified").returncode == 0
    ann = json.loads(funnel("ann", "list", "--format", "json").stdout)
    lea = json.loads(funnel("lea", "list", "--format", "json").stdout)
    assert [d["customer"] for d in ann] == ["Ann's deal"]
    assert sorted(d["customer"] for d in lea) == ["Ann's deal", "Bob's deal"]
    shown = funnel("ann", "show", "2")
    assert shown.returncode == 1 and "no deal with id 2" in shown.stderr
    assert "deal 2" in funnel("bob", "undo").stdout  # bob's own add, not ann's later move
    assert funnel("ann", "list", "--format", "json").stdout.count('"qualified"') == 1
    with team["admin"].engine.connect() as conn:
        authors = conn.execute(text("SELECT DISTINCT author FROM history ORDER BY 1")).scalars().all()
    assert authors == ["ann", "bob"]


def test_a_reps_import_of_someone_elses_deals_is_refused_whole(team, tmp_path, funnel):
    import csv

    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["customer", "owner"], ["Mine", ""], ["Theirs", "bob"]])
    res = funnel.__class__(funnel._request, team["ann"].target)("import", str(src))
    assert res.code == 1 and "no permission" in res.err and res.err.count("\n") == 1, res
    assert team["admin"].count_deals(status="all") == 0
    with src.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["customer", "owner"], ["Mine", ""], ["Also mine", "ann"]])
    res = funnel.__class__(funnel._request, team["ann"].target)("import", str(src))
    assert res.code == 0 and ".dump" in res.out, res
    assert sorted(d["owner"] for d in team["lea"].list_deals()) == ["ann", "ann"]


def test_a_reps_summary_and_review_are_headed_with_their_name_not_all_reps(team, capsys):
    """A rep on a server sees only their own deals: the heading says whose they are."""
    from funnel_tui.cli import main

    team["ann"].add_deal({"customer": "Ann Co", "amount": "100"}, now=NOW)
    team["bob"].add_deal({"customer": "Bob Co", "amount": "200"}, now=NOW)
    for who, expected in (("ann", "Funnel — ann —"), ("lea", "Funnel — all reps —")):
        assert main(["--db", team[who].target, "summary"]) == 0
        assert expected in capsys.readouterr().out
    assert main(["--db", team["ann"].target, "review"]) == 0
    assert "Weekly review — ann —" in capsys.readouterr().out
    assert team["ann"].seen_as(None) == "ann" and team["lea"].seen_as(None) is None
    assert team["lea"].seen_as("bob") == "bob"
