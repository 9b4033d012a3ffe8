"""Governed waivers: every rule of the waiver policy, boundary days, CLI outputs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from checker.config import load_config
from checker.findings import Finding, PassRecord
from checker.run import ScanRequest, run
from checker.store import EvidenceStore
from checker.waivers import Waiver, WaiverFile, WaiverPolicy, apply_waivers
from tests.conftest import AS_OF, DEMO, Runner

RULE, TARGET = "AIMS-TRN-001", "risk/RSK-004"  # medium; owner Ingrid, backup Zoë
T0 = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def scanned() -> tuple[list[Finding], EvidenceStore]:
    outcome = run(ScanRequest(loaded=load_config(DEMO / "aimscheck.yaml"), as_of=T0))
    return list(outcome.result.all_findings()), outcome.store


@pytest.fixture(scope="module")
def compact() -> tuple[list[Finding], list[PassRecord], EvidenceStore]:
    outcome = run(ScanRequest(loaded=load_config(DEMO / "aimscheck.yaml"), as_of=T0))
    return list(outcome.result.findings), list(outcome.result.pass_records), outcome.store


def waiver(**kw: object) -> Waiver:
    base: dict[str, object] = dict(
        id="WVR-1", rule=RULE, subject=TARGET, reason="course retired",
        requested_by="ingrid.halvorsen@northwind.example",
        approved_by="arjun.mehta@northwind.example", start=date(2026, 11, 1),
        expiry=date(2027, 1, 31), risk_acceptance="RSK-004")
    base.update(kw)
    return Waiver.model_validate(base)


def apply(scanned: tuple[list[Finding], EvidenceStore], w: Waiver, at: datetime = T0,
          policy: WaiverPolicy | None = None) -> tuple[Finding, list[str]]:
    findings, store = scanned
    wf = WaiverFile(waivers=(w,))
    out, notes = apply_waivers(findings, wf, store, at, policy=policy or WaiverPolicy())
    hit = next(f for f in out if f.rule_id == RULE and f.target == TARGET)
    return hit, notes


def test_finding_fails_without_waiver(scanned: tuple[list[Finding], EvidenceStore]) -> None:
    f = next(f for f in scanned[0] if f.rule_id == RULE and f.target == TARGET)
    assert f.status == "fail"
    assert f.severity == "medium"


def test_valid_waiver_waives_and_names_approver(scanned: tuple[list[Finding], EvidenceStore]
                                                ) -> None:
    f, notes = apply(scanned, waiver())
    assert f.status == "waived"
    assert f.waiver is not None
    assert f.waiver.state == "active"
    assert f.waiver.approved_by == "Arjun Mehta <arjun.mehta@northwind.example>"
    assert "waived by Arjun Mehta" in f.message
    assert "until 2027-01-31" in f.message
    assert notes == []


@pytest.mark.parametrize(("at", "status"), [
    (datetime(2027, 1, 31, tzinfo=UTC), "waived"),                 # the expiry day itself
    (datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC), "waived"),     # its last second
    (datetime(2027, 2, 1, tzinfo=UTC), "fail"),                    # the day after
])
def test_expiry_boundary_day(scanned: tuple[list[Finding], EvidenceStore], at: datetime,
                             status: str) -> None:
    f, _ = apply(scanned, waiver(), at)
    assert f.status == status
    if status == "fail":
        assert f.message.startswith("waiver WVR-1 expired on 2027-01-31")
        assert f.waiver is not None
        assert f.waiver.state == "invalid"


def test_start_boundary_day(scanned: tuple[list[Finding], EvidenceStore]) -> None:
    w = waiver(start=date(2026, 11, 30), expiry=date(2026, 12, 31))
    assert apply(scanned, w, datetime(2026, 11, 29, 23, 59, tzinfo=UTC))[0].status == "fail"
    assert apply(scanned, w, T0)[0].status == "waived"


def test_expiring_soon_is_warned(scanned: tuple[list[Finding], EvidenceStore]) -> None:
    f, notes = apply(scanned, waiver(expiry=date(2026, 12, 10)))
    assert f.status == "waived"
    assert f.waiver is not None
    assert f.waiver.state == "expiring"
    assert "expires in 11 days" in f.message
    assert any("WVR-1" in n and "expires on 2026-12-10" in n for n in notes)
    f2, notes2 = apply(scanned, waiver(expiry=date(2026, 12, 10)),
                       policy=WaiverPolicy(warn_days=5))
    assert f2.waiver is not None
    assert f2.waiver.state == "active"
    assert notes2 == []


@pytest.mark.parametrize(("kw", "why"), [
    ({"approved_by": "marco.rossi@northwind.example"}, "has left the organisation"),
    ({"approved_by": "kwame.asante@northwind.example"}, "lacks authority"),
    ({"approved_by": "zoe.mueller@northwind.example"}, "is the subject's backup owner"),
    ({"approved_by": "ingrid.halvorsen@northwind.example",
      "requested_by": "arjun.mehta@northwind.example"}, "is the subject's primary owner"),
    ({"requested_by": "arjun.mehta@northwind.example"}, "approved by its own requester"),
    ({"approved_by": "nobody@northwind.example"}, "is not a known person"),
    ({"expiry": date(2027, 11, 1)}, "the policy allows at most 180 for medium rules"),
    ({"risk_acceptance": "RA-404"}, "risk acceptance 'RA-404'"),
    # issue 17: an acceptance must be about the waived subject, not any risk in the register
    ({"risk_acceptance": "RSK-001"}, "is not about risk/RSK-004"),
    ({"start": date(2026, 12, 15), "expiry": date(2027, 1, 31)}, "starts on 2026-12-15"),
])
def test_invalid_waiver_fails_with_reason(scanned: tuple[list[Finding], EvidenceStore],
                                          kw: dict[str, object], why: str) -> None:
    f, notes = apply(scanned, waiver(**kw))
    assert f.status == "fail", f.message
    assert why in f.message
    assert "the finding fails again" in f.message
    assert any(why in n for n in notes)


def test_max_duration_is_per_severity(scanned: tuple[list[Finding], EvidenceStore]) -> None:
    w = waiver(expiry=date(2027, 3, 1))  # 120 days
    assert apply(scanned, w)[0].status == "waived"
    strict = WaiverPolicy(max_days={"medium": 30})  # type: ignore[dict-item]
    assert "at most 30" in apply(scanned, w, policy=strict)[0].message


def test_approver_roles_are_configurable(scanned: tuple[list[Finding], EvidenceStore]
                                         ) -> None:
    w = waiver(approved_by="kwame.asante@northwind.example")
    pol = WaiverPolicy(approver_roles=("internal-auditor",))
    assert apply(scanned, w, policy=pol)[0].status == "waived"


def test_waivers_do_not_touch_errors_or_passes(scanned: tuple[list[Finding], EvidenceStore]
                                               ) -> None:
    findings, store = scanned
    passing = next(f for f in findings if f.status == "pass")
    w = waiver(rule=passing.rule_id, subject=passing.target)
    out, notes = apply_waivers(findings, WaiverFile(waivers=(w,)), store, T0)
    assert [f.status for f in out] == [f.status for f in findings]
    assert any("not needed" in n for n in notes)


def test_a_waiver_on_a_compact_pass_is_not_needed(
        compact: tuple[list[Finding], list[PassRecord], EvidenceStore]) -> None:
    findings, passes, store = compact
    assert all(f.status != "pass" for f in findings)
    passing = passes[0]
    w = waiver(rule=passing.rule_id, subject=passing.target)
    out, notes = apply_waivers(findings, WaiverFile(waivers=(w,)), store, T0, passes=passes)
    assert out == findings
    assert notes == [f"waiver {w.id}: {passing.rule_id} {passing.target} passes; the waiver "
                     "is not needed"]


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
    expiry: 2026-12-05
    risk_acceptance: RSK-004
"""


