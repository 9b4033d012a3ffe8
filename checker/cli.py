"""The ``aimscheck`` command line: the ``main`` group and the commands it is made of.

Each command is a plain click command in :mod:`checker.commands` (imports run downward:
this module imports the command modules and adds their commands). Every command that
evaluates builds a :class:`checker.run.ScanRequest` and calls :func:`checker.run.run`.

Exit codes: 0 no failing finding at or above ``--fail-on``; 1 failing findings; 2 usage,
config or rule-file error; 3 evidence could not be collected (fail closed).
"""

from __future__ import annotations

import gc
import os

import click

from . import __version__
from .commands.closeloop import notify, tickets
from .commands.evidence import diff, evidence, history
from .commands.init import init
from .commands.reports import matrix, owners, report
from .commands.rules import rules
from .commands.scan import gate, scan
from .commands.soa import soa

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aimscheck")
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


for _command in (scan, gate, report, matrix, owners, evidence, history, diff, rules, init,
                 tickets, notify, soa):
    main.add_command(_command)
