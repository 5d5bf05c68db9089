"""`funnel tui | demo` (the board and its demo data) and `funnel undo | settings` (walking
back, and the rep's settings); `funnel stages | pipelines` live in cli/stages.py.

Textual is imported only by `cmd_tui`, after the board's first read has started, so every
other command starts without it.
"""

from __future__ import annotations

import argparse
from typing import Any

from funnel_tui import config
from funnel_tui.cli import stages
from funnel_tui.cli.common import (
    EXIT_OK,
    CliError,
    add_command,
    add_format,
    emit,
    now_utc,
    open_store,
    resolve_db,
    safe,
)
from funnel_tui.cli.plain import Plain, plain_connection
from funnel_tui.i18n import N_, _, activate, active_lang, resolve_lang


def cmd_tui(args: argparse.Namespace) -> int:
    import gc

    # Start-up allocates a lot and frees little: no cycle collections until the board is up
    # (the app turns them back on then). ~10% of the time to the first frame.
    gc.disable()
    from funnel_tui.tui.board_data import FirstRead, StoreOpening  # no Textual: reads while Textual loads

    board_language()
    plain = Plain() if args.demo else plain_connection(args)
    notes: list[str] = []
    if plain.conn is not None:
        # A plain SQLite file: the first frame is read with sqlite3, and the Store
        # (SQLAlchemy) opens once that frame is up (tui/board_data.StoreOpening).
        from funnel_tui.store.board_read import BoardReader
        from funnel_tui.store.engine import sqlite_path

        notes += plain.opened.notes  # toasted on the first frame; the Store's opening says none again
        checked = plain.opened.without_notes()

        reader = BoardReader(plain.conn, sqlite_path(resolve_db(args)))
        store = StoreOpening(reader, lambda: open_store(args, notes=[], opened=checked))
        first_read = FirstRead(reader, done=reader.close)
    else:
        store = open_store(args, notes=notes, opened=plain.opened)
        if args.demo and store.count_deals(status="all") == 0:
            from funnel_tui.exchange.demo import fill_demo

            # A new demo database speaks the rep's language: Chinese customers for a zh locale.
            fill_demo(store, now=now_utc(), lang=active_lang())
        first_read = FirstRead(store)
    from funnel_tui.tui.app import run_app  # Textual is imported only here

    return run_app(store, clock=now_utc, first_read=first_read, notes=notes)


def open_for_board(args: argparse.Namespace) -> tuple[Any, list[str]]:
    """The board's store and what the start-up checks found (toasted on the board), worded
    in the language the board will speak (see board_language)."""
    board_language()
    notes: list[str] = []
    return open_store(args, notes=notes), notes


def board_language() -> None:
    """Speak the language the board will speak (the rep's `lang`, else the locale) before
    the start-up checks run: their notes are toasted on the board."""
    try:
        setting = config.get("lang")
    except config.ConfigError:
        setting = None  # the board says so itself when it reads the settings
    activate(resolve_lang(setting))


def cmd_demo(args: argparse.Namespace) -> int:
    from funnel_tui.exchange.demo import fill_demo
    from funnel_tui.store.engine import redact_url, sqlite_path

    target = resolve_db(args)
    path = sqlite_path(target)
    if path is None:
        # A server is the team's live pipeline: demo data goes only into an empty database.
        from funnel_tui.store.pg_team import server_has_deals

        store = open_store(args)
        with store.read() as conn:
            held = server_has_deals(conn)
        if held:
            raise CliError(_("demo: this server database already holds deals; demo data goes only into an "
                             "empty database (--reset never empties a server)"))
        n = fill_demo(store, deals=args.deals, seed=args.seed, now=now_utc(), lang=args.lang or active_lang())
        print(_("demo: {n} deals in {target}").format(n=n, target=redact_url(target)))
        return EXIT_OK
    if args.reset and path.exists():
        from funnel_tui.store import Store

        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            p.unlink(missing_ok=True)
        # A new database on purpose: the start-up checks would take it for a lost one.
        store = Store(path)
    else:
        store = open_store(args)
    if store.count_deals(status="all") and not args.reset:
        raise CliError(_("demo: this database already has deals; use --reset on a demo database "
                         "(e.g. funnel --demo demo --reset), never on your real one"))
    n = fill_demo(store, deals=args.deals, seed=args.seed, now=now_utc(), lang=args.lang or active_lang())
    print(_("demo: {n} deals in {target}").format(n=n, target=redact_url(target)))  # a team URL carries a password
    return EXIT_OK


