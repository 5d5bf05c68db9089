"""The default stages' playbooks: entry condition (进入条件), key actions (关键动作) and outputs
(输出物), in Chinese and English.

From step one of the source documents' tool guide (工具使用全流程指南, 第一步): 潜在线索 and
初步意向 are quoted from it; the later stages are written in the same spirit for the same
enterprise SaaS example. Data only: a rep's own playbooks live in the stage table.
"""

from __future__ import annotations

# stage key -> section -> language -> items
DEFAULT_PLAYBOOKS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "lead": {
        "entry": {"zh": ("市场活动获取/主动咨询",),
                  "en": ("From a marketing campaign / an inbound enquiry",)},
        "actions": {"zh": ("初步需求调研", "发送产品简介"),
                    "en": ("First needs research", "Send the product brief")},
        "outputs": {"zh": ("线索评分表(10分制)",),
                    "en": ("Lead score sheet (out of 10)",)},
    },
    "qualified": {
        "entry": {"zh": ("线索评分≥6分/明确使用场景",),
                  "en": ("Lead score ≥ 6 / a clear use case",)},
        "actions": {"zh": ("电话沟通需求", "痛点挖掘"),
                    "en": ("Call to discuss needs", "Dig into pain points")},
        "outputs": {"zh": ("需求分析报告",),
                    "en": ("Needs analysis report",)},
    },
    "demo": {
        "entry": {"zh": ("需求已确认/关键决策人参与",),
                  "en": ("Needs confirmed / a key decision maker takes part",)},
        "actions": {"zh": ("定制化方案演示", "开通试用账号"),
                    "en": ("Tailored solution demo", "Open a trial account")},
        "outputs": {"zh": ("解决方案建议书", "演示反馈记录"),
                    "en": ("Solution proposal", "Demo feedback notes")},
    },
    "negotiation": {
        "entry": {"zh": ("客户认可方案/进入采购流程",),
                  "en": ("Customer accepts the solution / procurement has started",)},
        "actions": {"zh": ("报价与折扣审批", "合同条款谈判"),
                    "en": ("Quote and discount approval", "Negotiate the contract terms")},
        "outputs": {"zh": ("正式报价单", "合同草案"),
                    "en": ("Formal quotation", "Draft contract")},
    },
    "won": {
        "entry": {"zh": ("双方确认合同条款",),
                  "en": ("Both sides confirm the contract terms",)},
        "actions": {"zh": ("合同签署", "首付款到账确认"),
                    "en": ("Sign the contract", "Confirm the first payment")},
        "outputs": {"zh": ("已签署合同", "交付启动计划"),
                    "en": ("Signed contract", "Delivery kick-off plan")},
    },
    "expansion": {
        "entry": {"zh": ("客户稳定使用/续约期临近",),
                  "en": ("Customer uses the product steadily / renewal is near",)},
        "actions": {"zh": ("客户成功回访", "增购需求挖掘"),
                    "en": ("Customer success check-in", "Find upsell needs")},
        "outputs": {"zh": ("客户健康度报告", "增购方案"),
                    "en": ("Customer health report", "Upsell proposal")},
    },
}
