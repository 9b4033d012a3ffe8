"""The reporter registry, filled from the entry-point group ``aimscheck.reporters``.

The built-in formats are listed there in ``pyproject.toml`` like a third party's (and
imported here too). Problems loading a plugin are returned by :func:`load_plugins`; writing a
report stops on them.
"""

from __future__ import annotations

from checker.plugins import REPORTER_GROUP, plugin_loader

from . import github, html, jsonout, junit, markdown, oscal, population, sarif, text
from .base import Reporter, register_reporter, reporter_registry

#: Registers the entry points once; returns the E211 problems (see checker.plugins).
load_plugins = plugin_loader(REPORTER_GROUP, reporter_registry, Reporter)

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
