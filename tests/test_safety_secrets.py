"""Issue 5 item 8: a database URL's password is never printed, and SQL errors do not echo
customer data from their parameters.

Guards: open_store and every command name the database through redact_url; the engine is
built with hide_parameters=True (the negative control shows what it hides).
"""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import exc, insert

from helpers_procs import NOW, run_cli_many

SECRET = "s3cret"
URL = f"postgresql://rep:{SECRET}@127.0.0.1:1/x"


def test_redact_url():
    from funnel_tui.store.engine import redact_url

    assert redact_url(URL) == "postgresql://rep:***@127.0.0.1:1/x"
    assert SECRET not in redact_url("postgresql://rep:s3cret@[bad")  # unparsable still hidden
    assert redact_url("/home/rep/funnel.db") == "/home/rep/funnel.db"


def test_the_password_never_reaches_the_terminal(tmp_path):
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["customer"], ["Acme"]])
    by_flag = [["--db", URL, *argv] for argv in (
        ["list"], ["add", "Acme"], ["due"], ["show", "1", "--format", "json"], ["warnings"],
        ["undo"], ["demo"], ["tui"], [], ["backup", "list"], ["backup", "create"],
        ["backup", "restore", "latest"], ["export", str(tmp_path / "out.csv")], ["import", str(src)],
        ["stages", "--format", "csv"],
    )]
    by_env = [{"argv": argv, "env": {"FUNNEL_DB": URL}} for argv in (
        ["list"], ["add", "Acme"], ["--help"], ["list", "--help"], ["backup", "--help"], ["nosuch"],
    )]
    odd_urls = [["--db", url, "list"] for url in (
        "postgresql+nosuchdriver://rep:s3cret@127.0.0.1:1/x",
        "postgresql://rep:s3cret@[bad",
        "mysql://rep:s3cret@127.0.0.1:1/x",
    )]
    runs = by_flag + by_env + odd_urls
    results = run_cli_many(runs, tmp_path, env={"FUNNEL_NOW": NOW.isoformat()}, jobs=2)
    for r in results:
        text = r["out"] + r["err"]
        assert SECRET.encode() not in text, (r["argv"], text[-600:])
        assert r["code"] in (0, 1, 2), (r["argv"], r["err"][-600:])  # refused, not crashed
        assert b"Traceback" not in r["err"], (r["argv"], r["err"][-600:])
    refused = [r for r in results if r["argv"][:2] == ["--db", URL] and r["argv"][2:3] == ["list"]][0]
    assert refused["err"].startswith(b"funnel: cannot open database postgresql://rep:***@127.0.0.1:1/x")


def test_store_repr_hides_the_password():
    from funnel_tui.store import Store

    fake = Store.__new__(Store)
    fake.target = URL
    assert SECRET not in repr(fake)


def _bad_insert(engine) -> str:
    from funnel_tui.store.tables import D

    row = {"uid": "u", "customer": "机密客户 Zhang 13800000000", "stage": "lead", "status": "open",
           "amount": 1, "currency": "CNY", "probability": 500, "probability_custom": False,
           "created_at": NOW, "updated_at": NOW, "stage_entered_at": NOW, "version": 1}
    with engine.begin() as conn, pytest.raises(exc.IntegrityError) as err:
        conn.execute(insert(D).values(**row))
    return str(err.value)


def test_sql_errors_do_not_echo_parameters(tmp_path):
    from sqlalchemy import create_engine

    from funnel_tui.store import Store

    store = Store(tmp_path / "funnel.db")
    message = _bad_insert(store.engine)
    assert "ck_deal_probability" in message and "hidden" in message
    assert "机密客户" not in message and "13800000000" not in message
    store.close()
    # The control: the same statement on an engine without hide_parameters shows them.
    plain = create_engine(f"sqlite:///{tmp_path / 'funnel.db'}")
    assert "机密客户" in _bad_insert(plain)
    plain.dispose()
