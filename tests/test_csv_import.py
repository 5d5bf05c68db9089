"""CSV import: round trips, encodings, malformed files, other CRMs, counts, all-or-nothing, undo."""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from funnel_tui.domain.vocab import LOST_REASON
from hypothesis import given
from hypothesis import strategies as st

from funnel_tui.domain.dates import parse_timestamp
from funnel_tui.domain.validation import MULTILINE, TEXT_FIELDS, FieldError, FollowUpDraft, validate_field
from funnel_tui.exchange.columns import CSV_COLUMNS
from funnel_tui.exchange.csv_export import export_deals
from funnel_tui.exchange import profiles as P
from funnel_tui.exchange.calendar_dates import DateColumn
from funnel_tui.exchange.encodings import sniff_encoding
from funnel_tui.exchange.import_cells import fast_text
from funnel_tui.exchange.import_read import ImportFileError
from funnel_tui.exchange.importer import import_file
from funnel_tui.store import Store

DATA = Path(__file__).parent / "data"
HOSTILE = ["=1+1", "+86 138 0000 0000", "-5", "@SUM(A1)", "＝HYPERLINK(\"x\")", "＠x", "'=already",
           "Acme [/]", 'say "hi", ok', "'; DROP TABLE deal; --", "𠮷野家 🍜", "[@click=app.quit]x", "a,b;c\td"]


def _csv(path: Path, header, rows, encoding="utf-8-sig") -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def detect_encoding(path, requested="auto"):
    """The codec the import reads `path` with (the one detector: exchange.encodings)."""
    return sniff_encoding(path, requested).encoding


def _import(store, path, now, tz, **kw):
    return import_file(store, path, now=now, tz=tz, **kw)


def _export_rows(store, path, now, tz):
    export_deals(store, path, now=now, tz=tz, status="all")
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    return [r[1:] for r in rows]  # local integer ids aside


def _deals(store):
    return store.list_deals(status="all")


# --- round trip -------------------------------------------------------------------------------


def test_round_trip_hostile_and_chinese_text(store, now, tz, tmp_path):
    ids = []
    for i, text in enumerate(HOSTILE):
        ids.append(store.add_deal({
            "customer": text, "title": text, "notes": f"{text}\n第二行, \"quoted\"", "contact_phone": text[:50],
            "amount": f"{1000 + i}.5{i % 10}", "owner": "王磊", "industry": "制造",
            "expected_close": "2026-12-31", "probability": str(i * 5), "risk_level": "高",
            "lead_score": str(i % 11), "external_id": f"crm:{i}",
        }, now=now - timedelta(days=i), tz=tz))
    store.add_follow_up(FollowUpDraft(ids[0], now + timedelta(hours=3)), now=now)
    store.move_deal(ids[1], "demo", now=now - timedelta(hours=5))
    store.lose_deal(ids[2], "competitor, cheaper", now=now)
    store.move_deal(ids[3], "won", now=now - timedelta(hours=1))
    store.log_touch(__import__("funnel_tui.domain.validation", fromlist=["TouchDraft"]).TouchDraft(ids[4], note="call"),
                    now=now - timedelta(hours=2))
    first = _export_rows(store, tmp_path / "a.csv", now, tz)

    other = Store(tmp_path / "other.db")
    try:
        rep = _import(other, tmp_path / "a.csv", now + timedelta(days=1), tz)
        assert (rep.inserted, rep.rejected, rep.duplicates) == (len(HOSTILE), 0, 0)
        second = _export_rows(other, tmp_path / "b.csv", now, tz)
        assert second == first
        by_uid = {d["uid"]: d for d in _deals(other)}
        for deal_id in ids:
            orig = store.get_deal(deal_id)
            copy = by_uid[orig["uid"]]
            for col in ("customer", "title", "notes", "amount", "probability", "stage", "status", "lost_reason",
                        "created_at", "stage_entered_at", "closed_at", "last_contact_at", "next_follow_up_at",
                        "external_id", "expected_close", "risk_level", "lead_score"):
                if col in ("created_at", "stage_entered_at", "closed_at", "last_contact_at", "next_follow_up_at"):
                    a, b = orig[col], copy[col]
                    assert (a and a.replace(microsecond=0)) == b, col
                else:
                    assert orig[col] == copy[col], col
        assert by_uid[store.get_deal(ids[0])["uid"]]["customer"] == "=1+1"  # the guard undone
        assert by_uid[store.get_deal(ids[6])["uid"]]["customer"] == "'=already"
        fu = other.deal_follow_ups(by_uid[store.get_deal(ids[0])["uid"]]["id"], open_only=True)
        assert [f["due_at"] for f in fu] == [(now + timedelta(hours=3)).replace(microsecond=0)]
        # The same file again changes nothing.
        again = _import(other, tmp_path / "a.csv", now + timedelta(days=2), tz)
        assert (again.inserted, again.duplicates, again.rejected) == (0, len(HOSTILE), 0)
        assert _export_rows(other, tmp_path / "c.csv", now, tz) == first
    finally:
        other.close()


