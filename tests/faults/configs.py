"""Source configs pointing each network adapter at the fault server, and a small org for
CLI runs (a register, an HR CSV and the network sources)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["ADAPTERS", "FAST_RETRY", "TIMEOUT", "source", "write_org"]

ADAPTERS = ("jira", "scim", "xapi", "mlflow")
#: Tiny backoffs and timeouts keep the matrix fast; the bounds are still real.
FAST_RETRY: dict[str, Any] = {"max_attempts": 3, "max_total_seconds": 10,
                              "backoff_initial_seconds": 0.001, "backoff_max_seconds": 0.005,
                              "retry_after_max_seconds": 0.01}
TIMEOUT = 0.25


def source(adapter: str, base: str, **extra: Any) -> dict[str, Any]:
    """The keys of a ``sources:`` entry (without ``adapter``/``name``) for ``adapter``."""
    common: dict[str, Any] = {"retry": dict(FAST_RETRY)}
    if adapter == "jira":
        cfg = {"site": base, "timeout_seconds": TIMEOUT, "page_size": 2, "approvals": {}}
    elif adapter == "scim":
        cfg = {"url": f"{base}/scim/v2", "timeout": TIMEOUT, "page_size": 2, "groups": False}
    elif adapter == "xapi":
        cfg = {"endpoint": f"{base}/xapi", "timeout": TIMEOUT, "limit": 2,
               "server_verb_filter": False}
    elif adapter == "mlflow":
        cfg = {"tracking_uri": base, "timeout": TIMEOUT, "page_size": 2, "run_user": False}
    else:  # pragma: no cover - a typo in a test
        raise AssertionError(adapter)
    return {**common, **cfg, **extra}


HR = """employee_id,first_name,last_name,work_email,employment_status,hire_date
P1,Person,One,person1@example.org,Active,2020-01-01
P2,Person,Two,person2@example.org,Active,2020-01-01
P3,Person,Three,person3@example.org,Active,2020-01-01
P4,Person,Four,person4@example.org,Active,2020-01-01
E1,Erin,Exec,exec@example.org,Active,2019-01-01
"""


def write_org(folder: Path, sources: list[dict[str, Any]], *, hr: bool = True) -> Path:
    """Write ``aimscheck.yaml`` with a register, (an HR CSV) and ``sources``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "register.yaml").write_text(yaml.safe_dump({"ai_systems": [
        {"id": "credit-scoring", "name": "Credit scoring", "lifecycle": "production",
         "owners": {"primary": "person1@example.org", "backup": "person2@example.org"}},
    ]}), encoding="utf-8")
    all_sources: list[dict[str, Any]] = [{"adapter": "register", "name": "register",
                                          "path": "register.yaml"}]
    if hr:
        (folder / "people.csv").write_text(HR, encoding="utf-8")
        all_sources.append({"adapter": "hr_csv", "name": "hr", "path": "people.csv",
                            "columns": {"id": "employee_id", "first_name": "first_name",
                                        "last_name": "last_name", "email": "work_email",
                                        "status": "employment_status",
                                        "hired": "hire_date"},
                            "status_values": {"Active": "active"}})
    cfg = {"version": 1, "organisation": "Fault Test Ltd", "accountable_executive":
           "exec@example.org", "rule_packs": ["iso42001"], "fail_on": "low",
           "sources": all_sources + sources}
    path = folder / "aimscheck.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path
