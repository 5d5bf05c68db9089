"""Our own export (funnel export): the documented columns of DESIGN §6, read back exactly; and a
rep's own sheet that names our columns in English or in Chinese (客户名称, 联系人, 备注, …, the
names of our tracking template) without being the template itself.

Source: this project's DESIGN.md §6 and exchange/columns.py (the export writes them; amounts as
plain major units `1054`/`12.50`, times ISO 8601 with the local offset, probability 0–100).
"""

from __future__ import annotations

from funnel_tui.domain.vocab import DEAL_COLUMNS
from funnel_tui.exchange.profiles import FIELD_READS, PERCENT_SCALE, Profile, col
from funnel_tui.exchange.profiles.template_zh import COLUMNS as CHINESE_NAMES, STATUSES
from funnel_tui.i18n import N_

PROFILE = Profile(
    key="funnel",
    name=N_("funnel-tui columns"),
    source="DESIGN.md §6 (this project's export)",
    columns={**{c: col(c) for c in DEAL_COLUMNS if c in FIELD_READS}, **CHINESE_NAMES},
    required=(("customer", "客户名称", "客户"),),
    distinctive=("uid", "external_id", "stage_entered_at", "weighted_amount", "dwell_days",
                 "next_follow_up_at"),
    statuses=STATUSES,
    probability_scale=PERCENT_SCALE,
    silent=("id", "weighted_amount", "tier", "dwell_days", "reason", "pipeline", "line"),
    sample=DEAL_COLUMNS + ("weighted_amount", "tier", "dwell_days"),
)
