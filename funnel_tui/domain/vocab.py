"""The rep's fixed vocabularies (DESIGN §2): stable codes, their labels in English and Chinese,
and the words a rep may type for them.

A code (`call`, `budget`, `high`) is what is stored and what scripts see; a label is what a
person reads ("no budget", 预算). Labels are English in this file, marked for the gettext
catalog with `NP_(context, ...)`; their Chinese lives in `funnel_tui/locale/zh_CN/...` like
every other string, under the vocabulary's context, and follows GLOSSARY.md.

    FOLLOWUP_KIND.label("visit", "zh")      -> "拜访"
    LOST_REASON.parse("没预算")              -> "budget"
    LOST_REASON.parse("their CFO left")     -> "their CFO left"   (free text stays)
    RISK_LEVEL.parse("中")                   -> "medium"
    FOLLOWUP_KIND.choices("zh")             -> [("电话", "call"), ...]   (for a Select)

The tuples at the bottom are the codes the schema's CHECK constraints and the validators use.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cached_property

from funnel_tui.i18n import LANGS, N_, NP_, _, active_lang, translator

__all__ = [
    "Term",
    "Vocabulary",
    "FOLLOWUP_KIND",
    "LOST_REASON",
    "RISK_LEVEL",
    "DEAL_STATUS",
    "DUE_BUCKET",
    "WARNING_KIND",
    "HISTORY_KIND",
    "COLUMN_NAMES",
    "column_name",
]


def _fold(text: str) -> str:
    """The form in which typed words are compared: NFKC, casefolded, no spaces, _ or -."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "_-")


@dataclass(frozen=True, slots=True)
class Term:
    """One code of a vocabulary, its English label, and other words accepted for it on input
    (older free-text values, synonyms in either language). `short` is a narrower label for
    cards, when there is one."""

    code: str
    label: str
    aliases: tuple[str, ...] = ()
    short: str | None = None


