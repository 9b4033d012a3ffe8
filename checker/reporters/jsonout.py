"""JSON output, validated by ``checker/schemas/findings.schema.json``."""

from __future__ import annotations

import json

from checker.findings import ScanResult

from .base import Reporter, register_reporter

__all__ = ["JsonReporter"]


@register_reporter("json")
class JsonReporter(Reporter):
    """The whole scan result as JSON (stable key order, UTF-8, newline-terminated)."""

    extension = "json"

    def render(self, result: ScanResult) -> str:
        """Serialise the result."""
        data = result.model_dump(mode="json")
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
