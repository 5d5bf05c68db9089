"""Segments in SQL (domain/segments.py): the summary's facts split by a segment instead of by
rep (store.summary.facts_now's `group`), one set of GROUP BYs for all segments.

Only what domain.segments.compare shows is read — deals, won, lost, reached, conversion — so
the facts are lean (no completed stays, no ABC values: the stays walk all history, most of the
time at 100k deals). The segment is grouped by its plain column, never by an expression:
- `source` and `owner` are columns of the summary index, so the groups come in index order
  with no sort (by an expression such as COALESCE(source, ''), SQLite sorted every deal);
- `industry`, `company_size` and `new_vs_existing` are not in it: every deal is read once,
  from the table (SQLite: NOT INDEXED — its own pick, a partial index on another column,
  costs a table look-up per deal: 435 → 255 ms for industry at 100k deals).
A missing value (NULL, which the schema refuses today) and a blank one are both the segment
"": `merged_blank` joins them in Python, after the read.

`new_vs_existing` asks, per deal, whether the customer had a deal won before this one was
created (domain.segments): the deals for which that holds are found once per query.
"""

from __future__ import annotations

from typing import NamedTuple

from funnel_tui.domain.funnel import FunnelFacts
from funnel_tui.domain.segments import BY, EXISTING, NEW

# Deal columns as segments.
_COLUMNS = {"source": "d.source", "industry": "d.industry", "company_size": "d.company_size", "owner": "d.owner"}
# Columns of the summary index (ix_deal_summary: owner, status, stage, source, lost_reason, …):
# grouped by the index's own columns, a segment of them needs no sort.
_INDEXED = {"owner": None, "source": "d.owner"}

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


class SegmentRead(NamedTuple):
    """How facts_now reads one kind of segment: `group` (SQL over deal `d`), `group_by` (the
    leading GROUP BY terms, None: `group` itself) and the SQLite table hint."""

    group: str
    group_by: str | None = None
    hint: str = ""


def segment_read(by: str, *, sqlite: bool, one_owner: bool = False) -> SegmentRead:
    """The read of segment `by` (see the module's docstring). `one_owner`: the set is one
    rep's deals (then SQLite keeps its index on owner)."""
    if by != "new_vs_existing" and (by not in _COLUMNS or by not in BY):
        raise ValueError(f"by: {by!r}; use one of: {', '.join(BY)}")
    if by in _INDEXED:
        return SegmentRead(_COLUMNS[by], _INDEXED[by])
    hint = " NOT INDEXED" if sqlite and not one_owner else ""
    return SegmentRead(NEW_VS_EXISTING if by == "new_vs_existing" else _COLUMNS[by], hint=hint)


def merged_blank(per: dict[str | None, FunnelFacts]) -> dict[str, FunnelFacts]:
    """Facts per segment with a missing (None) segment counted as the blank one ("")."""
    out: dict[str, FunnelFacts] = {}
    for name, facts in per.items():
        key = name or ""
        out[key] = out[key].merge(facts) if key in out else facts
    return out
