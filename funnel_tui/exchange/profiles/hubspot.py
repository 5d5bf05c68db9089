"""HubSpot: the deals export (Deals index → Export), classic and newer.

Sources: HubSpot Knowledge Base, "Export your records" (https://knowledge.hubspot.com/import-and-
export/export-records) and the CRM Exports API (https://developers.hubspot.com/docs/api-reference/
crm-exports-v3): the file's columns are the property labels — Record ID, Deal Name, Deal Stage,
Pipeline, Amount, Close Date, Create Date, Deal owner, Deal probability (0–1), Date entered current
stage, Next Activity Date, Closed Lost Reason. Newer exports name the company `Associated Company
(Primary)` and carry the deal's `Currency`. The default pipeline's stages
(https://knowledge.hubspot.com/object-settings/set-up-and-customize-pipelines) by label or by
internal value: Appointment Scheduled (appointmentscheduled), Qualified To Buy, Presentation
Scheduled, Decision Maker Bought-In, Contract Sent, Closed Won, Closed Lost.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import FRACTION_SCALE, Profile, StageName, col
from funnel_tui.i18n import N_

PROFILE = Profile(
    key="hubspot",
    name=N_("HubSpot deals export"),
    source="https://knowledge.hubspot.com/import-and-export/export-records ; "
           "https://developers.hubspot.com/docs/api-reference/crm-exports-v3",
    columns={
        "Record ID": col("external_id"), "Deal Name": col("title"), "Deal Stage": col("stage"),
        "Amount": col("amount"), "Close Date": col("expected_close", closes=True),
        "Create Date": col("created_at"), "Deal owner": col("owner"),
        "Deal probability": col("probability"),
        "Date entered current stage": col("stage_entered_at"),
        "Next Activity Date": col("next_follow_up_at"), "Closed lost reason": col("lost_reason"),
        "Associated Company": col("customer"), "Associated Company (Primary)": col("customer"),
        "Company name": col("customer"), "Currency": col("currency"),
        "Last Contacted": col("last_contact_at"), "Deal Description": col("notes"),
    },
    required=(("Deal Name",), ("Deal Stage",)),
    distinctive=("Record ID", "Deal Stage", "Pipeline", "Deal probability", "Create Date",
                 "Associated Company (Primary)", "Date entered current stage"),
    stages={
        "appointmentscheduled": StageName("lead"), "Appointment Scheduled": StageName("lead"),
        "qualifiedtobuy": StageName("qualified"), "Qualified To Buy": StageName("qualified"),
        "presentationscheduled": StageName("demo"), "Presentation Scheduled": StageName("demo"),
        "decisionmakerboughtin": StageName("negotiation"),
        "Decision Maker Bought-In": StageName("negotiation"),
        "contractsent": StageName("negotiation"), "Contract Sent": StageName("negotiation"),
        "closedwon": StageName("won", "won"), "Closed Won": StageName("won", "won"),
        "closedlost": StageName(None, "lost"), "Closed Lost": StageName(None, "lost"),
    },
    id_prefix="hubspot:",
    title_as_customer=True,  # a deal without an organisation: the customer is the deal's name
    probability_scale=FRACTION_SCALE,
    sample=("Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Currency", "Close Date",
            "Create Date", "Deal owner", "Deal probability", "Associated Company (Primary)",
            "Date entered current stage", "Next Activity Date", "Closed Lost Reason"),
)
