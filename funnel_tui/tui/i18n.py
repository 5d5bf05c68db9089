"""The few words the TUI shows in the rep's language (English, or Chinese for zh locales).

Stage names come from the stage table (StageDef.label); this holds screen names and the
words on the board. Unknown words fall back to English, so a missing entry is never an error.
"""

from __future__ import annotations

import os

ZH: dict[str, str] = {
    "Board": "看板",
    "Today": "今日",
    "Summary": "汇总",
    "Deal": "商机",
    "Help": "帮助",
    "Search": "搜索",
    "more": "更多",
    "lost": "已丢单",
    "won": "已成交",
    "max": "上限",
    "overdue": "逾期",
    "today": "今天",
    "no next step": "无下一步",
    "over": "超期",
    "near": "临近",
    "deals": "个",
    "weighted": "加权",
    "due in 24h": "24小时内到期",
    "Nothing due": "没有到期事项",
}


def detect_lang(setting: str | None) -> str:
    """"zh" when the setting says so, else when LC_ALL/LANG start with zh; otherwise "en"."""
    if setting in ("en", "zh"):
        return setting
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def tr(lang: str, text: str) -> str:
    return ZH.get(text, text) if lang == "zh" else text
