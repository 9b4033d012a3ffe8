"""The reporter registry, filled from the entry-point group ``aimscheck.reporters``.

The built-in formats are listed there in ``pyproject.toml`` like a third party's (and
imported here too). Problems loading a plugin are returned by :func:`load_plugins`; writing a
report stops on them.
"""

from __future__ import annotations

from functools import cache

from checker.errors import Diagnostic
from checker.plugins import REPORTER_GROUP, load_entry_points

from . import github, html, jsonout, junit, markdown, oscal, population, sarif, text
from .base import Reporter, register_reporter, reporter_registry


@cache
def load_plugins() -> tuple[Diagnostic, ...]:
    """Register the entry points of ``reporters`` once; the E211 problems.

    Called when rules are loaded or a report is written, not at import: a plugin module
    imports this package, so loading it during our own import would be circular.
    """
    return tuple(load_entry_points(REPORTER_GROUP, reporter_registry, Reporter))

__all__ = [
    "Reporter",
    "github",
    "html",
    "jsonout",
    "junit",
    "load_plugins",
    "markdown",
    "oscal",
    "population",
    "register_reporter",
    "reporter_registry",
    "sarif",
    "text",
]
