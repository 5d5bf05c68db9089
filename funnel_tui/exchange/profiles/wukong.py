"""WukongCRM (悟空CRM): the 商机 (opportunity) list exported to Excel.

Source: WuKongOpenSource/WukongCRM-11.0-JAVA — DB/wk_crm_single.sql (wk_crm_field for 商机:
商机名称, 客户名称, 商机金额, 预计成交日期, 备注; wk_crm_business: 商机状态组, 销售阶段/商机阶段,
负责人, 创建时间, 最后跟进时间, 下次联系时间, is_end 1赢单 2输单 3无效) and
crm/.../CrmBusinessServiceImpl.java (exportExcel writes the list head; a closed 商机 shows 赢单,
输单 or 无效 as its stage). Amounts are plain yuan (decimal(18,2)), times `yyyy-MM-dd HH:mm:ss`.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import PERCENT_SCALE, Profile, col
from funnel_tui.exchange.profiles._shangji import OUTCOMES, STAGES
from funnel_tui.i18n import N_

PROFILE = Profile(
    key="wukong",
    name=N_("WukongCRM 商机 export"),
    source="WuKongOpenSource/WukongCRM-11.0-JAVA DB/wk_crm_single.sql ; CrmBusinessServiceImpl.java",
    columns={
        "商机名称": col("title"), "客户名称": col("customer"), "商机金额": col("amount"),
        "预计成交日期": col("expected_close"), "商机阶段": col("stage"), "负责人": col("owner"),
        "创建时间": col("created_at"), "最后跟进时间": col("last_contact_at"),
        "下次联系时间": col("next_follow_up_at"), "备注": col("notes"), "赢单/输单": col("status"),
        "输单原因": col("lost_reason"),
    },
    required=(("商机名称",), ("商机阶段", "商机状态组"), ("商机金额",)),
    distinctive=("商机状态组", "下次联系时间", "整单折扣(%)", "产品总金额"),
    stages=STAGES,
    statuses=OUTCOMES,
    probability_scale=PERCENT_SCALE,
    signs={"¥": "CNY"},
    sample=("商机名称", "客户名称", "商机状态组", "商机阶段", "商机金额", "预计成交日期", "负责人",
            "创建人", "创建时间", "更新时间", "最后跟进时间", "下次联系时间", "备注", "赢单/输单"),
)