@dataclass(frozen=True)
class Vocabulary:
    """A closed list of codes (or, with `free_text`, codes plus whatever the rep writes).

    `context` is the gettext context of the labels (and of the short labels, with " (short)"),
    so "lost" the status and "lost" the history event can be translated differently.
    """

    name: str
    context: str
    terms: tuple[Term, ...]
    free_text: bool = False

    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.terms)

    def term(self, code: str) -> Term:
        for t in self.terms:
            if t.code == code:
                return t
        raise KeyError(code)

    def label(self, value: str | None, lang: str | None = None, *, short: bool = False) -> str:
        """What a person reads for a stored value, in `lang` (default: the active language).

        A code gets its label; an older spelling of a code ("no budget") gets that code's
        label; anything else (free text) is shown as it was written. None shows as "".
        """
        if not value:
            return ""
        code = value if value in self._by_code else self.lookup(value)
        if code is None:
            return value
        t = self._by_code[code]
        tr = translator(lang or active_lang())
        if short and t.short:
            return tr.pgettext(self.context + " (short)", t.short)
        return tr.pgettext(self.context, t.label)

    def label_text(self, value: str | None, lang: str | None = None) -> str:
        """Stored free text as a person reads it: a vocabulary word (a code, or a label in
        either language — `price`, 价格) in `lang`; the same before a colon (the lost form's
        `price: their CFO left` → `价格: their CFO left`); anything else — the rep's own words,
        aliases included — as written."""
        if not value:
            return ""
        code = self._label_index.get(_fold(value))
        if code is not None:
            return self.label(code, lang)
        head, colon, rest = value.partition(":")
        code = self._label_index.get(_fold(head)) if colon else None
        if code is not None:
            return f"{self.label(code, lang)}: {rest.strip()}"
        return value

    def choices(self, lang: str | None = None) -> list[tuple[str, str]]:
        """(label, code) pairs in order, for a Select or a help line."""
        return [(self.label(t.code, lang), t.code) for t in self.terms]

    def lookup(self, text: str | None) -> str | None:
        """The code `text` names (code, English or Chinese label, alias), or None."""
        if not text:
            return None
        return self._index.get(_fold(text))

    def parse(self, text: str | None) -> str | None:
        """The code for typed input; None for empty input.

        Unknown input is returned as written (stripped) when the vocabulary takes free text,
        and refused with the accepted words otherwise.
        """
        if text is None or not text.strip():
            return None
        code = self.lookup(text)
        if code is not None:
            return code
        if self.free_text:
            return text.strip()
        raise ValueError(_("{text} is not a {what}; use one of: {choices}").format(
            text=repr(text), what=_(self.name), choices=", ".join(self.codes())))

    def canonical(self, text: str | None) -> str:
        """How a stored or typed free-text value is kept: a word of the list — its code or its
        label in either language (`no budget`, 预算) — as the code; the same before a colon (the
        lost form's pick and the rep's details: `budget: 老板换了`); anything else, synonyms
        included (`价格太高`, `too expensive`), as written; "" for nothing. The store writes
        this; the upgrade to schema 5 converts older values with it."""
        t = (text or "").strip()
        if not t:
            return ""
        code = self._label_index.get(_fold(t))
        if code is not None:
            return code
        for colon in (":", "："):
            head, sep, rest = t.partition(colon)
            code = self._label_index.get(_fold(head)) if sep and rest.strip() else None
            if code is not None:
                return f"{code}: {rest.strip()}"
        return t

    @cached_property
    def _label_index(self) -> dict[str, str]:
        """Folded code or label (either language, no synonyms) -> code."""
        index: dict[str, str] = {}
        for t in self.terms:
            words = {t.code, t.label}
            for lang in LANGS:
                words.add(translator(lang).pgettext(self.context, t.label))
            for w in words:
                index.setdefault(_fold(w), t.code)
        return index

    @cached_property
    def _by_code(self) -> dict[str, Term]:
        return {t.code: t for t in self.terms}

    def _spellings(self, t: Term) -> set[str]:
        """Every way a rep may write `t`: code, labels in each language, aliases (folded)."""
        words = {t.code, t.label, *t.aliases}
        for lang in LANGS:
            words.add(translator(lang).pgettext(self.context, t.label))
            if t.short:
                words.add(translator(lang).pgettext(self.context + " (short)", t.short))
        return {_fold(w) for w in words}

    @cached_property
    def _index(self) -> dict[str, str]:
        """Folded spelling -> code. A spelling two codes claim goes to the first (and is a bug
        the vocabulary test reports)."""
        index: dict[str, str] = {}
        for t in self.terms:
            for spelling in self._spellings(t):
                index.setdefault(spelling, t.code)
        return index

    def ambiguous_spellings(self) -> dict[str, set[str]]:
        """Spellings that two codes claim (should be none)."""
        seen: dict[str, set[str]] = {}
        for t in self.terms:
            for spelling in self._spellings(t):
                seen.setdefault(spelling, set()).add(t.code)
        return {s: codes for s, codes in seen.items() if len(codes) > 1}


FOLLOWUP_KIND = Vocabulary(N_("follow-up kind"), "follow-up kind", (
    Term("call", NP_("follow-up kind", "call"), ("phone", "phone call", "打电话", "电话沟通", "致电")),
    Term("email", NP_("follow-up kind", "email"), ("e-mail", "mail", "发邮件", "邮箱", "电邮")),
    Term("meeting", NP_("follow-up kind", "meeting"), ("meet", "video call", "开会", "面谈", "视频会议")),
    Term("visit", NP_("follow-up kind", "visit"), ("on site", "上门", "上门拜访", "拜访客户")),
    Term("message", NP_("follow-up kind", "message"), ("sms", "text", "chat", "wechat", "微信", "短信")),
    Term("task", NP_("follow-up kind", "task"), ("todo", "to do", "待办", "事项")),
))

