"""Our Chinese tracking template (the source documents' 客户跟进表), as reps keep it in Excel.

Source: the header of the template in the source documents, as the importer aliased it before profiles
today (客户名称, 当前阶段, 进入时间, 成交概率(%), 预计成交金额(万元) × 10,000, 风险等级 高/中/低,
跟进人, …). Excel re-saving the file writes its dates as `2024/6/14 15:16` and may save it in GBK;
exchange.calendar_dates and exchange.encodings read both.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import PERCENT_SCALE, Profile, col
from funnel_tui.i18n import N_

COLUMNS = {
    "客户名称": col("customer"), "客户": col("customer"),
    "行业": col("industry"), "规模": col("company_size"),
    "联系人(经理)": col("contact_name"), "联系人": col("contact_name"),
    "决策角色": col("contact_role"), "当前阶段": col("stage"), "阶段": col("stage"),
    "进入时间": col("stage_entered_at"), "最近沟通时间": col("last_contact_at"),
    "沟通内容摘要": col("notes"), "备注": col("notes"),
    "成交概率(%)": col("probability"), "成交概率": col("probability"),
    "预计成交金额(万元)": col("amount", scale=10_000, unit_currency="CNY"),
    "预计成交金额": col("amount"),
    "风险等级": col("risk_level"), "风险描述": col("risk_note"), "应对措施": col("mitigation"),
    "跟进人": col("owner"), "线索来源": col("source"), "预算范围": col("budget"),
    "决策链": col("decision_chain"), "核心痛点": col("pain_points"), "竞争对比": col("competitors"),
    "下次跟进时间": col("next_follow_up_at"), "联系电话": col("contact_phone"),
    "电话": col("contact_phone"), "邮箱": col("contact_email"), "项目名称": col("title"),
    "状态": col("status"), "丢单原因": col("lost_reason"), "预计成交日期": col("expected_close"),
    "币种": col("currency"), "线索评分": col("lead_score"), "创建时间": col("created_at"),
    "成交时间": col("closed_at"),
}

STATUSES = {"进行中": "open", "跟进中": "open", "赢单": "won", "成交": "won", "输单": "lost", "丢单": "lost",
            "open": "open", "won": "won", "lost": "lost"}

PROFILE = Profile(
    key="template_zh",
    name=N_("Chinese tracking template"),  # 客户跟进表
    source="the source documents' tracking template; the importer's template aliases before profiles",
    columns=COLUMNS,
    required=(("客户名称", "客户"),
              ("当前阶段", "预计成交金额(万元)", "跟进人", "成交概率(%)", "进入时间", "最近沟通时间",
               "沟通内容摘要", "风险等级")),
    distinctive=("当前阶段", "预计成交金额(万元)", "进入时间", "最近沟通时间", "沟通内容摘要",
                 "风险等级", "跟进人"),
    statuses=STATUSES,
    probability_scale=PERCENT_SCALE,
    signs={"¥": "CNY"},
    sample=("客户名称", "行业", "规模", "联系人（经理）", "决策角色", "当前阶段", "进入时间", "最近沟通时间",
            "沟通内容摘要", "成交概率(%)", "预计成交金额(万元)", "风险等级", "风险描述", "应对措施", "跟进人",
            "线索来源", "预算范围", "决策链", "核心痛点", "竞争对比"),
)
