"""Worker processes for the team-mode concurrency tests: `python tests/pg_workers.py MODE URL …`.

Each is a real terminal's worth of work against the server. A worker says "ready", waits for
"go" on stdin (so all start their loops together), then prints one JSON line with what it
did and what was refused.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def _ready() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()


def rep_day(url: str, tag: str, rounds: str) -> None:
    """A rep's busy morning: add a deal, move it, log a call with the next step, complete it."""
    from funnel_tui.domain.validation import TouchDraft
    from funnel_tui.store import Store, StoreError

    store = Store(url)
    _ready()
    done, refused = 0, []
    for i in range(int(rounds)):
        try:
            deal = store.add_deal({"customer": f"{tag}-{i}", "amount": str(1000 + i)}, now=NOW)
            store.move_deal(deal, "qualified", now=NOW)
            res = store.log_touch(TouchDraft(deal, note=f"call {i}", next_due_at=NOW + timedelta(days=1)), now=NOW)
            store.complete_follow_up(res["next_followup_id"], now=NOW, note="done")
            done += 1
        except StoreError as exc:
            refused.append(str(exc))
    print(json.dumps({"done": done, "refused": refused}))


def same_deal(url: str, deal_id: str, tag: str, rounds: str) -> None:
    """Several terminals changing ONE deal at once: each change waits its turn (row lock)."""
    from funnel_tui.domain.validation import FollowUpDraft, TouchDraft
    from funnel_tui.store import Store, StoreError

    store = Store(url)
    deal = int(deal_id)
    _ready()
    done, refused = 0, []
    for i in range(int(rounds)):
        try:
            store.update_deal(deal, {"notes": f"{tag} {i}"}, now=NOW)
            store.log_touch(TouchDraft(deal, note=f"{tag} touch {i}"), now=NOW)
            fid = store.add_follow_up(FollowUpDraft(deal, NOW + timedelta(hours=i + 1)), now=NOW)
            store.snooze_follow_up(fid, NOW + timedelta(days=2, hours=i), now=NOW)
            done += 1
        except StoreError as exc:
            refused.append(str(exc))
    print(json.dumps({"done": done, "refused": refused}))


def first_open(url: str) -> None:
    """Open a store on an empty server: the schema is created once, whoever comes first."""
    from funnel_tui.store import Store

    _ready()
    store = Store(url)
    print(json.dumps({"stages": len(store.stages()), "done": 1, "refused": []}))


def import_file(url: str, path: str) -> None:
    """`funnel import` of a file, as a rep would run it."""
    import contextlib
    import io

    from funnel_tui.cli import main

    _ready()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--db", url, "import", path])
    print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(), "done": int(code == 0),
                      "refused": [] if code == 0 else [err.getvalue()]}))


if __name__ == "__main__":
    MODES = {"rep_day": rep_day, "same_deal": same_deal, "first_open": first_open, "import_file": import_file}
    MODES[sys.argv[1]](*sys.argv[2:])
