"""`funnel web [--port N]`: the board in a browser, served by textual-serve on 127.0.0.1 only.

textual-serve runs `python -m funnel_tui tui` once per browser tab and streams it to the
page over a websocket. It is an optional extra (`funnel-tui[web]`): it brings aiohttp and
Jinja, which no other command needs, and it is imported only here, when `funnel web` runs.
The database is handed to each app process in FUNNEL_DB, so a team URL's password never
appears on a command line.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from funnel_tui.cli.common import EXIT_OK, CliError, add_command, now_utc, open_store, resolve_db
from funnel_tui.i18n import _

HOST = "127.0.0.1"  # never another interface: the board has no login of its own
DEFAULT_PORT = 8000


def web_command() -> str:
    """The command textual-serve runs for each browser tab."""
    return f"{shlex.quote(sys.executable)} -m funnel_tui tui"


def cmd_web(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        raise CliError(_("web: needs textual-serve; install funnel with it: "
                         "pipx install 'funnel-tui[web]' (or pip install textual-serve)")) from None
    if not 0 < args.port < 65536:
        raise CliError(_("web: --port {port} is not a port; use 1–65535").format(port=args.port))
    store = open_store(args)  # a database that cannot open says so here, not in the browser
    if args.demo and store.count_deals(status="all") == 0:
        from funnel_tui.exchange.demo import fill_demo

        fill_demo(store, now=now_utc())
    store.close()
    os.environ["FUNNEL_DB"] = resolve_db(args)
    print(_("funnel web: the board at {url} (this computer only; Ctrl+C stops it)").format(
        url=f"http://{HOST}:{args.port}/"), flush=True)
    Server(web_command(), host=HOST, port=args.port, title="funnel").serve()
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """`web`, after `tui` and `demo`."""
    sp = add_command(sub, "web", cmd_web, _("the board in your browser (textual-serve, on 127.0.0.1 only)"))
    sp.add_argument("--port", type=int, default=DEFAULT_PORT, metavar=_("PORT"),
                    help=_("port to listen on (default {port})").format(port=DEFAULT_PORT))