def test_documented_columns_are_honoured(store, now, tz, tmp_path):
    header = ["customer", "stage", "status", "amount", "stage_entered_at", "closed_at", "lost_reason",
              "next_follow_up_at", "created_at"]
    rows = [
        ["Open one", "demo", "open", "100", "2026-11-01T09:00:00+08:00", "", "", "2026-11-25 15:00", ""],
        ["Lost one", "qualified", "lost", "200", "2026-10-01", "2026-11-02T10:00:00+08:00", "price", "2026-11-30", ""],
        ["Won one", "negotiation", "won", "300", "2026-10-05", "2026-11-03", "", "", "2026-09-01"],
        ["Template date", "lead", "", "", "", "", "", "2026-11-26", ""],
    ]
    rep = _import(store, _csv(tmp_path / "d.csv", header, rows), now, tz)
    assert (rep.inserted, rep.rejected, rep.follow_ups) == (4, 0, 2)
    d = {x["customer"]: x for x in _deals(store)}
    o = d["Open one"]
    assert o["stage"] == "demo" and o["status"] == "open" and o["amount"] == 10000
    assert o["stage_entered_at"] == datetime(2026, 11, 1, 1, tzinfo=timezone.utc)
    assert o["created_at"] == o["stage_entered_at"]
    assert o["next_follow_up_at"] == datetime(2026, 11, 25, 7, tzinfo=timezone.utc)
    assert [f["status"] for f in store.deal_follow_ups(o["id"])] == ["open"]
    lost = d["Lost one"]
    assert (lost["status"], lost["stage"], lost["lost_reason"]) == ("lost", "qualified", "price")
    assert lost["closed_at"] == datetime(2026, 11, 2, 2, tzinfo=timezone.utc)
    assert lost["next_follow_up_at"] is None and store.deal_follow_ups(lost["id"]) == []
    won = d["Won one"]
    assert won["status"] == "won" and won["stage"] == "won"  # a won deal lives in the won stage
    assert won["closed_at"] == datetime(2026, 11, 2, 16, tzinfo=timezone.utc)
    assert won["created_at"] == datetime(2026, 8, 31, 16, tzinfo=timezone.utc)
    # A bare follow-up date means the start of the working day, as everywhere else.
    assert d["Template date"]["next_follow_up_at"] == datetime(2026, 11, 26, 1, tzinfo=timezone.utc)
    hist = store.deal_history(lost["id"])
    assert [(h["kind"], h["to_stage"]) for h in hist] == [("imported", "qualified"), ("lost", None)]
    assert len({h["action"] for h in hist}) == 1


# --- encodings --------------------------------------------------------------------------------


def test_gb18030_file_is_detected_and_read(store, now, tz, tmp_path):
    src = tmp_path / "t.csv"
    shutil.copy(DATA / "template_zh.gb18030.csv", src)
    assert detect_encoding(src) == "gb18030"
    rep = _import(store, src, now, tz)
    assert (rep.encoding, rep.source, rep.inserted, rep.rejected) == ("gb18030", "template", 3, 0)
    assert {d["customer"] for d in _deals(store)} == {"华信科技", "蓝海物流", "北辰医疗"}


