"""Zoho CRM: the Deals module exported (Setup → Data Administration → Export, or a list view).

Sources: Zoho CRM Help, "Modules & fields" (https://www.zoho.com/crm/help/api/modules-fields.html,
Deals): Deal Owner, Deal Name, Account Name, Type, Next Step, Lead Source, Contact Name, Amount,
Closing Date, Stage, Probability (%), Expected Revenue, Campaign Source, Description, Created
Time, Modified Time; "Reason For Loss" on a lost deal. Exported dates follow the org's date format
and are decided from the column. Default deal stages (Setup → Customization → Pipelines):
Qualification, Needs Analysis, Value Proposition, Identify Decision Makers, Proposal/Price Quote,
Negotiation/Review, Closed Won, Closed Lost, Closed-Lost to Competition.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import PERCENT_SCALE, Profile, StageName, col
from funnel_tui.i18n import N_

PROFILE = Profile(
    key="zoho",
    name=N_("Zoho CRM deals export"),
    source="https://www.zoho.com/crm/help/api/modules-fields.html (Deals)",
    columns={
        "Record Id": col("external_id"), "Deal Name": col("title"), "Account Name": col("customer"),
        "Stage": col("stage"), "Amount": col("amount"), "Currency": col("currency"),
        "Closing Date": col("expected_close", closes=True), "Probability (%)": col("probability"),
        "Deal Owner": col("owner"), "Created Time": col("created_at"),
        "Reason For Loss": col("lost_reason"), "Lead Source": col("source"),
        "Contact Name": col("contact_name"), "Description": col("notes"),
        "Last Activity Time": col("last_contact_at"),
    },
    required=(("Deal Name",), ("Stage",), ("Closing Date", "Account Name", "Reason For Loss")),
    distinctive=("Closing Date", "Reason For Loss", "Created Time", "Deal Owner", "Account Name",
                 "Modified Time"),
    stages={
        "Qualification": StageName("qualified"), "Needs Analysis": StageName("qualified"),
        "Value Proposition": StageName("demo"), "Identify Decision Makers": StageName("demo"),
        "Id. Decision Makers": StageName("demo"), "Proposal/Price Quote": StageName("demo"),
        "Negotiation/Review": StageName("negotiation"), "Closed Won": StageName("won", "won"),
        "Closed Lost": StageName(None, "lost"), "Closed-Lost to Competition": StageName(None, "lost"),
    },
    id_prefix="zoho:",
    probability_scale=PERCENT_SCALE,
    sample=("Record Id", "Deal Owner", "Deal Name", "Account Name", "Type", "Lead Source",
            "Contact Name", "Amount", "Closing Date", "Stage", "Probability (%)", "Expected Revenue",
            "Created Time", "Modified Time", "Reason For Loss", "Description"),
)
