"""Segments in SQL (domain/segments.py): the summary's facts split by a segment expression
instead of by rep (store.summary.facts_now's `group`), one set of GROUP BYs for all segments.

`new_vs_existing` asks, per deal, whether the customer had a deal won before this one was
created (domain.segments): the deals for which that holds are found once per query.
"""

from __future__ import annotations

from funnel_tui.domain.segments import BY, EXISTING, NEW

# Deal columns as segments: a blank (or missing) value is the segment "".
_COLUMNS = {"source": "d.source", "industry": "d.industry", "company_size": "d.company_size", "owner": "d.owner"}

# Existing: the customer's first win (of a deal not deleted) came before this deal was created.
# Uncorrelated, so the database builds the set of existing deals once (SQLite: an ephemeral
# index probed per deal; a server: a hashed semi-join) — no index on customer needed.
NEW_VS_EXISTING = (
    "(CASE WHEN d.id IN (SELECT x.id FROM deal x JOIN ("
    "SELECT p.customer, min(p.closed_at) AS first_won FROM deal p "
    "WHERE p.status = 'won' AND p.deleted_at IS NULL GROUP BY p.customer) w "
    "ON w.customer = x.customer AND w.first_won < x.created_at) "
    f"THEN '{EXISTING}' ELSE '{NEW}' END)"
)


def segment_sql(by: str) -> str:
    """The SQL expression (over deal `d`) naming a deal's segment."""
    if by == "new_vs_existing":
        return NEW_VS_EXISTING
    if by not in _COLUMNS or by not in BY:
        raise ValueError(f"by: {by!r}; use one of: {', '.join(BY)}")
    return f"COALESCE({_COLUMNS[by]}, '')"
