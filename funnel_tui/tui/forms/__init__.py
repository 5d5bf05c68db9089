"""Modal forms, one file each, on `FormScreen[T]`: each returns a typed draft through
`dismiss()` and never writes to the database.

Every Input carries a validator that wraps the domain check the CLI uses, the error sits in
a label right under its field, and Save does nothing until the whole draft validates. User
text (customer names, notes) is only ever shown through `Text(...)`, never parsed as markup.
Nothing imports this package at start-up: the flows in `tui.deal_actions` import a form when
they open it.
"""

from funnel_tui.tui.forms.base import FormScreen
from funnel_tui.tui.forms.confirm import ConfirmDialog
from funnel_tui.tui.forms.deal import DEAL_FORM_FIELDS, DealDraft, DealForm
from funnel_tui.tui.forms.follow_up import FollowUpForm
from funnel_tui.tui.forms.lose import LoseForm
from funnel_tui.tui.forms.touch import TouchForm

__all__ = [
    "ConfirmDialog",
    "DEAL_FORM_FIELDS",
    "DealDraft",
    "DealForm",
    "FollowUpForm",
    "FormScreen",
    "LoseForm",
    "TouchForm",
]
