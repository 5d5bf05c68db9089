"""Stage and outcome names shared by the Chinese CRMs' 商机 (opportunity) exports.

WukongCRM and Cordys CRM write different default stages, and a 商机 export with only their
common columns cannot say which tool wrote it; both profiles therefore know both tools' stage
names (they do not collide), so either reading of such a file maps every stage the same way.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import StageName

STAGES = {
    # WukongCRM 11: the default 商机状态组 "销售流程商机组" (DB/wk_crm_single.sql), and the
    # outcomes it shows as a stage name (CrmBusinessServiceImpl: 1赢单 2输单 3无效).
    "验证客户": StageName("qualified"), "需求分析": StageName("qualified"),
    "方案/报价": StageName("demo"), "赢单": StageName("won", "won"), "输单": StageName(None, "lost"),
    "无效": StageName(None, "lost"),
    # Cordys CRM: opportunity_stage_config defaults (migration 1.2.3, V1.2.3_2_1__data.sql).
    "新建": StageName("lead"), "需求明确": StageName("qualified"), "方案验证": StageName("demo"),
    "立项汇报": StageName("negotiation"), "商务采购": StageName("negotiation"),
    "成功": StageName("won", "won"), "失败": StageName(None, "lost"),
}
OUTCOMES = {"赢单": "won", "输单": "lost", "无效": "lost", "成功": "won", "失败": "lost",
            "进行中": "open", "跟进中": "open"}
