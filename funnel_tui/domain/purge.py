"""The purge queue (清理, 剔除 in source document 002): quiet deals of the lowest tier. Pure.

A deal is a **candidate** when it is open (not won, not lost, not deleted), its tier is the
lowest one (C under ABC tiering, 维持 maintain under amount tiering; a deal without a tier —
a currency without a rate — never is), and it has had **no change** for `purge_after_months`
(2 by default, a setting) calendar months:

    quiet since = the latest of: created_at, stage_entered_at, last_contact_at

- a move (forward or back) restarts the clock (stage_entered_at);
- a touch restarts it (last_contact_at): a logged call, a follow-up done, and *keep* in the
  purge queue, which is a touch whose note says why the deal stays;
- editing a field, planning or snoozing a follow-up does not: a typo fixed or a call pushed
  back is not progress.

"Two months" is counted on the rep's calendar: the cut-off is now, in the rep's time zone,
the same wall-clock time two months back (the 31st becomes the month's last day), and a deal
quiet since that instant or earlier is a candidate. Undo of a keep or a removal restores the
columns exactly, so the deal is a candidate again.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone, tzinfo
from typing import Any, Mapping

from funnel_tui.i18n import _

PURGE_AFTER_MONTHS = 2
PURGE_SETTING = "purge_after_months"
PURGED = "purged"  # the lost reason code (domain.vocab.LOST_REASON)


class PurgeSettingError(ValueError):
    """A `purge_after_months` that cannot be used; the message says what it takes."""


def purge_after(value: str | None) -> int:
    """The setting `purge_after_months` as a whole number of months, 1–60 (2 when unset)."""
    if value is None or str(value).strip() == "":
        return PURGE_AFTER_MONTHS
    try:
        months = int(str(value).strip())
    except ValueError:
        raise PurgeSettingError(_("{key}: {value} is not a whole number of months").format(
            key=PURGE_SETTING, value=repr(value))) from None
    if not 1 <= months <= 60:
        raise PurgeSettingError(_("{key}: {value} is out of range; use 1 to 60 months").format(
            key=PURGE_SETTING, value=months))
    return months


def months_before(now: datetime, months: int, tz: tzinfo) -> datetime:
    """The instant `months` calendar months before `now` on the wall clock of `tz` (day clamped
    to the month's length), in UTC."""
    local = now.astimezone(tz)
    index = local.year * 12 + (local.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    # The wall clock then, with that date's own offset (a zoneinfo zone: summer time included).
    back = local.replace(tzinfo=None).replace(year=year, month=month, day=day).replace(tzinfo=tz)
    return back.astimezone(timezone.utc)


def purge_cutoff(now: datetime, months: int, tz: tzinfo) -> datetime:
    """A deal quiet since this instant or earlier is a candidate."""
    return months_before(now, months, tz)


def quiet_since(deal: Mapping[str, Any]) -> datetime:
    """When the deal last changed, as the purge queue counts it (see the module's doc)."""
    moments = [deal["created_at"], deal["stage_entered_at"]]
    if deal.get("last_contact_at") is not None:
        moments.append(deal["last_contact_at"])
    return max(moments)


def is_candidate(deal: Mapping[str, Any], tier: str | None, lowest: str, *, cutoff: datetime) -> bool:
    """Whether a deal of tier `tier` belongs in the purge queue at `cutoff` (purge_cutoff)."""
    if deal["status"] != "open" or deal.get("deleted_at") is not None or tier is None or tier != lowest:
        return False
    return quiet_since(deal) <= cutoff
