"""The command line imports one command group per run (cli.COMMAND_GROUP): the map must name,
for every command the groups register, the group that registers it."""

from __future__ import annotations

import subprocess
import sys

from funnel_tui import cli


class _Recorder:
    """A stand-in for argparse's subparsers that records the command names added to it."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def add_parser(self, name: str, **kw):
        self.names.append(name)
        return cli._Unbuilt()


def test_every_command_maps_to_the_group_that_registers_it():
    registered: dict[str, int] = {}
    for group in range(len(cli.COMMAND_GROUPS)):
        rec = _Recorder()
        cli._register(group)(rec)
        assert rec.names, cli.COMMAND_GROUPS[group]
        for name in rec.names:
            assert name not in registered, f"{name} registered twice"
            registered[name] = group
    assert registered == cli.COMMAND_GROUP


def test_one_command_builds_the_same_subparser_as_the_whole_parser():
    for command in cli.COMMAND_GROUP:
        whole = cli.build_parser()._subparsers._group_actions[0].choices[command]
        alone = cli.build_parser(command)._subparsers._group_actions[0].choices
        assert list(alone) == [command]
        assert alone[command].format_help() == whole.format_help()


def test_due_count_imports_no_other_command_group(tmp_path):
    """`funnel due --count` loads cli.due alone of the command groups (and never the store)."""
    code = ("import sys\nfrom funnel_tui.cli import main\n"
            f"main(['--db', {str(tmp_path / 'none.db')!r}, 'due', '--count'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('funnel_tui.cli.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = eval(out.strip().splitlines()[-1])
    groups = {f"funnel_tui.cli.{m}" for m, _f in cli.COMMAND_GROUPS}
    assert [m for m in loaded if m in groups] == ["funnel_tui.cli.due"]