def test_utf8_that_also_decodes_as_gb18030_is_read_as_utf8(store, now, tz, tmp_path):
    names = ["华信科技", "蓝海物流", "锦程旅游"]
    body = "customer\n" + "\n".join(names) + "\n"
    raw = body.encode("utf-8")
    raw.decode("gb18030")  # the trap: this "works" and gives mojibake
    (tmp_path / "u.csv").write_bytes(raw)
    rep = _import(store, tmp_path / "u.csv", now, tz)
    assert rep.encoding == "utf-8" and rep.inserted == 3
    assert sorted(d["customer"] for d in _deals(store)) == sorted(names)


def test_bom_and_explicit_encodings(store, now, tz, tmp_path):
    (tmp_path / "bom.csv").write_bytes("customer\n北辰医疗\n".encode("utf-8-sig"))
    assert detect_encoding(tmp_path / "bom.csv") == "utf-8-sig"
    assert detect_encoding(tmp_path / "bom.csv", "utf-8") == "utf-8-sig"  # the BOM is not data
    (tmp_path / "gb.csv").write_bytes("customer\nok\n北辰医疗\n".encode("gb18030"))
    with pytest.raises(ImportFileError, match="line 3 is not valid utf-8"):
        detect_encoding(tmp_path / "gb.csv", "utf-8")
    assert detect_encoding(tmp_path / "gb.csv", "gb18030") == "gb18030"
    (tmp_path / "bad.csv").write_bytes(b"customer\n\xff\xfe\xff\n")
    with pytest.raises(ImportFileError, match="neither UTF-8"):
        detect_encoding(tmp_path / "bad.csv")
    with pytest.raises(ImportFileError, match="not an encoding"):
        detect_encoding(tmp_path / "bom.csv", "klingon")


# --- malformed files --------------------------------------------------------------------------


def test_each_malformed_case_is_reported_with_its_line(store, now, tz, tmp_path):
    text = (
        "customer,amount,probability,expected_close\r\n"   # 1
        "Good one,100,20,2026-12-01\r\n"                   # 2
        "Ragged,100\r\n"                                   # 3
        "Bad amount,abc,20,\r\n"                           # 4
        "Bad prob,100,250,\r\n"                            # 5
        "Bad date,100,20,2024-13-01\r\n"                   # 6
        "Nul\x00byte,1,1,\r\n"                             # 7
        ",5,5,\r\n"                                        # 8 empty customer
        "\"Multi\r\nline\",7,7,\r\n"                       # 9-10 (a quoted newline is fine)
        "Also good,200,30,\r\n"                            # 11
        "\"Never closed,1,1,\r\nmore,1,1,\r\n"             # 12: unterminated quote swallows the rest
    )
    (tmp_path / "m.csv").write_bytes(text.encode("utf-8"))
    rep = _import(store, tmp_path / "m.csv", now, tz)
    reasons = "\n".join(rep.reasons)
    assert rep.inserted == 3 and rep.rejected == 7
    assert "line 3: 2 cells but the header has 4 (ragged row)" in reasons
    assert "line 4: amount: 'abc' is not an amount" in reasons
    assert "line 5: probability: 250 is out of range" in reasons
    assert "line 6: expected_close:" in reasons
    assert "line 7: NUL byte" in reasons
    assert "line 8: customer: is required" in reasons
    assert "line 12: unterminated quote" in reasons
    assert sorted(d["customer"] for d in _deals(store)) == ["Also good", "Good one", "Multi line"]
    # The rejected file: same header + reason, private, and importable once fixed.
    rej = Path(rep.rejected_file)
    assert rej == tmp_path / "m.rejected.csv" and os.stat(rej).st_mode & 0o777 == 0o600
    rows = list(csv.reader(io.StringIO(rej.read_bytes().decode("utf-8-sig"), newline="")))
    assert rows[0] == ["customer", "amount", "probability", "expected_close", "reason"]
    assert rows[2][:2] == ["Bad amount", "abc"] and rows[2][4].startswith("amount:")
    fixed = [["Bad amount fixed", "12", "20", "", r[4]] if r[0] == "Bad amount" else r for r in rows]
    _csv(tmp_path / "fixed.csv", fixed[0], [r for r in fixed[1:] if r[0] == "Bad amount fixed"])
    again = _import(store, tmp_path / "fixed.csv", now, tz)
    assert (again.inserted, again.rejected) == (1, 0)


