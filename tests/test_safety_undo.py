"""Issue 5 item 5: `funnel undo` reverts the last change, again and again, from history.

One deal goes through add (with a follow-up), move, edit, follow-up done (with the next one
planned), lose and delete, each a separate `funnel` process; then `funnel undo` runs six
times and `funnel show --format json` after each proves what came back.
"""

from __future__ import annotations

import json

from helpers_procs import NOW, run_cli_many


def test_undo_walks_back_through_delete_lose_done_edit_move_and_add(tmp_path):
    db = tmp_path / "funnel.db"
    b = ["--db", str(db)]
    show = [*b, "show", "1", "--format", "json"]
    runs = [
        [*b, "add", "华为 [/]", "--amount", "100", "--follow-up", "tomorrow 10:00"],
        [*b, "move", "1", "demo"],
        [*b, "edit", "1", "--amount", "5000", "--title", "年度订阅"],
        [*b, "done", "--deal", "1", "--note", "客户说：下周再谈", "--next", "+3d"],
        [*b, "lose", "1", "价格太高"],
        [*b, "delete", "1"],
        show,                       # 6: deleted - refused
    ]
    for _ in range(6):
        runs += [[*b, "undo"], show]
    runs.append([*b, "undo"])       # nothing left
    res = run_cli_many(runs, tmp_path, env={"FUNNEL_NOW": NOW.isoformat(), "TZ": "Asia/Shanghai"})
    codes = [r["code"] for r in res]
    assert codes[:6] == [0] * 6, [r["err"] for r in res[:6]]
    assert codes[6] == 1 and b"no deal with id 1" in res[6]["err"]

    def state(k: int) -> dict:
        r = res[7 + 2 * k + 1]
        assert res[7 + 2 * k]["code"] == 0, res[7 + 2 * k]["err"]
        assert b"undone:" in res[7 + 2 * k]["out"]
        return json.loads(r["out"]) if r["code"] == 0 else {"refused": r["err"].decode()}

    def open_followups(s: dict) -> list:
        return [f for f in s["followups"] if f["status"] == "open"]

    s = state(0)  # undo delete: the deal is back, still lost
    assert s["status"] == "lost" and s["lost_reason"] == "价格太高"

    s = state(1)  # undo lose: open again, the follow-up the loss canceled is open again
    assert (s["status"], s["lost_reason"], s["closed_at"]) == ("open", "", "")
    assert len(open_followups(s)) == 1

    s = state(2)  # undo done: the first follow-up open again, the touch voided, the next one gone
    fus = {f["followup_id"]: f["status"] for f in s["followups"]}
    assert fus == {1: "open", 2: "canceled"}
    assert s["touches"] == [] and s["last_contact_at"] == ""

    s = state(3)  # undo edit
    assert (s["amount"], s["title"]) == (100.0, "")
    assert s["stage"] == "demo"

    s = state(4)  # undo move
    assert s["stage"] == "lead" and s["probability"] == 10

    s = state(5)  # undo add (deal and its first follow-up, one action): (soft) deleted again
    assert "refused" in s and "no deal with id 1" in s["refused"]

    assert res[-1]["code"] == 0 and res[-1]["out"].strip() == b"nothing to undo"


def test_undo_is_recorded_not_rewritten(tmp_path):
    # History is append-only: undo adds "undo:<action>" rows and the database refuses edits.
    import sqlite3

    from funnel_tui.store import Store

    db = tmp_path / "funnel.db"
    store = Store(db)
    deal_id = store.add_deal({"customer": "Acme"}, now=NOW)
    store.move_deal(deal_id, "demo", now=NOW)
    before = [tuple(r.values()) for r in store.deal_history(deal_id)]
    assert store.undo(now=NOW)["deal_ids"] == [deal_id]
    after = [tuple(r.values()) for r in store.deal_history(deal_id)]
    assert after[: len(before)] == before and len(after) > len(before)
    assert all(r["action"].startswith("undo:") for r in store.deal_history(deal_id)[len(before):])
    con = sqlite3.connect(db)
    for sql in ("UPDATE history SET old = 'x'", "DELETE FROM history", "DELETE FROM deal"):
        try:
            con.execute(sql)
        except sqlite3.IntegrityError as exc:
            assert "history is append-only" in str(exc) or "never deleted" in str(exc)
        else:
            raise AssertionError(f"{sql} was allowed")
    con.close()
    store.close()
