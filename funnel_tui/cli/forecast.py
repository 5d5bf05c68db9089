"""`funnel forecast`: the open pipeline with the water squeezed out (挤压水分, issue 17).

Each open deal weighed by its rep's own record from its stage to won (domain.forecast, with a
Beta prior centred on the stage probability, weight 10 deals), beside the usual probability-
weighted figure; the difference is the water. JSON amounts in major units, probabilities and
rates as fractions 0–1 — the shapes the README documents.
"""

from __future__ import annotations

import argparse
from typing import Any

from funnel_tui.cli.common import add_command, add_format, add_pipeline_option, emit, local_tz, now_utc, open_store, safe
from funnel_tui.cli.summary import _console, _major, _named, _owner, _round, _table, money
from funnel_tui.i18n import _

MONEY = ("open_amount", "probability_weighted", "history_weighted", "water", "amount")


def _money_keys(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (_major(v) if k in MONEY else v) for k, v in row.items()}


def forecast_json(f: dict[str, Any], tz) -> dict[str, Any]:
    from funnel_tui.domain.dates import iso_local

    return {
        **_money_keys(f),
        "as_of": iso_local(f["as_of"], tz),
        "water_share": _round(f["water_share"], 4),
        "bands": [_money_keys(b) for b in f["bands"]],
        "stages": [{**_money_keys(s), "conversion_to_next": _round(s["conversion_to_next"], 4),
                    "push_first": [{**_money_keys(p), "historical_probability": round(p["historical_probability"], 4),
                                    "quiet_days": round(p["quiet_days"], 2), "score": round(p["score"], 2)}
                                   for p in s["push_first"]]}
                   for s in f["stages"]],
        "rates": [{**r, "observed": _round(r["observed"], 4), "probability": round(r["probability"], 4)}
                  for r in f["rates"]],
    }


def _pct(p: float) -> str:
    return f"{p * 100:.0f}%"


def cmd_forecast(args: argparse.Namespace) -> int:
    from rich.text import Text

    tz = local_tz()
    store = open_store(args)
    f = store.forecast(now=now_utc(), owner=_owner(store, args.owner), pipeline=args.pipeline)
    if args.format == "json":
        emit([], "json", [], json_value=forecast_json(f, tz))
        return 0
    if args.format == "csv":
        rows = [{"stage": s["stage"], "open_deals": s["open_deals"], "open_amount": _major(s["open_amount"]),
                 "probability_weighted": _major(s["probability_weighted"]),
                 "history_weighted": _major(s["history_weighted"]), "water": _major(s["water"])}
                for s in f["stages"]]
        emit(rows, "csv", ["stage", "open_deals", "open_amount", "probability_weighted", "history_weighted", "water"])
        return 0
    console = _console()
    f = _named({**f, "owner": store.seen_as(f["owner"])}, store)  # stage names in the rep's language
    who = _("all reps") if f["owner"] is None else f["owner"]
    console.print(Text(_("Forecast — {who} — {n} open deals, {amount} open").format(
        who=safe(who), n=f["open_deals"], amount=money(f["open_amount"]))))
    console.print(Text(_("weighted by probability {pw} · by your history {hw} · water {water}").format(
        pw=money(f["probability_weighted"]), hw=money(f["history_weighted"]), water=money(f["water"]))))
    stage_rows = [[s["name"], str(s["open_deals"]), money(s["open_amount"]), money(s["probability_weighted"]),
                   money(s["history_weighted"]), money(s["water"])] for s in f["stages"]]
    console.print(_table(_("Per stage"), [_("stage"), _("deals"), _("open amount"), _("by probability"),
                                          _("by history"), _("water")], stage_rows, right={1, 2, 3, 4, 5}))
    labels = {"certain": _("certain ≥ 80%"), "likely": _("likely 50–80%"), "unlikely": _("unlikely 20–50%"),
              "remote": _("remote < 20%")}
    band_rows = [[labels[b["band"]], str(b["deals"]), money(b["amount"]), money(b["history_weighted"])]
                 for b in f["bands"]]
    console.print(_table(_("By historical probability"), [_("band"), _("deals"), _("amount"), _("by history")],
                         band_rows, right={1, 2, 3}))
    push_rows = [[s["name"], f"#{p['deal_id']} {p['customer']}", p["owner"], money(p["amount"]),
                  _pct(p["historical_probability"]), f"{p['quiet_days']:.0f}"]
                 for s in f["stages"] for p in s["push_first"]]
    console.print(_table(_("Push first (historical probability × amount × recency)"),
                         [_("stage"), _("deal"), _("rep"), _("amount"), _("history"), _("quiet d")],
                         push_rows, right={3, 4, 5}))
    console.print(Text(_("History = the rep's own won / closed from the stage, with the stage probability "
                         "counted as 10 deals while the record is short")))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "forecast", cmd_forecast,
                     _("the open pipeline weighed by your own history: certain/likely/unlikely/remote, the "
                       "water, deals to push first"))
    sp.add_argument("--owner", metavar=_("OWNER"),
                    help=_("one rep's deals ('me' = the rep set in settings); default: every deal"))
    add_pipeline_option(sp)
    add_format(sp)
