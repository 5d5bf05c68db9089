"""Odoo CRM: the pipeline (crm.lead opportunities) exported from the list view (Action → Export).

Sources: Odoo's crm.lead field labels, which the export uses as headers (odoo/addons/crm/models/
crm_lead.py: name "Opportunity", partner_id "Customer", expected_revenue "Expected Revenue",
probability "Probability", stage_id "Stage", user_id "Salesperson", date_deadline "Expected
Closing", team_id "Sales Team", create_date "Created on", lost_reason_id "Lost Reason"); the
Odoo CRM documentation (https://www.odoo.com/documentation/17.0/applications/sales/crm.html).
Probability is written as a float percent (`60.00`); the default stages are New, Qualified,
Proposition, Won.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import PERCENT_SCALE, Profile, StageName, col
from funnel_tui.i18n import N_

PROFILE = Profile(
    key="odoo",
    name=N_("Odoo CRM pipeline export"),
    source="odoo/addons/crm/models/crm_lead.py field labels ; "
           "https://www.odoo.com/documentation/17.0/applications/sales/crm.html",
    columns={
        "Opportunity": col("title"), "Customer": col("customer"), "Expected Revenue": col("amount"),
        "Probability": col("probability"), "Stage": col("stage"), "Salesperson": col("owner"),
        "Expected Closing": col("expected_close"), "Contact Name": col("contact_name"),
        "Email": col("contact_email"), "Phone": col("contact_phone"), "Created on": col("created_at"),
        "Source": col("source"), "Lost Reason": col("lost_reason"), "Currency": col("currency"),
        "Notes": col("notes"),
    },
    required=(("Opportunity",), ("Expected Revenue", "Salesperson", "Expected Closing")),
    distinctive=("Opportunity", "Expected Revenue", "Salesperson", "Expected Closing", "Sales Team"),
    stages={"New": StageName("lead"), "Qualified": StageName("qualified"),
            "Proposition": StageName("demo"), "Won": StageName("won", "won")},
    id_prefix="odoo:",
    probability_scale=PERCENT_SCALE,
    sample=("Created on", "Opportunity", "Customer", "Email", "Phone", "Salesperson", "Sales Team",
            "Expected Closing", "Expected Revenue", "Probability", "Stage"),
)
