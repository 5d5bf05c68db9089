"""Stage forms for the Stages screen: a stage's names, numbers and playbook (new or edited),
the parts of a split, the stage a merge goes into. Each checks what the rep typed with the
domain's own rules (domain/stage_plan.py) and returns a typed draft; the screen writes.

Playbook texts are typed as items separated by `;` (one line each in the checklist).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Select

from funnel_tui.domain.stage_plan import (
    StageChangeError,
    check_key,
    clean_items,
    clean_max_dwell,
    clean_name,
    clean_probability,
    parse_part,
)
from funnel_tui.domain.stages import StageDef, split_items
from funnel_tui.i18n import _, active_lang
from funnel_tui.tui.forms.base import FormScreen


@dataclass(frozen=True, slots=True)
class StageDraft:
    """A new stage (`key` set) or the changed values of an existing one."""

    key: str | None
    values: dict[str, Any] = field(default_factory=dict)


def _fields() -> tuple[tuple[str, str], ...]:
    return (
        ("name", _("Name")),
        ("name_zh", _("Chinese name")),
        ("probability", _("Probability % (0–100; blank: none)")),
        ("max_dwell_days", _("Max dwell, days (blank: no limit)")),
        ("entry", _("Entry condition (items separated by ;)")),
        ("entry_zh", _("Entry condition in Chinese")),
        ("actions", _("Key actions (items separated by ;)")),
        ("actions_zh", _("Key actions in Chinese")),
        ("outputs", _("Outputs (items separated by ;)")),
        ("outputs_zh", _("Outputs in Chinese")),
    )


def _shown(stage: StageDef | None, name: str) -> str:
    if stage is None:
        return ""
    value = getattr(stage, name)
    if name in ("probability", "max_dwell_days"):
        return "" if value is None else str(value)
    if name in ("name", "name_zh"):
        return value
    return "; ".join(split_items(value))


class StageForm(FormScreen[StageDraft]):
    """A stage's names, probability, dwell limit and playbook: new (with a key) or edited."""

    DEFAULT_CSS = """
    StageForm > #dialog { width: 90; }
    StageForm .caption { width: 100%; }
    """

    def __init__(self, stage: StageDef | None = None, *, taken: Sequence[str] = (), title: str = ""):
        super().__init__()
        self.stage = stage
        self.taken = tuple(taken)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label(Text(self.title_text), id="form-title")
            if self.stage is None:
                yield Label(Text(_("Key (lowercase letters, digits, - or _)")), classes="caption")
                yield Input("", id="f-key")
                yield Label(Text(""), id="err-key", classes="error")
            for name, caption in _fields():
                yield Label(Text(caption), classes="caption")
                yield Input(_shown(self.stage, name), id=f"f-{name}")
                yield Label(Text(""), id=f"err-{name}", classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self.query_one("#f-key" if self.stage is None else "#f-name", Input).focus()

    def read(self) -> StageDraft | None:
        """The draft, or None with each bad field's error shown under it."""
        values: dict[str, Any] = {}
        ok = True
        key = None
        checks = {"name": lambda v: clean_name(v, "name", required=True),
                  "name_zh": lambda v: clean_name(v, "name_zh", required=False),
                  "probability": clean_probability, "max_dwell_days": clean_max_dwell}
        if self.stage is None:
            try:
                key = check_key(self.query_one("#f-key", Input).value, self.taken)
                self.show_error("key", None)
            except StageChangeError as exc:
                self.show_error("key", str(exc))
                ok = False
        for name, _caption in _fields():
            raw = self.query_one(f"#f-{name}", Input).value
            try:
                value = checks.get(name, lambda v, n=name: clean_items(v, n))(raw)
                self.show_error(name, None)
            except StageChangeError as exc:
                self.show_error(name, str(exc))
                ok = False
                continue
            if self.stage is None or value != getattr(self.stage, name):
                values[name] = value
        return StageDraft(key, values) if ok else None

    def action_save(self) -> None:
        """Hand back the stage as typed (nothing is written here)."""
        draft = self.read()
        if draft is not None:
            self.dismiss(draft)


class SplitForm(FormScreen[tuple]):
    """The parts a stage splits into, in order: `KEY:NAME` (or `KEY:NAME:中文名`), space-separated."""

    DEFAULT_CSS = """
    SplitForm > #dialog { width: 80; }
    SplitForm .caption { width: 100%; }
    """

    def __init__(self, stage: StageDef):
        super().__init__()
        self.stage = stage

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label(Text(_("Split {stage}").format(stage=self.stage.label(active_lang()))), id="form-title")
            yield Label(Text(_("Parts in order, e.g. terms:条款谈判 price:价格确认; its deals move to the first")),
                        classes="caption")
            yield Input("", id="f-parts")
            yield Label(Text(""), id="err-parts", classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self.query_one("#f-parts", Input).focus()

    def action_save(self) -> None:
        """Hand back the parts as (key, name, name_zh) tuples."""
        text = self.query_one("#f-parts", Input).value.split()
        try:
            parts = tuple(parse_part(p) for p in text)
            if len(parts) < 2:
                raise StageChangeError(_("into: give at least two parts, e.g. --into terms:条款谈判 price:价格确认"))
        except StageChangeError as exc:
            self.show_error("parts", str(exc))
            return
        self.dismiss(parts)


class MergeForm(FormScreen[str]):
    """Which stage a stage merges into (its pipeline's other stages of the same kind)."""

    DEFAULT_CSS = """
    MergeForm > #dialog { width: 70; }
    MergeForm .caption { width: 100%; }
    """

    def __init__(self, stage: StageDef, choices: Sequence[StageDef], lang: str = "en"):
        super().__init__()
        self.stage = stage
        self.choices = list(choices)
        self.lang = lang

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label(Text(_("Merge {stage} into…").format(stage=self.stage.label(self.lang))), id="form-title")
            yield Label(Text(_("Its deals move there and it is archived")), classes="caption")
            yield Select([(Text(s.label(self.lang)), s.key) for s in self.choices], allow_blank=False,
                         id="f-into", value=self.choices[0].key)
            yield Label(Text(""), id="err-into", classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self.query_one("#f-into", Select).focus()

    def action_save(self) -> None:
        """Hand back the key of the stage to merge into."""
        value = self.query_one("#f-into", Select).value
        if value is Select.NULL:
            self.show_error("into", _("choose a stage"))
            return
        self.dismiss(str(value))
