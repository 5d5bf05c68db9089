"""What the board reads, and its first read started before Textual loads.

No Textual import here: `funnel tui` starts `FirstRead` before Textual is imported, so the
queries (SQLite works outside the GIL) run while Textual is imported and starts up, and the
board usually has its cards before its first frame.

On a plain SQLite file the first read does not wait for the Store either: it runs the
store's board SQL through sqlite3 (store/board_read.BoardReader), and `StoreOpening` stands
in for the Store until the first frame is up; then the Store — SQLAlchemy, a third of the
start-up — opens in a thread, and anything that needs it before that waits for it.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, Callable

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
    read in a thread from the Store or a BoardReader (`done` runs after: it closes the
    reader). The board takes them once; `board` and `tiers` are futures, and the board sets
    `painted` once its first frame with cards is drawn."""

    # Ranking the tiers reads every open deal's weighted value (0.3 s for 530k open deals at
    # 1M, 25 ms for 53k): past this many it waits for the first frame instead of competing
    # with it for the CPU, and the tier marks follow the cards.
    TIERS_AFTER_FIRST_FRAME = 200_000

    def __init__(self, store, *, done: Callable[[], None] | None = None):
        self.board: Future[BoardData] = Future()
        self.tiers: Future = Future()
        self.painted = threading.Event()
        threading.Thread(target=self._run, args=(store, done), name="board-first-read", daemon=True).start()

    def _run(self, store, done: Callable[[], None] | None) -> None:
        self._read(self.board, lambda: read_board(store, False, {}))
        _yield_cpu()
        if self._open_deals(store) > self.TIERS_AFTER_FIRST_FRAME:
            self.painted.wait(timeout=5.0)
        self._read(self.tiers, store.tier_cutoffs)
        if done is not None:
            done()

    def _open_deals(self, store) -> int:
        if self.board.exception() is not None:
            return 0
        data = self.board.result()
        return sum(data[s.key][1]["count"] for s in store.stages() if s.kind == "open" and s.key in data)

    @staticmethod
    def _read(future: Future, read: Callable[[], Any]) -> None:
        try:
            future.set_result(read())
        except BaseException as exc:  # noqa: BLE001 - handed to the board, which reads again
            future.set_exception(exc)


def _yield_cpu() -> None:
    """After the cards are read, this thread gives way to the one drawing them (Linux: a
    thread is a task with its own nice value). Elsewhere nothing changes."""
    import os

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


class StoreOpening:
    """The Store while it opens. The board's first frame needs only the default pipeline's
    stages, the pipelines (is there a second one for `P`? the title names the one shown),
    the settings `lang` and `theme`, read here from the BoardReader before the first read
    starts, and what SQLite answers for a team (view_owner, team_role, seen_as); every other call
    opens the Store (or waits while `open_in_background` opens it,
    which the app starts once the first cards are up) and is the Store's from then on."""

    EARLY_SETTINGS = ("lang", "theme")

    def __init__(self, reader, open_store: Callable[[], Any]) -> None:
        self._open_store = open_store
        self._stages = reader.stages()
        self._pipelines = reader.pipelines()
        self._default_pipeline = reader.pipeline()
        self._settings = {key: reader.get_setting(key) for key in self.EARLY_SETTINGS}
        self._lock = threading.Lock()
        self._store: Any = None
        self._failed: BaseException | None = None

    def open_in_background(self) -> None:
        """Open the Store in a thread now (the rep is looking at the board)."""
        if self._store is None:
            threading.Thread(target=self._quietly, name="store-open", daemon=True).start()

    def _quietly(self) -> None:
        try:
            self.store()
        except BaseException:  # noqa: BLE001 - kept; raised again where the Store is needed
            pass

    def store(self):
        """The Store, opened now unless it already is."""
        with self._lock:
            if self._store is None:
                if self._failed is not None:
                    raise self._failed
                try:
                    self._store = self._open_store()
                except BaseException as exc:
                    self._failed = exc
                    raise
            return self._store

    def stages(self, pipeline: str | None = None):
        """The live stages of a pipeline (the default one: as read at start, until the Store is open)."""
        if self._store is None and pipeline is None:
            return self._stages
        return self.store().stages(pipeline)

    def pipelines(self):
        return self._pipelines if self._store is None else self._store.pipelines()

    def pipeline(self, text: str | None = None):
        """A pipeline by key or name; the default one (the board's title) as read at start."""
        if self._store is None and text is None:
            return self._default_pipeline
        return self.store().pipeline(text)

    # Only a plain SQLite file opens this way, and SQLite has no team: no role, no rep being
    # viewed (a lead's choice on a server), headings name whom they are asked for. The board's
    # title and the Summary's heading ask these before the Store is open.
    @property
    def view_owner(self) -> str | None:
        return None if self._store is None else self._store.view_owner

    @view_owner.setter
    def view_owner(self, owner: str | None) -> None:
        self.store().view_owner = owner

    def team_role(self) -> str | None:
        return None if self._store is None else self._store.team_role()

    def seen_as(self, owner: str | None) -> str | None:
        return owner if self._store is None else self._store.seen_as(owner)

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        if self._store is None and key in self._settings:
            value = self._settings[key]
            return default if value is None else value
        return self.store().get_setting(key, default)

    def __getattr__(self, name: str):
        return getattr(self.store(), name)
