"""The demo organisation loads through the four adapters and keeps its deliberate gaps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from checker.adapters import Adapter, SourceContext
from checker.evidence import EvidenceBundle
from checker.identity import IdentityIndex
from evidence_adapters.hr_csv import HrCsvAdapter
from evidence_adapters.jsonl import JsonlAdapter
from evidence_adapters.lms_csv import LmsCsvAdapter
from evidence_adapters.register import RegisterAdapter

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
ADAPTERS: dict[str, type[Adapter]] = {
    c.name: c for c in (RegisterAdapter, HrCsvAdapter, LmsCsvAdapter, JsonlAdapter)
}


def load() -> EvidenceBundle:
    total = EvidenceBundle()
    for entry in yaml.safe_load((DEMO / "sources.yaml").read_text(encoding="utf-8")):
        cls = ADAPTERS[entry.pop("adapter")]
        ctx = SourceContext(DEMO, entry.pop("name"), AS_OF, AS_OF)
        total.extend(cls(cls.Config.model_validate(entry), ctx).collect())
    return total


def test_demo_gaps() -> None:
    ev = load()
    idx = IdentityIndex(ev.people)
    subjects = {s.key: s for s in ev.subjects}
    assert "backup" not in subjects["ai_system/support-chatbot"].owners
    group = idx.resolve(subjects["ai_system/churn-predictor"].owners["primary"])
    assert group is not None
    assert group.kind == "group"
    marco = idx.resolve(subjects["risk/RSK-007"].owners["primary"])
    assert marco is not None
    assert not marco.employed_at(AS_OF)
    assert idx.resolve(subjects["dataset/customer-transactions"].owners["primary"]) is None
    elodie = idx.resolve(subjects["ai_system/doc-summariser"].owners["backup"])
    assert elodie is not None
    assert elodie.on_leave_at(AS_OF)
    # every release actor and approver resolves through HR handles (MLflow user, Jira id)
    for r in ev.releases:
        assert idx.resolve(r.registered_by) is not None
    for a in ev.approvals:
        assert idx.resolve(a.approver) is not None
