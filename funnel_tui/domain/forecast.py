"""The forecast with the water squeezed out (挤压水分, DESIGN §3, source document 002). Pure.

**Historical probability** of an open deal in stage s = the rep's own observed conversion from
s to won, with a prior while the sample is small:

    p = (won + k · p0) / (closed + k)

- `closed` = the rep's closed deals (won or lost) that reached s, `won` = those of them won
  (reached as in DESIGN §3: a deal lost in a stage reached it; a won deal reached every open
  stage);
- the prior is a Beta distribution centred on the stage's own probability p0 (its default
  win probability, e.g. 50 % for Demo) with the weight of k = 10 deals: `p` is the mean of the
  posterior. With no history p = p0; with 10 closed deals the rep's record and the stage
  probability weigh alike; with 90 the record weighs 90 %.
The rep is the deal's owner: in a team view each deal is weighed by its own rep's record.

- **probability_weighted** = Σ amount × the deal's probability (the board's weighted pipeline);
- **history_weighted** = Σ amount × its historical probability (per rep and stage, rounded
  half up to the cent once per rep and stage);
- **water** (水分) = probability_weighted − history_weighted: what the pipeline claims beyond
  what this rep's history supports (negative: it is under-weighted).
- The open pipeline split by historical probability: **certain** ≥ 80 %, **likely** 50–80 %,
  **unlikely** 20–50 %, **remote** < 20 %.
- **Deals to push first** in each open stage ("ten deals at 30 %: pick the three most likely
  and push them"): ranked by historical probability × amount × recency, recency = 14 / (14 +
  days since the deal last moved or was touched); as many as the stage's conversion to the
  next says will move on (round(open deals × conversion), at least 1, at most 10; three when
  no conversion is known yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, Sequence

from funnel_tui.domain.funnel import SMALL_SAMPLE, FunnelFacts, rate
from funnel_tui.domain.stages import StageDef, StageMap

PRIOR_WEIGHT = 10
BANDS: tuple[tuple[str, Fraction], ...] = (
    ("certain", Fraction(80, 100)), ("likely", Fraction(50, 100)),
    ("unlikely", Fraction(20, 100)), ("remote", Fraction(0)),
)
RECENCY_DAYS = 14
PUSH_MAX = 10
PUSH_UNKNOWN = 3


@dataclass(frozen=True, slots=True)
class Record:
    """One rep's record at one stage: closed deals that reached it, and how many were won."""

    won: int
    closed: int


def records(stages: Sequence[StageDef], won: FunnelFacts | None, lost: FunnelFacts | None) -> dict[str, Record]:
    """Per stage: the record of one rep from the highest-stage counts of their won and lost
    deals (FunnelFacts.highest, whose keys are the stages history counts as now: `stages` may
    hold archived ones, and a plain archived stage's deals reached the stages before it)."""
    order = StageMap.of(stages).counted
    out: dict[str, Record] = {}
    w_run = c_run = 0
    for s in reversed(order):
        w = (won.highest.get(s.key, 0) if won else 0)
        lo = (lost.highest.get(s.key, 0) if lost else 0)
        w_run += w
        c_run += w + lo
        out[s.key] = Record(w_run, c_run)
    return out


def historical_probability(record: Record, stage_probability: int | None, k: int = PRIOR_WEIGHT) -> Fraction:
    """(won + k·p0) / (closed + k), p0 the stage's probability (percent; none counts as 0)."""
    p0 = Fraction(stage_probability or 0, 100)
    return (record.won + k * p0) / (record.closed + k)


def band(p: Fraction) -> str:
    for name, floor in BANDS:
        if p >= floor:
            return name
    return BANDS[-1][0]


def times(amount: int, p: Fraction) -> int:
    """amount × p in minor units, rounded half up (amounts are never negative)."""
    num = amount * p.numerator
    return (2 * num + p.denominator) // (2 * p.denominator)


def push_count(open_deals: int, conversion: float | None) -> int:
    """How many deals of a stage to push: as many as its conversion says will move on."""
    if open_deals <= 0:
        return 0
    if conversion is None:
        return min(PUSH_UNKNOWN, open_deals)
    return max(1, min(PUSH_MAX, open_deals, int(open_deals * conversion + 0.5)))


