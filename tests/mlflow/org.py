"""A small organisation in tmp_path whose models and releases live on the MLflow server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
AIMSCHECK = REPO / ".venv" / "bin" / "aimscheck"
AS_OF = "2026-11-30"

PEOPLE = """\
employee_id,first_name,last_name,work_email,employment_status,hire_date,termination_date,account_type,roles,mlflow_user
E1,Cora,Chief,cora.chief@example.org,Active,2019-01-01,,User,executive,
E2,Pia,Primary,pia.primary@example.org,Active,2020-01-01,,User,data-scientist,pia
E3,Bo,Backup,bo.backup@example.org,Active,2020-01-01,,User,ml-engineer,bo
E4,Rita,Riskowner,rita.riskowner@example.org,Active,2020-01-01,,User,ai-risk-owner,rita
E5,Reg,Builder,reg.builder@example.org,Active,2021-01-01,,User,ml-engineer,reg.builder
E6,Dee,Deployer,dee.deployer@example.org,Active,2021-01-01,,User,release-engineer,dee
"""
TRAINING = """\
Email,Course Code,Completion Date,Enrollment Status
rita.riskowner@example.org,AIGOV-101,15/01/2026,Completed
pia.primary@example.org,AIGOV-101,15/01/2026,Completed
bo.backup@example.org,AIGOV-101,15/01/2026,Completed
cora.chief@example.org,AIGOV-101,15/01/2026,Completed
"""
REGISTER = {"ai_systems": [{
    "id": "pricing", "name": "Dynamic pricing", "risk_tier": "low", "lifecycle": "production",
    "owners": {"primary": "pia.primary@example.org", "backup": "bo.backup@example.org",
               "risk_owner": "rita.riskowner@example.org"}}]}

MODEL_TAGS = {"owner.primary": "pia.primary@example.org",
              "owner.backup": "bo.backup@example.org", "ai_system": "pricing",
              "risk_tier": "low", "third_party": "false", "display_name": "Pricing model"}


def write_org(root: Path, url: str, model: str, approvals: list[dict[str, Any]], *,
              page_size: int = 1000, retries: int = 2) -> Path:
    """Write HR, training, register, approvals and an aimscheck.yaml; return the config."""
    (root / "people.csv").write_text(PEOPLE, encoding="utf-8")
    (root / "training.csv").write_text(TRAINING, encoding="utf-8")
    (root / "register.yaml").write_text(yaml.safe_dump(REGISTER), encoding="utf-8")
    (root / "approvals.jsonl").write_text(
        "".join(json.dumps(a) + "\n" for a in approvals) or "\n", encoding="utf-8")
    config = {
        "version": 1, "organisation": "Example Org",
        "accountable_executive": "cora.chief@example.org", "rule_packs": ["iso42001"],
        "settings": {"production_aliases": ["champion"], "production_stages": ["production"]},
        "sources": [
            {"adapter": "register", "path": "register.yaml"},
            {"adapter": "hr_csv", "path": "people.csv",
             "columns": {"id": "employee_id", "first_name": "first_name",
                         "last_name": "last_name", "email": "work_email",
                         "status": "employment_status", "hired": "hire_date",
                         "terminated": "termination_date", "kind": "account_type",
                         "roles": "roles", "handles": ["mlflow_user"]},
             "status_values": {"Active": "active"}, "kind_values": {"User": "individual"}},
            {"adapter": "lms_csv", "path": "training.csv",
             "columns": {"person": "Email", "course": "Course Code",
                         "completed": "Completion Date", "status": "Enrollment Status"},
             "date_format": "%d/%m/%Y", "course_values": {"AIGOV-101": "ai-governance-basics"},
             "status_values": {"Completed": "passed"}},
            # no approval at all is a state these cases test, not a failed export
            {"adapter": "jsonl", "name": "approvals", "path": "approvals.jsonl",
             "kind": "approval", "allow_empty": True},
            {"adapter": "mlflow", "tracking_uri": url, "filter": f"name = '{model}'",
             "page_size": page_size, "retries": retries, "events": True},
        ],
    }
    path = root / "aimscheck.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def approval(model: str, version: str, who: str, at: str, ident: str = "A1") -> dict[str, Any]:
    return {"id": ident, "subject": f"{model}:{version}", "model": model, "version": version,
            "approver": who, "decided_at": at}


def gate(config: Path, model: str, version: str, *extra: str
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(AIMSCHECK), "gate", "release", "--model", model, "--version",
                           version, "-c", str(config), "--as-of", AS_OF, *extra],
                          capture_output=True, text=True, timeout=120)
