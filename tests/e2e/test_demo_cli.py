"""End to end through the installed `aimscheck` command, the way CI and users run it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from tests.conftest import AS_OF, DEMO, REPO, Runner

CONFIG = DEMO / "aimscheck.yaml"
SCHEMA = json.loads((REPO / "checker" / "schemas" / "findings.schema.json").read_text("utf-8"))


def test_demo_scan_names_owners_and_exits_1(run_cli: Runner) -> None:
    res = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF)
    assert res.returncode == 1, res.stderr
    out = res.stdout
    assert "Who must act" in out
    # deliberate gaps of the demo, each with the named person who must act
    assert "Daniel Okafor <daniel.okafor@northwind.example>" in out
    assert "AIMS-OWN-002 ai_system/support-chatbot: no backup owner named" in out
    # one fact (Marco Rossi left) fails two rules: stated once, with both rules
    assert out.count("risk/RSK-007: Marco Rossi <marco.rossi@northwind.example> is "
                     "terminated since 2026-10-01") == 1
    assert "fails 2 rules: AIMS-COV-001 (high, good practice), AIMS-OWN-004 (high)" in out
    assert out.rstrip().splitlines()[-1].startswith("FAIL: ")
    assert "Traceback" not in res.stderr


def test_json_validates_and_is_byte_identical(run_cli: Runner, tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        res = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "--format", "json", "-o", path)
        assert res.returncode == 1, res.stderr
    assert a.read_bytes() == b.read_bytes()
    data = json.loads(a.read_text("utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["schema_version"] == "1.0"
    assert data["as_of"] == "2026-11-30T00:00:00Z"
    failing = [f for f in data["findings"] if f["status"] == "fail"]
    assert failing
    for f in data["findings"]:  # names, not teams: every finding names an individual
        assert f["owner"]["name"], f
        assert f["owner"]["id"], f
        assert "@" in (f["owner"]["email"] or "@"), f


def test_json_from_stdout_also_validates(run_cli: Runner) -> None:
    res = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "--format", "json")
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(res.stdout))


def test_junit_counts_match_findings(run_cli: Runner, tmp_path: Path) -> None:
    xml, js = tmp_path / "report.xml", tmp_path / "f.json"
    res = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "--format", "junit", "-o", xml,
                  "--format", "json", "-o", js)
    assert res.returncode == 1, res.stderr
    doc = json.loads(js.read_text("utf-8"))
    findings, passes = doc["findings"], doc["passes"]
    suites = list(JUnitXml.fromfile(str(xml)))
    assert len(suites) == len({f["rule_id"] for f in findings} | {g["rule_id"] for g in passes})
    cases = [c for s in suites for c in s]
    # one test case per finding that does not pass, one per rule for its passes
    assert len(cases) == len(findings) + len(passes)
    assert sum(g["count"] for g in passes) == doc["summary"]["pass"]

    def count(kind: type) -> int:
        return sum(1 for c in cases for r in c.result if isinstance(r, kind))

    assert count(Failure) == sum(f["status"] == "fail" for f in findings)
    assert count(Error) == sum(f["status"] == "error" for f in findings)
    assert count(Skipped) == sum(f["status"] in ("not_applicable", "waived") for f in findings)
    props = {p.name: p.value for s in suites for p in s.properties()}
    assert props["owner:AIMS-OWN-002:ai_system/support-chatbot"].startswith("Daniel Okafor")


@pytest.mark.parametrize(("version", "code"), [("12", 0), ("13", 1)])
def test_gate_release(run_cli: Runner, version: str, code: int) -> None:
    res = run_cli("gate", "release", "-c", CONFIG, "--as-of", AS_OF,
                  "--model", "credit-risk-scorer", "--version", version)
    assert res.returncode == code, res.stdout + res.stderr
    if code == 1:
        assert "Zoë Müller" in res.stdout  # the risk owner who must sign off
        assert "credit-risk-scorer:13 has no approval that counts: none is recorded" in \
            res.stdout


def test_gate_unknown_release_fails_closed(run_cli: Runner) -> None:
    res = run_cli("gate", "release", "-c", CONFIG, "--as-of", AS_OF,
                  "--model", "credit-risk-scorer", "--version", "99")
    assert res.returncode == 3


def _hr(config: Path) -> Path:
    return config.parent / "hr" / "people.csv"


def test_hr_missing_column_exits_3_with_location(run_cli: Runner, demo_copy: Path,
                                                  tmp_path: Path) -> None:
    hr = _hr(demo_copy)
    lines = hr.read_text("utf-8-sig").splitlines()
    lines[0] = lines[0].replace("work_email", "email_address")
    hr.write_text("\n".join(lines) + "\n", "utf-8")
    out = tmp_path / "f.json"
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--format", "json", "-o", out,
                  "--format", "text")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "hr/people.csv:1" in res.stdout
    assert "work_email" in res.stdout
    data = json.loads(out.read_text("utf-8"))
    needing_people = {"AIMS-OWN-003", "AIMS-OWN-004", "AIMS-TRN-001", "AIMS-IDN-001",
                      "AIMS-REL-001"}
    for f in data["findings"]:
        if f["rule_id"] in needing_people:
            assert f["status"] != "pass", f


def test_hr_bad_date_row_exits_3_with_line(run_cli: Runner, demo_copy: Path) -> None:
    hr = _hr(demo_copy)
    lines = hr.read_text("utf-8-sig").splitlines()
    header = lines[0].split(",")
    col = header.index("hire_date")
    row = lines[5].split(",")
    row[col] = "2023-13-45"
    lines[5] = ",".join(row)
    hr.write_text("\n".join(lines) + "\n", "utf-8")
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF)
    assert res.returncode == 3, res.stdout + res.stderr
    assert "hr/people.csv:6" in res.stdout
    assert "PASS" not in res.stdout.splitlines()[-1]


def test_rules_test_runs_every_case(run_cli: Runner) -> None:
    res = run_cli("rules", "test", "rules/")
    assert res.returncode == 0, res.stdout[-2000:]
    assert res.stdout.rstrip().endswith("0 failed")


def test_rules_list_and_init(run_cli: Runner, tmp_path: Path) -> None:
    res = run_cli("rules", "list", "-c", CONFIG)
    assert res.returncode == 0
    assert "AIMS-OWN-001" in res.stdout
    res = run_cli("init", "-o", tmp_path / "aimscheck.yaml")
    assert res.returncode == 0
    again = run_cli("init", "-o", tmp_path / "aimscheck.yaml")
    assert again.returncode == 2
    assert "--force" in again.stderr


def test_bad_as_of_and_unknown_format_are_usage_errors(run_cli: Runner) -> None:
    res = run_cli("scan", "-c", CONFIG, "--as-of", "30/11/2026")
    assert res.returncode == 2
    assert "E001" in res.stderr
    res = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "--format", "jsn")
    assert res.returncode == 2
    assert "did you mean 'json'" in res.stderr


def test_missing_config_is_exit_2(run_cli: Runner, tmp_path: Path) -> None:
    res = run_cli("scan", "-c", tmp_path / "nope.yaml")
    assert res.returncode == 2
    assert "aimscheck init" in res.stderr


def test_progress_on_request_and_quiet_in_ci(run_cli: Runner, tmp_path: Path) -> None:
    out = tmp_path / "f.json"
    loud = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "--progress", "-f", "json", "-o", out)
    assert "reading hr (hr_csv)" in loud.stderr
    assert "records in" in loud.stderr
    quiet = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "-f", "json", "-o", out)
    assert "reading" not in quiet.stderr  # CI=true and no TTY: no progress lines


def test_people_error_is_not_repeated_as_unknown_leave_rows(run_cli: Runner,
                                                             demo_copy: Path) -> None:
    hr = _hr(demo_copy)
    lines = hr.read_text("utf-8-sig").splitlines()
    lines[0] = lines[0].replace("work_email", "email_address")
    hr.write_text("\n".join(lines) + "\n", "utf-8")
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF)
    assert res.returncode == 3
    assert "E301" in res.stdout
    assert "E312" not in res.stdout  # the cause is shown once, not once per leave row


def test_output_to_a_fifo_writes_into_it_and_keeps_it(run_cli: Runner, tmp_path: Path) -> None:
    """``-o /dev/null`` or a named pipe is written in place, never replaced by a file."""
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = run_cli("scan", "-c", DEMO / "aimscheck.yaml", "--as-of", AS_OF, "-f", "json",
                   "-o", fifo)
    reader.join(timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(got[0])["organisation"] == "Northwind Analytics GmbH"


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    """`aimscheck … | head`: the pipe closes early; exit 141 (SIGPIPE's), no internal error."""
    import os
    import subprocess

    from tests.conftest import aimscheck_exe

    proc = subprocess.Popen([aimscheck_exe(), "scan", "-c", str(DEMO / "aimscheck.yaml"),
                             "--as-of", AS_OF, "-f", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "CI": "true"})
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the report is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, err
    assert "internal error" not in err
    assert "Exception ignored" not in err


def test_output_through_a_link_to_a_stream_keeps_the_link(tmp_path: Path) -> None:
    """``-o /dev/stdout`` with standard output redirected to a file: the link stays a link.

    ``/dev/stdout`` links to ``/proc/self/fd/1``, a regular file when stdout is redirected
    to one; replacing the link turned the machine's ``/dev/stdout`` into a plain file. The
    same shape here, without touching ``/dev``: a link to ``/proc/self/fd/1``.
    """
    import os
    import subprocess

    from tests.conftest import aimscheck_exe

    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    captured = tmp_path / "captured.json"
    with captured.open("wb") as out:
        proc = subprocess.run([aimscheck_exe(), "scan", "-c", str(DEMO / "aimscheck.yaml"),
                               "--as-of", AS_OF, "-f", "json", "-o", str(link)],
                              stdout=out, stderr=subprocess.PIPE, text=True, check=False,
                              env={**os.environ, "CI": "true"}, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert link.is_symlink()
    assert os.readlink(link) == "/proc/self/fd/1"
    assert json.loads(captured.read_text("utf-8"))["organisation"] == \
        "Northwind Analytics GmbH"


def test_output_to_a_link_writes_its_target(run_cli: Runner, tmp_path: Path) -> None:
    """A link to a report file is written through (its target replaced atomically)."""
    target = tmp_path / "reports" / "findings.json"
    target.parent.mkdir()
    target.write_text("old", "utf-8")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    dangling = tmp_path / "next.json"
    dangling.symlink_to(tmp_path / "reports" / "next-findings.json")
    proc = run_cli("scan", "-c", DEMO / "aimscheck.yaml", "--as-of", AS_OF, "-f", "json",
                   "-o", link, "-f", "junit", "-o", dangling)
    assert proc.returncode == 1, proc.stderr
    assert link.is_symlink()
    assert dangling.is_symlink()
    assert json.loads(target.read_text("utf-8"))["organisation"] == "Northwind Analytics GmbH"
    assert (tmp_path / "reports" / "next-findings.json").read_text("utf-8").startswith("<?xml")


def test_deputy_is_never_the_cause_of_the_finding(run_cli: Runner, tmp_path: Path) -> None:
    """The self-approver and the non-independent auditor are never named as the deputy."""
    js = tmp_path / "f.json"
    res = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "--format", "json", "-o", js)
    assert res.returncode == 1, res.stderr
    found = {(f["rule_id"], f["target_id"]): f
             for f in json.loads(js.read_text("utf-8"))["findings"]}
    # Daniel Okafor registered support-bot-llm:3 and approved it himself (demo gap)
    for rule in ("AIMS-REL-002", "AIMS-REL-003", "AIMS-REL-004"):
        f = found[(rule, "support-bot-llm:3")]
        assert f["status"] == "fail", f
        assert "Daniel Okafor" in f["message"]
        assert "who also registered" in f["message"]
        assert f["deputy"] is not None, f
        assert "Okafor" not in f["deputy"]["name"], f
    # Lars Eriksen audited PRC-INCIDENT without being independent or qualified
    f = found[("AIMS-MGT-002", "PRC-INCIDENT")]
    assert "auditor Lars Eriksen" in f["message"], f
    assert f["deputy"] is not None, f
    assert "Eriksen" not in f["deputy"]["name"], f
    # Priya Raman approved credit-risk-scorer:11 without authority
    f = found[("AIMS-REL-002", "credit-risk-scorer:11")]
    assert "by Priya Raman" in f["message"], f
    assert "not authorised" in f["message"], f
    assert f["deputy"] is not None, f
    assert "Raman" not in f["deputy"]["name"], f
