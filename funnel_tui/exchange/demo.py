"""A realistic demo pipeline, built through the store so its history is real.

Every deal is created in the past and walked through its stages with the store's own
`move_deal`/`lose_deal`/`log_touch` calls at past times, so dwell clocks, conversion from
history, overdue follow-ups and lost reasons all look like a living pipeline.

`lang="en"` is the mixed international pipeline (snapshot tests depend on it byte for byte);
`lang="zh"` a Chinese one — Chinese customers, reps, contacts, notes, amounts in 万, and the
tracking template's risk, pain-point and decision-chain fields filled in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from funnel_tui.domain.validation import FollowUpDraft, TouchDraft

CUSTOMERS = (
    "华信科技", "蓝海物流", "Acme Robotics", "北辰医疗", "Globex Trading", "星河教育", "Initech",
    "东方制造", "Umbrella Health", "锦程旅游", "Stark Components", "云帆软件", "Hooli Cloud",
    "海宁纺织", "Vandelay Imports", "金桥地产", "Wayne Logistics", "瑞丰食品", "Soylent Foods",
    "明德咨询", "Cyberdyne Systems", "恒泰保险", "Tyrell Biotech", "新禾农业", "Massive Dynamic",
    "远景能源", "Oscorp Labs", "天工建筑", "Nakatomi Trading", "青木传媒",
)
TITLES = ("CRM 年度订阅", "ERP upgrade", "数据平台 PoC", "Annual licence", "培训服务包", "Support renewal",
          "Analytics add-on", "私有化部署", "Team plan (50 seats)", "API integration")
INDUSTRIES = ("制造", "logistics", "healthcare", "教育", "retail", "finance", "SaaS", "energy")
SOURCES = ("referral", "website", "展会", "cold call", "partner", "LinkedIn", "老客户转介绍")
CONTACTS = ("张伟", "李娜", "王芳", "Sam Lee", "Maria Garcia", "陈静", "John Smith", "刘洋", "Priya Patel")
ROLES = ("decision maker", "influencer", "user", "采购负责人", "技术负责人")
REPS = ("王磊", "Alex Chen", "李娜")
LOST_REASONS = ("price", "competitor", "no budget", "timing", "went silent", "选择了竞品")
NOTES = ("聊了预算，下周给报价", "Asked for a case study", "客户需要内部评审", "Demo went well; wants pricing",
         "决策人出差，下周再约", "Sent proposal v2")


ZH_CUSTOMERS = (
    "华信科技", "蓝海物流", "北辰医疗", "星河教育", "东方制造", "锦程旅游", "云帆软件", "海宁纺织",
    "金桥地产", "瑞丰食品", "明德咨询", "恒泰保险", "新禾农业", "远景能源", "天工建筑", "青木传媒",
    "重庆山城机电", "长沙湘江数据", "厦门鹭岛贸易", "安和银行", "中科智联", "博远医药", "启航汽车",
    "泰山重工", "南粤电子", "九州通信", "智行出行", "嘉禾零售", "万象文化", "同创半导体",
)
ZH_BRANCHES = ("北京", "上海", "深圳", "成都", "重庆", "厦门", "长沙", "武汉")
ZH_TITLES = ("CRM 年度订阅", "ERP 升级改造", "数据平台 PoC", "年度软件许可", "培训服务包", "运维续约",
             "报表分析模块", "私有化部署", "团队版（50席）", "API 集成", "渠道管理系统", "移动端定制开发")
ZH_INDUSTRIES = ("制造业", "物流", "医疗", "教育", "零售", "金融", "软件", "能源", "汽车", "地产")
ZH_SOURCES = ("官网咨询", "展会", "老客户转介绍", "电话拜访", "合作伙伴", "微信公众号", "行业峰会")
ZH_CONTACTS = ("张伟", "李娜", "王芳", "陈静", "刘洋", "杨帆", "赵敏", "黄磊", "周婷", "吴强", "曾凡", "单立新")
ZH_ROLES = ("决策人", "影响者", "使用者", "采购负责人", "技术负责人", "财务负责人")
ZH_REPS = ("王磊", "陈晨", "刘芳")
# Typed as a Chinese rep would pick them; every one is a LOST_REASON label (tested).
ZH_LOST_REASONS = ("价格", "竞品", "预算", "时机", "失联", "无决策人", "需求不匹配")
ZH_NOTES = ("聊了预算，下周给报价", "客户要一份同行业案例", "客户需要内部评审", "演示效果好，等报价",
            "决策人出差，下周再约", "已发方案第二版", "财务在走审批流程", "对比了两家竞品，价格是关键")
ZH_RISKS = (("预算审批慢", "约CFO面谈"), ("决策链长", "拉技术负责人一起推进"),
            ("竞品低价", "强调服务和交付"), ("需求还不清楚", "先做需求调研"))
ZH_PAINS = ("库存不准", "报表靠手工", "客户信息分散", "审批流程慢")
ZH_CHAINS = ("采购→CFO→CEO", "IT负责人→CTO", "部门经理→总经理")
ZH_COMPETITORS = ("竞品A", "竞品B", "客户自研方案")
ZH_BUDGETS = ("10-20万", "50万以内", "待定")


@dataclass(frozen=True)
class _Words:
    """What one demo language draws from."""

    customers: tuple[str, ...]
    titles: tuple[str, ...]
    industries: tuple[str, ...]
    sources: tuple[str, ...]
    contacts: tuple[str, ...]
    roles: tuple[str, ...]
    reps: tuple[str, ...]
    lost_reasons: tuple[str, ...]
    notes: tuple[str, ...]
    amount_unit: int  # amounts are drawn as a count of these


_WORDS = {
    "en": _Words(CUSTOMERS, TITLES, INDUSTRIES, SOURCES, CONTACTS, ROLES, REPS, LOST_REASONS, NOTES, 1000),
    "zh": _Words(ZH_CUSTOMERS, ZH_TITLES, ZH_INDUSTRIES, ZH_SOURCES, ZH_CONTACTS, ZH_ROLES, ZH_REPS,
                 ZH_LOST_REASONS, ZH_NOTES, 10_000),
}


def _customer(words: _Words, n: int, lang: str) -> str:
    """The n-th customer name; past the list, more of the same firms (in zh: their branches)."""
    rounds, i = divmod(n, len(words.customers))
    customer = words.customers[i]
    if rounds == 0:
        return customer
    if lang == "zh":
        laps, b = divmod(rounds - 1, len(ZH_BRANCHES))
        return f"{customer}（{ZH_BRANCHES[b]}{laps + 1 if laps else ''}）"
    return f"{customer} {rounds + 1}"


def _zh_details(rng: random.Random) -> dict:
    """The tracking template's softer fields, which the Chinese demo fills in."""
    risk_note, mitigation = rng.choice(ZH_RISKS)
    return {"risk_note": risk_note, "mitigation": mitigation, "pain_points": rng.choice(ZH_PAINS),
            "decision_chain": rng.choice(ZH_CHAINS), "competitors": rng.choice(ZH_COMPETITORS),
            "budget": rng.choice(ZH_BUDGETS)}