# What sales teams actually write down when a deal is lost; anything else stays free text.
LOST_REASON = Vocabulary(N_("lost reason"), "lost reason", (
    Term("price", NP_("lost reason", "price"), ("too expensive", "价格太高", "太贵", "报价高")),
    Term("competitor", NP_("lost reason", "competitor"),
         ("lost to competitor", "chose a competitor", "选择了竞品", "选了竞品", "输给竞品", "竞争对手")),
    Term("budget", NP_("lost reason", "no budget"), ("budget", "没预算", "无预算", "预算不足")),
    Term("timing", NP_("lost reason", "timing"), ("not now", "bad timing", "时间不合适", "延期")),
    Term("no_decision_maker", NP_("lost reason", "no decision maker"),
         ("no access to decision maker", "找不到决策人", "接触不到决策人")),
    Term("needs_mismatch", NP_("lost reason", "product fit"),
         ("needs mismatch", "no fit", "不匹配", "产品不匹配")),
    Term("no_decision", NP_("lost reason", "no decision"), ("status quo", "维持现状", "不做了")),
    Term("went_silent", NP_("lost reason", "went silent"), ("no response", "ghosted", "失联", "联系不上")),
    Term("relationship", NP_("lost reason", "relationship"), ("关系不到位",)),
    Term("terms", NP_("lost reason", "contract terms"), ("payment terms", "付款条件", "合同条款")),
    Term("in_house", NP_("lost reason", "built in-house"), ("in house", "自己开发", "自研")),
    Term("org_change", NP_("lost reason", "customer reorganised"),
         ("reorganization", "reorg", "人事变动", "组织调整")),
    Term("invalid", NP_("lost reason", "not a real lead"), ("duplicate", "spam", "重复线索", "无效")),
    # Removed from the purge queue (domain.purge): quiet too long in the lowest tier.
    Term("purged", NP_("lost reason", "purged"), ("purge", "清理", "剔除")),
), free_text=True)

RISK_LEVEL = Vocabulary(N_("risk level"), "risk level", (
    Term("high", NP_("risk level", "high"), ("h", "高风险"), NP_("risk level (short)", "high")),
    Term("medium", NP_("risk level", "medium"), ("m", "中风险", "中等"), NP_("risk level (short)", "med")),
    Term("low", NP_("risk level", "low"), ("l", "低风险"), NP_("risk level (short)", "low")),
))

DEAL_STATUS = Vocabulary(N_("status"), "deal status", (
    Term("open", NP_("deal status", "open"), ("active", "跟进中")),
    Term("won", NP_("deal status", "won"), ("赢单", "成交")),
    Term("lost", NP_("deal status", "lost"), ("输单", "丢单")),
))

# DESIGN §2 due buckets and §6 warning kinds: the codes are the JSON values.
DUE_BUCKET = Vocabulary(N_("due bucket"), "due bucket", (
    Term("overdue", NP_("due bucket", "overdue")),
    Term("24h", NP_("due bucket", "due in 24 h")),
    Term("3d", NP_("due bucket", "due in 3 days")),
))

WARNING_KIND = Vocabulary(N_("warning"), "warning", (
    Term("dwell_over", NP_("warning", "over the stage's dwell limit")),
    Term("dwell_near", NP_("warning", "near the stage's dwell limit")),
    Term("silent", NP_("warning", "silent too long")),
    Term("no_next_step", NP_("warning", "no next step")),
))

HISTORY_KIND = Vocabulary(N_("history kind"), "history", (
    Term("created", NP_("history", "created")),
    Term("field", NP_("history", "edited")),
    Term("stage", NP_("history", "moved")),
    Term("won", NP_("history", "won")),
    Term("lost", NP_("history", "lost")),
    Term("reopened", NP_("history", "reopened")),
    Term("deleted", NP_("history", "deleted")),
    Term("restored", NP_("history", "restored")),
    Term("followup", NP_("history", "follow-up")),
    Term("touch", NP_("history", "touch")),
    Term("imported", NP_("history", "imported")),
))

