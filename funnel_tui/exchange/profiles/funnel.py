"""Our own export (funnel export): the documented columns of DESIGN §6, read back exactly.

Source: this project's DESIGN.md §6 and exchange/columns.py (the export writes them; amounts as
plain major units `1054`/`12.50`, times ISO 8601 with the local offset, probability 0–100).
"""

from __future__ import annotations

from funnel_tui.domain.vocab import DEAL_COLUMNS
from funnel_tui.exchange.profiles import FIELD_READS, PERCENT_SCALE, Profile, col

PROFILE = Profile(
    key="funnel",
    name="funnel-tui columns",
    source="DESIGN.md §6 (this project's export)",
    columns={c: col(c) for c in DEAL_COLUMNS if c in FIELD_READS},
    required=(("customer",),),
    distinctive=("uid", "external_id", "stage_entered_at", "weighted_amount", "dwell_days",
                 "next_follow_up_at"),
    probability_scale=PERCENT_SCALE,
    silent=("id", "weighted_amount", "tier", "dwell_days", "reason", "pipeline", "line"),
    sample=DEAL_COLUMNS + ("weighted_amount", "tier", "dwell_days"),
)