def test_a_timestamp_of_our_shape_that_names_no_moment_is_a_rejected_row(store, now, tz, tmp_path):
    # The right shape for the fast path, but no such day or hour: a reason, not a traceback.
    src = _csv(tmp_path / "t.csv", ["customer", "created_at"],
               [["A", "2026-02-30T10:00:00+00:00"], ["B", "2026-01-01T25:00:00+08:00"], ["C", "2026-01-01T10:00:00+08:00"]])
    rep = _import(store, src, now, tz)
    assert (rep.inserted, rep.rejected) == (1, 2)
    assert [r.split(": ")[0:2] for r in rep.reasons] == [["line 2", "created_at"], ["line 3", "created_at"]]
    assert [d["customer"] for d in _deals(store)] == ["C"]


def test_stray_quote_inside_a_cell(store, now, tz, tmp_path):
    (tmp_path / "q.csv").write_bytes(b'customer,amount\r\nok,1\r\n"bad"x,1\r\nfine,2\r\n')
    rep = _import(store, tmp_path / "q.csv", now, tz)
    assert rep.inserted == 2 and rep.rejected == 1
    assert rep.reasons[0].startswith("line 3: malformed CSV")


def test_header_problems_refuse_the_file(store, now, tz, tmp_path):
    _csv(tmp_path / "h.csv", ["name", "amount"], [["x", "1"]])
    with pytest.raises(ImportFileError, match="no customer column"):
        _import(store, tmp_path / "h.csv", now, tz)
    _csv(tmp_path / "h2.csv", ["customer", "客户名称"], [["x", "y"]])
    with pytest.raises(ImportFileError, match="both mean customer"):
        _import(store, tmp_path / "h2.csv", now, tz)
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ImportFileError, match="empty"):
        _import(store, tmp_path / "empty.csv", now, tz)
    assert _deals(store) == []


def test_headers_match_case_space_and_underscore_insensitively():
    hm = P.recognise(["Customer", " Next Follow Up At ", "AMOUNT", "Stage_Entered_At", "weighted_amount", "zzz"])
    assert [f and f.field for f in hm.columns] == ["customer", "next_follow_up_at", "amount", "stage_entered_at",
                                                   None, None]
    assert hm.ignored == ["zzz"] and hm.profile.key == "funnel"


# --- other sources ----------------------------------------------------------------------------


def test_chinese_template_with_wan_amounts(store, now, tz, tmp_path):
    src = tmp_path / "t.csv"
    shutil.copy(DATA / "template_zh.csv", src)
    rep = _import(store, src, now, tz)
    assert (rep.source, rep.inserted, rep.rejected) == ("template", 3, 0)
    d = {x["customer"]: x for x in _deals(store)}
    hx = d["华信科技"]
    assert hx["amount"] == 125_000 * 100  # 12.5 万元
    assert (hx["stage"], hx["probability"], hx["risk_level"], hx["owner"]) == ("qualified", 30, "high", "王磊")
    assert (hx["contact_name"], hx["contact_role"], hx["source"], hx["budget"]) == ("张伟", "采购负责人", "展会", "10-20万")
    assert (hx["decision_chain"], hx["pain_points"], hx["competitors"]) == ("CFO→CEO", "库存不准", "竞品A")
    assert hx["last_contact_at"] == datetime(2026, 11, 20, 7, tzinfo=timezone.utc)
    assert d["蓝海物流"]["amount"] == 30_000 * 100 and d["蓝海物流"]["probability"] == 50  # stage default
    assert d["北辰医疗"]["amount"] == 3_500 * 100 and d["北辰医疗"]["notes"] == "报价已发，\n等待回复"


