"""The README's key tables are generated from the code and must not drift."""

from pathlib import Path

from funnel_tui.tui.keys import readme_keys

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_key_tables_match_the_bindings():
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- keys:start -->\n", 1)[1].split("\n<!-- keys:end -->", 1)[0]
    assert block.strip() == readme_keys().strip(), (
        "README key tables are stale: regenerate with `python -m funnel_tui.tui.help`"
    )


def test_readme_documents_every_command():
    from funnel_tui.cli import build_parser

    text = README.read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        assert f"`{name}" in text or f"{name}`" in text or f"| `{name}" in text, name
