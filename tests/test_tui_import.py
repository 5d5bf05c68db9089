"""The Import screen (opened from the palette) and the board's headers in several currencies:
Pilot tests asserting the screen and the database."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from helpers_tui import settle
from textual.widgets import Input, OptionList, Static

from funnel_tui.tui.app import FunnelApp
from funnel_tui.tui.forms.import_choices import ColumnFieldDialog, ReadingOptionsForm
from funnel_tui.tui.screens.board import BoardScreen
from funnel_tui.tui.screens.import_file import ColumnOption, ImportScreen

CRM = Path(__file__).parent / "data" / "crm"
SIZE = (120, 40)


def make_app(store, now, tz, tmp_path) -> FunnelApp:
    return FunnelApp(store, lambda: now, tz=tz, lang="en", export_dir=tmp_path)


def shown(app, block: str) -> str:
    widget = app.screen.query_one(f"#{block}", Static)
    content = widget.content if hasattr(widget, "content") else widget.renderable
    if hasattr(content, "plain"):
        return content.plain
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(content)
    return console.export_text()


def columns(app) -> dict[str, str]:
    listing = app.screen.query_one("#columns", OptionList)
    return {o.header: o.field for o in listing.options if isinstance(o, ColumnOption)}


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def open_import(pilot) -> ImportScreen:
    """The palette: ctrl+p, type, Enter."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    for ch in "import":
        await pilot.press(ch)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    return screen


async def read_on_screen(pilot, path: Path) -> None:
    """The Import screen opened straight away (not from the palette), `path` read on it."""
    await settle(pilot)
    pilot.app.push_screen(ImportScreen())
    await pilot.pause()
    await read(pilot, path)


async def read(pilot, path: Path) -> None:
    box = pilot.app.screen.query_one("#path", Input)
    box.value = str(path)
    box.focus()
    await pilot.press("enter")
    await settle(pilot)


async def test_a_salesforce_report_from_the_palette_shown_then_imported(store, now, tz, tmp_path):
    src = tmp_path / "report.csv"
    shutil.copy(CRM / "salesforce_opportunities.csv", src)
    store.set_setting("me", "Priya")
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await open_import(pilot)
        await read(pilot, src)
        assert "Profile: Salesforce opportunity report (salesforce)" in shown(app, "read-as")
        assert "Encoding: UTF-8 (valid UTF-8)   Delimiter: comma" in shown(app, "read-as")
        assert "Not read: 4 columns: 'Fiscal Period', 'Age', 'Next Step', 'Type'" in shown(app, "read-as")
        assert columns(app)["Account Name"] == "customer" and columns(app)["Age"] == ""
        counts = shown(app, "counts")
        assert "5 rows read: 5 would be imported, 0 refused" in counts
        assert "Rows that name no owner will be Priya's." in counts
        preview = shown(app, "preview")
        assert "台积电股份有限公司" in preview and "485,000 USD" in preview and "Negotiation" in preview
        assert store.list_deals(status="all") == []  # nothing written by reading

        # Leave a column out and read one the profile does not: the screen reads again.
        listing = app.screen.query_one("#columns", OptionList)
        listing.focus()
        listing.highlighted = [o.header for o in listing.options].index("Lead Source")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ColumnFieldDialog)
        await pilot.press("home", "enter")  # the first choice: leave it out
        await settle(pilot)
        listing = app.screen.query_one("#columns", OptionList)
        listing.highlighted = [o.header for o in listing.options].index("Next Step")
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        fields = dialog.query_one("#fields", OptionList)
        fields.highlighted = fields.get_option_index("notes")
        await pilot.press("enter")
        await settle(pilot)
        assert columns(app)["Lead Source"] == "" and columns(app)["Next Step"] == "notes"

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert any("Imported 5 deals from report.csv" in t and "u undoes the whole import" in t for t in toasts(app))
    deals = sorted(store.list_deals(status="all"), key=lambda d: d["id"])
    assert [(d["customer"], d["amount"], d["currency"], d["source"], d["notes"]) for d in deals][:2] == [
        ("台积电股份有限公司", 48_500_000, "USD", "", "Send contract"), ("Acme Robotics", 1_200_000, "USD", "", "")]


async def test_a_file_no_profile_knows_is_mapped_on_the_screen(store, now, tz, tmp_path):
    src = tmp_path / "kunden.csv"
    src.write_text("Kunde;Betrag;Phase\nMüller GmbH;1.234,56;lead\nWeiß AG;12.000;lead\n", encoding="utf-8")
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = await open_import(pilot)
        await read(pilot, src)
        assert "no profile knows these columns" in str(screen.query_one("#status").render())
        assert columns(app) == {"Kunde": "", "Betrag": "", "Phase": ""}
        assert not screen.check_action("import_now", ())
        for header, field in (("Kunde", "customer"), ("Betrag", "amount"), ("Phase", "stage")):
            listing = app.screen.query_one("#columns", OptionList)
            listing.focus()
            listing.highlighted = [o.header for o in listing.options].index(header)
            await pilot.press("enter")
            await pilot.pause()
            fields = app.screen.query_one("#fields", OptionList)
            fields.highlighted = fields.get_option_index(field)
            await pilot.press("enter")
            await settle(pilot)
        assert columns(app) == {"Kunde": "customer", "Betrag": "amount", "Phase": "stage"}
        # 1.234,56 says the column's decimal mark: 12.000 is twelve thousand.
        assert "2 rows read: 2 would be imported, 0 refused" in shown(app, "counts")
        assert "12,000 CNY" in shown(app, "preview")
        # Options: the currency of amounts that name none.
        await pilot.press("ctrl+o")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ReadingOptionsForm)
        form.query_one("#f-currency", Input).value = "eur"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "12,000 EUR" in shown(app, "preview")
        await pilot.press("escape")  # back: nothing written
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen) and store.list_deals(status="all") == []


