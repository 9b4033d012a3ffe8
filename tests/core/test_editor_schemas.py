"""Editor support: the config schema types each source by its adapter; waivers have one too.

The schemas are what yaml-language-server (VS Code, JetBrains, Neovim) uses to complete and
check keys, so they must accept every real config and reject what the adapters reject.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
import yaml

from checker.adapters import adapter_names
from checker.schemagen import SCHEMA_NAMES, config_schema, schema, waivers_schema
from tests.conftest import REPO

CONFIGS = sorted(p for p in (REPO / "fixtures").rglob("aimscheck*.yaml"))


def _validator(s: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_fixture_config_validates(path: Any) -> None:
    data = yaml.safe_load(path.read_text("utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}"
              for e in _validator(config_schema()).iter_errors(data)]
    assert not errors


def test_sources_are_a_union_selected_by_adapter() -> None:
    s = config_schema()
    items = s["properties"]["sources"]["items"]
    assert items["discriminator"]["propertyName"] == "adapter"
    assert set(items["discriminator"]["mapping"]) == set(adapter_names())
    for name, ref in items["discriminator"]["mapping"].items():
        member = s["$defs"][ref.rsplit("/", 1)[1]]
        assert member["properties"]["adapter"]["const"] == name
        assert member["additionalProperties"] is False


def test_adapter_keys_are_checked() -> None:
    demo = yaml.safe_load((REPO / "fixtures" / "demo" / "aimscheck.yaml").read_text("utf-8"))
    v = _validator(config_schema())
    i = next(i for i, src in enumerate(demo["sources"]) if src["adapter"] == "hr_csv")
    typo = copy.deepcopy(demo)
    typo["sources"][i]["colums"] = typo["sources"][i].pop("columns")
    errors = list(v.iter_errors(typo))
    assert errors
    assert all(list(e.absolute_path)[:2] == ["sources", i] for e in errors)
    unknown = copy.deepcopy(demo)
    unknown["sources"][i]["adapter"] = "hr_cvs"
    assert list(v.iter_errors(unknown))
    # a key of another adapter is not accepted either
    other = copy.deepcopy(demo)
    other["sources"][i]["site"] = "https://example.atlassian.net"
    assert list(v.iter_errors(other))


WAIVERS = """\
version: 1
waivers:
  - id: WVR-001
    rule: AIMS-TRN-001
    subject: risk/RSK-004
    reason: The course was retired; the replacement opens in January.
    requested_by: ingrid.halvorsen@northwind.example
    approved_by: arjun.mehta@northwind.example
    start: 2026-11-01
    expiry: 2027-01-31
    risk_acceptance: RSK-004
"""


def test_waivers_schema() -> None:
    v = _validator(waivers_schema())
    data = json.loads(json.dumps(yaml.safe_load(WAIVERS), default=str))
    assert not list(v.iter_errors(data))
    data["waivers"][0]["aproved_by"] = data["waivers"][0].pop("approved_by")
    assert list(v.iter_errors(data))
    # the waiver policy is the config's, not the waivers file's
    data = json.loads(json.dumps(yaml.safe_load(WAIVERS), default=str))
    data["policy"] = {"approver_roles": ["employee"]}
    assert list(v.iter_errors(data))
    assert "waiver_policy" in config_schema()["properties"]


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_named_schema_is_valid(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))
