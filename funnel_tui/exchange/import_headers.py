"""What the columns of an import file mean: our own columns (case-, space- and
underscore-insensitive), the Chinese tracking template (预计成交金额(万元) × 10,000), Pipedrive
and HubSpot exports; and --stage-map, the rep's names for stages the file uses.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Sequence

from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.validation import FieldError, validate_field
from funnel_tui.exchange.columns import CSV_COLUMNS, EXPORT_ONLY
from funnel_tui.exchange.import_read import ImportFileError
from funnel_tui.i18n import _


def norm_header(text: str) -> str:
    """Header key: NFKC (full-width brackets), casefolded, without spaces or underscores."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return "".join(t.split()).replace("_", "").lstrip("\ufeff")


# --- header aliases ---------------------------------------------------------------------------

# How a column's cells are turned into a field value beyond validate_field.
PLAIN, WAN, PROB_FRACTION, PIPEDRIVE_ID, HUBSPOT_ID, CLOSE_DATE = (
    "plain", "wan", "fraction", "pipedrive", "hubspot", "close_date")

# The source documents' Chinese tracking template (and a few obvious extras).
TEMPLATE_ALIASES: dict[str, tuple[str, str]] = {
    "客户名称": ("customer", PLAIN), "客户": ("customer", PLAIN),
    "行业": ("industry", PLAIN), "规模": ("company_size", PLAIN),
    "联系人(经理)": ("contact_name", PLAIN), "联系人": ("contact_name", PLAIN),
    "决策角色": ("contact_role", PLAIN), "当前阶段": ("stage", PLAIN), "阶段": ("stage", PLAIN),
    "进入时间": ("stage_entered_at", PLAIN), "最近沟通时间": ("last_contact_at", PLAIN),
    "沟通内容摘要": ("notes", PLAIN), "成交概率(%)": ("probability", PLAIN),
    "成交概率": ("probability", PLAIN),
    "预计成交金额(万元)": ("amount", WAN), "预计成交金额": ("amount", PLAIN),
    "风险等级": ("risk_level", PLAIN), "风险描述": ("risk_note", PLAIN), "应对措施": ("mitigation", PLAIN),
    "跟进人": ("owner", PLAIN), "线索来源": ("source", PLAIN), "预算范围": ("budget", PLAIN),
    "决策链": ("decision_chain", PLAIN), "核心痛点": ("pain_points", PLAIN),
    "竞争对比": ("competitors", PLAIN), "下次跟进时间": ("next_follow_up_at", PLAIN),
    "联系电话": ("contact_phone", PLAIN), "电话": ("contact_phone", PLAIN), "邮箱": ("contact_email", PLAIN),
    "项目名称": ("title", PLAIN), "状态": ("status", PLAIN), "丢单原因": ("lost_reason", PLAIN),
    "预计成交日期": ("expected_close", PLAIN), "币种": ("currency", PLAIN), "线索评分": ("lead_score", PLAIN),
    "创建时间": ("created_at", PLAIN), "成交时间": ("closed_at", PLAIN), "备注": ("notes", PLAIN),
}
PIPEDRIVE_ALIASES: dict[str, tuple[str, str]] = {
    "deal-id": ("external_id", PIPEDRIVE_ID), "deal-title": ("title", PLAIN),
    "deal-organization": ("customer", PLAIN), "deal-stage": ("stage", PLAIN),
    "deal-value": ("amount", PLAIN), "deal-currencyofvalue": ("currency", PLAIN),
    "deal-status": ("status", PLAIN), "deal-probability": ("probability", PLAIN),
    "deal-owner": ("owner", PLAIN), "deal-dealcreated": ("created_at", PLAIN),
    "deal-laststagechange": ("stage_entered_at", PLAIN),
    "deal-nextactivitydate": ("next_follow_up_at", PLAIN),
    "deal-expectedclosedate": ("expected_close", PLAIN), "deal-lostreason": ("lost_reason", PLAIN),
    "deal-contactperson": ("contact_name", PLAIN), "deal-source": ("source", PLAIN),
    "deal-lastemailreceived": ("last_contact_at", PLAIN),
}
HUBSPOT_ALIASES: dict[str, tuple[str, str]] = {
    "recordid": ("external_id", HUBSPOT_ID), "dealname": ("title", PLAIN), "dealstage": ("stage", PLAIN),
    "amount": ("amount", PLAIN), "closedate": ("closed_at", CLOSE_DATE), "createdate": ("created_at", PLAIN),
    "dealowner": ("owner", PLAIN), "dealprobability": ("probability", PROB_FRACTION),
    "dateenteredcurrentstage": ("stage_entered_at", PLAIN),
    "nextactivitydate": ("next_follow_up_at", PLAIN), "closedlostreason": ("lost_reason", PLAIN),
    "associatedcompany": ("customer", PLAIN), "companyname": ("customer", PLAIN),
    "currency": ("currency", PLAIN), "lastcontacted": ("last_contact_at", PLAIN),
}
OWN_COLUMNS = tuple(c for c in CSV_COLUMNS if c != "id")
# Read but not imported: our local ids and computed columns, the `reason` of a rejected file.
IGNORED = {norm_header(c) for c in ("id", *EXPORT_ONLY, "reason", "pipeline", "line")}
# HubSpot's default pipeline ends in these two; they carry the status.
HUBSPOT_CLOSED = {"closedwon": "won", "closedlost": "lost"}