def test_pipedrive_export(store, now, tz, tmp_path):
    src = tmp_path / "p.csv"
    shutil.copy(DATA / "pipedrive.csv", src)
    rep = _import(store, src, now, tz, dry_run=True)
    # The Pipedrive profile knows Pipedrive's default stages (Contact Made, Proposal Made).
    assert rep.source == "pipedrive" and rep.unknown_stages == {}
    assert (rep.inserted, rep.rejected) == (4, 0) and _deals(store) == []
    rep = _import(store, src, now, tz, stage_map=["contact made=qualified", "Proposal Made=方案演示"])
    assert (rep.inserted, rep.rejected, rep.follow_ups) == (4, 0, 2)
    d = {x["external_id"]: x for x in _deals(store)}
    assert set(d) == {"pipedrive:101", "pipedrive:102", "pipedrive:103", "pipedrive:104"}
    a = d["pipedrive:101"]
    assert (a["customer"], a["title"], a["amount"], a["currency"], a["owner"]) == (
        "Acme Robotics", "CRM rollout", 1_200_000, "USD", "Alex Chen")
    assert a["created_at"] == datetime(2026, 9, 1, 2, 15, tzinfo=timezone.utc)
    assert a["next_follow_up_at"] == datetime(2026, 11, 25, 1, tzinfo=timezone.utc)
    assert str(a["expected_close"]) == "2026-12-31"
    assert (d["pipedrive:102"]["status"], d["pipedrive:102"]["stage"], d["pipedrive:102"]["amount"]) == (
        "won", "won", 850_050)
    lost = d["pipedrive:103"]
    assert (lost["status"], lost["stage"], lost["lost_reason"], lost["probability"]) == (
        "lost", "qualified", "Went with a competitor", 20)
    assert d["pipedrive:104"]["customer"] == "Analytics add-on"  # no organisation: the deal's name
    assert d["pipedrive:104"]["stage"] == "demo"


def test_hubspot_export(store, now, tz, tmp_path):
    src = tmp_path / "h.csv"
    shutil.copy(DATA / "hubspot.csv", src)
    rep = _import(store, src, now, tz, stage_map=["decisionmakerboughtin=negotiation"])
    assert (rep.source, rep.inserted, rep.rejected) == ("hubspot", 4, 0)
    d = {x["external_id"]: x for x in _deals(store)}
    h = d["hubspot:9001"]
    assert (h["probability"], h["stage"], h["owner"], h["amount"]) == (40, "qualified", "Maria Garcia", 2_400_000)
    assert str(h["expected_close"]) == "2026-12-15"
    assert h["next_follow_up_at"] == datetime(2026, 11, 27, 2, tzinfo=timezone.utc)
    assert (d["hubspot:9002"]["status"], d["hubspot:9002"]["stage"]) == ("won", "won")
    assert d["hubspot:9002"]["closed_at"] == datetime(2026, 11, 1, 16, tzinfo=timezone.utc)
    # "no budget" is a word of the list: kept as its code, shown as its label (issue 14).
    assert (d["hubspot:9003"]["status"], d["hubspot:9003"]["lost_reason"]) == ("lost", "budget")
    assert LOST_REASON.label(d["hubspot:9003"]["lost_reason"], "en") == "no budget"
    assert (d["hubspot:9004"]["stage"], d["hubspot:9004"]["probability"]) == ("negotiation", 80)


# --- counts, identity, all-or-nothing, undo ---------------------------------------------------

PARTIAL_HEADER = ["uid", "external_id", "customer", "amount", "stage"]


def _partial_file(tmp_path, existing_uid):
    rows = [
        ["", "", "New A", "100", "lead"],            # 2 new
        ["", "", "New A", "100", "lead"],            # 3 new again: no ids, never dropped for looking alike
        [existing_uid, "", "Dup of db", "5", ""],    # 4 duplicate (uid in the database)
        ["", "x:1", "With ext", "7", "demo"],        # 5 new
        ["", "x:1", "Same ext", "7", "demo"],        # 6 duplicate of line 5
        ["", "", "Bad", "-3", ""],                   # 7 rejected
        ["", "", "Bad stage", "1", "Nowhere"],       # 8 rejected
        ["not-a-uuid", "", "Bad uid", "1", ""],      # 9 rejected
        ["", "", "Fine", "1.5万", "初步意向"],        # 10 new
    ]
    return _csv(tmp_path / "partial.csv", PARTIAL_HEADER, rows)


