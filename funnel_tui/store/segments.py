"""Segments in SQL (domain/segments.py): the summary's facts split by a segment expression
instead of by rep (store.summary.facts_now's `group`), one set of GROUP BYs for all segments.

`new_vs_existing` asks, per deal, whether the customer had a deal won before this one was
created: one seek on ix_deal_customer_won per deal.
"""

from __future__ import annotations

from funnel_tui.domain.segments import BY, EXISTING, NEW

# Deal columns as segments: a blank (or missing) value is the segment "".
_COLUMNS = {"source": "d.source", "industry": "d.industry", "company_size": "d.company_size", "owner": "d.owner"}

NEW_VS_EXISTING = (
    f"(CASE WHEN EXISTS (SELECT 1 FROM deal p WHERE p.customer = d.customer AND p.status = 'won' "
    f"AND p.deleted_at IS NULL AND p.closed_at < d.created_at AND p.id <> d.id) "
    f"THEN '{EXISTING}' ELSE '{NEW}' END)"
)


def segment_sql(by: str) -> str:
    """The SQL expression (over deal `d`) naming a deal's segment."""
    if by == "new_vs_existing":
        return NEW_VS_EXISTING
    if by not in _COLUMNS or by not in BY:
        raise ValueError(f"by: {by!r}; use one of: {', '.join(BY)}")
    return f"COALESCE({_COLUMNS[by]}, '')"
