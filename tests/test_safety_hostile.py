"""Issue 5 item 6: the hostile corpus (tests/hostile.py) through every CLI entry point.

Every command runs as its own process (helpers_procs.cli_batch forks one per command after
importing once) with stdout/stderr captured as bytes. For each: no crash, no ESC or other
control character but newline on the terminal, the text shown literally, `%` and `_` literal
in search, over-long and empty customers refused with a field message and nothing written.
What guards it: clean_text on the way in, Rich Text cells (markup=False) on the way out,
escape_like in search, validate_field's length limits.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from helpers_procs import NOW, run_cli_many
from hostile import ARGV_SAFE, CLEANED, HOSTILE, TOO_LONG, assert_terminal_safe, unsafe_chars

pytestmark = pytest.mark.slow
ENV = {"FUNNEL_NOW": NOW.isoformat(), "COLUMNS": "2000"}
LABELS = list(ARGV_SAFE)  # deal id k+1 carries LABELS[k]


def dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def check_outputs(results: list[dict]) -> None:
    for r in results:
        where = " ".join(a[:40] for a in r["argv"][2:])
        assert r["code"] in (0, 1, 10, 11), f"{where}: exit {r['code']}: {r['err'][-800:]!r}"
        assert b"Traceback" not in r["err"], f"{where}: {r['err'][-800:]!r}"
        assert_terminal_safe(r["out"], f"stdout of {where}")
        assert_terminal_safe(r["err"], f"stderr of {where}")


def records(out: str, fmt: str) -> list[dict]:
    if fmt == "json":
        value = json.loads(out)
        return value if isinstance(value, list) else [value]
    return list(csv.DictReader(out.splitlines(keepends=True)))


def ascii_fold(text: str) -> str:
    """How search compares text that is not Chinese (issue 14, domain.pinyin.fold, written
    out here): width and case folded (NFKC, casefold: ＝1 is =1), spaces and control
    characters dropped. Substring search used SQLite's LIKE, blind to ASCII case only."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", text).casefold().replace("ü", "v")
    return "".join(c for c in folded if not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf"))


def expected_hits(needle: str) -> set[int]:
    n = ascii_fold(needle)
    return {k + 1 for k, label in enumerate(LABELS) if n in ascii_fold(CLEANED[label])}


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    """Every corpus entry entered through add, edit, log and follow-up (as real processes)."""
    tmp = tmp_path_factory.mktemp("hostile")
    db = tmp / "funnel.db"
    b = ["--db", str(db)]
    writes = []
    for k, label in enumerate(LABELS):
        text = ARGV_SAFE[label]
        writes.append([*b, "add", f"--title={text}", f"--notes={text}", f"--contact={text}",
                       "--follow-up=tomorrow 10:00", "--", text])
    results = run_cli_many(writes, tmp, env=ENV)  # in order: deal k+1 is LABELS[k]
    more = []
    for k, label in enumerate(LABELS):
        text, deal = ARGV_SAFE[label], str(k + 1)
        more += [
            [*b, "edit", deal, f"--industry={text}", f"--risk-note={text}", f"--competitors={text}",
             f"--owner={text}", f"--source={text}"],
            [*b, "log", deal, "--", text],
            [*b, "follow-up", deal, "+2d", f"--note={text}"],
        ]
    results += run_cli_many(more, tmp, env=ENV, jobs=2)  # two terminals at once, as a bonus
    return db, tmp, results


def test_every_write_entry_point_takes_the_corpus(hostile_db):
    db, _, results = hostile_db
    check_outputs(results)
    assert [r["code"] for r in results] == [0] * len(results)
    for k, label in enumerate(LABELS):  # `add` echoes the customer, literally and cleaned
        assert results[k]["out"].decode() .startswith(f"added deal {k + 1}: {CLEANED[label]} in lead")
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, customer, title, industry, notes FROM deal ORDER BY id").fetchall()
    texts = [t for row in con.execute("SELECT customer, title, notes, risk_note FROM deal") for t in row]
    texts += [t for (t,) in con.execute("SELECT note FROM touch UNION ALL SELECT note FROM followup")]
    con.close()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (k + 1, CLEANED[label], CLEANED[label], CLEANED[label]) for k, label in enumerate(LABELS)]
    assert rows[LABELS.index("quotes_comma_newline")][4] == "客户“引号”, 逗号\n多行"  # notes keep lines
    assert [t for t in texts if unsafe_chars(t)] == []  # nothing hostile was stored


