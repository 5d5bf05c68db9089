"""The import half of bulk work: many deals written in ONE transaction, memory flat.

DealImporter writes validated deals inside one BEGIN IMMEDIATE transaction, all history
rows under one `action` id, so `funnel undo` reverts a whole import (store/undo.py
soft-deletes deals for "imported" rows). Staged chunks (staged.stage_chunk) go in
with INSERT … SELECT from an in-memory scratch table (add_staged); rows that name a deal
the database has, dry runs and other databases go row by row (add), an update through the
same history-keeping changes as an edit.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from funnel_tui.domain.import_counts import ImportCounts
from funnel_tui.domain.validation import FollowUpDraft, lost_without_reason
from funnel_tui.i18n import _
from funnel_tui.store import bulk_rows
from funnel_tui.store.bulk_rows import STAGE_SCHEMA
from funnel_tui.store.followups import add_follow_up, close_follow_ups
from funnel_tui.store.history import (
    apply_changes,
    deal_row,
    history_row,
    new_action,
    stamp_author,
)
from funnel_tui.store.scoring import ImportScoring, apply_scorecard, changes_to_score
from funnel_tui.store.staged import ImportRow, SeenInFile, StagedChunk, new_uids
from funnel_tui.store.tables import IN_CHUNK, D, F, H, sqlite_value, to_db

# Columns an import may set on an existing deal (--update); identity and clocks of the
# database itself (id, uid, version, updated_at, deleted_at) are never taken from a file.
UPDATABLE: tuple[str, ...] = (
    "external_id", "customer", "title", "industry", "company_size", "contact_name",
    "contact_role", "contact_phone", "contact_email", "source", "lead_score", "owner",
    "stage", "status", "amount", "currency", "probability", "expected_close", "risk_level",
    "risk_note", "mitigation", "budget", "decision_chain", "pain_points", "competitors",
    "lost_reason", "notes", "created_at", "stage_entered_at", "last_contact_at", "closed_at",
)
BIG_IMPORT = 20_000  # rows from which rebuilding indexes once beats updating them per row
# Indexes a big import keeps up to date instead of rebuilding: they lead with deal_id or the
# import's one action id, so every new entry lands at their end (an append, cheap while the
# writer waits for the reader), and the rebuild after the load, which nothing overlaps, is
# shorter (measured: 0.2 s of ~5 s for 100k rows).
KEPT_DURING_IMPORT = frozenset({"ix_history_deal", "ix_history_path", "ix_history_action", "ix_followup_deal"})


@dataclass(slots=True)
class Outcome:
    line: int
    kind: str  # inserted | updated | unchanged | duplicate | rejected
    detail: str = ""
    deal_id: int | None = None


class DealImporter:
    """Write batches of ImportRow in one transaction (or only classify them: dry_run).

        with DealImporter(store, now=now, update=False) as imp:
            for batch in batches:
                outcomes = imp.add(batch)
            imp.abort()   # optional: roll everything back on leaving

    New deals are inserted with executemany; duplicates (same uid or external_id as a deal
    in the database, or as an earlier row of the same file) are skipped, or applied with
    `update=True` through the store's own history-keeping update.
    """

    def __init__(self, store: Any, *, now: datetime, update: bool = False, dry_run: bool = False,
                 action: str | None = None, staged: bool = False):
        self.store = store
        # add_staged() copies staged chunks (stage_chunk) in with INSERT … SELECT.
        self.staged = staged and not dry_run and store.engine.dialect.name == "sqlite"
        self.now = now
        self.at = to_db(now)
        self.update = update
        self.dry_run = dry_run
        self.action = action or new_action()
        self.counts = ImportCounts()
        self._stages = {s.key: s for s in store.stages()}
        # Identities seen in the file: per batch, and across batches only in a dry run (a real
        # import finds earlier rows in the database instead, so memory stays flat).
        self._seen = SeenInFile()
        self._first_new_id = 0  # deals with an id from here on were inserted by this import
        self._updated: set[int] = set()
        self._aborted = False
        self._dropped: list[tuple[str, str]] = []
        self._cm = None
        self._scratch_ready = False
        self._scoring: ImportScoring | None = None
        self.conn: Connection | None = None

    def __enter__(self) -> "DealImporter":
        self._cm = self.store.read() if self.dry_run else \
            self.store.write(scratch=STAGE_SCHEMA if self.staged else None)
        self.conn = self._cm.__enter__()
        if not self.dry_run and self.conn.dialect.name == "postgresql":
            # One import at a time on a server: a second import of the same file waits, then
            # finds every row already there (duplicates) instead of racing it on uid.
            from funnel_tui.store.pg_schema import IMPORT_LOCK, lock

            lock(self.conn, IMPORT_LOCK)
        # Deals are never hard-deleted, so every id above today's maximum is ours.
        self._first_new_id = (self.conn.execute(select(func.max(D.c.id))).scalar() or 0) + 1
        if not self.dry_run:  # new deals are scored as a single add scores one (issue 17)
            self._scoring = ImportScoring(self.conn)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None and (self._aborted or self.dry_run):
            # Leave by raising inside the transaction so it rolls back, then swallow it.
            try:
                self._cm.__exit__(_Rollback, _Rollback(), None)
            except _Rollback:
                pass
            return False
        if exc_type is None:
            try:
                self._rebuild_indexes()
            except BaseException as err:  # the transaction rolls back, indexes and all
                self._cm.__exit__(type(err), err, err.__traceback__)
                raise
        return bool(self._cm.__exit__(exc_type, exc, tb))

    # -- big imports: rebuild secondary indexes once instead of updating them per row -----

    def expect(self, rows: int) -> bool:
        """Told roughly how many rows are coming: a big import into a smaller table drops the
        non-unique indexes of deal/history/followup now and rebuilds them before commit.

        SQLite's DDL is transactional, so a rollback (abort, crash, error) restores them;
        sorting once is much cheaper than updating ten indexes per row. Unique indexes (uid,
        external_id) stay: duplicate detection needs them; so do KEPT_DURING_IMPORT. Returns
        True when it dropped any.
        """
        if self.dry_run or self._dropped or self.conn.dialect.name != "sqlite" or rows < BIG_IMPORT:
            return False
        existing = self.conn.execute(select(func.count()).select_from(D)).scalar() or 0
        if rows < existing:
            return False
        self._dropped = bulk_rows.drop_indexes(self.conn, keep=KEPT_DURING_IMPORT)
        return bool(self._dropped)

    def _rebuild_indexes(self) -> None:
        bulk_rows.create_indexes(self.conn, self._dropped)
        self._dropped = []

    def abort(self) -> None:
        """Roll back everything on leaving the `with` block."""
        self._aborted = True

    # -- per batch --------------------------------------------------------------------

    def _existing(self, uids: list[str], exts: list[str]) -> tuple[dict[str, dict], dict[str, dict]]:
        cols = [D.c[c] for c in ("id", "uid", "external_id", "deleted_at", "version", "probability_custom",
                                 *[c for c in UPDATABLE if c != "external_id"])]
        by_uid: dict[str, dict] = {}
        by_ext: dict[str, dict] = {}
        for i in range(0, max(len(uids), len(exts)), IN_CHUNK):
            conds = []
            if uids[i:i + IN_CHUNK]:
                conds.append(D.c.uid.in_(uids[i:i + IN_CHUNK]))
            if exts[i:i + IN_CHUNK]:
                conds.append(D.c.external_id.in_(exts[i:i + IN_CHUNK]))
            for r in self.conn.execute(select(*cols).where(or_(*conds))).mappings():
                row = dict(r)
                by_uid[row["uid"]] = row
                if row["external_id"]:
                    by_ext[row["external_id"]] = row
        return by_uid, by_ext

    def add(self, batch: Sequence[ImportRow]) -> list[Outcome]:
        """Classify and (unless dry-run) write one batch; returns one Outcome per row."""
        uids = [r.deal["uid"] for r in batch if r.deal.get("uid")]
        exts = [r.deal["external_id"] for r in batch if r.deal.get("external_id")]
        by_uid, by_ext = self._existing(uids, exts) if (uids or exts) else ({}, {})
        outcomes: list[Outcome] = []
        new: list[ImportRow] = []
        if not self.dry_run:
            self._seen.clear()
        for row in batch:
            uid, ext = row.deal.get("uid"), row.deal.get("external_id")
            repeat = self._seen.duplicate(row.line, uid, ext)
            if repeat:
                self.counts.duplicates += 1
                outcomes.append(Outcome(row.line, "duplicate", repeat))
                continue
            m_uid = by_uid.get(uid) if uid else None
            m_ext = by_ext.get(ext) if ext else None
            if m_uid and m_ext and m_uid["id"] != m_ext["id"]:
                self.counts.rejected += 1
                why = _("uid matches deal {a} but external_id matches deal {b}").format(a=m_uid["id"], b=m_ext["id"])
                outcomes.append(Outcome(row.line, "rejected", why))
                continue
            match = m_uid or m_ext
            if match is None:
                new.append(row)
                continue
            if match["id"] >= self._first_new_id or match["id"] in self._updated:
                self.counts.duplicates += 1
                why = _("same deal as an earlier row of this file (deal {id})").format(id=match["id"])
                outcomes.append(Outcome(row.line, "duplicate", why, match["id"]))
                continue
            if match["deleted_at"] is not None:
                self.counts.duplicates += 1
                outcomes.append(Outcome(row.line, "duplicate",
                                        _("deal {id} (deleted; `funnel restore {id}` first)").format(id=match["id"]),
                                        match["id"]))
                continue
            if not self.update:
                self.counts.duplicates += 1
                why = _("already deal {id}").format(id=match["id"])
                outcomes.append(Outcome(row.line, "duplicate", why, match["id"]))
                continue
            outcomes.append(self._update(match, row))
        outcomes.extend(self._insert(new))
        return outcomes

    def add_staged(self, data: StagedChunk,
                   reparse: Callable[[list[tuple[int, list[str]]]], list[ImportRow | Outcome]]) -> list[Outcome]:
        """Write one chunk made by stage_chunk(): its rows are validated, complete and in
        their stored form, so they go into a scratch table in one executemany and SQLite
        copies them in with INSERT … SELECT, constant columns as bound values.

        Rows carrying a uid or external_id that the database already has go the way of
        add() (duplicate, or --update): `reparse([(line, cells), …])` turns their cells back
        into ImportRows (or rejections), all at once. Returns the outcomes of every row not simply
        inserted; inserted rows are counted in `counts`.
        """
        raw = self.conn.connection.dbapi_connection
        bulk_rows.load(raw, data, create=not self._scratch_ready)
        self._scratch_ready = True
        outcomes: list[Outcome] = []
        known = bulk_rows.known_rows(raw, data.const)
        if known:
            again: list[ImportRow] = []
            for row in reparse([(line, pickle.loads(cells)) for line, cells in known]):
                if isinstance(row, Outcome):
                    self.counts.rejected += 1
                    outcomes.append(row)
                else:
                    again.append(row)
            outcomes += self.add(again)
            bulk_rows.drop_lines(raw, [line for line, _cells in known])
        before = raw.execute("SELECT max(id) FROM main.deal").fetchone()[0] or 0
        inserted, follow_ups = bulk_rows.copy_in(raw, data.const, at=sqlite_value(self.at),
                                                   action=self.action, gaps=bool(known))
        if inserted:
            self._scoring.score_new(self.conn, at=self.at, action=self.action, after_id=before)
        self.counts.follow_ups += follow_ups
        self.counts.inserted += inserted
        return outcomes

    def _insert(self, rows: list[ImportRow]) -> list[Outcome]:
        if not rows:
            return []
        deals = []
        fresh = iter(new_uids(sum(1 for r in rows if not r.deal.get("uid"))))
        for r in rows:
            d = r.deal  # completed in place: the row is not used again
            d["uid"] = d.get("uid") or next(fresh)
            d["updated_at"] = self.at
            d["version"] = 1
            d["next_follow_up_at"] = r.follow_up_at if d["status"] == "open" else None
            deals.append(d)
        if self.dry_run:
            self.counts.inserted += len(rows)
            self.counts.follow_ups += sum(1 for d in deals if d["next_follow_up_at"] is not None)
            return [Outcome(r.line, "inserted") for r in rows]
        bulk_rows.insert_many(self.conn, D, deals)
        ids = bulk_rows.inserted_ids(self.conn, deals)
        history: list[dict] = []
        follow_ups: list[dict] = []
        for deal_id, d in zip(ids, deals):
            history.append(history_row(deal_id, d["stage_entered_at"], "imported", self.action, to_stage=d["stage"]))
            if d["status"] != "open":
                # field stays None: undo soft-deletes the deal instead of reopening it.
                history.append(history_row(deal_id, d["closed_at"], d["status"], self.action,
                                           old="open", new=d["status"]))
            if d["next_follow_up_at"] is not None:
                follow_ups.append({"deal_id": deal_id, "kind": "call", "due_at": d["next_follow_up_at"],
                                   "note": "", "status": "open", "created_at": self.at, "done_at": None})
        bulk_rows.insert_many(self.conn, H, stamp_author(self.conn, history))
        if follow_ups:
            bulk_rows.insert_many(self.conn, F, follow_ups)
        self._scoring.score_new(self.conn, at=self.at, action=self.action, ids=ids)
        self.counts.inserted += len(ids)
        self.counts.follow_ups += len(follow_ups)
        return [Outcome(r.line, "inserted", deal_id=i) for r, i in zip(rows, ids)]

    def _update(self, existing: dict, row: ImportRow) -> Outcome:
        """Apply the file's columns to an existing deal (history-tracked, undoable)."""
        d = row.deal
        changes = {c: d[c] for c in row.given if c in UPDATABLE and c in d and _differs(existing.get(c), d[c])}
        if "probability" not in row.given and "stage" in changes and not existing["probability_custom"]:
            changes["probability"] = d["probability"]
        if "probability" in changes:
            changes["probability_custom"] = "probability" in row.given
        if "stage" in changes and "stage_entered_at" not in row.given:
            changes["stage_entered_at"] = self.at
        status = changes.get("status", existing["status"])
        if "status" in changes:
            if status == "open":
                changes["closed_at"] = None
            elif "closed_at" not in row.given or d.get("closed_at") is None:
                changes["closed_at"] = d.get("closed_at") or self.at
        if status == "lost" and not changes.get("lost_reason", existing["lost_reason"]):
            self.counts.rejected += 1
            why = lost_without_reason()
            return Outcome(row.line, "rejected", why, existing["id"])
        changes = {k: v for k, v in changes.items() if existing.get(k) != v}
        want_follow_up = row.follow_up_at is not None and status == "open"
        if want_follow_up:
            due = to_db(row.follow_up_at)  # files carry times to the second
            have = self.conn.execute(select(func.count()).select_from(F).where(and_(
                F.c.deal_id == existing["id"], F.c.status == "open",
                F.c.due_at >= due, F.c.due_at < due + timedelta(seconds=1),
            ))).scalar()
            want_follow_up = not have
        if not changes and not want_follow_up:
            self.counts.unchanged += 1
            why = _("deal {id} already has these values").format(id=existing["id"])
            return Outcome(row.line, "unchanged", why, existing["id"])
        self.counts.updated += 1
        self._updated.add(existing["id"])
        if self.dry_run:
            return Outcome(row.line, "updated", ", ".join(sorted(changes)), existing["id"])
        conn = self.conn
        deal = deal_row(conn, existing["id"])
        kinds: dict[str, str] = {}
        if "status" in changes:
            kinds["status"] = "reopened" if status == "open" else status
        apply_changes(conn, deal, changes, now=self.now, action=self.action, kind_for=kinds)
        # As an edit does (Store.update_deal): a cleared score, or new attributes, are scored again.
        cleared = "lead_score" in changes and changes["lead_score"] is None
        if cleared or (changes_to_score(changes) and "lead_score" not in changes):
            apply_scorecard(conn, existing["id"], now=self.now, action=self.action, cleared=cleared)
        if changes.get("status") in ("won", "lost"):
            close_follow_ups(conn, existing["id"], now=self.now, action=self.action)
        if want_follow_up:
            add_follow_up(conn, FollowUpDraft(existing["id"], row.follow_up_at), now=self.now, action=self.action)
            self.counts.follow_ups += 1
        return Outcome(row.line, "updated", ", ".join(sorted(changes)), existing["id"])


def _differs(old: Any, new: Any) -> bool:
    """A file's value differs from the stored one (files carry times to the second)."""
    if isinstance(old, datetime) and isinstance(new, datetime):
        old = old if old.tzinfo else old.replace(tzinfo=timezone.utc)
        return old.replace(microsecond=0) != new.replace(microsecond=0)
    return old != new


class _Rollback(Exception):
    """Raised into the transaction's context manager to roll it back."""

