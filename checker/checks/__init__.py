"""The condition registry, filled from the entry-point group ``aimscheck.checks``.

aimscheck's own checks are listed there in ``pyproject.toml`` like a third party's (their
modules are also imported here, so a source checkout that is not installed still works).
Problems loading a plugin are returned by :func:`load_plugins`; loading rules stops on them.
"""

from __future__ import annotations

from functools import cache

from checker.errors import Diagnostic
from checker.plugins import CHECK_GROUP, load_entry_points

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


@cache
def load_plugins() -> tuple[Diagnostic, ...]:
    """Register the entry points of ``checks`` once; the E211 problems.

    Called when rules are loaded or a report is written, not at import: a plugin module
    imports this package, so loading it during our own import would be circular.
    """
    return tuple(load_entry_points(CHECK_GROUP, check_registry, Check))

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
