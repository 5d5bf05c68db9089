"""What the board reads, and its first read started before Textual loads.

No Textual import here: `funnel tui` starts `FirstRead` right after opening the store, so
the queries (SQLite works outside the GIL) run while Textual is imported and starts up,
and the board usually has its cards before its first frame.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

PAGE = 50  # cards per column page
EMPTY_TOTALS = {"count": 0, "amount": 0, "weighted": 0}

BoardData = dict[str, tuple[list[dict], dict, list[dict]]]  # stage -> (rows, totals, lost rows)


def read_board(store, show_lost: bool, limits: dict[str, int], pipeline: str | None = None) -> BoardData:
    """Every column's first page(s) and totals (of one pipeline's stages), in bounded queries."""
    totals = {"open": store.board_totals(), "won": store.board_totals(status="won")}
    data: BoardData = {}
    for stage in store.stages(pipeline):
        status = "open" if stage.kind == "open" else "won"
        rows = with_ticks(store, store.board_column(stage.key, limit=limits.get(stage.key, PAGE), status=status))
        lost = store.board_column(stage.key, limit=PAGE, status="lost") if show_lost and status == "open" else []
        data[stage.key] = (rows, totals[status].get(stage.key, EMPTY_TOTALS), lost)
    return data


def with_ticks(store, rows: list[dict]) -> list[dict]:
    """Each card's playbook progress in its stage (`ticked`, the card's 2/3): one indexed
    read per page, only for open deals (won ones have no checklist left to do)."""
    counts = store.tick_counts([r for r in rows if r.get("status") == "open"])
    for row in rows:
        row["ticked"] = counts.get(row["id"], 0)
    return rows


class FirstRead:
    """The board as it opens (open and won deals, first pages), then the tier cutoffs,
    read in a thread. The board takes them once; `board` and `tiers` are futures."""

    def __init__(self, store):
        self.board: Future[BoardData] = Future()
        self.tiers: Future = Future()
        threading.Thread(target=self._run, args=(store,), name="board-first-read", daemon=True).start()

    def _run(self, store) -> None:
        for future, read in ((self.board, lambda: read_board(store, False, {})), (self.tiers, store.tier_cutoffs)):
            try:
                future.set_result(read())
            except BaseException as exc:  # noqa: BLE001 - handed to the board, which reads again
                future.set_exception(exc)
