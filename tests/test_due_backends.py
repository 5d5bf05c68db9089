"""`funnel due` on both backends and in team mode (issue 19 after issue 18).

The sqlite3 path (store/due_read.py) is taken for a plain SQLite file only: on a server the
Store answers, and row-level security decides whose follow-ups a rep sees. On either path an
undone change is undone in what `due` says (undo restores the rows the due query reads).
"""

from __future__ import annotations

import json

import pytest

from conftest import NOW
from funnel_tui.store import due_read

pytestmark = [pytest.mark.both_backends]

ONE_OVERDUE = "1 overdue · 0 due in 24h · 0 due in 3d\n"
NOTHING = "0 overdue · 0 due in 24h · 0 due in 3d\n"


@pytest.fixture
def plain_reads(monkeypatch):
    """Every sqlite3 read `funnel due` opens, by path (what open_plain answered is kept)."""
    seen: list = []
    real = due_read.open_plain

    def spy(path, **kw):
        conn = real(path, **kw)
        seen.append((path, conn is not None))
        return conn

    monkeypatch.setattr(due_read, "open_plain", spy)
    return seen


def _both_paths(funnel, monkeypatch, *argv: str):
    """The command's (code, out) as run, and as run with the sqlite3 path switched off."""
    fast = funnel("due", *argv)[:2]
    with monkeypatch.context() as m:
        m.setattr(due_read, "open_plain", lambda path, **kw: None)
        slow = funnel("due", *argv)[:2]
    return fast, slow


def test_the_fast_path_is_sqlite_only_and_both_paths_agree(funnel, backend, plain_reads, monkeypatch):
    funnel("add", "Acme", "--follow-up", "today 09:00", "--past")
    funnel("add", "Beta", "--follow-up", "+2h")
    code, out, _ = funnel("due", "--count")
    assert (code, out) == (11, "1 overdue · 1 due in 24h · 0 due in 3d\n")
    # A server URL never reaches the sqlite3 reader; a SQLite file is read by it.
    assert [ok for _path, ok in plain_reads] == ([True] if backend == "sqlite" else [])
    for argv in (["--count"], [], ["--format", "json"], ["--format", "csv", "--within", "7d"]):
        fast, slow = _both_paths(funnel, monkeypatch, *argv)
        assert fast == slow, argv


def test_an_undone_completion_is_due_again_on_both_paths(funnel, monkeypatch):
    funnel("add", "Acme", "--follow-up", "today 09:00", "--past")
    [item] = json.loads(funnel("due", "--format", "json").out)
    assert funnel("done", str(item["followup_id"]))[0] == 0
    assert _both_paths(funnel, monkeypatch, "--count") == ((0, NOTHING), (0, NOTHING))
    assert funnel("undo")[0] == 0  # the completion taken back: the follow-up is open again
    assert _both_paths(funnel, monkeypatch, "--count") == ((11, ONE_OVERDUE), (11, ONE_OVERDUE))
    again = _both_paths(funnel, monkeypatch, "--format", "json")
    assert again[0] == again[1] and json.loads(again[0][1]) == [item]


def test_an_undone_add_leaves_nothing_due_on_both_paths(funnel, monkeypatch):
    funnel("add", "Kept", "--follow-up", "+2h")
    funnel("add", "Taken back", "--follow-up", "today 09:00", "--past")
    assert funnel("due", "--count")[0] == 11
    assert funnel("undo")[0] == 0
    fast, slow = _both_paths(funnel, monkeypatch, "--format", "json")
    assert fast == slow and fast[0] == 10
    assert [i["customer"] for i in json.loads(fast[1])] == ["Kept"]


# --- schema v5: pipelines and archived stages (issue 16) ---------------------------------------


def _two_pipelines(funnel) -> None:
    """New business (the default) with `demo` archived and `negotiation` split into terms and
    price; renewals beside it, with `renew-talk` split too. A follow-up due on a deal of each."""
    res = funnel("pipelines", "add", "renewals", "--name", "Renewals", "--name-zh", "续费",
                 "--stages", "renew-due:到期提醒", "renew-talk:续费沟通", "renewed:续费成功")
    assert res.code == 0, res.err
    assert funnel("add", "New Co", "--follow-up", "today 09:00", "--past").code == 0  # 1: lead, overdue
    assert funnel("add", "Split Co", "--stage", "negotiation", "--follow-up", "+2h").code == 0  # 2
    assert funnel("add", "老客户", "--pipeline", "续费", "--follow-up", "today 08:00", "--past").code == 0  # 3
    assert funnel("add", "续约公司", "--pipeline", "renewals", "--stage", "renew-talk",
                  "--follow-up", "+2d").code == 0  # 4
    assert funnel("add", "Lost Co", "--stage", "demo", "--follow-up", "+1h").code == 0  # 5
    assert funnel("lose", "5", "price").code == 0
    for argv in (("stages", "split", "negotiation", "--into", "terms:条款谈判", "price:价格确认"),
                 ("stages", "split", "renew-talk", "--into", "call:电话沟通", "offer:续费报价"),
                 ("stages", "archive", "demo")):
        res = funnel(*argv)
        assert res.code == 0, (argv, res.err)


