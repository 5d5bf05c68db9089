"""Twenty: the Opportunities view exported (Options → Export), a UTF-8 CSV with a BOM.

Source: twentyhq/twenty, packages/twenty-front/src/modules/object-record/record-index/export
(utils/__tests__/csvDownloader.test.ts): a currency field becomes two columns, `Amount / Amount`
in major units (amountMicros / 1,000,000, written `1.5`) and `Amount / Currency` (ISO code); a
relation is exported by its fields, e.g. `Company / Name`. Default opportunity stages (the
workspace seed): NEW, SCREENING, MEETING, PROPOSAL, CUSTOMER, labelled New, Screening, Meeting,
Proposal, Customer.
"""

from __future__ import annotations

from funnel_tui.exchange.profiles import Profile, StageName, col
from funnel_tui.i18n import N_

PROFILE = Profile(
    key="twenty",
    name=N_("Twenty opportunities export"),
    source="twentyhq/twenty packages/twenty-front/src/modules/object-record/record-index/export "
           "(csvDownloader.test.ts)",
    columns={
        "Id": col("external_id"), "Name": col("title"), "Amount / Amount": col("amount"),
        "Amount / Currency": col("currency"), "Stage": col("stage"), "Close Date": col("expected_close"),
        "Company / Name": col("customer"), "Creation date": col("created_at"),
        "Created at": col("created_at"), "Point of Contact / Name": col("contact_name"),
    },
    required=(("Name",), ("Amount / Amount", "Company / Name", "Amount / Currency")),
    distinctive=("Amount / Amount", "Amount / Currency", "Company / Name"),
    stages={"NEW": StageName("lead"), "SCREENING": StageName("qualified"),
            "MEETING": StageName("demo"), "PROPOSAL": StageName("demo"),
            "CUSTOMER": StageName("won", "won")},
    id_prefix="twenty:",
    sample=("Id", "Name", "Amount / Amount", "Amount / Currency", "Close Date", "Stage",
            "Company / Name", "Creation date"),
)