# Column and field names as a person reads them (CLI table headers, the timeline's edits): the
# key itself in English — what scripts, JSON and the CSV header use, so English tables read as
# before — and the tracking template's words in Chinese. Shown with `column_name(key)`.
COLUMN_NAMES: tuple[str, ...] = (
    NP_("column", "id"), NP_("column", "uid"), NP_("column", "external_id"), NP_("column", "customer"),
    NP_("column", "title"), NP_("column", "industry"), NP_("column", "company_size"),
    NP_("column", "contact_name"), NP_("column", "contact_role"), NP_("column", "contact_phone"),
    NP_("column", "contact_email"), NP_("column", "source"), NP_("column", "lead_score"),
    NP_("column", "owner"), NP_("column", "stage"), NP_("column", "status"), NP_("column", "amount"),
    NP_("column", "currency"), NP_("column", "probability"), NP_("column", "expected_close"),
    NP_("column", "created_at"), NP_("column", "stage_entered_at"), NP_("column", "last_contact_at"),
    NP_("column", "next_follow_up_at"), NP_("column", "closed_at"), NP_("column", "risk_level"),
    NP_("column", "risk_note"), NP_("column", "mitigation"), NP_("column", "budget"),
    NP_("column", "decision_chain"), NP_("column", "pain_points"), NP_("column", "competitors"),
    NP_("column", "lost_reason"), NP_("column", "notes"), NP_("column", "weighted_amount"),
    NP_("column", "tier"), NP_("column", "dwell_days"), NP_("column", "deleted_at"),
    NP_("column", "probability_custom"),
    # the command line's other columns
    NP_("column", "followup_id"), NP_("column", "deal_id"), NP_("column", "touch_id"), NP_("column", "kind"),
    NP_("column", "due"), NP_("column", "due_at"), NP_("column", "bucket"), NP_("column", "note"),
    NP_("column", "days"), NP_("column", "limit"), NP_("column", "prob"), NP_("column", "next"),
    NP_("column", "field"), NP_("column", "value"), NP_("column", "at"), NP_("column", "old"),
    NP_("column", "new"), NP_("column", "file"), NP_("column", "reason"), NP_("column", "kib"),
    NP_("column", "path"), NP_("column", "key"), NP_("column", "meaning"), NP_("column", "position"),
    NP_("column", "name"), NP_("column", "name_zh"), NP_("column", "max_dwell_days"),
    NP_("column", "deals"), NP_("column", "default"), NP_("column", "stages"),
    NP_("column", "quiet_since"), NP_("column", "quiet_days"),
    NP_("column", "outcome"), NP_("column", "lesson"), NP_("column", "author"),
)


def column_name(key: str, lang: str | None = None) -> str:
    """A column's or field's name in `lang` (default: the active language); unknown keys as they are."""
    return translator(lang or active_lang()).pgettext("column", key)


DEAL_STATUSES = DEAL_STATUS.codes()
STAGE_KINDS = ("open", "won", "post")
FOLLOWUP_KINDS = FOLLOWUP_KIND.codes()
FOLLOWUP_STATUSES = ("open", "done", "canceled")
RISK_LEVELS = RISK_LEVEL.codes()
HISTORY_KINDS = HISTORY_KIND.codes()
# The reasons today's lost-deal form offers, stored as typed (free text). The LOST_REASON
# vocabulary above replaces them once the store keeps codes; every one of these parses to a
# code there (tested), so existing data maps over.
LOST_REASONS = (
    "price",
    "competitor",
    "no budget",
    "no decision",
    "timing",
    "product fit",
    "went silent",
)

# The documented deal columns (DESIGN §6), in order: CSV export/import, `list --format json`
# and the store's bulk reads all speak these names.
DEAL_COLUMNS: tuple[str, ...] = (
    "id", "uid", "external_id", "customer", "title", "industry", "company_size", "contact_name",
    "contact_role", "contact_phone", "contact_email", "source", "lead_score", "owner", "stage",
    "status", "amount", "currency", "probability", "expected_close", "created_at",
    "stage_entered_at", "last_contact_at", "next_follow_up_at", "closed_at", "risk_level",
    "risk_note", "mitigation", "budget", "decision_chain", "pain_points", "competitors",
    "lost_reason", "notes",
)
