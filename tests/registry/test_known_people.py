"""Which reference fields must resolve to a known person (issue 14): `settings.known_people`.

On fixtures/registry-only, credit-scorer v3 was registered by the CI service account
`svc-mlflow-ci` (the version's MLflow `user_id`). Where HR does not list that account, the
default (today's behaviour: every reference field of every kind must resolve) makes it an
AIMS-IDN-001 finding; `settings.known_people: {release: [...]}` without `registered_by`
says a registrant need not be a known person, while deployers and approvers still must.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO, Runner

FIXTURE = REPO / "fixtures" / "registry-only"
AS_OF = "2026-11-30"
EXCEPT_REGISTRANT = ["deployed_by", "requested_by", "approvers"]


def _variant(tmp_path: Path, known: dict[str, list[str]] | None) -> Path:
    """The fixture with HR no longer listing the CI service account."""
    dst = tmp_path / "fjord"
    shutil.copytree(FIXTURE, dst)
    people = dst / "hr" / "people.csv"
    lines = people.read_text("utf-8").splitlines(keepends=True)
    people.write_text("".join(ln for ln in lines if "svc-mlflow-ci" not in ln), "utf-8")
    config = dst / "aimscheck.yaml"
    if known is not None:
        data = yaml.safe_load(config.read_text("utf-8"))
        data["settings"]["known_people"] = known
        config.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return config


def _findings(run_cli: Runner, config: Path) -> dict[tuple[str, str], dict[str, Any]]:
    res = run_cli("scan", "-c", config, "--as-of", AS_OF, "--format", "json",
                  "--passes", "full")
    assert res.returncode in (0, 1), res.stderr
    data = json.loads(res.stdout)
    return {(f["rule_id"], f"{f['target_kind']}/{f['target_id']}"): f
            for f in data["findings"]}


def test_by_default_a_ci_registrant_hr_does_not_know_is_a_finding(
        run_cli: Runner, tmp_path: Path) -> None:
    by = _findings(run_cli, _variant(tmp_path, None))
    f = by[("AIMS-IDN-001", "release/credit-scorer:3")]
    assert f["status"] == "fail"
    assert "registered by 'svc-mlflow-ci' is unknown person" in f["message"]


def test_configured_a_ci_registrant_need_not_be_known(run_cli: Runner,
                                                      tmp_path: Path) -> None:
    config = _variant(tmp_path, {"release": EXCEPT_REGISTRANT})
    by = _findings(run_cli, config)
    f = by[("AIMS-IDN-001", "release/credit-scorer:3")]
    assert f["status"] == "pass", f["message"]
    assert "registered_by need not resolve (settings.known_people)" in f["message"]
    # everything else is as the fixture finds it (less the account's own person findings)
    plain = _findings(run_cli, FIXTURE / "aimscheck.yaml")
    assert {k: v["status"] for k, v in by.items()} == {
        k: v["status"] for k, v in plain.items() if k[1] != "person/FJ-900"}


def test_configured_fields_that_must_resolve_still_do(run_cli: Runner,
                                                      tmp_path: Path) -> None:
    # deployers must still resolve: an unknown deployer of a release stays a finding
    config = _variant(tmp_path, {"release": EXCEPT_REGISTRANT})
    recording = config.parent / "mlflow" / "registry.har"
    recording.write_text(recording.read_text("utf-8").replace(
        "tom.strand@fjord.example", "ghost@fjord.example"), "utf-8")
    by = _findings(run_cli, config)
    f = by[("AIMS-IDN-001", "release/credit-scorer:2")]
    assert f["status"] == "fail"
    assert "deployed by 'ghost@fjord.example' is unknown person" in f["message"]
    assert by[("AIMS-IDN-001", "release/credit-scorer:3")]["status"] == "pass"


def test_rules_show_prints_the_effective_fields(run_cli: Runner, tmp_path: Path) -> None:
    res = run_cli("rules", "show", "AIMS-IDN-001", "-c", FIXTURE / "aimscheck.yaml")
    assert res.returncode == 0, res.stderr
    assert "must resolve to a known person: every reference field (default)" in res.stdout
    config = _variant(tmp_path, {"release": EXCEPT_REGISTRANT})
    res = run_cli("rules", "show", "AIMS-IDN-001", "-c", config)
    assert res.returncode == 0, res.stderr
    assert ("must resolve (release): deployed_by, requested_by, approvers"
            "  (config settings.known_people)") in res.stdout
    assert "must resolve (ai_system): every reference field (default)" in res.stdout


def test_an_unknown_field_or_kind_is_a_config_error(run_cli: Runner, tmp_path: Path) -> None:
    config = _variant(tmp_path, {"release": ["registerd_by"]})
    res = run_cli("scan", "-c", config, "--as-of", AS_OF)
    assert res.returncode == 2
    assert "registerd_by" in res.stderr
    assert "registered_by" in res.stderr  # did you mean
    assert "aimscheck.yaml:" in res.stderr
    config = _variant(tmp_path / "k", {"relase": ["deployed_by"]})
    res = run_cli("scan", "-c", config, "--as-of", AS_OF)
    assert res.returncode == 2
    assert "relase" in res.stderr
