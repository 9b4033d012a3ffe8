"""The ``aimscheck`` command line: the ``main`` group and the commands it is made of.

Each command is a plain click command in :mod:`checker.commands` (imports run downward:
this module names the command modules in :data:`COMMANDS` and imports one when it is
run). Every command that
evaluates builds a :class:`checker.run.ScanRequest` and calls :func:`checker.run.run`.

Exit codes: 0 no failing finding at or above ``--fail-on``; 1 failing findings; 2 usage,
config or rule-file error; 3 evidence could not be collected (fail closed).
"""

from __future__ import annotations

import gc
import importlib
import os
from typing import Any

import click

from . import __version__

__all__ = ["COMMANDS", "LazyGroup", "main"]

#: Command name → (module in checker.commands, attribute, the first paragraph of its help).
#: Commands are imported only when run (or asked for their own --help), so that
#: ``aimscheck --help`` and shell completion of command names stay fast;
#: tests/e2e/test_startup.py keeps the short help texts equal to the commands' own.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "scan": ("scan", "scan",
             'Scan all evidence against all rules; findings grouped by who must act.'),
    "gate": ("scan", "gate",
             'Gates for CI: block a release unless the evidence says it may ship.'),
    "report": ("reports", "report",
             'A scan rendered for people: the HTML self-assessment by default.'),
    "matrix": ("reports", "matrix",
             'The accountability matrix: every subject, its owners by role and their status.'),
    "owners": ("reports", "owners",
             'Everything PERSON owns, backs up or must act on (any '
             'handle: email, id, account id).'),
    "evidence": ("evidence", "evidence",
             "The evidence locker: pull snapshots, verify them (replay with 'scan --evidence')."),
    "verify-result": ("evidence", "verify_result",
             "Check a signed scan result ('scan --sign-key') with the signer's public key."),
    "history": ("evidence", "history",
             'Readiness over time: every recorded scan, oldest first.'),
    "diff": ("evidence", "diff",
             'New, resolved and still-open findings between recorded '
             'scans A and B (default: last two).'),
    "rules": ("rules", "rules",
             'List, show, validate and test rules.'),
    "init": ("init", "init",
             'Write a commented starter config.'),
    "tickets": ("closeloop", "tickets",
             "Tickets in the issue tracker for failing findings (config 'tickets:')."),
    "notify": ("closeloop", "notify",
             'One message per person who must act: their findings, oldest '
             'first, fixes, deadlines.'),
    "review": ("review", "review",
             'Management-review pack (9.3): trends, new/resolved/overdue, time to close, KPIs.'),
    "soa": ("soa", "soa",
             'Statement of Applicability: every Annex A control, decision, owner and evidence.'),
    "schema": ("schema", "schema",
             'Print a JSON Schema: config (with the installed adapters), rule, waivers, findings.'),
    "config": ("schema", "config",
             'Check configuration files.'),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (see :data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, without importing any."""
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the command's module on first use."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attr, _ = COMMANDS[cmd_name]
            cmd: Any = getattr(importlib.import_module(f"checker.commands.{module}"), attr)
            self.add_command(cmd, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of --help from the table (nothing is imported)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        rows = [(name, click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit)
                 if name in COMMANDS and name not in self.commands
                 else self.commands[name].get_short_help_str(limit=limit))
                for name in names]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


# Every option can also come from AIMSCHECK_<COMMAND>_<OPTION> (click's auto_envvar_prefix);
# the common ones have short names: AIMSCHECK_CONFIG, AIMSCHECK_AS_OF, AIMSCHECK_FAIL_ON,
# AIMSCHECK_SOFT_FAIL, AIMSCHECK_SARIF_ROOT, AIMSCHECK_HISTORY_URL.
@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"],
                               "auto_envvar_prefix": "AIMSCHECK", "show_default": True})
@click.version_option(__version__, prog_name="aimscheck", allow_from_autoenv=False)
@click.option("--debug", is_flag=True,
              help="Print a debug dump (config, sources, timings) and tracebacks to stderr; "
              "secrets are redacted.")
def main(debug: bool = False) -> None:
    """ISO/IEC 42001 accountability checks: named owners for every AI system, risk and release."""
    if debug:
        os.environ["AIMSCHECK_DEBUG"] = "1"
    # A scan builds millions of long-lived evidence objects and almost no reference cycles;
    # with the default thresholds the cyclic collector re-walks them all again and again
    # (measured: 2-2.5x the run time at 10k-100k employees; benchmarks/RESULTS.md).
    gc.set_threshold(200_000, 50, 1_000)