def test_exact_counts_for_a_partially_bad_file(store, now, tz, tmp_path):
    old = store.add_deal({"customer": "Old"}, now=now, tz=tz)
    src = _partial_file(tmp_path, store.get_deal(old)["uid"])
    rep = _import(store, src, now, tz)
    assert (rep.rows, rep.inserted, rep.duplicates, rep.rejected) == (9, 4, 2, 3)
    assert [r.split(":")[0] for r in rep.reasons] == ["line 7", "line 8", "line 9"]
    assert rep.duplicate_lines[0].startswith("line 4: already deal")
    assert "same deal as line 5" in rep.duplicate_lines[1]
    assert rep.unknown_stages == {"Nowhere": 1}
    assert sorted(d["customer"] for d in _deals(store)) == ["Fine", "New A", "New A", "Old", "With ext"]
    assert next(d for d in _deals(store) if d["customer"] == "Fine")["amount"] == 1_500_000
    assert rep.backup and Path(rep.backup).exists()
    # Importing it again adds nothing new but the id-less rows (they are new deals by design).
    again = _import(store, src, now, tz)
    assert (again.inserted, again.duplicates) == (3, 3)


def test_on_error_abort_writes_nothing(store, now, tz, tmp_path):
    old = store.add_deal({"customer": "Old"}, now=now, tz=tz)
    src = _partial_file(tmp_path, store.get_deal(old)["uid"])
    rep = _import(store, src, now, tz, on_error="abort")
    assert rep.aborted and rep.inserted == 0 and rep.rejected == 3  # every bad row reported
    assert [d["customer"] for d in _deals(store)] == ["Old"]
    assert store.deal_history(old)[-1]["kind"] == "created"
    assert not (tmp_path / "partial.rejected.csv").exists()


def test_dry_run_writes_nothing(store, db_path, now, tz, tmp_path):
    old = store.add_deal({"customer": "Old"}, now=now, tz=tz)
    src = _partial_file(tmp_path, store.get_deal(old)["uid"])
    before = db_path.read_bytes()
    rep = _import(store, src, now, tz, dry_run=True)
    assert (rep.inserted, rep.duplicates, rep.rejected) == (4, 2, 3)
    assert rep.backup is None and rep.rejected_file is None
    assert not (tmp_path / "partial.rejected.csv").exists() and not (tmp_path / "backups").exists()
    assert [d["customer"] for d in _deals(store)] == ["Old"] and db_path.read_bytes() == before


def test_undo_reverts_the_whole_import(store, now, tz, tmp_path):
    keep = store.add_deal({"customer": "Mine"}, now=now, tz=tz)
    src = _csv(tmp_path / "u.csv", ["customer", "status", "lost_reason", "next_follow_up_at"],
               [[f"C{i}", "lost" if i == 0 else "open", "price" if i == 0 else "",
                 "" if i == 0 else "2026-11-30"] for i in range(50)])
    rep = _import(store, src, now, tz, batch=7)  # several batches, one action
    assert rep.inserted == 50
    res = store.undo(now=now + timedelta(minutes=1))
    assert len(res["deal_ids"]) == 50 and keep not in res["deal_ids"]
    assert [d["customer"] for d in _deals(store)] == ["Mine"]
    assert store.get_deal(res["deal_ids"][0], include_deleted=True)["deleted_at"] is not None
    assert store.due(now=now, within="7d") == []


def test_update_applies_the_files_columns_and_undo_restores(store, now, tz, tmp_path):
    a = store.add_deal({"customer": "Acme", "amount": "100", "owner": "Alex"}, now=now, tz=tz)
    uid = store.get_deal(a)["uid"]
    src = _csv(tmp_path / "up.csv", ["uid", "customer", "amount", "stage"], [[uid, "Acme Ltd", "250", "demo"]])
    rep = _import(store, src, now, tz, update=True)
    assert (rep.updated, rep.inserted, rep.duplicates) == (1, 0, 0)
    d = store.get_deal(a)
    assert (d["customer"], d["amount"], d["stage"], d["probability"], d["owner"]) == ("Acme Ltd", 25000, "demo", 50, "Alex")
    again = _import(store, src, now, tz, update=True)
    assert (again.updated, again.unchanged) == (0, 1)
    store.undo(now=now)
    d = store.get_deal(a)
    assert (d["customer"], d["amount"], d["stage"]) == ("Acme", 10000, "lead")


# --- the fast paths agree with the validator --------------------------------------------------


