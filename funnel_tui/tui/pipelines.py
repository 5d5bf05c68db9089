"""The pipeline key (`P`) of the board, Today, Summary and Stages: the next pipeline.

A rep who keeps one pipeline never meets it: the key is bound (footer, palette, help) only
when there is a second one, so their screens stay as they were. Screens list it in
`CONDITIONAL_BINDINGS` (help and the README's key tables read that) and call
`bind_pipeline_key` when mounted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from funnel_tui.i18n import N_, _
from funnel_tui.tui.context import AppContext, context_of

if TYPE_CHECKING:
    from textual.screen import Screen

PIPELINE_BINDINGS = [
    Binding("P", "switch_pipeline", N_("Pipeline"),
            tooltip=N_("Show the next pipeline (when you keep more than one)")),
]


def has_pipelines(ctx: AppContext) -> bool:
    """True when the rep keeps more than one pipeline."""
    return len(ctx.store.pipelines()) > 1


def bind_pipeline_key(screen: Screen) -> None:
    """Bind `P` on `screen` when there is a pipeline to switch to."""
    if has_pipelines(context_of(screen)):
        for b in PIPELINE_BINDINGS:
            screen._bindings.bind(b.key, b.action, _(b.description), key_display=b.key_display)
        screen.refresh_bindings()


def next_pipeline(ctx: AppContext) -> bool:
    """Make the next pipeline the current one (for every screen); False with only one."""
    keys = [p.key for p in ctx.store.pipelines()]
    if len(keys) < 2:
        return False
    current = ctx.store.pipeline(ctx.pipeline).key
    ctx.pipeline = keys[(keys.index(current) + 1) % len(keys)]
    return True