@dataclass
class HeaderMap:
    source: str  # funnel | template | pipedrive | hubspot
    fields: list[tuple[str, str] | None]  # per column: (field, how) or None (ignored)
    header: list[str]
    ignored: list[str] = field(default_factory=list)

    @property
    def given(self) -> frozenset[str]:
        return frozenset(f for f, _how in (x for x in self.fields if x))


def map_header(header: Sequence[str]) -> HeaderMap:
    """Map header cells to deal fields; raises ImportFileError for a header we cannot use."""
    keys = [norm_header(h) for h in header]
    if any(k.startswith("deal-") for k in keys):
        source, table = "pipedrive", PIPEDRIVE_ALIASES
    elif "recordid" in keys and ("dealname" in keys or "dealstage" in keys):
        source, table = "hubspot", HUBSPOT_ALIASES
    elif any(k in TEMPLATE_ALIASES for k in keys):
        source, table = "template", TEMPLATE_ALIASES
    else:
        source, table = "funnel", {}
    own = {norm_header(c): (c, PLAIN) for c in OWN_COLUMNS}
    fields: list[tuple[str, str] | None] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for raw, key in zip(header, keys):
        spec = table.get(key) or own.get(key) or TEMPLATE_ALIASES.get(key)
        if spec is None:
            fields.append(None)
            if key and key not in IGNORED:
                ignored.append(raw)
            continue
        if spec[0] in seen:
            raise ImportFileError(_("header: columns {first} and {second} both mean {field}; keep one of them")
                                  .format(first=repr(seen[spec[0]]), second=repr(raw), field=spec[0]))
        seen[spec[0]] = raw
        fields.append(spec)
    hm = HeaderMap(source, fields, list(header), ignored)
    if "customer" not in hm.given and not (source in ("pipedrive", "hubspot") and "title" in hm.given):
        raise ImportFileError(
            _("header: no customer column; name one of: customer, 客户名称, Deal - Organization, "
              "Deal Name (HubSpot). The first line of the file must be the header"))
    return hm


def parse_stage_map(items: Sequence[str], stages: Sequence[StageDef]) -> dict[str, str]:
    """--stage-map OLD=NEW (repeatable) → {normalised OLD: stage key}."""
    out: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ImportFileError(_("stage-map: {item} is not OLD=NEW, e.g. 'Contact Made=qualified'")
                                  .format(item=repr(item)))
        try:
            key = validate_field("stage", new.strip(), stages=stages)
        except FieldError as exc:
            raise ImportFileError(_("stage-map: {error}").format(error=exc.message)) from None
        out[norm_header(old)] = key
    return out