@given(st.sampled_from(sorted(f for f in TEXT_FIELDS if f != "external_id")),
       st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(
           ["  Acme  ", "a@b.co", " 华信\n科技 ", "e\u0301", "x\u200by", "\t=1", "a\u3000b", "ok\r\n"]))
def test_fast_text_equals_validate_field(field, text):
    fast = fast_text(field, text)
    if fast is None:
        return
    try:
        slow = validate_field(field, text)
    except FieldError:
        assert field in ("customer",) and fast == ""
        return
    assert fast == slow


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
       st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_fast_timestamp_equals_parse_timestamp(moment, offset_min):
    tz = timezone(timedelta(minutes=offset_min))
    text = moment.replace(microsecond=0, tzinfo=tz).isoformat()
    assert DateColumn("created_at", timezone.utc).read(text) == parse_timestamp(text, tz=timezone.utc)


def test_multiline_fields_keep_newlines_on_the_fast_path():
    assert "notes" in MULTILINE and fast_text("notes", " a\nb ") == "a\nb"
    assert fast_text("customer", "a\nb") is None  # single-line: left to clean_text


def test_columns_cover_everything_but_the_local_id():
    hm = P.recognise(list(CSV_COLUMNS))
    assert [f and f.field for f in hm.columns] == [None, *CSV_COLUMNS[1:]]


def _indexes(store):
    with store.read() as conn:
        return sorted(conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all())


def test_big_import_rebuilds_the_indexes_it_dropped(store, now, tz, tmp_path, monkeypatch):
    import funnel_tui.store.bulk_import as bulk

    monkeypatch.setattr(bulk, "BIG_IMPORT", 10)
    dropped = []
    real = bulk.DealImporter.expect
    monkeypatch.setattr(bulk.DealImporter, "expect", lambda self, n: dropped.append(real(self, n)) or dropped[-1])
    before = _indexes(store)
    assert any(name == "ix_deal_board" for name, _ in before)
    # Long notes make the file bigger than one read-ahead chunk, so the estimate sees 40 rows.
    rows = [[f"C{i}", "demo", "2026-11-30", "x" * 1000] for i in range(40)]
    rep = _import(store, _csv(tmp_path / "big.csv", ["customer", "stage", "next_follow_up_at", "notes"], rows),
                  now, tz, batch=5)
    assert rep.inserted == 40 and dropped == [True]
    assert _indexes(store) == before
    # The indexes kept up to date during the load are real ones (a rename must update the list).
    assert bulk.KEPT_DURING_IMPORT <= {name for name, _ in before}
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert len(store.board_column("demo", limit=100)) == 40
    # Aborted half-way: the rollback brings the indexes back too.
    # A second big file into a table already that big keeps its indexes.
    again = [[f"D{i}", *r[1:]] for i, r in enumerate(rows)]
    _import(store, _csv(tmp_path / "again.csv", ["customer", "stage", "next_follow_up_at", "notes"], again),
            now, tz, batch=5)
    assert dropped == [True, False] and _indexes(store) == before
    # Aborted half-way: the rollback brings the indexes back too.
    other = Store(tmp_path / "other.db")
    try:
        bad = rows + [["", "demo", "", ""]]
        rep = _import(other, _csv(tmp_path / "bad.csv", ["customer", "stage", "next_follow_up_at", "notes"], bad),
                      now, tz, batch=5, on_error="abort")
        assert rep.aborted and dropped == [True, False, True]
        assert _indexes(other) == before and _deals(other) == []
    finally:
        other.close()


@pytest.mark.parametrize("dry_run", [False, True])
def test_duplicates_across_batches_are_found_without_remembering_the_file(store, now, tz, tmp_path, dry_run):
    rows = [["", "x:1", "First"], ["", "", "Plain"], ["", "x:1", "Again"], ["", "x:2", "Other"],
            ["", "x:2", "Other again"]]
    src = _csv(tmp_path / "d.csv", ["uid", "external_id", "customer"], rows)
    rep = _import(store, src, now, tz, batch=1, dry_run=dry_run)
    assert (rep.inserted, rep.duplicates, rep.rejected) == (3, 2, 0)
    assert all("earlier row of this file" in d or "same deal as line" in d for d in rep.duplicate_lines)
    assert len(_deals(store)) == (0 if dry_run else 3)


