"""`funnel summary --by …`: the funnel per segment side by side (issue 17, source document 003).

One line per segment (source, industry, company size, rep, new vs existing customer): deals,
win rate and each step's conversion with its counts; at each step the best-converting segment
is marked ▲ and the worst ▼ (only segments with 10 or more deals behind the rate compete).
"""

from __future__ import annotations

import argparse
from typing import Any

from funnel_tui.cli.common import emit, now_utc
from funnel_tui.domain.segments import segment_name
from funnel_tui.domain.vocab import column_name
from funnel_tui.i18n import _, active_lang

BEST, WORST = "▲", "▼"


def _rate(c: dict[str, Any]) -> str:
    from funnel_tui.domain.funnel import rate_label

    mark = BEST if c["best"] else WORST if c["worst"] else ""
    return rate_label(c["n"], c["d"], c["ratio"], c["small_sample"], narrow=True) + mark


def segments_json(r: dict[str, Any], tz) -> dict[str, Any]:
    from funnel_tui.domain.dates import iso_local

    def rounded(c: dict[str, Any]) -> dict[str, Any]:
        return {**c, "ratio": None if c["ratio"] is None else round(c["ratio"], 4)}

    return {**r, "as_of": iso_local(r["as_of"], tz) if r.get("as_of") else None,
            "segments": [{**g, "win_rate": rounded(g["win_rate"]),
                          "conversion": {k: rounded(c) for k, c in g["conversion"].items()}}
                         for g in r["segments"]]}


def segment_rows(r: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for g in r["segments"]:
        row = {"segment": g["segment"] or _("(blank)"), "deals": str(g["deals"]), "won": str(g["won"]),
               "lost": str(g["lost"]), "win_rate": _rate(g["win_rate"])}
        for st in r["steps"]:
            row[f"{st['stage']}_conversion"] = _rate(g["conversion"][st["stage"]])
        rows.append(row)
    return rows


def run(args: argparse.Namespace, store, deals, tz) -> int:
    """`summary --by`: `deals` is the summary's set (owner, since, until)."""
    r = store.segments(now=now_utc(), by=args.by, deals=deals, pipeline=args.pipeline)
    if args.format == "json":
        emit([], "json", [], json_value=segments_json(r, tz))
        return 0
    rows = segment_rows(r)
    keys = ["segment", "deals", "won", "lost", "win_rate", *(f"{st['stage']}_conversion" for st in r["steps"])]
    if args.format == "csv":
        emit(rows, "csv", keys)
        return 0
    # The rep's language for the stages (as `funnel summary` names them) and for the segment.
    labels = {st.key: st.label(active_lang()) for st in store.all_stages()}
    names = {f"{st['stage']}_conversion": f"{labels.get(st['stage'], st['name'])}→" for st in r["steps"]}
    by = _("New vs existing customers") if args.by == "new_vs_existing" else column_name(args.by)
    headers = {"segment": by, "deals": _("deals"), "won": _("won"), "lost": _("lost"),
               "win_rate": _("win rate"), **names}
    for row, g in zip(rows, r["segments"]):
        row["segment"] = segment_name(r["by"], g["segment"])  # the table in words; CSV keeps codes
    emit([{headers[k]: row[k] for k in keys} for row in rows], "table", [headers[k] for k in keys],
         title=_("The funnel by {by}").format(by=by),
         footer=_("{best} best, {worst} worst conversion at the step (segments with 10 or more deals); "
                  "* fewer than 10 deals").format(best=BEST, worst=WORST))
    return 0
