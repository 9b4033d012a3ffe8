"""Meta-test over the check registry: every check documents itself and its example works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from checker.checks import check_registry
from checker.rules import compile_rule, load_rule_file

CHECKS = check_registry.names()


@pytest.mark.parametrize("name", CHECKS)
def test_check_has_docs_and_strict_args(name: str) -> None:
    cls = check_registry.get(name)
    doc = cls.__doc__ or ""
    assert doc.strip(), f"{name} has no docstring"
    assert "Passes when" in doc, f"{name}: docstring must say when it passes"
    assert "Fails when" in doc, f"{name}: docstring must say when it fails"
    assert "Example:" in doc, f"{name}: docstring needs an Example"
    assert cls.Args.model_config.get("extra") == "forbid", f"{name}: Args must forbid extras"
    schema = cls.Args.model_json_schema()
    assert schema["type"] == "object"


def _example(name: str) -> str:
    doc = check_registry.get(name).__doc__ or ""
    body = doc.split("Example:", 1)[1]
    lines = [ln for ln in body.splitlines() if ln.strip()]
    indent = min(len(ln) - len(ln.lstrip()) for ln in lines)
    return "\n".join(ln[indent:] for ln in lines)


@pytest.mark.parametrize("name", CHECKS)
def test_docstring_example_is_a_valid_rule_fragment(name: str, tmp_path: Path) -> None:
    fragment = yaml.safe_load(_example(name))
    rule = {
        "id": "ORG-DOC-001", "title": f"Example of {name}", "severity": "low",
        "references": {"iso42001": ["5.3"]}, "finding_owner": ["primary"],
        "remediation": "Fix it.", "applies_to": ["ai_system"],
        "require": [{"value": {"path": "id", "op": "exists"}}],
    }
    rule.update(fragment)
    path = tmp_path / "ORG-DOC-001.yaml"
    path.write_text(yaml.safe_dump(rule, sort_keys=False), "utf-8")
    loaded, diags = load_rule_file(path, "doc")
    assert loaded is not None, [d.render() for d in diags]
    compiled, diags = compile_rule(loaded, {})
    assert compiled is not None, [d.render() for d in diags]
    used = re.findall(r"\b([a-z_]+):", _example(name))
    assert name in used


def test_registry_refuses_duplicates_and_suggests() -> None:
    from checker.registry import Registry, UnknownName

    reg: Registry[int] = Registry("thing")
    reg.add("owner_assigned", 1)
    with pytest.raises(ValueError, match="duplicate"):
        reg.add("owner_assigned", 2)
    with pytest.raises(UnknownName) as info:
        reg.get("owner_asigned")
    assert info.value.hint == "did you mean 'owner_assigned'?"
