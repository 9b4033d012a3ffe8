"""The reporter registry; importing this package registers the built-in formats."""

from __future__ import annotations

from . import jsonout, junit, text
from .base import Reporter, register_reporter, reporter_registry

__all__ = ["Reporter", "jsonout", "junit", "register_reporter", "reporter_registry", "text"]
