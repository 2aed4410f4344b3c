"""`cai` imports the module of the command it runs, not every command's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import import_module

from containai_rpc.cli import main
from containai_rpc.cli.commands import MODULES, all_commands


def test_the_table_names_every_command_of_every_module_once() -> None:
    modules = {m: import_module(f"containai_rpc.cli.commands.{m}") for m in set(MODULES.values())}
    defined = {c.name: m for m, module in modules.items() for c in module.COMMANDS}
    assert defined == MODULES
    assert [c.name for c in all_commands()] == list(MODULES)


def test_parsing_one_command_imports_only_its_module() -> None:
    probe = (
        "import sys, json\n"
        "from containai_rpc.cli import main\n"
        "args = main.parse(['list', '--json'])\n"
        "print(json.dumps([args.handler.name, sorted(m for m in sys.modules "
        "if m.startswith(('containai_rpc.cli.commands.', 'shutil', 'dataclasses', "
        "'subprocess', 'logging')))]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    name, loaded = json.loads(done.stdout)
    assert name == "list"
    assert loaded == ["containai_rpc.cli.commands.base", "containai_rpc.cli.commands.inspect"]


def test_the_full_parser_and_a_narrowed_one_accept_the_same_command_line() -> None:
    argv = ["stop", "--force", "--json", "-y", "--container", "c1"]
    full = vars(main.build_parser().parse_args(argv))
    narrow = vars(main.build_parser("stop").parse_args(argv))
    assert full == narrow
    assert full["yes"] and full["force"] and full["container"] == "c1"


def test_the_help_lists_every_command() -> None:
    text = main.build_parser().format_help()
    choices = re.search(r"\{([a-z,-]+)\}", text)  # argparse's `{run,stop,...}` line
    assert choices is not None, text
    assert sorted(choices.group(1).split(",")) == sorted([*MODULES, "server"])