def test_two_pipelines_and_archived_stages_read_the_same_on_both_paths(funnel, backend, plain_reads,
                                                                        monkeypatch):
    """`--pipeline` narrows the sqlite3 path to that pipeline's deals exactly as the Store
    does (archived stages included), and without it both read every pipeline's."""
    _two_pipelines(funnel)
    customers = {}
    for pipeline in (None, "main", "renewals", "续费", "New business"):
        argv = ["--format", "json", "--within", "7d"] + (["--pipeline", pipeline] if pipeline else [])
        fast, slow = _both_paths(funnel, monkeypatch, *argv)
        assert fast == slow, pipeline
        customers[pipeline] = [(i["customer"], i["stage"]) for i in json.loads(fast[1])]
    # By hand: the overdue ones first; Split Co now sits in terms, 续约公司 in call.
    assert customers[None] == [("老客户", "renew-due"), ("New Co", "lead"), ("Split Co", "terms"),
                               ("续约公司", "call")]
    assert customers["main"] == customers["New business"] == [("New Co", "lead"), ("Split Co", "terms")]
    assert customers["renewals"] == customers["续费"] == [("老客户", "renew-due"), ("续约公司", "call")]
    for argv in (["--count"], [], ["--pipeline", "renewals"], ["--pipeline", "renewals", "--count"],
                 ["--pipeline", "main", "--count", "--format", "json"], ["--pipeline", "main", "--format", "csv"]):
        fast, slow = _both_paths(funnel, monkeypatch, *argv)
        assert fast == slow, argv
    assert _both_paths(funnel, monkeypatch, "--pipeline", "main", "--within", "24h", "--count")[0] == \
        (11, "1 overdue · 1 due in 24h\n")
    if backend == "sqlite":  # every one of those was answered by the sqlite3 reader
        assert plain_reads and all(ok for _path, ok in plain_reads)


def test_a_pipeline_nobody_keeps_is_refused_alike(funnel, monkeypatch):
    _two_pipelines(funnel)
    fast = funnel("due", "--pipeline", "upsell")
    with monkeypatch.context() as m:
        m.setattr(due_read, "open_plain", lambda path, **kw: None)
        slow = funnel("due", "--pipeline", "upsell")
    assert fast == slow and fast.code == 1 and "unknown pipeline 'upsell'" in fast.err


def test_an_undone_archive_and_split_read_the_same_on_both_paths(funnel, monkeypatch):
    """Undo writes the stage table back (its history rows and undo marks are no reader's
    business here): both paths follow it."""
    _two_pipelines(funnel)
    for _undo in range(3):  # the archive, then the two splits
        assert funnel("undo").code == 0
        for argv in (["--pipeline", "renewals", "--format", "json"], ["--pipeline", "main", "--format", "json"]):
            fast, slow = _both_paths(funnel, monkeypatch, *argv)
            assert fast == slow, argv
    [item] = [i for i in json.loads(funnel("due", "--pipeline", "renewals", "--format", "json", "--within",
                                           "7d").out) if i["customer"] == "续约公司"]
    assert item["stage"] == "renew-talk"  # the split taken back


# --- team mode: whose follow-ups a rep sees is the server's to say ------------------------------


@pytest.fixture
def team_urls(backend, team_member):
    """ann and bob (reps) and lea (lead) on the test's server database: their URLs."""
    if backend != "postgresql":
        pytest.skip("team mode is a server's")
    return {name: team_member(name, lead=lead) for name, lead in (("ann", False), ("bob", False), ("lea", True))}


def test_a_rep_on_a_server_counts_only_their_own_follow_ups(funnel, team_urls, plain_reads, capsys):
    def run(who: str, *argv: str) -> tuple[int, str]:
        code = funnel.code(team_urls[who], *argv)
        return code, capsys.readouterr().out

    assert run("ann", "add", "Ann Co", "--follow-up", "today 09:00", "--past")[0] == 0
    assert run("bob", "add", "Bob Co", "--follow-up", "+2h")[0] == 0
    assert run("ann", "due", "--count") == (11, ONE_OVERDUE)
    assert run("bob", "due", "--count") == (10, "0 overdue · 1 due in 24h · 0 due in 3d\n")
    assert run("lea", "due", "--count") == (11, "1 overdue · 1 due in 24h · 0 due in 3d\n")
    assert run("lea", "due", "--count", "--owner", "bob")[0] == 10
    # `me` is the connected rep (their `me` setting, by default their role), not an owner named "me".
    assert run("ann", "due", "--count", "--owner", "me") == (11, ONE_OVERDUE)
    assert run("bob", "due", "--count", "--owner", "me") == (10, "0 overdue · 1 due in 24h · 0 due in 3d\n")
    assert run("lea", "due", "--count", "--owner", "me") == (0, NOTHING)
    code, out = run("bob", "due", "--format", "json")
    assert code == 10 and [i["customer"] for i in json.loads(out)] == ["Bob Co"]
    # Bob's undo is his own: ann's follow-up stays due for ann and the lead.
    assert run("bob", "undo")[0] == 0
    assert run("bob", "due", "--count") == (0, NOTHING)
    assert run("ann", "due", "--count") == (11, ONE_OVERDUE)
    assert run("lea", "due", "--count") == (11, ONE_OVERDUE)
    assert plain_reads == []  # never the sqlite3 reader on a server


def test_a_server_that_cannot_be_reached_is_one_line_for_a_prompt(funnel, backend, capsys):
    if backend != "postgresql":
        pytest.skip("a server's")
    code = funnel.code("postgresql://nobody:s3cret@127.0.0.1:1/funnel", "due", "--count")
    out, err = capsys.readouterr()
    # Exit 1 (not 0, 10 or 11): a prompt shows nothing due rather than a wrong count.
    assert (code, out) == (1, "")
    assert len(err.strip().splitlines()) == 1 and "s3cret" not in err
