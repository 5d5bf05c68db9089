"""Segments (source document 003): the funnel of each segment side by side, with the best and
worst converting segment marked at every step. Pure.

A segment is the deal's `source`, `industry`, `company_size` or `owner` as written (a blank
one is its own segment), or `new_vs_existing`:
- **existing**: the customer (the same name, as written) already had a deal won before this
  deal was created — another deal, won now, whose close time is before this one's creation;
- **new**: every other deal.
Each segment's funnel is DESIGN §3's over its own deals (reached, conversion with counts, win
rate). At each step the segments with at least 10 deals behind the rate compete: the highest
rate is `best`, the lowest `worst` (ties: the larger sample, then the name); with fewer than
two competitors, or all at one rate, nothing is marked. The same for the win rate.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from funnel_tui.domain.funnel import SMALL_SAMPLE
from funnel_tui.i18n import _

BY = ("source", "industry", "company_size", "owner", "new_vs_existing")
NEW, EXISTING = "new", "existing"


def segment_keys(deals: Iterable[Mapping[str, Any]], by: str,
                 everyone: Iterable[Mapping[str, Any]] | None = None) -> dict[int, str]:
    """deal id → its segment. `everyone`: the deals that can make a customer existing (all
    the database shows; default `deals`)."""
    deals = list(deals)
    if by not in BY:
        raise ValueError(f"by: {by!r}; use one of: {', '.join(BY)}")
    if by != "new_vs_existing":
        return {d["id"]: str(d.get(by) or "") for d in deals}
    won: dict[str, list] = {}
    for p in (deals if everyone is None else everyone):
        if p.get("deleted_at") is None and p["status"] == "won" and p.get("closed_at") is not None:
            won.setdefault(p["customer"], []).append((p["closed_at"], p["id"]))
    out = {}
    for d in deals:
        earlier = any(closed < d["created_at"] and pid != d["id"] for closed, pid in won.get(d["customer"], ()))
        out[d["id"]] = EXISTING if earlier else NEW
    return out


def _pick(candidates: list[tuple[float, int, str]], best: bool) -> str | None:
    if len(candidates) < 2:
        return None
    rates = {c[0] for c in candidates}
    if len(rates) < 2:
        return None
    target = max(rates) if best else min(rates)
    tied = [c for c in candidates if c[0] == target]
    tied.sort(key=lambda c: (-c[1], c[2]))
    return tied[0][2]


def compare(by: str, summaries: Mapping[str, Mapping[str, Any]], *, owner: str | None = None,
            as_of: Any = None) -> dict[str, Any]:
    """Side by side: `summaries` is segment → domain.funnel.summarize(...) of its deals."""
    segments = []
    steps: list[dict[str, Any]] = []
    first = next(iter(summaries.values()), None)
    if first is not None:
        order = first["stages"]
        steps = [{"stage": st["key"], "name": st["name"], "next": order[i + 1]["key"]}
                 for i, st in enumerate(order[:-1])]
    for name, s in summaries.items():
        by_key = {st["key"]: st for st in s["stages"]}
        segments.append({
            "segment": name,
            "deals": s["deals"],
            "won": s["won"],
            "lost": s["lost"],
            "win_rate": {"n": s["win_rate_n"], "d": s["win_rate_d"], "ratio": s["win_rate"],
                         "small_sample": s["win_rate_small_sample"], "best": False, "worst": False},
            "reached": {st["stage"]: by_key[st["stage"]]["reached"] for st in steps},
            "conversion": {st["stage"]: {"n": by_key[st["stage"]]["conversion_n"],
                                         "d": by_key[st["stage"]]["conversion_d"],
                                         "ratio": by_key[st["stage"]]["conversion_to_next"],
                                         "small_sample": by_key[st["stage"]]["small_sample"],
                                         "best": False, "worst": False} for st in steps},
        })
    segments.sort(key=lambda g: (-g["deals"], g["segment"]))

    def mark(cells: list[tuple[dict[str, Any], str]]) -> dict[str, str | None]:
        candidates = [(c["ratio"], c["d"], name) for c, name in cells
                      if c["ratio"] is not None and c["d"] >= SMALL_SAMPLE]
        best, worst = _pick(candidates, True), _pick(candidates, False)
        for c, name in cells:
            c["best"], c["worst"] = name == best, name == worst
        return {"best": best, "worst": worst}

    for st in steps:
        st.update(mark([(g["conversion"][st["stage"]], g["segment"]) for g in segments]))
    win = mark([(g["win_rate"], g["segment"]) for g in segments])
    return {"by": by, "owner": owner, "as_of": as_of, "steps": steps, "win_rate": win, "segments": segments}


def segment_name(by: str, name: str) -> str:
    """A segment as the rep reads it: new/existing in their language, the blank one named."""
    if by == "new_vs_existing":
        return {"new": _("new customer"), "existing": _("existing customer")}.get(name, name)
    return name or _("(blank)")
