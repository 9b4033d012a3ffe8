"""JSON output, validated by ``checker/schemas/findings.schema.json``."""

from __future__ import annotations

from checker.findings import ScanResult

from .base import Reporter, register_reporter

__all__ = ["JsonReporter"]


@register_reporter("json")
class JsonReporter(Reporter):
    """The whole scan result as JSON (stable key order, UTF-8, newline-terminated).

    By default passes are compact: ``passes`` lists, per rule, each passing target as
    ``kind/id`` and ``findings`` holds every other finding in full. With ``--passes full``
    every pass is a whole finding in ``findings`` (and ``passes`` is empty).
    """

    extension = "json"

    def render(self, result: ScanResult) -> str:
        """Serialise the result."""
        if result.passes_mode == "full" and result.pass_records:
            result = result.model_copy(update={"findings": tuple(result.all_findings()),
                                               "passes": ()})
        # pydantic-core serialises in Rust: ~20x faster than json.dumps(indent=2), whose
        # pure-Python pretty printer dominated large scans (benchmarks/RESULTS.md).
        return result.model_dump_json(indent=2) + "\n"
