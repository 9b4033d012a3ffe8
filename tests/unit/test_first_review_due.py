"""reviewed_within: a subject never reviewed is first due N days after its creation."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.casetest import run_case_file
from checker.rules import find_pack, load_packs

CASES = """\
as_of: 2026-11-30
accountable_executive: ceo@example.com
params: {first_due_days: 30}
evidence:
  people:
    - {id: E1, name: Ada Chief, emails: [ceo@example.com], roles: [executive]}
    - {id: E2, name: Ben Owner, emails: [ben@example.com]}
cases:
  - name: created 30 days before as-of, exactly at the first deadline, passes
    evidence:
      subjects:
        - {kind: risk, id: R1, name: A, owners: {primary: ben@example.com},
           created_at: 2026-10-31T00:00:00Z}
    expect: pass
  - name: created 30 days and one minute before as-of fails, naming the first due date
    evidence:
      subjects:
        - {kind: risk, id: R1, name: A, owners: {primary: ben@example.com},
           created_at: 2026-10-30T23:59:00Z}
    expect:
      fail: [risk/R1]
      message: {risk/R1: "the first was due on 2026-11-29 (30 days after creation"}
  - name: creation unknown and never reviewed fails as before
    evidence:
      subjects:
        - {kind: risk, id: R1, name: A, owners: {primary: ben@example.com}}
    expect:
      fail: [risk/R1]
      message: {risk/R1: no risk review on record}
"""


def test_first_due_days_param(tmp_path: Path) -> None:
    folder, _ = find_pack("iso42001")
    rule = {r.id: r for r in load_packs([str(folder)])}["AIMS-RSK-001"]
    path = tmp_path / "AIMS-RSK-001.test.yaml"
    path.write_text(CASES, encoding="utf-8")
    results = list(run_case_file(path, rule))
    assert len(results) == 3
    for r in results:
        if not r.ok:
            pytest.fail(f"{r.case}: {r.detail}")
