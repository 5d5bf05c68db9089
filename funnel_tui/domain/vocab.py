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
