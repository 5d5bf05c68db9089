"""Textual validators that wrap the domain's checks, so a form refuses exactly what the CLI refuses.

The messages come from `domain.validation` / `domain.dates` unchanged: one wording for the
command line and the screen.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Callable, Sequence

from textual.validation import ValidationResult, Validator

from funnel_tui.domain.dates import parse_follow_up
from funnel_tui.domain.stages import StageDef
from funnel_tui.domain.validation import FieldError, validate_field
from funnel_tui.i18n import _


class DealField(Validator):
    """One deal field checked by `validate_field` (the CLI's own check)."""

    def __init__(
        self,
        field: str,
        *,
        stages: Sequence[StageDef] = (),
        now: datetime | None = None,
        tz: tzinfo | None = None,
    ):
        """`now`/`tz` are needed only by date fields (expected_close)."""
        super().__init__()
        self.field = field
        self.stages = tuple(stages)
        self.now = now
        self.tz = tz

    def validate(self, value: str) -> ValidationResult:
        try:
            validate_field(self.field, value, stages=self.stages, now=self.now, tz=self.tz)
        except FieldError as exc:
            return self.failure(exc.message, value)
        return self.success()


class When(Validator):
    """A follow-up time as `parse_follow_up` reads it (never in the past); empty is allowed
    only when `optional`."""

    def __init__(self, *, now: datetime | Callable[[], datetime], tz: tzinfo, optional: bool = False):
        super().__init__()
        self._now = now
        self.tz = tz
        self.optional = optional

    @property
    def now(self) -> datetime:
        return self._now() if callable(self._now) else self._now

    def parse(self, value: str) -> datetime | None:
        """The parsed UTC time, None for an allowed blank; raises ValueError otherwise."""
        if not value.strip():
            if self.optional:
                return None
            raise ValueError(_("a time is required; e.g. tomorrow, +2h, fri 15:00"))
        return parse_follow_up(value, now=self.now, tz=self.tz)

    def validate(self, value: str) -> ValidationResult:
        try:
            self.parse(value)
        except ValueError as exc:
            return self.failure(str(exc), value)
        return self.success()


class NotBlank(Validator):
    """Free text that must say something (a lost reason, for instance)."""

    def __init__(self, message: str | None = None):
        super().__init__()
        self.message = message or _("is required")

    def validate(self, value: str) -> ValidationResult:
        return self.success() if value.strip() else self.failure(self.message, value)
