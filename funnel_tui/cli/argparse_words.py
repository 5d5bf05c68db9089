"""argparse in the rep's language: its own words ("usage:", "options", "show this help message
and exit", its error lines) from our catalog, and help laid out by display width.

argparse asks `gettext` for them through its module-level `_` and `ngettext`, in the "argparse"
domain that no system ships in Chinese. `install()` points those two names at our catalog
instead, so the msgids listed here — argparse's own, copied exactly — are translated like any
other string of ours (English stays English: our `_` returns its argument). Marked with `N_` so
`make i18n` extracts them; the `%`-placeholders are argparse's and must be kept.

argparse aligns and wraps help by `len()`, so Chinese help (two terminal columns a character)
runs past 80 columns and its descriptions drift out of line. `FunnelParser` formats with
`WidthHelpFormatter`, which measures display width instead and may break a line between two
Chinese characters; text that is all one column wide is laid out exactly as argparse does.
"""

from __future__ import annotations

import argparse
import functools
import re

from funnel_tui.domain.text import display_width
from funnel_tui.i18n import N_, gettext, ngettext

# The ones a rep can meet: help headings, the help/version options, usage errors.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("ignored explicit argument %r"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
)

# Left out: ngettext("expected %s argument", ...), asked only of options taking a fixed number
# of values above one (nargs=2 …), which funnel has none of.


def install() -> None:
    """Route argparse's `_`/`ngettext` through our catalog (the active language)."""
    argparse._ = gettext  # type: ignore[attr-defined]
    argparse.ngettext = ngettext  # type: ignore[attr-defined]


# Words, spaces, or one wide character with the punctuation that must stay with it: an opening
# bracket never ends a line, a closing one or a comma never starts one.
_TOKENS = r" |[^\s\u2e80-\uffef]+|[（《「『【]*[\u2e80-\uffef][，。、；：？！）》」』】”’…,.;:?!)]*"


@functools.cache
def _tokens() -> re.Pattern[str]:
    """_TOKENS compiled on first use (help output only): compiling it takes ~6 ms, which
    every command would pay at import."""
    return re.compile(_TOKENS)


def wrap_width(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` terminal columns (a wider single word gets a line of
    its own); spaces collapse, as in textwrap, and a line may break between Chinese characters."""
    lines: list[str] = []
    line = ""
    for token in _tokens().findall(" ".join(text.split())):
        if token == " ":
            line += " " if line else ""
            continue
        if line and display_width(line + token) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


class WidthHelpFormatter(argparse.HelpFormatter):
    """argparse's help, aligned and wrapped by display width (see the module's docstring)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        if display_width(text) == len(text):
            return super()._split_lines(text, width)
        return wrap_width(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if display_width(text) == len(text):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in wrap_width(text, width - len(indent)))

    def _format_usage(self, usage, actions, groups, prefix) -> str:
        # argparse wraps usage by len(): line the continuation lines up under a prefix ("用法：")
        # wider than its length, and narrow the width until every line fits on screen.
        shown_prefix = prefix if prefix is not None else gettext("usage: ")
        shift = max(display_width(shown_prefix) - len(shown_prefix), 0)
        width = self._width
        try:
            for _attempt in range(8):
                first, *rest = super()._format_usage(usage, actions, groups, prefix).split("\n")
                text = "\n".join([first, *(" " * shift + line if line.startswith(" ") else line for line in rest)])
                widest = max(display_width(line) for line in text.splitlines() if line)
                if widest <= width or self._width <= 40:
                    return text
                self._width -= widest - width
            return text
        finally:
            self._width = width

    def add_argument(self, action: argparse.Action) -> None:
        if action.help is not argparse.SUPPRESS:
            invocations = [self._format_action_invocation(action)]
            invocations += [self._format_action_invocation(a) for a in self._iter_indented_subactions(action)]
            longest = max(display_width(i) for i in invocations) + self._current_indent
            self._action_max_length = max(self._action_max_length, longest)
            self._add_item(self._format_action, [action])

    def _format_action(self, action: argparse.Action) -> str:
        # argparse's own layout, with display widths where it measures len().
        help_position = min(self._action_max_length + 2, self._max_help_position)
        help_width = max(self._width - help_position, 11)
        action_width = help_position - self._current_indent - 2
        header = self._format_action_invocation(action)
        indent_first = 0
        if not action.help:
            header = " " * self._current_indent + header + "\n"
        elif display_width(header) <= action_width:
            header = " " * self._current_indent + header + " " * (action_width - display_width(header)) + "  "
        else:
            header = " " * self._current_indent + header + "\n"
            indent_first = help_position
        parts = [header]
        if action.help and action.help.strip():
            help_text = self._expand_help(action)
            if help_text:
                help_lines = self._split_lines(help_text, help_width)
                parts.append(" " * indent_first + help_lines[0] + "\n")
                parts += [" " * help_position + line + "\n" for line in help_lines[1:]]
        elif not header.endswith("\n"):
            parts.append("\n")
        parts += [self._format_action(a) for a in self._iter_indented_subactions(action)]
        return self._join_parts(parts)


class FunnelParser(argparse.ArgumentParser):
    """An ArgumentParser whose help is laid out by display width (its subparsers too: argparse
    makes them of the parent's class)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", WidthHelpFormatter)
        super().__init__(*args, **kwargs)