async def test_board_headers_never_sum_currencies_without_a_rate(store, now, tz, tmp_path):
    store.add_deal({"customer": "华信", "amount": "100000", "stage": "demo"}, now=now, tz=tz)
    store.add_deal({"customer": "Hooli", "amount": "20000", "currency": "USD", "stage": "demo"}, now=now, tz=tz)
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settle(pilot)
        header = app.screen.column("demo").header.content.plain
        assert "Σ 100k CNY + 20k USD" in header and " w " not in header
    store.set_rate("USD", Decimal("7.1"))
    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settle(pilot)
        header = app.screen.column("demo").header.content.plain
        assert "Σ ≈242k" in header and "w ≈121k" in header  # 100k + 20k × 7.1; weighted at 50 %


async def test_the_summary_screen_shows_totals_per_currency_then_at_the_rates(store, now, tz, tui_host):
    from funnel_tui.tui.screens.summary import SummaryScreen

    store.add_deal({"customer": "华信", "amount": "1000", "stage": "demo"}, now=now, tz=tz)
    store.add_deal({"customer": "Hooli", "amount": "200", "currency": "USD", "stage": "demo"}, now=now, tz=tz)
    app = tui_host(SummaryScreen, store=store)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        totals = shown(app, "totals")
        assert "1,000 CNY + 200 USD" in totals and "no rate for USD" in totals
        stages = shown(app, "stages")
        assert "1,000 CNY" in stages and "200 USD" in stages
    store.set_rate("USD", Decimal("7.1"))
    app = tui_host(SummaryScreen, store=store)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        totals = shown(app, "totals")
        assert "≈2,420" in totals and "≈ converted to CNY at your rates: USD 7.1" in totals


async def test_in_chinese_the_columns_and_fields_are_named_in_chinese_with_the_map_name(store, now, tz, tmp_path):
    src = tmp_path / "模板.csv"
    shutil.copy(CRM / "template_zh_excel_gbk.csv", src)
    app = FunnelApp(store, lambda: now, tz=tz, lang="zh", export_dir=tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await read_on_screen(pilot, src)
        listing = app.screen.query_one("#columns", OptionList)
        lines = {o.header: str(o.prompt) for o in listing.options if isinstance(o, ColumnOption)}
        assert lines["客户名称"] == "客户名称  →  客户 (customer)"
        assert lines["决策角色"] == "决策角色  →  决策角色 (contact_role)"
        listing.focus()
        listing.highlighted = [o.header for o in listing.options].index("行业")
        await pilot.press("enter")
        await pilot.pause()
        fields = app.screen.query_one("#fields", OptionList)
        names = [str(o.prompt) for o in fields.options]
        assert "预计成交金额 (amount)" in names and "邮箱 (contact_email)" in names
        assert names[fields.highlighted] == "行业 (industry)"
    assert store.list_deals(status="all") == []  # reading and choosing write nothing


async def test_a_committed_import_whose_refused_rows_file_failed_says_so(store, now, tz, tmp_path):
    """Issue 12: the import committed, but the refused rows' file could not be written: the toast
    names that failure and says not to import again (it used to say "refused, in " and nothing)."""
    from funnel_tui.exchange.importer import ImportReport

    app = make_app(store, now, tz, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = await open_import(pilot)
        report = ImportReport(path=str(tmp_path / "deals.csv"), inserted=300, rejected=2,
                              rejected_file_error="cannot write deals.rejected.csv: No space left on device")
        screen._imported(report, None)
        await pilot.pause()
        message = toasts(app)[-1]
        assert "Imported 300 deals from deals.csv" in message
        assert "2 rows refused, but their file could not be written (cannot write deals.rejected.csv: " \
               "No space left on device): the import is committed, do not import the file again" in message
        assert "refused, in" not in message


async def test_repeats_are_named_with_their_lines_in_the_reps_language(store, now, tz, tmp_path):
    """A repeat of an earlier row, or of a deal the database has, is listed with its line and
    why, as the refusals are (it used to be one count, "already here", for both kinds)."""
    store.add_deal({"customer": "老客户", "external_id": "pd:9"}, now=now, tz=tz)
    src = tmp_path / "rows.csv"
    src.write_text("客户名称,external_id\n东方制造,pd:1\n,\n重庆山城机电,pd:1\n老客户,pd:9\n", encoding="utf-8")
    app = FunnelApp(store, lambda: now, tz=tz, lang="zh", export_dir=tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await read_on_screen(pilot, src)
        text = shown(app, "counts")
        assert text.splitlines() == ["读取 4 行：1 行将被导入，2 行重复（跳过），1 行被拒绝",
                                     "  拒绝 第 3 行：客户：必填",
                                     "  重复 第 4 行：与本文件第 2 行是同一个商机",
                                     "  重复 第 5 行：已是商机 1"]
    assert [d["customer"] for d in store.list_deals(status="all")] == ["老客户"]  # a dry read writes nothing
