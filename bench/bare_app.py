"""The baseline: a bare Textual app that shows one label (run by the bench in a pty)."""

from textual.app import App, ComposeResult
from textual.widgets import Label

READY = "bare-textual-ready"


class BareApp(App):
    def compose(self) -> ComposeResult:
        yield Label(READY)


if __name__ == "__main__":
    BareApp().run()
