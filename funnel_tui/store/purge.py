"""The purge queue (domain.purge says which deals and why): list the candidates, keep one
with a note (a touch: the clock restarts), remove one (lost, reason `purged: note`), or remove
them all at once after a verified backup, as one action that one undo takes back.

Both backends: the candidates are one bounded query (the tier as SQL, store.today), and every
write goes through the same deal and touch functions as the rest of the store, so history,
undo and a server's row-level security hold as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Callable, Sequence

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.engine import Connection

from funnel_tui.domain.purge import PURGE_SETTING, PURGED, PurgeSettingError, is_candidate, purge_after, purge_cutoff
from funnel_tui.domain.validation import FieldError, TouchDraft, ValidationError, validate_field
from funnel_tui.i18n import _
from funnel_tui.store import deals, followups
from funnel_tui.store.errors import StoreError
from funnel_tui.store.history import deal_row, new_action
from funnel_tui.store.tables import D, from_db, open_clause, to_db
from funnel_tui.store.today import TierScheme, tier_expression

KEEP_KIND = "task"  # a keep is a touch of this kind unless the rep names another


@dataclass(frozen=True, slots=True)
class PurgeCandidate:
    """One deal in the purge queue, as `funnel purge` and Today's "to review" show it."""

    deal_id: int
    customer: str
    title: str
    stage: str
    owner: str
    amount: int  # minor units of `currency`
    currency: str
    tier: str
    quiet_since: datetime
    quiet_days: int


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    return from_db(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def _clause(scheme: TierScheme, cutoff: datetime, owner: str | None, stage_keys: Sequence[str] | None):
    """Open, in the lowest tier, unchanged since `cutoff` (domain.purge's rule, in SQL)."""
    ts = D.c.stage_entered_at.type
    cut = literal(to_db(cutoff), ts)
    # The coalesce term is implied by the other two; spelled as ix_deal_quiet is, it lets the
    # database seek the quiet deals instead of reading every open one.
    clause = and_(open_clause(owner), func.coalesce(D.c.last_contact_at, D.c.created_at) <= cut,
                  D.c.created_at <= cut, D.c.stage_entered_at <= cut,
                  or_(D.c.last_contact_at.is_(None), D.c.last_contact_at <= cut),
                  tier_expression(scheme) == scheme.lowest)
    if stage_keys is not None:
        clause = and_(clause, D.c.stage.in_(list(stage_keys)))
    return clause


def candidates_query(scheme: TierScheme, cutoff: datetime, owner: str | None = None,
                     stage_keys: Sequence[str] | None = None):
    """The queue's SELECT, in the order of ix_deal_quiet (see candidates)."""
    return (select(D.c.id, D.c.customer, D.c.title, D.c.stage, D.c.owner, D.c.amount, D.c.currency,
                   D.c.probability, D.c.created_at, D.c.stage_entered_at, D.c.last_contact_at)
            .where(_clause(scheme, cutoff, owner, stage_keys))
            .order_by(func.coalesce(D.c.last_contact_at, D.c.created_at), D.c.id))


def candidates(conn: Connection, scheme: TierScheme, *, cutoff: datetime, now: datetime, owner: str | None = None,
               stage_keys: Sequence[str] | None = None, limit: int | None = None) -> list[PurgeCandidate]:
    """The purge queue, longest without a touch first (by last contact, else creation; ties by
    id): the order of ix_deal_quiet, so the first `limit` rows are read and the rest are not."""
    q = candidates_query(scheme, cutoff, owner, stage_keys)
    out = []
    for r in conn.execute(q.limit(limit) if limit is not None else q):
        moments = [_aware(r.created_at), _aware(r.stage_entered_at), _aware(r.last_contact_at)]
        since = max(m for m in moments if m is not None)
        out.append(PurgeCandidate(r.id, r.customer, r.title or "", r.stage, r.owner or "", int(r.amount or 0),
                                  r.currency, str(scheme.tier_of(int(r.amount or 0), int(r.probability or 0),
                                                                 r.currency)),
                                  since, max(int((now - since) / timedelta(days=1)), 0)))
    return out


def count_candidates(conn: Connection, scheme: TierScheme, *, cutoff: datetime, owner: str | None = None,
                     stage_keys: Sequence[str] | None = None) -> int:
    return int(conn.execute(select(func.count()).select_from(D).where(
        _clause(scheme, cutoff, owner, stage_keys))).scalar() or 0)


def _note(note: str, *, required: bool) -> str:
    try:
        text = validate_field("notes", note or "")
    except FieldError as exc:
        raise ValidationError({"notes": exc.message}) from None
    if required and not text.strip():
        raise ValidationError({"notes": _("is required: say why the deal stays")})
    return text.strip()


def purged_reason(note: str) -> str:
    """The lost reason of a purged deal: the code, and the rep's note as its details."""
    reason = f"{PURGED}: {note}" if note else PURGED
    try:
        return validate_field("lost_reason", reason)
    except FieldError as exc:
        raise ValidationError({"lost_reason": exc.message}) from None


def _check_candidate(conn: Connection, deal_id: int, scheme: TierScheme, cutoff: datetime) -> dict:
    deal = deal_row(conn, deal_id)
    row = {**deal, "created_at": _aware(deal["created_at"]), "stage_entered_at": _aware(deal["stage_entered_at"]),
           "last_contact_at": _aware(deal["last_contact_at"])}
    tier = scheme.tier_of(int(deal["amount"] or 0), int(deal["probability"] or 0), deal["currency"])
    if not is_candidate(row, tier, scheme.lowest, cutoff=cutoff):
        raise StoreError(_("deal {id} is not in the purge queue (open, lowest tier, no change for the "
                           "set months); nothing was changed").format(id=deal_id))
    return deal


class PurgeMethods:
    """The Store's purge queue (mixed into core.Store)."""

    # provided by Store
    read: Callable[..., Any]
    write: Callable[..., Any]
    engine: Any
    tier_shares: Callable[..., Any]
    stage_keys: Callable[..., Any]
    _viewed: Callable[..., Any]

    def purge_months(self) -> int:
        """The setting `purge_after_months` (2 unless set)."""
        with self.read() as conn:
            from funnel_tui.store.settings import get_setting

            try:
                return purge_after(get_setting(conn, PURGE_SETTING))
            except PurgeSettingError as exc:
                raise StoreError(str(exc)) from None

    def purge_cutoff(self, *, now: datetime, tz: tzinfo) -> datetime:
        return purge_cutoff(now, self.purge_months(), tz)

    def _scheme(self, owner: str | None) -> TierScheme:
        from funnel_tui.store.today import tier_scheme_of

        with self.read() as conn:
            return tier_scheme_of(conn, self.tier_shares(), self._viewed(owner))

    def purge_candidates(self, *, now: datetime, tz: tzinfo, owner: str | None = None,
                         pipeline: str | None = None, limit: int | None = None) -> list[PurgeCandidate]:
        """The purge queue now (of one pipeline when named), quietest first."""
        scheme, cutoff, keys = self._scheme(owner), self.purge_cutoff(now=now, tz=tz), self.stage_keys(pipeline)
        with self.read() as conn:
            return candidates(conn, scheme, cutoff=cutoff, now=now, owner=self._viewed(owner), stage_keys=keys,
                              limit=limit)

    def purge_count(self, *, now: datetime, tz: tzinfo, owner: str | None = None,
                    pipeline: str | None = None) -> int:
        scheme, cutoff, keys = self._scheme(owner), self.purge_cutoff(now=now, tz=tz), self.stage_keys(pipeline)
        with self.read() as conn:
            return count_candidates(conn, scheme, cutoff=cutoff, owner=self._viewed(owner), stage_keys=keys)

    def purge_keep(self, deal_id: int, note: str, *, now: datetime, tz: tzinfo, kind: str = KEEP_KIND) -> dict:
        """Keep a candidate: a touch with the rep's note (why it stays), which restarts its
        quiet clock. Refused for a deal not in the queue."""
        text = _note(note, required=True)
        scheme, cutoff = self._scheme(None), self.purge_cutoff(now=now, tz=tz)
        with self.write() as conn:
            _check_candidate(conn, deal_id, scheme, cutoff)
            return followups.log_touch(conn, TouchDraft(deal_id, kind, text), now=now, action=new_action())

    def purge_remove(self, deal_id: int, note: str, *, now: datetime, tz: tzinfo) -> dict:
        """Remove a candidate: lost with the reason `purged` and the rep's note. Refused for a
        deal not in the queue."""
        reason = purged_reason(_note(note, required=True))
        scheme, cutoff = self._scheme(None), self.purge_cutoff(now=now, tz=tz)
        with self.write() as conn:
            _check_candidate(conn, deal_id, scheme, cutoff)
            return deals.lose_deal(conn, deal_id, reason, now=now, action=new_action())

    def purge_all(self, *, now: datetime, tz: tzinfo, note: str = "", owner: str | None = None,
                  pipeline: str | None = None) -> dict[str, Any]:
        """Remove every candidate at once: a verified backup first (no backup, no purge), then
        one transaction and one action, so one undo brings them all back. The queue is read
        again inside the transaction: what is removed is what stands then.
        Returns {"deal_ids", "backup"}."""
        from funnel_tui.store.backup import BackupError, backup_before

        reason = purged_reason(_note(note, required=False))
        scheme, cutoff, keys = self._scheme(owner), self.purge_cutoff(now=now, tz=tz), self.stage_keys(pipeline)
        if not self.purge_count(now=now, tz=tz, owner=owner, pipeline=pipeline):
            return {"deal_ids": [], "backup": None}
        try:
            backup: Path | None = backup_before(self.engine, reason="purge")
        except BackupError as exc:
            raise StoreError(_("purge: no purge without a backup, and the backup failed: {why}; nothing was "
                               "changed").format(why=exc)) from None
        action = new_action()
        with self.write() as conn:
            found = candidates(conn, scheme, cutoff=cutoff, now=now, owner=self._viewed(owner), stage_keys=keys)
            ids = sorted(c.deal_id for c in found)
            for deal_id in ids:
                deals.lose_deal(conn, deal_id, reason, now=now, action=action)
        return {"deal_ids": ids, "backup": str(backup) if backup else None, "action": action}
