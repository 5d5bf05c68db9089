"""Amount tiers (domain.tiers) beside a summary, under `funnel settings tiering amount`: the
open deals per tier, for whichever set the summary covers — now or replayed (`--as-of`),
the whole set or per rep (`--by-owner`), created in a period (`--since/--until`) or not.

Now: one GROUP BY over the open deals of the set (store.summary.set_clause), the tier as SQL
(store.today.amount_tier_sql: each currency's thresholds in its own minor units). Replayed:
the open deals' amounts and currencies as they stood then, counted by the replay itself
(store.summary_as_of.facts_as_of's `open_amounts`), tiered in Python. Either way the thresholds
and rates are today's settings (they have no history), and domain.tiers.tier_totals makes the
totals, so both give the same shape and the same rounding.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from funnel_tui.domain.tiers import THRESHOLD_SETTINGS, AmountTiers, TierSettingError, amount_tiers, tier_totals, tiering_of
from funnel_tui.store.errors import StoreError
from funnel_tui.store.settings import get_setting, read_rates
from funnel_tui.store.summary import DealSet, set_clause
from funnel_tui.store.tables import exact_sum_sql, exact_total
from funnel_tui.store.today import amount_tier_sql

# What facts_as_of counts for the tiers: rep → (amount, currency) → open deals then.
OpenAmounts = dict[str, dict[tuple[int, str], int]]


def amount_scheme(conn: Connection) -> AmountTiers | None:
    """The amount tiers when the `tiering` setting says so, else None (A/B/C: nothing to add)."""
    if tiering_of(get_setting(conn, "tiering")) != "amount":
        return None
    try:
        return amount_tiers({k: get_setting(conn, k) for k in THRESHOLD_SETTINGS}, read_rates(conn))
    except TierSettingError as exc:
        raise StoreError(str(exc)) from None


def totals_now(conn: Connection, scheme: AmountTiers, deals: DealSet, *, by_owner: bool) -> dict[str | None, dict]:
    """Rep (None: the whole set) → its open deals per amount tier, as they are now."""
    params: dict = {}
    where = set_clause(deals, params)
    owner = "d.owner" if by_owner else "NULL"
    rows = conn.execute(text(f"""
        SELECT {owner}, {amount_tier_sql(scheme, 'd.amount', 'd.currency')} AS tier, d.currency, count(*),
               {exact_sum_sql('d.amount')}
        FROM deal d WHERE d.status = 'open' AND {where}
        GROUP BY {'d.owner, ' if by_owner else ''}tier, d.currency"""), params).all()
    per: dict[str | None, list] = {}
    for rep, code, currency, n, hi, lo in rows:
        per.setdefault(rep, []).append((code, currency, n, exact_total(hi, lo)))
    return {rep: tier_totals(scheme, parts) for rep, parts in per.items()}


def totals_replayed(scheme: AmountTiers, amounts: OpenAmounts, *, by_owner: bool) -> dict[str | None, dict]:
    """Rep (None: the whole set) → its open deals per amount tier, from the replay's counts."""
    per: dict[str | None, list] = {}
    for rep, counted in amounts.items():
        rows = per.setdefault(rep if by_owner else None, [])
        rows.extend((scheme.tier(amount, currency), currency, n, amount * n)
                    for (amount, currency), n in counted.items())
    return {rep: tier_totals(scheme, rows) for rep, rows in per.items()}


def empty(scheme: AmountTiers) -> dict:
    """No open deal in any tier (a rep with only closed deals)."""
    return tier_totals(scheme, [])
