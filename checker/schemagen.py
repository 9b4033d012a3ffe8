"""Generate the JSON Schemas that are derived from pydantic models.

``python -m checker.schemagen`` rewrites ``checker/schemas/findings.schema.json`` and
``checker/schemas/config.schema.json``; a test fails when the committed files drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import Config
from .findings import ScanResult

__all__ = ["config_schema", "findings_schema", "main"]

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def findings_schema() -> dict[str, Any]:
    """The schema of ``scan --format json`` output."""
    s = ScanResult.model_json_schema(mode="serialization")
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    s["$id"] = "https://aimscheck.dev/schemas/findings.schema.json"
    s["title"] = "aimscheck scan result"
    s["description"] = ("Output of 'aimscheck scan --format json' and 'gate --format json'. "
                        "schema_version changes its major number on incompatible changes.")
    s.setdefault("required", [])
    for key in ("schema_version", "tool_version", "organisation", "as_of", "findings",
                "summary", "exit_code", "sources"):
        if key not in s["required"]:
            s["required"].append(key)
    return s


def config_schema() -> dict[str, Any]:
    """The schema of ``aimscheck.yaml``."""
    s = Config.model_json_schema()
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    s["$id"] = "https://aimscheck.dev/schemas/config.schema.json"
    s["title"] = "aimscheck configuration (aimscheck.yaml)"
    return s


def render(schema: dict[str, Any]) -> str:
    """Stable text of a schema."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write both schemas."""
    (SCHEMAS / "findings.schema.json").write_text(render(findings_schema()), "utf-8")
    (SCHEMAS / "config.schema.json").write_text(render(config_schema()), "utf-8")


if __name__ == "__main__":
    main()
