"""`funnel web`: a real server process, a real headless Chromium, the board's first card.

The page draws the terminal with xterm.js on a canvas, so the card's text is not in the DOM.
What reaches the page's terminal is: a script injected before the page loads (CDP
`Page.addScriptToEvaluateOnNewDocument`) copies every byte the page's websocket hands to the
terminal into `window.__funnelText`, and the test waits until the first card's customer is
in it. Chromium is Debian's `chromium` package (`.ci/run` installs it); the CDP client is
aiohttp's websocket, which textual-serve brings anyway.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel_tui.cli.web import HOST, web_command

pytestmark = pytest.mark.slow
aiohttp = pytest.importorskip("aiohttp")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CUSTOMER = "Kestrel 华信 Foods"  # the only deal in Lead: the board's first card
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)

CAPTURE = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__funnelText = "";
  window.WebSocket = function (url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__funnelText += decoder.decode(new Uint8Array(event.data), {stream: true});
      }
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"funnel web exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {HOST}:{port}")


def stop(proc: subprocess.Popen) -> None:
    """End a process we started, and its children (its own session)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def start_chromium(profile: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", f"--user-data-dir={profile}", "--remote-debugging-port=0",
         "--window-size=1280,800", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return proc, found.group(1)
        if not line and proc.poll() is not None:
            break
    stop(proc)
    raise AssertionError("headless Chromium did not start")


class Page:
    """The smallest CDP client: one page target, commands by id."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    async def send(self, method: str, **params) -> dict:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = json.loads((await self.ws.receive(timeout=30)).data)
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message.get("result", {})

    async def evaluate(self, expression: str):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


async def page_text_until(browser_ws: str, url: str, needle: str, timeout: float = 60) -> tuple[str, bool]:
    """Open `url` in a new tab; return what reached its terminal once `needle` is in it."""
    port = re.search(r":(\d+)/", browser_ws).group(1)
    async with aiohttp.ClientSession() as http:
        async with http.put(f"http://{HOST}:{port}/json/new?about:blank") as response:
            target = await response.json()
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws)
            await page.send("Page.enable")
            await page.send("Page.addScriptToEvaluateOnNewDocument", source=CAPTURE)
            await page.send("Page.navigate", url=url)
            deadline = time.monotonic() + timeout
            text = ""
            while time.monotonic() < deadline:
                text = await page.evaluate("window.__funnelText || ''") or ""
                if needle in text:
                    break
                await asyncio.sleep(0.5)
            has_terminal = bool(await page.evaluate("!!document.querySelector('.textual-terminal')"))
            return text, has_terminal


def test_funnel_web_serves_the_board_to_a_browser(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("no chromium on this machine (apt-get install -y chromium)")
    from funnel_tui.store import Store

    db = tmp_path / "funnel.db"
    store = Store(db)
    store.add_deal({"customer": CUSTOMER, "title": "Cold chain", "amount": "120000"}, now=NOW)
    store.add_deal({"customer": "Osprey Logistics", "stage": "qualified"}, now=NOW)
    store.close()

    port = free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "LANG": "C.UTF-8"}
    env.pop("FUNNEL_DB", None)
    server = subprocess.Popen([sys.executable, "-m", "funnel_tui", "--db", str(db), "web", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    chromium = None
    try:
        wait_for_port(port, server)
        chromium, browser_ws = start_chromium(tmp_path / "chromium-profile")
        text, has_terminal = asyncio.run(page_text_until(browser_ws, f"http://{HOST}:{port}/", CUSTOMER))
        assert has_terminal, "the page has no terminal"
        assert CUSTOMER in text, f"the first card never reached the page; it got {text[-500:]!r}"
        assert "Osprey Logistics" in text  # and the next column's card
    finally:
        if chromium is not None:
            stop(chromium)
        stop(server)
    assert f"http://{HOST}:{port}/" in server.stdout.read()


def test_funnel_web_listens_on_loopback_only_and_runs_the_board():
    from funnel_tui.cli import build_parser

    args = build_parser().parse_args(["web", "--port", "8123"])
    assert args.port == 8123 and HOST == "127.0.0.1"
    assert web_command().endswith("-m funnel_tui tui")