def test_cli_waived_in_every_output(run_cli: Runner, demo_copy: Path, tmp_path: Path) -> None:
    wf = demo_copy.parent / "waivers.yaml"
    wf.write_text(WAIVERS, "utf-8")
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--waivers", wf, "-f", "json",
                  "-o", tmp_path / "out.json", "-f", "junit", "-o", tmp_path / "out.xml",
                  "-f", "text")
    assert "warning: waiver WVR-001" in res.stderr
    assert "expires on 2026-12-05" in res.stderr
    data = json.loads((tmp_path / "out.json").read_text("utf-8"))
    f = next(f for f in data["findings"] if f["rule_id"] == RULE and
             f["target_id"] == "RSK-004")
    assert f["status"] == "waived"
    assert f["waiver"]["approved_by"].startswith("Arjun Mehta")
    assert f["waiver"]["expiry"] == "2026-12-05"
    assert data["summary"]["waived"] == 1
    xml = (tmp_path / "out.xml").read_text("utf-8")
    assert "waived by Arjun Mehta" in xml
    # the config's waivers: key does the same, and an expired waiver fails again
    cfg = demo_copy.read_text("utf-8") + "\nwaivers: waivers.yaml\n"
    demo_copy.write_text(cfg, "utf-8")
    later = run_cli("scan", "-c", demo_copy, "--as-of", "2026-12-06", "-f", "json")
    f2 = next(f for f in json.loads(later.stdout)["findings"]
              if f["rule_id"] == RULE and f["target_id"] == "RSK-004")
    assert f2["status"] == "fail"
    assert "expired on 2026-12-05" in f2["message"]


