"""Cordys CRM (FIT2CLOUD): the 商机 (opportunity) list exported to Excel.

Source: 1Panel-dev/CordysCRM — backend/crm/src/main/resources/form/field.json (the 商机 form:
商机名称, 客户名称, 商机来源, 金额, 意向产品, 结束时间, 可能性, 联系人, 备注信息, 负责人, 业务编码),
frontend/packages/web/src/views/opportunity (list columns 商机阶段, 失败原因, 部门, 最新跟进人,
最新跟进时间, 实际结束时间), and the default stages in migration 1.2.3 (V1.2.3_2_1__data.sql: 新建,
需求明确, 方案验证, 立项汇报, 商务采购, 成功, 失败). 可能性 is a percent; the generic 商机 names
(商机金额, 预计成交日期, 赢单/输单) are read too.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import PERCENT_SCALE, Profile, col
from funnel_tui.exchange.profiles._shangji import OUTCOMES, STAGES
from funnel_tui.i18n import N_

PROFILE = Profile(
    key="cordys",
    name=N_("Cordys CRM 商机 export"),
    source="1Panel-dev/CordysCRM backend/crm/src/main/resources/form/field.json ; "
           "migration/1.2.3/dml/V1.2.3_2_1__data.sql",
    columns={
        "商机名称": col("title"), "客户名称": col("customer"), "金额": col("amount"),
        "商机金额": col("amount"), "结束时间": col("expected_close"), "预计成交日期": col("expected_close"),
        "可能性": col("probability"), "商机阶段": col("stage"), "负责人": col("owner"),
        "商机来源": col("source"), "联系人": col("contact_name"), "备注信息": col("notes"),
        "失败原因": col("lost_reason"), "实际结束时间": col("closed_at"), "创建时间": col("created_at"),
        "最新跟进时间": col("last_contact_at"), "业务编码": col("external_id"), "赢单/输单": col("status"),
    },
    required=(("商机名称",), ("商机阶段",), ("金额", "商机金额"),
              ("可能性", "结束时间", "业务编码", "意向产品", "失败原因", "实际结束时间")),
    distinctive=("可能性", "结束时间", "业务编码", "意向产品", "失败原因", "实际结束时间", "最新跟进人"),
    stages=STAGES,
    statuses=OUTCOMES,
    id_prefix="cordys:",
    probability_scale=PERCENT_SCALE,
    signs={"¥": "CNY"},
    sample=("商机名称", "客户名称", "业务编码", "商机来源", "金额", "意向产品", "结束时间", "可能性",
            "商机阶段", "失败原因", "负责人", "部门", "联系人", "最新跟进人", "最新跟进时间", "实际结束时间",
            "创建时间"),
)
