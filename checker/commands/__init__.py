"""Further CLI commands, one module per area, each adding commands to ``checker.cli.main``.

Importing this package imports every module listed here; each module does
``from checker.cli import main`` and decorates its commands with ``@main.command()`` (or
adds a group). Keep ``checker/cli.py`` for the core commands.
"""

from __future__ import annotations

import importlib

MODULES: list[str] = [
    "reports",
    "evidence",
    "coverage",
    "closeloop",
    "soa",
]

for _name in MODULES:
    importlib.import_module(f"{__name__}.{_name}")