def quiet_days(deal: Mapping[str, Any], now: datetime) -> float:
    """Days since the deal last moved (entered its stage) or was touched."""
    last = deal["stage_entered_at"]
    if deal.get("last_contact_at") is not None and deal["last_contact_at"] > last:
        last = deal["last_contact_at"]
    return (now - last).total_seconds() / 86400


def push_score(amount: int, p: Fraction | float, quiet: float) -> float:
    """Historical probability × amount (major units) × recency."""
    return amount / 100 * float(p) * RECENCY_DAYS / (RECENCY_DAYS + max(quiet, 0.0))


def push_first(deals: Iterable[Mapping[str, Any]], probability: Mapping[str, Fraction], *, now: datetime,
               n: int) -> list[dict[str, Any]]:
    """The `n` deals to push first among `deals` (open deals of one stage): `probability`
    is each rep's historical probability at that stage. Ties: the older deal (smaller id)."""
    ranked = []
    for d in deals:
        p = probability[d["owner"]]
        q = quiet_days(d, now)
        ranked.append((-push_score(d["amount"], p, q), d["id"], d, p, q))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [push_row(d, p, q) for _score, _id, d, p, q in ranked[:n]]


def push_row(deal: Mapping[str, Any], p: Fraction, quiet: float) -> dict[str, Any]:
    return {"deal_id": deal["id"], "customer": deal["customer"], "owner": deal["owner"], "amount": deal["amount"],
            "historical_probability": float(p), "quiet_days": quiet,
            "score": push_score(deal["amount"], p, quiet)}


def forecast(stages: Sequence[StageDef], per_owner: Mapping[str, Mapping[str, FunnelFacts]],
             conversions: Mapping[str, float | None], push: Mapping[str, list[dict[str, Any]]] | None = None, *,
             owner: str | None = None, as_of: datetime | None = None, k: int = PRIOR_WEIGHT) -> dict[str, Any]:
    """The forecast. `per_owner[rep][status]` are the facts of that rep's deals of that status
    (open, won, lost); `conversions[stage]` the set's conversion to the next stage; `push[stage]`
    the deals to push first (store), as `push_first` would rank them. Amounts in minor units.
    `stages` is the pipeline's stage set now (archived ones included: history counts on them)."""
    order = [s for s in StageMap.of(stages).counted if not s.archived]
    by_key = {s.key: s for s in order}
    per_stage = {s.key: {"stage": s.key, "name": s.name, "open_deals": 0, "open_amount": 0,
                         "probability_weighted": 0, "history_weighted": 0} for s in order if s.kind == "open"}
    bands = {name: {"band": name, "min": float(floor), "deals": 0, "amount": 0, "history_weighted": 0}
             for name, floor in BANDS}
    rates = []
    for rep in sorted(per_owner, key=lambda r: r or ""):
        facts = per_owner[rep]
        book = records(stages, facts.get("won"), facts.get("lost"))
        open_facts = facts.get("open")
        amounts: dict[str, list[int]] = {}
        for g in (open_facts.groups if open_facts else ()):
            if g.status == "open" and g.stage in per_stage:
                a = amounts.setdefault(g.stage, [0, 0, 0])
                a[0] += g.n
                a[1] += g.amount
                a[2] += g.weighted
        for key, stage in by_key.items():
            if key not in per_stage:
                continue
            rec = book[key]
            p = historical_probability(rec, stage.probability, k)
            n, amount, weighted = amounts.get(key, (0, 0, 0))
            if n or rec.closed:
                rates.append({"owner": rep, "stage": key, "won": rec.won, "closed": rec.closed,
                              "observed": rate(rec.won, rec.closed), "prior": (stage.probability or 0) / 100,
                              "probability": float(p), "small_sample": rec.closed < SMALL_SAMPLE,
                              "open_deals": n})
            if not n:
                continue
            hist = times(amount, p)
            row = per_stage[key]
            row["open_deals"] += n
            row["open_amount"] += amount
            row["probability_weighted"] += weighted
            row["history_weighted"] += hist
            b = bands[band(p)]
            b["deals"] += n
            b["amount"] += amount
            b["history_weighted"] += hist
    stages_out = []
    for key, row in per_stage.items():
        conv = conversions.get(key)
        stages_out.append({**row, "water": row["probability_weighted"] - row["history_weighted"],
                           "conversion_to_next": conv, "push_count": push_count(row["open_deals"], conv),
                           "push_first": list((push or {}).get(key, []))})
    pw = sum(r["probability_weighted"] for r in per_stage.values())
    hw = sum(r["history_weighted"] for r in per_stage.values())
    return {
        "owner": owner,
        "as_of": as_of,
        "prior": {"kind": "beta", "weight": k, "centre": "stage probability"},
        "open_deals": sum(r["open_deals"] for r in per_stage.values()),
        "open_amount": sum(r["open_amount"] for r in per_stage.values()),
        "probability_weighted": pw,
        "history_weighted": hw,
        "water": pw - hw,
        "water_share": rate(pw - hw, pw),
        "bands": list(bands.values()),
        "stages": stages_out,
        "rates": rates,
    }


