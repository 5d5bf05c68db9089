"""A big import's reader, started before the store opens.

`funnel import` spends its first ~0.7 s loading SQLAlchemy and opening the store, and only
then could it plan the file and fork the reader (exchange/import_chunks.ForkedReader). The
reader is the slower half of a big import, so that start-up is time it could have spent
reading. `start` plans the file and forks the reader at once, from what the store is going
to say, read here without SQLAlchemy: the live stages of the default pipeline (sqlite3, the
board's first-read SQL; the stages a new database is seeded with when there is no file yet)
and the rep's name (`me`, as settings keep it).

That is a guess, and it is checked: the importer takes the early reader only when the opened
store says the same (`EarlyRead.fits`: stages, owner, language, options, clock); otherwise
it stops the child and reads the file anew, as without it. Whatever went wrong here (a file
that cannot be planned, a database that cannot be read) leaves no early reader, and the
importer meets the problem the usual way, with the usual message. Nothing here writes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Sequence

from funnel_tui.domain.stages import DEFAULT_PIPELINE_DEF, DEFAULT_STAGES, StageDef, of_pipeline
from funnel_tui.exchange.import_chunks import FORK_BYTES, ForkedReader, read_chunks
from funnel_tui.exchange.import_rows import RowParser
from funnel_tui.exchange.importer import ImportOptions, new_parser, plan_stages, resolve_owner
from funnel_tui.exchange.reading import ImportPlan
from funnel_tui.i18n import active_lang
from funnel_tui.store import board_sql, due_read, personal
from funnel_tui.store.board_read import BoardReader


@dataclass
class EarlyRead:
    """A reader forked before the store opened, and what it assumed."""

    plan: ImportPlan  # open here too (this process only closes it; the child reads it)
    parser: RowParser  # as the child started with it
    reader: ForkedReader
    options: ImportOptions
    stages: tuple[StageDef, ...]
    owner: str | None
    lang: str
    now: datetime
    tz: tzinfo
    batch: int

    def fits(self, *, options: ImportOptions, stages: Sequence[StageDef], owner: str | None, now: datetime,
             tz: tzinfo, batch: int) -> bool:
        """Whether the child reads exactly what the importer would have read itself."""
        return (options == self.options and tuple(stages) == self.stages and owner == self.owner
                and active_lang() == self.lang and now == self.now and tz == self.tz and batch == self.batch)

    def cancel(self) -> None:
        """Stop the child and close the file (the importer will not use them)."""
        self.reader.stop()
        self.plan.table.close()


def start(path: str | Path, db: Path | None, options: ImportOptions, *, owner: str | None, now: datetime, tz: tzinfo,
          batch: int) -> EarlyRead | None:
    """Fork the reader of `path` for an import into the SQLite file `db` (None: a server,
    no early reader), or None when this file is not worth it or anything is in doubt.

    `owner`: what --owner said (None: the rep, `me`, as the importer decides it)."""
    if db is None or not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return None
    try:
        src = Path(path).expanduser()
        if not src.is_file() or src.stat().st_size < FORK_BYTES:
            return None
        stages, me = _as_the_store_will_say(db)
        owner = resolve_owner(owner, lambda: me)
        plan = plan_stages(stages, src, options, tz=tz)
    except Exception:  # noqa: BLE001 - the importer meets it again and says what it is
        return None
    if plan.table.kind != "csv" or plan.table.size < FORK_BYTES:
        plan.table.close()
        return None
    try:
        parser = new_parser(plan, stages, now, tz, owner, options)
    except Exception:  # noqa: BLE001 - as above
        plan.table.close()
        return None

    def produce():
        return read_chunks(plan.table.records, parser, parser.given, staged=True, batch=batch,
                           estimate=plan.table.rows_expected)

    return EarlyRead(plan, parser, ForkedReader(produce), options, tuple(stages), owner, active_lang(),
                     now, tz, batch)


def _as_the_store_will_say(db: Path) -> tuple[tuple[StageDef, ...], str | None]:
    """The default pipeline's live stages and the rep's name (`me`), read with sqlite3; a
    missing or empty file: the stages a new database gets. The name is read as the store
    reads it (personal.read_setting), except that an old `me` is not moved into the config
    file here: this writes nothing."""
    try:
        size = db.stat().st_size
    except FileNotFoundError:
        size = 0
    if size == 0:
        stages = tuple(s for s in of_pipeline(DEFAULT_STAGES, DEFAULT_PIPELINE_DEF.key) if not s.archived)
        return stages, personal.read_setting(lambda key: None, "me", dialect="sqlite", db_path=db, move=False)
    conn = due_read.open_plain(db)
    if conn is None:
        raise LookupError("not a current plain SQLite file: the store decides")
    try:
        stages = BoardReader(conn, db).stages()

        def setting(key: str) -> str | None:
            row = conn.execute(board_sql.SETTING_SQL, {"key": key}).fetchone()
            return None if row is None else row[0]

        me = personal.read_setting(setting, "me", dialect="sqlite", db_path=db, move=False)
    finally:
        conn.close()
    return stages, me or None