@pytest.mark.parametrize(("edit", "code", "line"), [
    (("rule: AIMS-TRN-001", "rule: AIMS-TRN-01"), "E392", 4),
    (("    reason:", "    reasn:"), "E390", 6),
    (("expiry: 2026-12-05", "expiry: 2026-10-05"), "E391", 10),
])
def test_bad_waivers_file_is_located(run_cli: Runner, demo_copy: Path, edit: tuple[str, str],
                                     code: str, line: int) -> None:
    wf = demo_copy.parent / "waivers.yaml"
    wf.write_text(WAIVERS.replace(*edit), "utf-8")
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--waivers", wf)
    assert res.returncode == 2
    assert f"waivers.yaml:{line}:" in res.stderr
    assert code in res.stderr


def test_policy_in_a_waivers_file_is_refused(run_cli: Runner, demo_copy: Path,
                                             tmp_path: Path) -> None:
    """A waivers file cannot grant itself authority: its 'policy:' is an error, not obeyed."""
    wf = demo_copy.parent / "waivers.yaml"
    # the file tries to make anyone an approver and allow a ten-year waiver
    wf.write_text(WAIVERS.replace("version: 1\n", "version: 1\npolicy:\n  approver_roles: "
                                  "[employee, contractor]\n  max_days: {medium: 3650}\n"),
                  "utf-8")
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--waivers", wf,
                  "-o", tmp_path / "out.txt")
    assert res.returncode == 2
    assert "waivers.yaml:2:" in res.stderr
    assert "E390" in res.stderr
    assert "cannot set the waiver policy" in res.stderr
    assert "move it to aimscheck.yaml under 'waiver_policy:'" in res.stderr
    assert not (tmp_path / "out.txt").exists()