def cmd_undo(args: argparse.Namespace) -> int:
    from funnel_tui.domain.undo import undone_text

    store = open_store(args)
    res = store.undo(now=now_utc())
    if args.format == "json":
        emit([], "json", [], json_value=res)
        return EXIT_OK
    if res is None:
        print(_("nothing to undo"))
        return EXIT_OK
    labels = {s.key: s.label(active_lang()) for s in store.all_stages()}
    what = undone_text(res, lambda key: labels.get(key, key))
    if res.get("setup") and not res["deal_ids"]:  # a change to the stages alone
        print(safe(_("undone: {what}").format(what=what)))
        return EXIT_OK
    deals = ", ".join(str(d) for d in res["deal_ids"][:10])
    more = " " + _("(+{n} more)").format(n=len(res["deal_ids"]) - 10) if len(res["deal_ids"]) > 10 else ""
    print(safe(_("undone: {n} change(s) on deal {deals}{more} — {what}").format(
        n=res["rows"], deals=deals, more=more, what=what)))
    return EXIT_OK


SETTINGS = {
    "me": N_("your name as deal owner: `--owner me` and the Summary screen's default rep"),
    "lang": N_("en or zh: the language of the screens and the command line (default: from your locale)"),
    "theme": N_("the board's colour theme (also switched from the palette, ctrl+p)"),
    "export_dir": N_("where `x` on the board writes its CSV (default: your documents folder)"),
    "tier_a_share": N_("share of weighted pipeline that makes tier A (default 0.80)"),
    "tier_b_share": N_("cumulative share that ends tier B (default 0.95)"),
    "rate": N_("exchange rates into CNY for totals across currencies: `rate USD 7.1`, `rate USD -` removes it"),
    "tiering": N_("abc (default: A/B/C by weighted value) or amount (key/major/regular/maintain by amount); "
                  "sets the follow-up cadence"),
    "tier_key_min": N_("amount tiering: where key starts, in yuan (default 80000000, 8000万)"),
    "tier_major_min": N_("amount tiering: where major starts, in yuan (default 20000000, 2000万)"),
    "tier_regular_min": N_("amount tiering: where regular starts, in yuan (default 10000000, 1000万)"),
    "purge_after_months": N_("the purge queue: months without change before a lowest-tier deal is listed (default 2)"),
}


def _check_setting(key: str, value: str, store) -> str:
    from funnel_tui.domain.text import clean_text

    text = clean_text(value)
    if key == "me":
        if not text or len(text) > 100:
            raise CliError(_("me: give your name as it appears in the owner column (1–100 characters)"))
    elif key == "lang":
        if text not in ("en", "zh"):
            raise CliError(_("lang: {text} is not a language; use en or zh").format(text=repr(text)))
    elif key == "theme":
        if not text:
            raise CliError(_("theme: give a theme name, e.g. textual-dark, nord, gruvbox"))
    elif key == "export_dir":
        from pathlib import Path

        folder = Path(text).expanduser().absolute() if text else None
        if folder is None or (folder.exists() and not folder.is_dir()):
            raise CliError(_("export_dir: {path} is not a folder; give a folder, e.g. ~/Documents/funnel").format(
                path=repr(text)))
        text = str(folder)
    elif key in ("tiering", "tier_key_min", "tier_major_min", "tier_regular_min", "purge_after_months"):
        text = _check_tiering(key, text, store)
    else:
        try:
            share = float(text)
        except ValueError:
            raise CliError(_("{key}: {text} is not a number; use a fraction such as 0.8").format(
                key=key, text=repr(text))) from None
        if not 0 < share < 1:
            raise CliError(_("{key}: {share} is out of range; use a fraction between 0 and 1").format(
                key=key, share=share))
        other = "tier_b_share" if key == "tier_a_share" else "tier_a_share"
        other_value = float(store.get_setting(other) or (0.95 if other == "tier_b_share" else 0.80))
        a, b = (share, other_value) if key == "tier_a_share" else (other_value, share)
        if a >= b:
            raise CliError(_("{key}: tier A's share ({a}) must be below tier B's ({b})").format(key=key, a=a, b=b))
        text = str(share)
    return text


