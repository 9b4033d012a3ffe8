"""The committed JSON Schemas are current, and packaging lists every package."""

from __future__ import annotations

import json
import tomllib
from importlib.metadata import entry_points

import jsonschema

from checker.schemagen import (
    config_schema,
    findings_schema,
    render,
    rule_schema,
    waivers_schema,
)
from tests.conftest import REPO

SCHEMAS = REPO / "checker" / "schemas"


def test_generated_schemas_are_committed() -> None:
    for name, schema in (("findings", findings_schema()), ("config", config_schema()),
                         ("waivers", waivers_schema()), ("rule", rule_schema())):
        committed = (SCHEMAS / f"{name}.schema.json").read_text("utf-8")
        assert committed == render(schema), (
            f"checker/schemas/{name}.schema.json is stale: run python -m checker.schemagen")


def test_rule_schema_is_valid_and_documented() -> None:
    schema = json.loads((SCHEMAS / "rule.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    for name, prop in schema["properties"].items():
        assert prop.get("title"), f"rule property {name} has no title"
        assert prop.get("description"), f"rule property {name} has no description"


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
                 ["tool"]["setuptools"]["packages"])
    for top in ("checker", "evidence_adapters"):
        for init in (REPO / top).rglob("__init__.py"):
            pkg = ".".join(init.parent.relative_to(REPO).parts)
            assert pkg in listed, f"{pkg} is missing from [tool.setuptools] packages"


def test_builtin_adapters_and_packs_load_through_entry_points() -> None:
    adapters = {ep.name: ep.load() for ep in entry_points(group="aimscheck.adapters")}
    for name in ("register", "hr_csv", "lms_csv", "jsonl"):
        assert name in adapters
        assert adapters[name].name == name
    packs = {ep.name for ep in entry_points(group="aimscheck.rule_packs")}
    assert "iso42001" in packs
