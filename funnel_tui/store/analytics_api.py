"""The summary, segments, forecast, per-stage KPIs, weekly review and trend: the part of the
Store that reads the funnel as a whole (mixed into core.Store, as stages_api.StageMethods is).

Both backends; each concern module (summary, summary_as_of, segments, forecast, kpis, review,
trend) is loaded on first use, so a command that only lists or writes never pays for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from funnel_tui.domain import forecast as forecast_math
from funnel_tui.domain import kpis as kpi_math
from funnel_tui.domain import segments as segment_math
from funnel_tui.domain import trend as trend_math
from funnel_tui.domain.funnel import BOTTLENECK_THRESHOLD, FunnelFacts, summarize

if TYPE_CHECKING:
    from funnel_tui.store.summary import DealSet

REVIEW_TREND_WEEKS = 6  # the weeks of cohort conversion the review shows beside each stage


class AnalyticsMethods:
    """The funnel read as a whole: the part of the Store it needs is named below."""

    # provided by Store (and StageMethods)
    read: Callable[..., Any]
    rates: Callable[..., Any]
    tier_shares: Callable[..., Any]
    stage_set: Callable[..., Any]
    stage_keys: Callable[..., Any]
    pipeline: Callable[..., Any]
    pipeline_stages: Callable[..., Any]

    def _pipeline_set(self, deals: DealSet | None, pipeline: str | None) -> DealSet:
        """The deal set, narrowed to one pipeline's deals when the rep keeps several."""
        from dataclasses import replace as _with

        from funnel_tui.store import summary

        chosen = deals or summary.DealSet()
        keys = self.stage_keys(self.pipeline(pipeline).key)
        return chosen if keys is None or chosen.stages is not None else _with(chosen, stages=keys)

    def funnel_facts(self, *, deals: DealSet | None = None, now: datetime, as_of: datetime | None = None,
                     by_owner: bool = False, pipeline: str | None = None,
                     open_amounts: dict | None = None) -> dict[str | None, FunnelFacts]:
        """FunnelFacts per rep (by_owner) or for the whole set (key None), of one pipeline
        (the default one unless named), with its stages as they stood at `as_of`.
        `open_amounts`: filled by a replay (as_of) with the open deals' amounts then."""
        from funnel_tui.store import summary

        stages, chosen = self.stage_set(pipeline, as_of), self._pipeline_set(deals, pipeline)
        with self.read() as conn:
            if as_of is None:
                per_owner = summary.facts_now(conn, stages, chosen, now, split=by_owner)
            else:
                from funnel_tui.store.summary_as_of import facts_as_of

                per_owner = facts_as_of(conn, stages, chosen, as_of, open_amounts=open_amounts)
        return summary.combine(per_owner, by_owner=by_owner)

    def summary(self, *, now: datetime, deals: DealSet | None = None, as_of: datetime | None = None,
                by_owner: bool = False, pipeline: str | None = None) -> dict[str, Any] | list[dict[str, Any]]:
        """The DESIGN §6 summary (amounts in minor units), or one per rep with by_owner. Under
        amount tiering (setting `tiering`) each adds `tiering` and `amount_tiers` (the open
        deals per amount tier, of the same set at the same moment); `tiers` stays A/B/C (its
        shape is documented)."""
        from funnel_tui.store import summary_tiers

        with self.read() as conn:
            scheme = summary_tiers.amount_scheme(conn)
        amounts: dict | None = {} if scheme is not None and as_of is not None else None
        per = self.funnel_facts(deals=deals, now=now, as_of=as_of, by_owner=by_owner, pipeline=pipeline,
                                open_amounts=amounts)
        stages, shares, moment = self.stage_set(pipeline, as_of), self.tier_shares(), as_of or now
        rates = self.rates()
        owner = deals.owner if deals else None
        outs = ([summarize(stages, per[None], owner=owner, as_of=moment, tier_shares=shares, rates=rates)]
                if not by_owner else
                [summarize(stages, facts, owner=rep, as_of=moment, tier_shares=shares, rates=rates)
                 for rep, facts in per.items()])
        if scheme is not None:
            if amounts is not None:
                totals = summary_tiers.totals_replayed(scheme, amounts, by_owner=by_owner)
            else:
                with self.read() as conn:
                    totals = summary_tiers.totals_now(conn, scheme, self._pipeline_set(deals, pipeline),
                                                      by_owner=by_owner)
            for out in outs:
                out["amount_tiers"] = totals.get(out["owner"] if by_owner else None) or summary_tiers.empty(scheme)
                out["tiering"] = "amount"
        return outs if by_owner else outs[0]

    def segments(self, *, now: datetime, by: str, deals: DealSet | None = None,
                 pipeline: str | None = None) -> dict[str, Any]:
        """The funnel per segment side by side (domain.segments.compare), best and worst marked."""
        from funnel_tui.store import segments, summary

        stages, chosen = self.stage_set(pipeline), self._pipeline_set(deals, pipeline)
        shares, rates, owner = self.tier_shares(), self.rates(), (deals or summary.DealSet()).owner
        with self.read() as conn:
            how = segments.segment_read(by, sqlite=conn.dialect.name == "sqlite", one_owner=chosen.owner is not None)
            per = summary.facts_now(conn, stages, chosen, now, split=True, group=how.group,
                                    group_by=how.group_by, hint=how.hint, lean=True)
        per = summary.combine(segments.merged_blank(per), by_owner=True)
        return segment_math.compare(by, {name: summarize(stages, facts, owner=owner, as_of=now,
                                                         tier_shares=shares, rates=rates)
                                         for name, facts in per.items()}, owner=owner, as_of=now)

    def forecast(self, *, now: datetime, owner: str | None = None, pipeline: str | None = None) -> dict[str, Any]:
        """The forecast with the water squeezed out (domain.forecast): historical probability per
        rep and stage, the pipeline weighted both ways, bands, and the deals to push first."""
        from funnel_tui.store import forecast, summary

        stages = self.stage_set(pipeline)
        chosen = self._pipeline_set(summary.DealSet(owner=owner), pipeline)
        with self.read() as conn:
            per = forecast.facts_by_owner_status(conn, stages, chosen, now)
            whole = summary.merged(f for statuses in per.values() for f in statuses.values())
            conversions = {st["key"]: st["conversion_to_next"]
                           for st in summarize(stages, whole, as_of=now)["stages"]}
            push = forecast_math.push_lists(
                stages, per, conversions, forecast.open_counts(conn, chosen),
                lambda stage, limit: forecast.biggest_open(conn, chosen, stage, limit), now=now)
        return forecast_math.forecast(stages, per, conversions, push, owner=owner, as_of=now)

    def stage_kpis(self, *, deals: DealSet | None = None, pipeline: str | None = None) -> dict[str, dict[str, Any]]:
        """Per stage, as of now (domain.kpis): median days in the stage, and the sales cycle
        split by stage (the won deals' mean days there); stays read through today's stages."""
        from funnel_tui.store import kpis

        stages, chosen = self.stage_set(pipeline), self._pipeline_set(deals, pipeline)
        with self.read() as conn:
            stays, won = kpis.stay_facts(conn, stages, chosen), kpis.won_deals(conn, chosen)
        return kpi_math.stage_kpis(stages, stays, won)

    def owners(self) -> list[str]:
        """Every rep with a deal (the summary's rep selector)."""
        from funnel_tui.store import summary

        with self.read() as conn:
            return summary.owners(conn)

    def weekly_flow(self, *, now: datetime, tz, owner: str | None = None, weeks: int = 6,
                    pipeline: str | None = None) -> dict[str, list[int]]:
        """Counts per week (0 = this week): new_deals, wins, losses, won_amount, entered:<stage>."""
        from funnel_tui.store import review

        stages, keys = self.pipeline_stages(pipeline), self.stage_keys(self.pipeline(pipeline).key)
        with self.read() as conn:
            return review.weekly_flow(conn, stages, now=now, tz=tz, owner=owner, weeks=weeks, stage_keys=keys)

    def review(self, *, now: datetime, tz, owner: str | None = None,
               threshold: float = BOTTLENECK_THRESHOLD, pipeline: str | None = None) -> dict[str, Any]:
        """The weekly review: this week vs last vs the trailing 4-week average, bottlenecks,
        and stages deals kept overstaying (a split is suggested); each stage's cohort conversion
        over the last REVIEW_TREND_WEEKS weeks beside it (`trend`)."""
        from funnel_tui.store import review, summary
        from funnel_tui.store import trend as trend_sql

        stages, keys = self.pipeline_stages(pipeline), self.stage_keys(self.pipeline(pipeline).key)
        wins = trend_math.windows(now, tz, weeks=REVIEW_TREND_WEEKS)
        with self.read() as conn:
            out = review.review(conn, stages, now=now, tz=tz, owner=owner, threshold=threshold, stage_keys=keys)
            cohorts = trend_sql.cohorts(conn, stages, wins, now=now, deals=summary.DealSet(owner=owner, stages=keys))
        for c in out["conversion"]:  # oldest week first, this week last
            c["trend"] = [trend_math.cohort(n, d) for n, d in cohorts[f"cohort:{c['stage']}"]]
        return out

    def trend(self, *, now: datetime, tz, owner: str | None = None, weeks: int = 12,
              by: str = "week", pipeline: str | None = None) -> dict[str, Any]:
        """The trend (domain.trend): per week or month, cohort conversion and the flow, of one
        pipeline (the default one unless named), its history read through today's stages."""
        from funnel_tui.store import summary
        from funnel_tui.store import trend as trend_sql

        stages, keys = self.pipeline_stages(pipeline), self.stage_keys(self.pipeline(pipeline).key)
        deals = summary.DealSet(owner=owner, stages=keys)
        wins = trend_math.windows(now, tz, weeks=weeks, by=by)
        with self.read() as conn:
            flow = trend_sql.flow(conn, stages, wins, now=now, deals=deals)
            cohorts = trend_sql.cohorts(conn, stages, wins, now=now, deals=deals)
        return trend_math.trend(stages, wins, flow, cohorts, by=by, now=now, tz=tz, owner=owner)
