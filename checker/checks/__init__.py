"""The condition registry. Importing this package registers every built-in check."""

from __future__ import annotations

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

__all__ = [
    "Check",
    "CheckArgs",
    "EvalContext",
    "Outcome",
    "check_registry",
    "continuity",
    "governance",
    "links",
    "logic",
    "operations",
    "ownership",
    "register",
    "releases",
    "reviews",
    "signoff",
    "training",
]