def test_every_read_entry_point_shows_the_corpus_literally(hostile_db):
    db, tmp, _ = hostile_db
    b = ["--db", str(db)]
    runs, checks = [], []

    def add(argv, check=None):
        runs.append(argv)
        checks.append(check)

    for k, label in enumerate(LABELS):
        shown = CLEANED[label]
        deal = str(k + 1)
        fmt = ("json", "csv")[k % 2]
        add([*b, "show", deal], lambda out, s=shown: s in out)
        add([*b, "show", deal, "--format", fmt],
            lambda out, s=shown, f=fmt: records(out, f)[0]["customer"] == s)
        add([*b, "list", f"--search={ARGV_SAFE[label]}", "--format", "json"],
            lambda out, n=shown: {d["id"] for d in json.loads(out)} == expected_hits(n))
        add([*b, "list", f"--search={ARGV_SAFE[label]}"], lambda out, s=shown: s in out)
    every = [CLEANED[lb] for lb in LABELS]
    add([*b, "list", "--status", "all"], lambda out: all(s in out for s in every))
    for fmt in ("json", "csv"):
        add([*b, "list", "--status", "all", "--format", fmt],
            lambda out, f=fmt: [r["customer"] for r in records(out, f)] == every)
        add([*b, "due", "--within", "7d", "--limit", "100", "--format", fmt],
            lambda out: "Acme [/]" in out and "[@click=app.quit]X[/]" in out)
        later = {"FUNNEL_NOW": (NOW + timedelta(days=60)).isoformat()}  # every deal silent by then
        add({"argv": [*b, "warnings", "--format", fmt], "env": later},
            lambda out: "[bold red]x" in out and "😀客户" in out)
        add([*b, "summary", "--by-owner", "--format", fmt], lambda out: "😀客户" in out)
        add([*b, "summary", "--format", fmt])
        add([*b, "review", "--format", fmt])
    # % and _ are literal in search, not wildcards.
    add([*b, "list", "--search=%", "--format", "json"],
        lambda out: {d["customer"] for d in json.loads(out)} == {"-5% 折扣", "100%_off"})
    add([*b, "list", "--search=_", "--format", "json"],
        lambda out: {d["customer"] for d in json.loads(out)} == {"100%_off"})
    add([*b, "list", "--search=%_", "--format", "json"],
        lambda out: {d["customer"] for d in json.loads(out)} == {"100%_off"})

    results = run_cli_many(runs, tmp, env=ENV, jobs=2)
    check_outputs(results)
    for r, check in zip(results, checks):
        assert r["code"] in (0, 10, 11), (r["argv"][2:], r["err"])
        if check is not None:
            assert check(r["out"].decode()), (r["argv"][2:], r["out"].decode()[:600])


def test_over_long_and_empty_input_is_refused_and_nothing_written(hostile_db):
    db, tmp, _ = hostile_db
    b = ["--db", str(db)]
    before = dump(db)
    runs = [
        ([*b, "add", "--", TOO_LONG], "customer: is 10000 characters long; at most 200 allowed"),
        ([*b, "add", "--", ""], "customer: is required"),
        ([*b, "add", "--", "\x1b[6n\u202e"], "customer: is required"),  # nothing left after cleaning
        ([*b, "add", f"--title={TOO_LONG}", "--", "ok"], "title: is 10000 characters long"),
        ([*b, "edit", "1", f"--customer={TOO_LONG}"], "customer: is 10000 characters long"),
        ([*b, "edit", "1", "--customer="], "customer: is required"),
        ([*b, "log", "1", "--", TOO_LONG * 2], "notes: is 20000 characters long"),
        ([*b, "follow-up", "1", "+1d", f"--note={TOO_LONG}"], "notes: is 10000 characters long"),
        ([*b, "lose", "1", "--", TOO_LONG], "lost_reason: is 10000 characters long"),
    ]
    results = run_cli_many([argv for argv, _ in runs], tmp, env=ENV)
    check_outputs(results)
    for r, (_, message) in zip(results, runs):
        assert r["code"] == 1, (r["argv"][2:4], r["out"], r["err"])
        assert r["err"].decode().startswith(f"funnel: {message}"), r["err"].decode()[:200]
        assert r["out"] == b""
    assert dump(db) == before


def test_import_and_export_take_the_corpus(hostile_db, tmp_path):
    db, _, _ = hostile_db
    b = ["--db", str(db)]
    src = tmp_path / "hostile.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:  # NUL can reach us only in a file
        w = csv.writer(fh)
        w.writerow(["customer", "title", "notes"])
        for text in [*HOSTILE.values(), TOO_LONG, ""]:
            w.writerow([text, text, text])
    out = tmp_path / "export.csv"
    results = run_cli_many([
        [*b, "import", str(src), "--format", "json"],
        [*b, "export", str(out), "--status", "all"],
        [*b, "list", "--status", "all", "--format", "json"],
    ], tmp_path, env=ENV)
    check_outputs(results)
    assert results[0]["code"] in (0, 1) and results[1]["code"] == 0
    assert out.stat().st_mode & 0o777 == 0o600
    exported = out.read_text(encoding="utf-8-sig")
    assert "\x1b" not in exported and "\x00" not in exported and "\u202e" not in exported
    con = sqlite3.connect(db)
    stored = [t for row in con.execute("SELECT customer, title, notes FROM deal") for t in row]
    con.close()
    assert [t for t in stored if unsafe_chars(t)] == []
    report = json.loads(results[0]["out"])
    assert (report["inserted"], report["rejected"]) == (len(HOSTILE) - 1, 3)
    assert any("NUL byte" in r for r in report["reasons"])  # a NUL means a binary/UTF-16 file
    assert any("customer: is 10000 characters long" in r for r in report["reasons"])
    assert any("customer: is required" in r for r in report["reasons"])
    assert Path(report["rejected_file"]).stat().st_mode & 0o777 == 0o600
    assert "-import.db" in report["backup"]  # a backup before the import
    customers = [d["customer"] for d in json.loads(results[2]["out"])]
    assert customers.count("Acme [/]") == 2 and "xy" not in customers


def test_nul_through_the_store_is_dropped(store, now):
    # argv cannot carry NUL and the importer rejects such rows; a form or API caller could.
    deal_id = store.add_deal({"customer": HOSTILE["nul"], "notes": HOSTILE["nul"]}, now=now)
    deal = store.get_deal(deal_id)
    assert (deal["customer"], deal["notes"]) == ("xy", "xy")
