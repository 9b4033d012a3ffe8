from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from checker.adapters import SourceContext
from checker.errors import EvidenceError, EvidenceUnavailable
from evidence_adapters.register import RegisterAdapter

GOOD = """\
ai_systems:
  - id: credit-scoring
    name: Credit scoring
    risk_tier: high
    in_scope: true
    launched: 2025-01-15
    owners:
      primary: priya@example.com
      backup: lukasz@example.com
    history:
      - {role: primary, owner: marco@example.com, from: 2024-01-15, to: "2025-03-31T17:00:00+02:00"}
      - {role: primary, owner: priya@example.com, from: 2025-04-01}
risks:
  - id: RSK-001
    name: Bias
    system: credit-scoring
    owners: {primary: zoe@example.com}
models: []
processes:
"""


def run(ctx: SourceContext, text: str) -> Any:
    (ctx.base_dir / "register.yaml").write_text(text, encoding="utf-8")
    cfg = RegisterAdapter.Config.model_validate({"path": "register.yaml"})
    return RegisterAdapter(cfg, ctx).collect()


def test_happy_path(ctx: SourceContext) -> None:
    bundle = run(ctx, GOOD)
    assert bundle.kinds == frozenset({"subject"})
    system, risk = bundle.subjects
    assert system.key == "ai_system/credit-scoring"
    assert system.owners == {"primary": "priya@example.com", "backup": "lukasz@example.com"}
    assert system.attributes == {"risk_tier": "high", "in_scope": True, "launched": "2025-01-15"}
    old, new = system.history
    assert old.start == datetime(2024, 1, 15, tzinfo=UTC)
    assert old.end == datetime(2025, 3, 31, 15, tzinfo=UTC)
    assert new.end is None
    assert system.provenance.locator == "register.yaml:2"
    assert risk.kind == "risk"
    assert risk.attributes["system"] == "credit-scoring"
    assert risk.provenance.locator == "register.yaml:14"


def test_duplicate_id_and_other_problems_all_reported(ctx: SourceContext) -> None:
    text = """\
risks:
  - id: RSK-001
    name: One
  - id: RSK-001
    name: Two
  - name: No id
  - id: 42
    name: Numeric id
  - id: RSK-009
    name: Bad owners
    owners: [zoe@example.com]
  - id: RSK-010
    name: Naive timestamp
    history: [{role: primary, owner: a@example.com, from: "2026-01-01T09:00:00"}]
modles: []
"""
    with pytest.raises(EvidenceError) as exc:
        run(ctx, text)
    got = [(d.line, d.col, d.code) for d in exc.value.diagnostics]
    assert got == [(4, 9, "E306"), (6, 5, "E305"), (7, 9, "E308"), (11, 13, "E308"),
                   (14, 59, "E303"), (15, 1, "E307")]
    dup = exc.value.diagnostics[0]
    assert dup.file == "register.yaml"
    assert "RSK-001" in dup.message
    assert "line 2" in (dup.hint or "")
    assert "models" in (exc.value.diagnostics[-1].hint or "")


def test_unreadable_yaml(ctx: SourceContext) -> None:
    with pytest.raises(EvidenceUnavailable) as exc:
        run(ctx, "risks: [\n")
    assert exc.value.diagnostics[0].code == "E100"


def test_demo_register_loads() -> None:
    demo = Path(__file__).resolve().parents[2] / "fixtures" / "demo"
    ctx = SourceContext(base_dir=demo, source_name="register",
                        fetched_at=datetime(2026, 11, 30, tzinfo=UTC),
                        as_of=datetime(2026, 11, 30, tzinfo=UTC))
    bundle = RegisterAdapter(RegisterAdapter.Config.model_validate({"path": "register.yaml"}),
                             ctx).collect()
    kinds = {s.kind for s in bundle.subjects}
    assert kinds == {"ai_system", "model", "dataset", "risk", "control", "vendor", "policy",
                     "process"}
