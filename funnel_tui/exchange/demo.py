"""A realistic demo pipeline, built through the store so its history is real.

Every deal is created in the past and walked through its stages with the store's own
`move_deal`/`lose_deal`/`log_touch` calls at past times, so dwell clocks, conversion from
history, overdue follow-ups and lost reasons all look like a living pipeline.
"""

from __future__ import annotations

import random
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


def fill_demo(store, *, deals: int = 60, seed: int = 7, now: datetime) -> int:
    """Add `deals` demo deals (repeatable for a seed); returns how many were added."""
    rng = random.Random(seed)
    stages = [s for s in store.stages() if s.kind == "open"]
    won = next(s for s in store.stages() if s.kind == "won")
    post = [s for s in store.stages() if s.kind == "post"]
    store.set_setting("me", REPS[0])
    for n in range(deals):
        created = now - timedelta(days=rng.uniform(1, 75), hours=rng.uniform(0, 8))
        customer = CUSTOMERS[n % len(CUSTOMERS)]
        if n >= len(CUSTOMERS):
            customer = f"{customer} {n // len(CUSTOMERS) + 1}"
        amount = rng.choice((5, 8, 12, 20, 35, 50, 80, 120, 200)) * 1000 + rng.choice((0, 500))
        values = {
            "customer": customer,
            "title": rng.choice(TITLES),
            "industry": rng.choice(INDUSTRIES),
            "company_size": rng.choice(("1-50", "50-200", "200-1000", "1000+")),
            "contact_name": rng.choice(CONTACTS),
            "contact_role": rng.choice(ROLES),
            "contact_phone": f"+86 13{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
            "source": rng.choice(SOURCES),
            "lead_score": rng.randint(2, 10),
            "owner": REPS[0] if rng.random() < 0.6 else rng.choice(REPS[1:]),
            "amount": amount,
            "risk_level": rng.choice(("high", "medium", "low", None)),
            "expected_close": (created + timedelta(days=rng.randint(30, 120))).date(),
        }
        deal_id = store.add_deal(values, now=created)
        t = created
        # How far this deal gets: most stall early, a few win, some are lost on the way.
        target = rng.choices(range(1, len(stages) + 2), weights=(24, 22, 18, 14, 22)[: len(stages) + 1])[0]
        for stage in stages[1:target]:
            t = t + timedelta(days=rng.uniform(2, 14))
            if t >= now:
                break
            if rng.random() < 0.7:
                store.log_touch(TouchDraft(deal_id, rng.choice(("call", "visit", "email")), rng.choice(NOTES)), now=t)
            store.move_deal(deal_id, stage.key, now=t)
        outcome = rng.random()
        t2 = t + timedelta(days=rng.uniform(2, 10))
        if target > len(stages) and t2 < now:
            store.move_deal(deal_id, won.key, now=t2)
            if post and rng.random() < 0.3 and t2 + timedelta(days=5) < now:
                store.move_deal(deal_id, post[0].key, now=t2 + timedelta(days=5))
            continue
        if outcome < 0.18 and t2 < now:
            store.lose_deal(deal_id, rng.choice(LOST_REASONS), now=t2)
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
            FollowUpDraft(deal_id, due, rng.choice(("call", "meeting", "email", "visit")), rng.choice(NOTES)),
            now=min(now, max(t, due - timedelta(days=2))),
        )
    return deals
