"""The arrows run one way: nothing outside funnel_tui/tui/ imports Textual (DESIGN §4)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import funnel_tui

REPO = Path(__file__).resolve().parents[1]


def _modules_outside_tui() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(funnel_tui.__path__, "funnel_tui."):
        if info.name.startswith("funnel_tui.tui") or info.name == "funnel_tui.__main__":
            continue
        names.append(info.name)
    return names


def test_nothing_outside_tui_imports_textual():
    modules = _modules_outside_tui()
    assert "funnel_tui.store.core" in modules and "funnel_tui.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_domain_does_no_io_and_imports_no_orm():
    code = (
        "import importlib, pkgutil, sys, funnel_tui.domain as d\n"
        "for i in pkgutil.walk_packages(d.__path__, 'funnel_tui.domain.'): importlib.import_module(i.name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy','sqlmodel','rich','textual'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_due_command_path_skips_textual():
    code = (
        "import sys\nfrom funnel_tui.cli import main\n"
        "sys.argv=['funnel','--db',sys.argv[1],'due','--format','json']\n"
        "main()\nprint('TEXTUAL' if 'textual' in sys.modules else 'CLEAN', file=sys.stderr)\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.run([sys.executable, "-c", code, f"{d}/t.db"], capture_output=True, text=True,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "XDG_DATA_HOME": d})
    assert proc.stderr.strip().endswith("CLEAN"), proc.stderr
