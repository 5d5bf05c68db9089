"""The fixed lists of the rep's vocabulary (DESIGN §2), shared by schema and validation."""

DEAL_STATUSES = ("open", "won", "lost")
STAGE_KINDS = ("open", "won", "post")
FOLLOWUP_KINDS = ("call", "email", "meeting", "visit", "message", "task")
FOLLOWUP_STATUSES = ("open", "done", "canceled")
RISK_LEVELS = ("high", "medium", "low")
HISTORY_KINDS = (
    "created",
    "field",
    "stage",
    "won",
    "lost",
    "reopened",
    "deleted",
    "restored",
    "followup",
    "touch",
    "imported",
)
# Reasons offered when a deal is marked lost (free text is always allowed too).
LOST_REASONS = (
    "price",
    "competitor",
    "no budget",
    "no decision",
    "timing",
    "product fit",
    "went silent",
)
