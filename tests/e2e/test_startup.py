"""``aimscheck --help`` imports no command: the command table stays true to the commands.

Start-up time itself is measured by benchmarks/startup.py (not a timed test).
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

from checker.cli import COMMANDS, main

HEAVY = ("pydantic", "jinja2", "jsonschema", "sqlalchemy", "httpx", "yaml",
         "checker.commands", "checker.run", "checker.reporters", "evidence_adapters")


def test_top_level_help_imports_no_command() -> None:
    code = ("import sys\nfrom checker.cli import main\n"
            "try:\n    main(['--help'], prog_name='aimscheck')\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', sorted(m for m in sys.modules if m.startswith({HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "Commands:" in out
    assert out.strip().splitlines()[-1] == "LOADED []"
    for name in COMMANDS:
        assert f"\n  {name} " in out


def test_command_table_matches_the_commands() -> None:
    for name, (module, attr, first) in COMMANDS.items():
        cmd = getattr(importlib.import_module(f"checker.commands.{module}"), attr)
        assert cmd.name == name
        assert " ".join(inspect.cleandoc(cmd.help or "").split("\n\n")[0].split()) == first, (
            f"update checker.cli.COMMANDS[{name!r}] to the command's help")
    assert set(main.list_commands(None)) == set(COMMANDS)  # type: ignore[arg-type]
