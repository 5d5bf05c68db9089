"""The clocks and flags on a deal (DESIGN §2). Pure: `now` is always passed in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Literal, NamedTuple, Sequence

from funnel_tui.i18n import _

DAY = timedelta(days=1)

Bucket = Literal["overdue", "24h", "3d"]
BUCKETS: tuple[Bucket, ...] = ("overdue", "24h", "3d")
# Where each bucket ends, counted from now (it starts where the one before it ends).
BUCKET_ENDS: dict[Bucket, timedelta] = {"overdue": timedelta(0), "24h": timedelta(hours=24),
                                        "3d": timedelta(hours=72)}
# What `funnel due --within 7d` lists beyond the last bucket.
LATER = "later"
LISTED_BUCKETS: tuple[str, ...] = (*BUCKETS, LATER)
WITHIN = {"24h": timedelta(hours=24), "3d": timedelta(hours=72), "7d": timedelta(days=7)}


def due_bucket(due_at: datetime, now: datetime) -> Bucket | None:
    """overdue: due < now; 24h: now ≤ due < now+24h; 3d: now+24h ≤ due < now+72h."""
    for bucket in BUCKETS:
        if due_at < now + BUCKET_ENDS[bucket]:
            return bucket
    return None


def listed_bucket(due_at: datetime, now: datetime) -> str:
    """The bucket of a follow-up `funnel due` lists: one of BUCKETS, else "later"."""
    return due_bucket(due_at, now) or LATER


def bucket_counts(due_before_ends: Sequence[int], total: int) -> dict[str, int]:
    """How many fall in each of LISTED_BUCKETS, from how many are due before each bucket's
    end (BUCKET_ENDS, in BUCKETS order) and how many there are in all: what SQL counts."""
    counts, before = {}, 0
    for bucket, upto in zip(BUCKETS, due_before_ends, strict=True):
        counts[bucket], before = upto - before, upto
    counts[LATER] = total - before
    return counts


def due_buckets(items: Iterable[tuple[object, datetime]], now: datetime) -> dict[str, list]:
    """Group (item, due_at) pairs into the three buckets, each sorted by due time."""
    out: dict[str, list] = {b: [] for b in BUCKETS}
    for item, due in sorted(items, key=lambda pair: pair[1]):
        bucket = due_bucket(due, now)
        if bucket is not None:
            out[bucket].append(item)
    return out


# --- dwell -------------------------------------------------------------------------

NEAR_FRACTION = 0.8  # documented; applied as the exact ratio 4/5 below


# NamedTuples, not dataclasses, here and in the rest of `funnel due`'s path: importing
# dataclasses (and with it inspect) costs every prompt's `funnel due --count` ~8 ms.
class Dwell(NamedTuple):
    days: float
    limit: int | None
    state: Literal["ok", "near", "over"]

    @property
    def whole_days(self) -> int:
        return int(self.days)


def dwell(stage_entered_at: datetime, now: datetime, max_dwell_days: int | None) -> Dwell:
    """`near` at ≥ 80 % of the stage's max dwell, `over` past it; no limit → always ok.

    A clock behind the time the deal entered its stage (a wrong clock, FUNNEL_NOW) gives a
    stay of 0, never a negative one."""
    stay = max(now - stage_entered_at, timedelta(0))
    days = stay / DAY
    if not max_dwell_days:
        return Dwell(days, None, "ok")
    limit = timedelta(days=max_dwell_days)
    # Compare timedeltas (whole microseconds), not floats: 0.8 × 14 is 11.200000000000001.
    if stay > limit:
        return Dwell(days, max_dwell_days, "over")
    if stay * 5 >= limit * 4:
        return Dwell(days, max_dwell_days, "near")
    return Dwell(days, max_dwell_days, "ok")


# --- tiers and cadence ---------------------------------------------------------------

Tier = Literal["A", "B", "C"]
TIER_A_SHARE = 0.80
TIER_B_SHARE = 0.95
# A tier's follow-up cadence: the ABC tiers, and the amount tiers of domain.tiers (关键 daily,
# 重点 every three days, 一般 weekly, 维持 monthly). A deal without a tier (amount tiering, a
# currency without a rate) gets the monthly one, as C does.
CADENCE: dict[str, timedelta] = {"A": timedelta(days=1), "B": timedelta(days=7), "C": timedelta(days=30),
                                 "key": timedelta(days=1), "major": timedelta(days=3),
                                 "regular": timedelta(days=7), "maintain": timedelta(days=30)}


class TierCutoffs(NamedTuple):
    """The weighted values at which A and B start; a deal's tier is then one comparison.

    Cutoffs let the board and warnings classify any deal from its own row, without
    loading every open deal (that costs seconds at 100k deals).
    """

    a_min: int | None  # smallest weighted value that is A (None: no A deals)
    b_min: int | None  # smallest weighted value that is B or better

    def tier(self, weighted: int) -> Tier:
        if weighted > 0 and self.a_min is not None and weighted >= self.a_min:
            return "A"
        if weighted > 0 and self.b_min is not None and weighted >= self.b_min:
            return "B"
        return "C"

    # The questions domain.tiers.AmountTiers answers too (board, warnings, export, purge queue).
    codes = ("A", "B", "C")
    lowest = "C"
    kind = "abc"

    def tier_of(self, amount: int, probability: int, currency: str | None = None) -> Tier:
        """The tier of a deal by its own row (weighted = amount × probability, as stored: ABC
        ranks weighted values in the deal's own currency)."""
        return self.tier((amount * probability + 50) // 100)


def tier_cutoffs(
    value_counts: Iterable[tuple[int, int]],
    a_share: float = TIER_A_SHARE,
    b_share: float = TIER_B_SHARE,
) -> TierCutoffs:
    """Classic ABC analysis over (weighted value, how many deals have it) pairs.

    Sorted by value descending, a deal is A while the cumulative share *before* it is
    under 80 %, so the deal that crosses the line is still A; likewise B up to 95 %; the
    rest C. Equal values always share a tier (the better one): tiers never depend on
    row order. Deals worth nothing are always C.
    """
    groups = sorted(((v, n) for v, n in value_counts if v > 0 and n > 0), reverse=True)
    total = sum(v * n for v, n in groups)
    a_min = b_min = None
    if total <= 0:
        return TierCutoffs(None, None)
    # Integer comparisons (running * 10_000 < share * 10_000 * total): no float drift.
    a_limit = round(a_share * 10_000) * total
    b_limit = round(b_share * 10_000) * total
    running = 0
    for value, count in groups:
        before = running * 10_000
        if before < a_limit:
            a_min = value
        elif before < b_limit:
            b_min = value
        else:
            break
        running += value * count
    if b_min is None:
        b_min = a_min
    return TierCutoffs(a_min, b_min)


def abc_tiers(
    weighted: Sequence[tuple[int, int]],
    a_share: float = TIER_A_SHARE,
    b_share: float = TIER_B_SHARE,
) -> dict[int, Tier]:
    """A/B/C for each (deal_id, weighted value) pair, by `tier_cutoffs`."""
    counts: dict[int, int] = {}
    for _deal_id, value in weighted:
        counts[value] = counts.get(value, 0) + 1
    cut = tier_cutoffs(counts.items(), a_share, b_share)
    return {deal_id: cut.tier(value) for deal_id, value in weighted}


def cadence(tier: str | None) -> timedelta:
    """How often a deal of this tier should hear from the rep: A daily, B weekly, C monthly;
    关键 daily, 重点 every three days, 一般 weekly, 维持 monthly; no tier monthly."""
    return CADENCE.get(tier or "C", CADENCE["C"])


def silence(
    last_contact_at: datetime | None,
    created_at: datetime,
    now: datetime,
    tier: str | None,
    next_follow_up_at: datetime | None,
) -> float | None:
    """Days of silence when it exceeds the tier cadence and no future follow-up exists."""
    if next_follow_up_at is not None and next_follow_up_at >= now:
        return None
    since = last_contact_at or created_at
    quiet = now - since
    if quiet > cadence(tier):
        return quiet / DAY
    return None


WarningKind = Literal["dwell_over", "dwell_near", "silent", "no_next_step"]
WARNING_KINDS: tuple[WarningKind, ...] = ("dwell_over", "dwell_near", "silent", "no_next_step")


# --- qualification -------------------------------------------------------------------

QUALIFY_MIN_SCORE = 6  # below this, entering Qualified earns a warning (never a block)


def lead_score_warning(stage_key: str, lead_score: int | None) -> str | None:
    """A lead score below 6 entering Qualified deserves a word, per the source documents."""
    if stage_key == "qualified" and lead_score is not None and lead_score < QUALIFY_MIN_SCORE:
        return _("lead score {score} is below {min} for a qualified deal").format(score=lead_score,
                                                                                  min=QUALIFY_MIN_SCORE)
    return None