def test_update_can_close_a_deal_and_undo_reopens_it(store, now, tz, tmp_path):
    a = store.add_deal({"customer": "Acme", "external_id": "pipedrive:7"}, now=now, tz=tz)
    store.add_follow_up(FollowUpDraft(a, now + timedelta(days=1)), now=now)
    src = _csv(tmp_path / "c.csv", ["Deal - ID", "Deal - Organization", "Deal - Stage", "Deal - Status",
                                    "Deal - Lost reason"], [["7", "Acme", "Lead", "lost", "price"]])
    rep = _import(store, src, now + timedelta(hours=1), tz, update=True)
    assert rep.updated == 1
    d = store.get_deal(a)
    assert (d["status"], d["lost_reason"], d["next_follow_up_at"]) == ("lost", "price", None)
    assert d["closed_at"] == now + timedelta(hours=1)
    assert [f["status"] for f in store.deal_follow_ups(a)] == ["canceled"]
    store.undo(now=now + timedelta(hours=2))
    d = store.get_deal(a)
    assert (d["status"], d["lost_reason"], d["closed_at"]) == ("open", "", None)
    assert [f["status"] for f in store.deal_follow_ups(a)] == ["open"]
    assert d["next_follow_up_at"] == now + timedelta(days=1)


def test_update_with_our_own_export_changes_nothing(store, now, tz, tmp_path):
    a = store.add_deal({"customer": "Acme", "amount": "5"}, now=now.replace(microsecond=123456), tz=tz)
    store.add_follow_up(FollowUpDraft(a, now + timedelta(days=2, microseconds=654321)), now=now)
    b = store.add_deal({"customer": "Globex"}, now=now, tz=tz)
    store.lose_deal(b, "price", now=now + timedelta(seconds=1.5))
    export_deals(store, tmp_path / "own.csv", now=now, tz=tz, status="all")
    rep = _import(store, tmp_path / "own.csv", now, tz, update=True)
    assert (rep.updated, rep.unchanged, rep.inserted, rep.duplicates) == (0, 2, 0, 0)
    assert [h["kind"] for h in store.deal_history(a)][-1] == "followup"
    assert len(store.deal_follow_ups(a)) == 1


@pytest.mark.parametrize("raw,encoding", [
    ("sep=;\r\ncustomer;amount\r\n华信科技;15\r\n", "utf-8"),      # Excel's separator hint line
    ("customer;amount\r\n华信科技;2\r\n", "utf-8"),                  # semicolons (European Excel)
    ("customer\tamount\r\n华信科技\t3\r\n", "utf-16"),              # Excel "Unicode text": UTF-16, tabs
])
def test_other_separators_and_utf16(store, now, tz, tmp_path, raw, encoding):
    (tmp_path / "s.csv").write_bytes(raw.encode(encoding))
    rep = _import(store, tmp_path / "s.csv", now, tz)
    assert (rep.inserted, rep.rejected) == (1, 0), rep.reasons
    assert [d["customer"] for d in _deals(store)] == ["华信科技"]


def test_new_uids_are_distinct_time_ordered_uuids():
    import time
    import uuid

    from funnel_tui.store.staged import new_uids

    uids = new_uids(2000)
    time.sleep(0.002)
    later = new_uids(10)
    assert len(set(uids)) == 2000 and new_uids(0) == []
    assert uids == sorted(uids) and later[0] > uids[-1]  # appended to the uid index, not scattered
    now_ms = time.time_ns() // 1_000_000
    for u in uids:
        parsed = uuid.UUID(u)
        assert str(parsed) == u and parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert 0 <= now_ms - (parsed.int >> 80) < 60_000  # the first 48 bits: Unix milliseconds


def test_utc_text_is_the_stored_form():
    from datetime import datetime, timezone

    from funnel_tui.store.tables import UTC_TEXT as _UTC_TEXT, sqlite_value as _sqlite_value

    for d in (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), datetime(999, 12, 31, 23, 59, 59, 999999,
                                                                          tzinfo=timezone.utc)):
        fields = (d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)
        assert _UTC_TEXT % fields == _sqlite_value(d) == d.isoformat(" ", "microseconds")[:26]
