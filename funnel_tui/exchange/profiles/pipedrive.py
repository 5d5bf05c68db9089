"""Pipedrive: the deals export ("Export data" → Deals, CSV or XLSX), headers `Deal - <Field>`.

Sources: Pipedrive Knowledge Base, "Exporting data from Pipedrive"
(https://support.pipedrive.com/en/article/exporting-data); the deal fields of the Pipedrive API
(title, value, currency, status open/won/lost/deleted, probability 0–100, stage_id, org_id,
expected_close_date, lost_reason, add_time, stage_change_time, won_time, lost_time: developers.
pipedrive.com/docs/api/v1/Deals). Older exports name the currency `Deal - Currency of Value`,
newer ones `Deal - Currency`; both are read. Default pipeline stages: Lead In / Qualified, Contact
Made, Needs Defined / Demo Scheduled, Proposal Made, Negotiations Started.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import PERCENT_SCALE, Profile, StageName, col
from funnel_tui.i18n import N_

PROFILE = Profile(
    key="pipedrive",
    name=N_("Pipedrive deals export"),
    source="https://support.pipedrive.com/en/article/exporting-data ; "
           "https://developers.pipedrive.com/docs/api/v1/Deals",
    columns={
        "Deal - ID": col("external_id"), "Deal - Title": col("title"),
        "Deal - Organization": col("customer"), "Deal - Stage": col("stage"),
        "Deal - Value": col("amount"), "Deal - Currency": col("currency"),
        "Deal - Currency of Value": col("currency"), "Deal - Status": col("status"),
        "Deal - Probability": col("probability"), "Deal - Owner": col("owner"),
        "Deal - Deal created": col("created_at"), "Deal - Last stage change": col("stage_entered_at"),
        "Deal - Next activity date": col("next_follow_up_at"),
        "Deal - Expected close date": col("expected_close"), "Deal - Lost reason": col("lost_reason"),
        "Deal - Contact person": col("contact_name"), "Deal - Source": col("source"),
        "Deal - Last email received": col("last_contact_at"),
        "Deal - Won time": col("closed_at"), "Deal - Lost time": col("closed_at"),
    },
    required=(("Deal - Title", "Deal - ID"),),
    distinctive=("Deal - Title", "Deal - Organization", "Deal - Value", "Deal - Stage"),
    stages={
        "Lead In": StageName("lead"), "Qualified": StageName("qualified"),
        "Contact Made": StageName("qualified"), "Needs Defined": StageName("qualified"),
        "Demo Scheduled": StageName("demo"), "Proposal Made": StageName("demo"),
        "Negotiations Started": StageName("negotiation"),
    },
    statuses={"open": "open", "won": "won", "lost": "lost"},
    id_prefix="pipedrive:",
    title_as_customer=True,  # a deal without an organisation: the customer is the deal's name
    probability_scale=PERCENT_SCALE,
    twins=("currency", "closed_at"),
    sample=("Deal - ID", "Deal - Title", "Deal - Organization", "Deal - Stage", "Deal - Value",
            "Deal - Currency", "Deal - Status", "Deal - Probability", "Deal - Owner",
            "Deal - Deal created", "Deal - Last stage change", "Deal - Next activity date",
            "Deal - Expected close date", "Deal - Lost reason", "Deal - Won time", "Deal - Lost time"),
)
