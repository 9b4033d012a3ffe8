"""Stage changes as events (issue 14): the registry's instants become change events.

MLflow keeps no stage or alias history (see the adapter README); what it records is each
version's creation time, and whatever instants the pipeline writes in tags. On
fixtures/registry-only, the deploy pipeline's `deployed_at` tags, mapped by `event_tags`,
become `model_version_deployed` events that feed the risk-review rule (AIMS-RSK-002) and
the stale-sign-off rule (AIMS-REL-004) once those rules count that event type.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO, Runner
from tests.har import edit_responses

FIXTURE = REPO / "fixtures" / "registry-only"
AS_OF = "2026-11-30"
RSK_TYPES = ["model_version_registered", "model_version_deployed", "data_source_changed",
             "launch"]


def _variant(tmp_path: Path, *, registry: dict[str, Any], rules: dict[str, Any]) -> Path:
    dst = tmp_path / "fjord"
    shutil.copytree(FIXTURE, dst)
    config = dst / "aimscheck.yaml"
    data = yaml.safe_load(config.read_text("utf-8"))
    [src] = [s for s in data["sources"] if s["adapter"] == "mlflow"]
    src.update(registry)
    data["rules"].update(rules)
    config.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return config


def _version_tags(config: Path, model: str, version: str, tags: dict[str, str]) -> None:
    def add(body: Any) -> Any:
        for v in body.get("model_versions", []):
            if (v["name"], v["version"]) == (model, version):
                v.setdefault("tags", []).extend({"key": k, "value": x} for k, x in tags.items())
        return body

    edit_responses(config.parent / "mlflow" / "registry.har", add)


def _scan(run_cli: Runner, config: Path, as_of: str = AS_OF) -> dict[str, Any]:
    res = run_cli("scan", "-c", config, "--as-of", as_of, "--format", "json",
                  "--passes", "full")
    data: dict[str, Any] = json.loads(res.stdout)
    data["_exit"] = res.returncode
    data["_stderr"] = res.stderr
    return data


def _finding(data: dict[str, Any], rule: str, target: str) -> dict[str, Any]:
    [f] = [f for f in data["findings"]
           if f["rule_id"] == rule and f"{f['target_kind']}/{f['target_id']}" == target]
    return f


def test_a_deployment_is_a_trigger_event_for_the_risk_review(run_cli: Runner,
                                                              tmp_path: Path) -> None:
    plain = _scan(run_cli, FIXTURE / "aimscheck.yaml")
    assert _finding(plain, "AIMS-RSK-002", "risk/AIRISK-2")["status"] == "pass"
    config = _variant(tmp_path, registry={"event_tags": {"deployed_at": "model_version_deployed"}},
                      rules={"AIMS-RSK-002": {"params": {"event_types": RSK_TYPES}}})
    data = _scan(run_cli, config)
    # fraud-model v4 was deployed on 20 August; AIRISK-2's last review is of 15 August
    f = _finding(data, "AIMS-RSK-002", "risk/AIRISK-2")
    assert f["status"] == "fail", f["message"]
    assert "model version deployed on fraud-model at 2026-08-20" in f["message"]
    assert f["owner"]["email"] == "ingrid.solberg@fjord.example"
    # v5's deployment of 2 December lies after as-of: no event, nothing about it
    assert "2026-12-02" not in f["message"]


def test_a_stage_change_after_approval_makes_the_sign_off_stale(run_cli: Runner,
                                                                 tmp_path: Path) -> None:
    # credit-scorer v2: approved 5 Sep, deployed 8 Sep. The pipeline that archived v1
    # wrote the instant in `stage_changed_at` (6 Sep): a change between approval and
    # deployment, which AIMS-REL-004 counts once told to.
    config = _variant(tmp_path,
                      registry={"event_tags": {"stage_changed_at": "model_version_stage_changed"}},
                      rules={"AIMS-REL-004": {"params": {"change_types": [
                          "model_version_registered", "model_version_stage_changed",
                          "risk_rating_changed", "impact_assessment_updated"]}}})
    plain = _scan(run_cli, config)
    assert _finding(plain, "AIMS-REL-004", "release/credit-scorer:2")["status"] == "pass"
    _version_tags(config, "credit-scorer", "1", {"stage_changed_at": "2026-09-06T12:00:00Z"})
    data = _scan(run_cli, config)
    f = _finding(data, "AIMS-REL-004", "release/credit-scorer:2")
    assert f["status"] == "fail", f["message"]
    assert "model version stage changed on credit-scorer" in f["message"]


def test_alias_tags_are_events(run_cli: Runner, tmp_path: Path) -> None:
    config = _variant(tmp_path, registry={"alias_event_prefix": "alias_set_at."},
                      rules={"AIMS-RSK-002": {"params": {"event_types": [
                          *RSK_TYPES, "model_version_alias_set"]}}})
    _version_tags(config, "fraud-model", "4", {"alias_set_at.champion": "2026-09-01T08:00:00Z"})
    data = _scan(run_cli, config)
    f = _finding(data, "AIMS-RSK-002", "risk/AIRISK-2")
    assert f["status"] == "fail", f["message"]
    assert "model version alias set on fraud-model at 2026-09-01" in f["message"]


def test_a_malformed_event_tag_fails_the_source_closed(run_cli: Runner,
                                                       tmp_path: Path) -> None:
    config = _variant(tmp_path,
                      registry={"event_tags": {"stage_changed_at": "model_version_stage_changed"}},
                      rules={})
    _version_tags(config, "credit-scorer", "3", {"stage_changed_at": "2026-09-06 12:00"})
    data = _scan(run_cli, config)
    assert data["_exit"] == 3
    assert "E363" in data["_stderr"]
    assert "credit-scorer/3" in data["_stderr"]
    assert "stage_changed_at" in data["_stderr"]


def test_without_any_event_source_the_trigger_rules_error(run_cli: Runner,
                                                          tmp_path: Path) -> None:
    # the registry read without events (and no other event source): E333, never a pass
    config = _variant(tmp_path, registry={"events": False}, rules={})
    data = _scan(run_cli, config)
    assert data["_exit"] == 3
    for rule, target in (("AIMS-RSK-002", "risk/AIRISK-1"),
                         ("AIMS-REL-004", "release/credit-scorer:2")):
        f = _finding(data, rule, target)
        assert f["status"] == "error"
        assert "E333" in f["message"]
