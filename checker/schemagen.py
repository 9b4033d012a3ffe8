"""Generate the JSON Schemas that are derived from pydantic models.

``python -m checker.schemagen`` rewrites ``checker/schemas/findings.schema.json``,
``config.schema.json`` and ``waivers.schema.json``, and the enums of the hand-written
``rule.schema.json`` (``severity`` from :class:`~checker.severity.Severity`, ``applies_to``
from the evidence-kind table); a test fails when the committed files drift.
``aimscheck schema config|rule|waivers|findings`` prints them for the installed adapters (a
third-party adapter's keys appear in its own ``sources:`` entry).

The config schema types every ``sources:`` entry by its ``adapter:`` key: a discriminated
union of one schema per installed adapter, each generated from that adapter's ``Config``
model plus ``adapter`` (the constant name) and ``name``, so editors complete and check
adapter keys and value types. Runtime validation still goes through the adapter's model
(with file:line), which also reports missing keys (presets and defaults fill some).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, create_model

from .config import Config
from .evidence import TARGET_KINDS
from .findings import ScanResult
from .severity import SEVERITY_NAMES

__all__ = [
    "SCHEMA_NAMES",
    "config_schema",
    "findings_schema",
    "main",
    "rule_schema",
    "schema",
    "sources_schema",
    "waivers_schema",
]

SCHEMAS = Path(__file__).resolve().parent / "schemas"
SCHEMA_NAMES = ("config", "rule", "waivers", "findings")
_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def findings_schema() -> dict[str, Any]:
    """The schema of ``scan --format json`` output."""
    s = ScanResult.model_json_schema(mode="serialization")
    s["$schema"] = _DRAFT
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


def sources_schema() -> dict[str, Any]:
    """One ``sources:`` entry: a union of the installed adapters, selected by ``adapter``.

    Each member is the adapter's ``Config`` model extended with ``adapter`` (its name as a
    constant) and ``name``; pydantic renders the union as ``oneOf`` with a
    ``discriminator`` mapping, the members under ``$defs``.
    """
    from .adapters import adapter_registry  # entry points: checker never names an adapter

    members: list[Any] = []
    registry = adapter_registry()
    for name in registry.names():
        cls = registry.get(name)
        const: Any = Literal[name]
        members.append(create_model(
            f"Source_{name}", __base__=cls.Config,
            __doc__=f"A source read by the '{name}' adapter. "
                    + (cls.Config.__doc__ or "").strip(),
            adapter=(const, Field(description="The adapter that reads this source.")),
            name=(str | None, Field(default=None, description="The source's name in "
                                    "messages and evidence locators (default: the adapter "
                                    "id); unique within the config.")),
        ))
    union: Any = Annotated[Union[tuple(members)], Field(discriminator="adapter")]  # noqa: UP007
    out = TypeAdapter(union).json_schema()
    for definition in out.get("$defs", {}).values():
        _optional(definition)
    return out


def _optional(node: Any) -> None:
    """Drop ``required`` below a source entry (but keep ``adapter`` required).

    Adapters fill keys from presets and defaults before validating (``preset: workday``
    supplies ``columns``; Jira's ``risks:`` merges its defaults), which a JSON Schema cannot
    express. The schema checks key names and value types; whether a key is missing is
    reported by the adapter itself, with file:line (``aimscheck config check``).
    """
    if isinstance(node, dict):
        if "required" in node:
            kept = [k for k in node["required"] if k == "adapter"]
            if kept:
                node["required"] = kept
            else:
                del node["required"]
        for value in node.values():
            _optional(value)
    elif isinstance(node, list):
        for value in node:
            _optional(value)


def config_schema() -> dict[str, Any]:
    """The schema of ``aimscheck.yaml``, with ``sources:`` typed per adapter."""
    s = Config.model_json_schema()
    src = sources_schema()
    s.setdefault("$defs", {}).update(src.pop("$defs", {}))
    desc = s["properties"]["sources"].get("description", "")
    s["properties"]["sources"] = {"description": desc, "items": src,
                                  "title": "Sources", "type": "array"}
    s["$schema"] = _DRAFT
    s["$id"] = "https://aimscheck.dev/schemas/config.schema.json"
    s["title"] = "aimscheck configuration (aimscheck.yaml)"
    return s


def waivers_schema() -> dict[str, Any]:
    """The schema of a waivers file (``scan --waivers FILE`` or ``waivers:`` in the config)."""
    from .waivers import WaiverFile

    s = WaiverFile.model_json_schema()
    s["$schema"] = _DRAFT
    s["$id"] = "https://aimscheck.dev/schemas/waivers.schema.json"
    s["title"] = "aimscheck waivers file"
    return s


def rule_schema() -> dict[str, Any]:
    """The schema of a rule file (hand-written: checks validate their own arguments).

    Its vocabularies come from their single definitions: ``severity`` from
    :class:`~checker.severity.Severity`, ``applies_to`` from the evidence-kind table.
    """
    data: dict[str, Any] = json.loads((SCHEMAS / "rule.schema.json").read_text("utf-8"))
    data["properties"]["severity"]["enum"] = list(SEVERITY_NAMES)
    data["properties"]["applies_to"]["items"]["enum"] = list(TARGET_KINDS)
    return data


def schema(name: str) -> dict[str, Any]:
    """One of :data:`SCHEMA_NAMES`."""
    return {"config": config_schema, "rule": rule_schema, "waivers": waivers_schema,
            "findings": findings_schema}[name]()


def render(schema: dict[str, Any]) -> str:
    """Stable text of a schema."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the generated schemas."""
    (SCHEMAS / "findings.schema.json").write_text(render(findings_schema()), "utf-8")
    (SCHEMAS / "config.schema.json").write_text(render(config_schema()), "utf-8")
    (SCHEMAS / "waivers.schema.json").write_text(render(waivers_schema()), "utf-8")
    (SCHEMAS / "rule.schema.json").write_text(render(rule_schema()), "utf-8")


if __name__ == "__main__":
    main()
