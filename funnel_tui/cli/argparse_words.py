"""argparse's own words ("usage:", "options", "show this help message and exit", its error
lines) in the rep's language.

argparse asks `gettext` for them through its module-level `_` and `ngettext`, in the "argparse"
domain that no system ships in Chinese. `install()` points those two names at our catalog
instead, so the msgids listed here — argparse's own, copied exactly — are translated like any
other string of ours (English stays English: our `_` returns its argument). Marked with `N_` so
`make i18n` extracts them; the `%`-placeholders are argparse's and must be kept.
"""

from __future__ import annotations

import argparse

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