def test_waiver_policy_is_read_from_the_config(run_cli: Runner, demo_copy: Path) -> None:
    """The config's waiver_policy governs: an approver without its roles does not waive."""
    wf = demo_copy.parent / "waivers.yaml"
    wf.write_text(WAIVERS, "utf-8")
    base = demo_copy.read_text("utf-8")

    def status(policy: str) -> tuple[str, str]:
        demo_copy.write_text(base + policy, "utf-8")
        res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--waivers", wf, "-f", "json")
        f = next(f for f in json.loads(res.stdout)["findings"]
                 if f["rule_id"] == RULE and f["target_id"] == "RSK-004")
        return f["status"], f["message"]

    assert status("\nwaiver_policy: {approver_roles: [executive]}\n")[0] == "waived"
    st, msg = status("\nwaiver_policy: {approver_roles: [board]}\n")
    assert st == "fail"
    assert "lacks authority (needs one of the roles board)" in msg
    st, msg = status("\nwaiver_policy: {max_days: {medium: 10}}\n")
    assert st == "fail"
    assert "the policy allows at most 10 for medium rules" in msg


def test_acceptance_must_name_the_waived_rule(scanned: tuple[list[Finding], EvidenceStore]
                                              ) -> None:
    """RSK-010 (a risk of churn-predictor) accepts AIMS-OWN-003 only: it covers a waiver
    of that rule on the system, not of another rule on the same system."""
    findings, store = scanned
    sub = "ai_system/churn-predictor"
    base = dict(subject=sub, requested_by="jonas.becker@northwind.example",
                start=date(2026, 11, 20), expiry=date(2026, 12, 15), risk_acceptance="RSK-010")
    ok = waiver(rule="AIMS-OWN-003", **base)
    other = waiver(id="WVR-2", rule="AIMS-IMP-001", **base)
    out, _ = apply_waivers(findings, WaiverFile(waivers=(ok, other)), store, T0)
    got = {f.rule_id: f for f in out if f.target == sub}
    assert got["AIMS-OWN-003"].status == "waived"
    assert got["AIMS-IMP-001"].status == "fail"
    assert ("risk acceptance 'RSK-010' of waiver WVR-2 does not name rule AIMS-IMP-001 "
            "(it names AIMS-OWN-003)") in got["AIMS-IMP-001"].message


def test_acceptance_of_another_rule_does_not_cover_the_waiver(
        run_cli: Runner, demo_copy: Path) -> None:
    """The register's accepts_rules decides: RSK-004 re-scoped to another rule stops
    covering the AIMS-TRN-001 waiver (and a review record names its rules the same way)."""
    wf = demo_copy.parent / "waivers.yaml"
    wf.write_text(WAIVERS, "utf-8")
    reg = demo_copy.parent / "register.yaml"
    text = reg.read_text("utf-8")
    assert "accepts_rules: [AIMS-TRN-001]" in text

    def status() -> tuple[str, str]:
        res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--waivers", wf, "-f", "json")
        f = next(f for f in json.loads(res.stdout)["findings"]
                 if f["rule_id"] == RULE and f["target_id"] == "RSK-004")
        return f["status"], f["message"]

    assert status()[0] == "waived"
    reg.write_text(text.replace("accepts_rules: [AIMS-TRN-001]",
                                "accepts_rules: [AIMS-OWN-002]"), "utf-8")
    st, msg = status()
    assert st == "fail"
    assert "does not name rule AIMS-TRN-001 (it names AIMS-OWN-002)" in msg
    # a review of the risk that lists the rule is an acceptance too
    reviews = demo_copy.parent / "evidence" / "reviews.jsonl"
    reviews.write_text(reviews.read_text("utf-8") + json.dumps({
        "id": "RA-77", "subject": "RSK-004", "kind": "risk_acceptance",
        "reviewer": "arjun.mehta@northwind.example", "reviewed_at": "2026-11-02T10:00:00Z",
        "rules": ["AIMS-TRN-001"]}) + "\n", "utf-8")
    wf.write_text(WAIVERS.replace("risk_acceptance: RSK-004", "risk_acceptance: RA-77"),
                  "utf-8")
    assert status()[0] == "waived"