def _check_tiering(key: str, text: str, store) -> str:
    """The tiering settings, checked as the store will read them (domain.tiers, domain.purge):
    thresholds in whole yuan (`8000万` taken), kept in order key > major > regular."""
    from funnel_tui.domain.purge import PurgeSettingError, purge_after
    from funnel_tui.domain.tiers import THRESHOLD_SETTINGS, TierSettingError, amount_tiers, parse_threshold, tiering_of

    try:
        if key == "tiering":
            return tiering_of(text)
        if key == "purge_after_months":
            return str(purge_after(text))
        yuan = str(parse_threshold(key, text) // 100)
        amount_tiers({k: (yuan if k == key else store.get_setting(k)) for k in THRESHOLD_SETTINGS})
        return yuan
    except (TierSettingError, PurgeSettingError) as exc:
        raise CliError(str(exc)) from None


def _rates_text(store) -> str:
    rates = store.rates()
    return ", ".join(f"{code} {rate}" for code, rate in sorted(rates.to_base.items()))


def cmd_rate(args: argparse.Namespace, store) -> int:
    """`settings rate [CODE [RATE|-]]`: how many yuan one unit of CODE buys, kept exactly."""
    from funnel_tui.domain.currency_totals import BASE_CURRENCY, RateError, parse_code, parse_rate
    values = list(args.value)
    if not values:
        rates = store.rates()
        rows = [{"currency": code, "rate": str(rate), "base": rates.base} for code, rate in sorted(rates.to_base.items())]
        emit(rows, args.format, ["currency", "rate", "base"], title=_("Exchange rates"))
        return EXIT_OK
    if len(values) > 2:
        raise CliError(_("rate: give a currency and its rate, e.g. funnel settings rate USD 7.1"))
    try:
        code = parse_code(values[0])
        if code == BASE_CURRENCY:
            raise RateError(_("{code} is the base currency: its rate is 1").format(code=code))
        if len(values) == 1:
            rate = store.rates().to_base.get(code)
            print(_("{code}: no rate (its totals are shown apart)").format(code=code) if rate is None
                  else _("1 {code} = {rate} {base}").format(code=code, rate=rate, base=BASE_CURRENCY))
            return EXIT_OK
        rate = None if values[1].strip() in ("-", "none", "") else parse_rate(values[1])
    except RateError as exc:
        raise CliError(_("rate: {error}").format(error=exc)) from None
    store.set_rate(code, rate)
    print(_("{code}: no rate (its totals are shown apart)").format(code=code) if rate is None
          else _("1 {code} = {rate} {base}; totals across currencies are converted at it").format(
              code=code, rate=rate, base=BASE_CURRENCY))
    return EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.key == "rate":
        return cmd_rate(args, store)
    if len(args.value) > 1:
        raise CliError(_("{key}: give one value").format(key=args.key))
    args.value = args.value[0] if args.value else None
    if args.key is None:
        rows = [{"key": k, "value": (_rates_text(store) if k == "rate" else store.get_setting(k) or ""),
                 "meaning": _(m)} for k, m in SETTINGS.items()]
        emit(rows, args.format, ["key", "value", "meaning"], title=_("Settings"),
             footer=_("me, lang, theme and export_dir are yours, kept in {path}; the rest belong to this "
                      "database").format(path=config.path()))
        return EXIT_OK
    if args.value is None:
        print(safe(store.get_setting(args.key) or ""))
        return EXIT_OK
    store.set_setting(args.key, _check_setting(args.key, args.value, store))
    print(f"{args.key} = {safe(store.get_setting(args.key))}")
    return EXIT_OK


def register_board(sub: argparse._SubParsersAction) -> None:
    """`tui` and `demo`: the first commands in `funnel --help`."""
    add_command(sub, "tui", cmd_tui, _("open the board (the default)"))

    sp = add_command(sub, "demo", cmd_demo, _("fill a database with a realistic demo pipeline"))
    sp.add_argument("--deals", type=int, default=60, metavar=_("DEALS"), help=_("how many deals (default 60)"))
    sp.add_argument("--seed", type=int, default=7, metavar=_("SEED"), help=_("random seed, for a repeatable pipeline"))
    sp.add_argument("--reset", action="store_true", help=_("start the database afresh first"))
    sp.add_argument("--lang", choices=("en", "zh"),
                    help=_("zh: a Chinese pipeline (Chinese firms, reps and notes, amounts in 万); "
                           "en: an international one (default: your language)"))


def register(sub: argparse._SubParsersAction) -> None:
    """`stages`, `pipelines` (cli/stages.py), `undo` and `settings`, after the read commands."""
    stages.register(sub)

    add_format(add_command(sub, "undo", cmd_undo, _("revert the last change (again and again) and say what it was")))

    sp = add_command(sub, "settings", cmd_settings,
                     _("show or change a setting: me, lang, theme, export_dir, tiering, tier shares and "
                       "thresholds, the purge queue's months, exchange rates"))
    sp.add_argument("key", nargs="?", choices=tuple(SETTINGS), help=_("the setting"))
    sp.add_argument("value", nargs="*", metavar=_("value"),
                    help=_("its new value (leave out to show it); rate: CODE RATE"))
    add_format(sp)
