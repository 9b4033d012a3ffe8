"""The reporter registry; importing this package registers the built-in formats."""

from __future__ import annotations

from . import github, html, jsonout, junit, markdown, oscal, population, sarif, text
from .base import Reporter, register_reporter, reporter_registry

__all__ = [
    "Reporter",
    "github",
    "html",
    "jsonout",
    "junit",
    "markdown",
    "oscal",
    "population",
    "register_reporter",
    "reporter_registry",
    "sarif",
    "text",
]