def probabilities(stages: Sequence[StageDef], per_owner: Mapping[str, Mapping[str, FunnelFacts]],
                  k: int = PRIOR_WEIGHT) -> dict[tuple[str, str], Fraction]:
    """(rep, open stage) → the rep's historical probability there."""
    out = {}
    for rep, facts in per_owner.items():
        book = records(stages, facts.get("won"), facts.get("lost"))
        for s in stages:
            if s.kind == "open" and s.key in book:
                out[(rep, s.key)] = historical_probability(book[s.key], s.probability, k)
    return out


def push_lists(stages: Sequence[StageDef], per_owner: Mapping[str, Mapping[str, FunnelFacts]],
               conversions: Mapping[str, float | None], open_counts: Mapping[str, int],
               biggest: Callable[[str, int], Sequence[Mapping[str, Any]]], *,
               now: datetime, k: int = PRIOR_WEIGHT,
               contenders: Callable[[str, float, float], Sequence[Mapping[str, Any]]] | None = None,
               first_read: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Open stage → the deals to push first (push_first, as many as push_count says).

    `open_counts[stage]`: the stage's open deals; `biggest(stage, m)`: its m largest by amount
    (ties by id). No deal can score more than amount × the stage's best probability (recency ≤ 1),
    so reading the largest until that bound falls below the n-th score finds exactly the deals a
    ranking of all of them would: a few dozen rows per stage instead of every open deal.

    `contenders(stage, best, floor)`, when given, is asked once the first read is not enough:
    at least every open deal of the stage whose score, with probability `best`, could reach
    `floor` (the n-th score so far, which the final n-th can only raise) — a bound the store
    applies in SQL (store.forecast.push_contenders) instead of reading ever more of the largest.
    `first_read`: how many of the largest the first read takes (default: 4 × n, at least 64;
    a test makes it small to reach `contenders` on a small book)."""
    p = probabilities(stages, per_owner, k)
    out = {}
    for s in stages:
        count = open_counts.get(s.key, 0)
        if s.kind != "open" or not count:
            continue
        unknown = historical_probability(Record(0, 0), s.probability, k)  # a rep with no closed deals
        best = max([unknown, *(v for (_rep, key), v in p.items() if key == s.key)])
        n = push_count(count, conversions.get(s.key))
        limit = max(4 * n, 64) if first_read is None else first_read
        while True:
            deals = biggest(s.key, limit)
            top = _ranked(deals, p, s.key, unknown, now, n)
            if len(deals) < limit or (len(top) == n and push_score(deals[-1]["amount"], best, 0.0) < top[-1]["score"]):
                break
            if contenders is not None and len(top) == n:
                seen = {d["id"] for d in deals}
                more = [d for d in contenders(s.key, float(best), top[-1]["score"]) if d["id"] not in seen]
                top = _ranked([*deals, *more], p, s.key, unknown, now, n)
                break
            limit *= 4
        out[s.key] = top
    return out


def _ranked(deals: Sequence[Mapping[str, Any]], p: Mapping[tuple[str, str], Fraction], stage: str,
            unknown: Fraction, now: datetime, n: int) -> list[dict[str, Any]]:
    rates = {owner: p.get((owner, stage), unknown) for owner in {d["owner"] for d in deals}}
    return push_first(deals, rates, now=now, n=n)


def split_key(key: str) -> tuple[str, str]:
    """`owner|status` (store.forecast's group) → (owner, status)."""
    owner, _sep, status = key.rpartition("|")
    return owner, status
