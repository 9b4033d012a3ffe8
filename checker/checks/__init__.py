"""The condition registry, filled from the entry-point group ``aimscheck.checks``.

aimscheck's own checks are listed there in ``pyproject.toml`` like a third party's (their
modules are also imported here, so a source checkout that is not installed still works).
Problems loading a plugin are returned by :func:`load_plugins`; loading rules stops on them.
"""

from __future__ import annotations

from checker.plugins import CHECK_GROUP, plugin_loader

from . import (
    continuity,
    governance,
    links,
    logic,
    operations,
    ownership,
    releases,
    reviews,
    signoff,
    training,
)
from .base import Check, CheckArgs, EvalContext, Outcome, check_registry, register

#: Registers the entry points once; returns the E211 problems (see checker.plugins).
load_plugins = plugin_loader(CHECK_GROUP, check_registry, Check)

__all__ = [
    "Check",
    "CheckArgs",
    "EvalContext",
    "Outcome",
    "check_registry",
    "continuity",
    "governance",
    "links",
    "load_plugins",
    "logic",
    "operations",
    "ownership",
    "register",
    "releases",
    "reviews",
    "signoff",
    "training",
]