def fill_demo(store, *, deals: int = 60, seed: int = 7, now: datetime, lang: str = "en") -> int:
    """Add `deals` demo deals (repeatable for a seed) in `lang` ("en" or "zh"); returns how
    many were added."""
    words = _WORDS[lang]
    rng = random.Random(seed)
    stages = [s for s in store.stages() if s.kind == "open"]
    won = next(s for s in store.stages() if s.kind == "won")
    post = [s for s in store.stages() if s.kind == "post"]
    # The demo pipeline is its demo rep's: `me` there is that rep (a setting of this database;
    # the user's own name, in their config, is left alone).
    store.set_setting("demo_me", words.reps[0])
    for n in range(deals):
        created = now - timedelta(days=rng.uniform(1, 75), hours=rng.uniform(0, 8))
        customer = _customer(words, n, lang)
        unit = words.amount_unit
        amount = rng.choice((5, 8, 12, 20, 35, 50, 80, 120, 200)) * unit + rng.choice((0, 500)) * (unit // 1000)
        values = {
            "customer": customer,
            "title": rng.choice(words.titles),
            "industry": rng.choice(words.industries),
            "company_size": rng.choice(("1-50", "50-200", "200-1000", "1000+")),
            "contact_name": rng.choice(words.contacts),
            "contact_role": rng.choice(words.roles),
            "contact_phone": f"+86 13{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
            "source": rng.choice(words.sources),
            "lead_score": rng.randint(2, 10),
            "owner": words.reps[0] if rng.random() < 0.6 else rng.choice(words.reps[1:]),
            "amount": amount,
            "risk_level": rng.choice(("high", "medium", "low", None)),
            "expected_close": (created + timedelta(days=rng.randint(30, 120))).date(),
        }
        if lang == "zh":
            values.update(_zh_details(rng))
        deal_id = store.add_deal(values, now=created)
        t = created
        # How far this deal gets: most stall early, a few win, some are lost on the way.
        target = rng.choices(range(1, len(stages) + 2), weights=(24, 22, 18, 14, 22)[: len(stages) + 1])[0]
        for stage in stages[1:target]:
            t = t + timedelta(days=rng.uniform(2, 14))
            if t >= now:
                break
            if rng.random() < 0.7:
                store.log_touch(TouchDraft(deal_id, rng.choice(("call", "visit", "email")), rng.choice(words.notes)), now=t)
            store.move_deal(deal_id, stage.key, now=t)
        outcome = rng.random()
        t2 = t + timedelta(days=rng.uniform(2, 10))
        if target > len(stages) and t2 < now:
            store.move_deal(deal_id, won.key, now=t2)
            if post and rng.random() < 0.3 and t2 + timedelta(days=5) < now:
                store.move_deal(deal_id, post[0].key, now=t2 + timedelta(days=5))
            continue
        if outcome < 0.18 and t2 < now:
            store.lose_deal(deal_id, rng.choice(words.lost_reasons), now=t2)
            continue
        # Open deal: a follow-up overdue, due soon, later, or none at all.
        r = rng.random()
        if r < 0.25:
            due = now - timedelta(hours=rng.uniform(2, 72))
        elif r < 0.55:
            due = now + timedelta(hours=rng.uniform(1, 23))
        elif r < 0.75:
            due = now + timedelta(hours=rng.uniform(25, 70))
        elif r < 0.88:
            due = now + timedelta(days=rng.uniform(4, 14))
        else:
            continue
        store.add_follow_up(
            FollowUpDraft(deal_id, due, rng.choice(("call", "meeting", "email", "visit")), rng.choice(words.notes)),
            now=min(now, max(t, due - timedelta(days=2))),
        )
    return deals
