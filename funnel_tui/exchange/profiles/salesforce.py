"""Salesforce: an opportunity report exported as "Details Only" (CSV or .xlsx).

Sources: Salesforce Help, "Opportunity Fields" (https://help.salesforce.com/s/articleView?id=
sales.opp_fields.htm): Opportunity Name, Account Name, Amount (shown in the user's currency; in a
multi-currency org with its ISO code, `USD 485,000.00`), Close Date, Probability (%), Stage,
Opportunity Owner, Lead Source, Next Step, Type; and "Export a Report" (https://help.salesforce.com/
s/articleView?id=sf.reports_export.htm): a details-only export writes the values as formatted for
the exporting user's locale, so dates and numbers follow the user (`3/15/2024` in en_US,
`15/03/2024` in en_GB) and are decided from the column. Default opportunity stages (Setup →
Opportunity Stages): Prospecting, Qualification, Needs Analysis, Value Proposition, Id. Decision
Makers, Perception Analysis, Proposal/Price Quote, Negotiation/Review, Closed Won, Closed Lost.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import PERCENT_SCALE, Profile, StageName, col
from funnel_tui.i18n import N_

PROFILE = Profile(
    key="salesforce",
    name=N_("Salesforce opportunity report"),
    source="https://help.salesforce.com/s/articleView?id=sales.opp_fields.htm ; "
           "https://help.salesforce.com/s/articleView?id=sf.reports_export.htm",
    columns={
        "Opportunity Name": col("title"), "Account Name": col("customer"), "Stage": col("stage"),
        "Amount": col("amount"), "Amount Currency": col("currency"),
        "Opportunity Currency": col("currency"), "Close Date": col("expected_close", closes=True),
        "Probability (%)": col("probability"), "Opportunity Owner": col("owner"),
        "Created Date": col("created_at"), "Lead Source": col("source"),
        "Opportunity ID": col("external_id"), "Last Activity": col("last_contact_at"),
        "Description": col("notes"), "Loss Reason": col("lost_reason"),
    },
    required=(("Opportunity Name",), ("Stage",)),
    distinctive=("Opportunity Name", "Opportunity Owner", "Opportunity ID", "Fiscal Period",
                 "Forecast Category"),
    stages={
        "Prospecting": StageName("lead"), "Qualification": StageName("qualified"),
        "Needs Analysis": StageName("qualified"), "Value Proposition": StageName("demo"),
        "Id. Decision Makers": StageName("demo"), "Perception Analysis": StageName("demo"),
        "Proposal/Price Quote": StageName("demo"), "Negotiation/Review": StageName("negotiation"),
        "Closed Won": StageName("won", "won"), "Closed Lost": StageName(None, "lost"),
    },
    id_prefix="salesforce:",
    probability_scale=PERCENT_SCALE,
    sample=("Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Fiscal Period",
            "Amount", "Probability (%)", "Age", "Close Date", "Created Date", "Next Step",
            "Lead Source", "Type"),
)
