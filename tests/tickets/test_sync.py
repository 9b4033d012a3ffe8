"""``tickets sync`` on the demo against a loopback Jira that stores issues (issue 20)."""

from __future__ import annotations

import json
from pathlib import Path
from subprocess import CompletedProcess

from tests.conftest import DEMO, Runner

from .conftest import NOT_IN_JIRA, TOKEN, hr_accounts
from .jira_server import Fault, JiraServer

AS_OF = "2026-11-30"


def sync(run_cli: Runner, cfg: Path, env: dict[str, str], *extra: str
         ) -> CompletedProcess[str]:
    return run_cli("tickets", "sync", "-c", cfg, "--as-of", AS_OF, *extra, env=env)


def failing(run_cli: Runner, cfg: Path) -> dict[str, dict[str, object]]:
    """fingerprint -> finding, from the scan JSON (what tickets must exist for)."""
    p = run_cli("scan", "-c", cfg, "--as-of", AS_OF, "-f", "json")
    assert p.returncode in (0, 1), p.stderr
    out = {}
    for f in json.loads(p.stdout)["findings"]:
        if f["status"] in ("fail", "error"):
            out[f"{f['rule_id']}:{f['target_kind']}/{f['target_id']}"] = f
    return out


def by_fp(jira: JiraServer) -> dict[str, dict[str, object]]:
    return {i["properties"]["aimscheck"]["fingerprint"]: i for i in jira.issues.values()}


def test_dry_run_changes_nothing_and_prints_the_plan_per_owner(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str]) -> None:
    p = sync(run_cli, demo, env)
    assert p.returncode == 0, p.stderr
    assert "dry run" in p.stdout
    assert jira.writes() == []
    assert jira.issues == {}
    n = len(failing(run_cli, demo))
    assert f"plan: {n} create, 0 update" in p.stdout
    assert "  Daniel Okafor <daniel.okafor@northwind.example>" in p.stdout


def test_sync_creates_one_ticket_per_failing_finding_assigned_then_is_idempotent(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str]) -> None:
    want = failing(run_cli, demo)
    accounts = hr_accounts(DEMO)
    p = sync(run_cli, demo, env, "--apply")
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(jira.issues) == len(want) > 20
    got = by_fp(jira)
    assert set(got) == set(want)
    for fp, f in want.items():
        issue = got[fp]
        fields = issue["fields"]
        owner = f["owner"]
        assert isinstance(owner, dict)
        assert isinstance(fields, dict)
        acc = accounts.get(str(owner["email"]), ("", ""))[0]
        if owner["email"] == NOT_IN_JIRA:
            assert fields["assignee"] is None  # reported, not a crash
        else:
            assert fields["assignee"]["accountId"] == acc, fp
        assert f["rule_id"] in fields["labels"]
        assert f"severity-{f['severity']}" in fields["labels"]
        text = json.dumps(fields["description"], ensure_ascii=False)
        assert str(f["message"]) in text
        assert "ISO/IEC 42001" in text
        deputy = f.get("deputy")
        if isinstance(deputy, dict) and deputy.get("email") in accounts:
            assert accounts[str(deputy["email"])][0] in issue["watchers"]
    assert "Zoë Müller <zoe.mueller@northwind.example>" in p.stdout.split(
        "Cannot be assigned")[1]
    # a second run changes nothing
    before = len(jira.writes())
    again = sync(run_cli, demo, env, "--apply")
    assert again.returncode == 0, again.stderr
    assert len(jira.writes()) == before
    assert f"0 create, 0 update, 0 reassign, 0 escalate, 0 reopen, 0 close, {len(want)} " \
           "unchanged" in again.stdout
    assert TOKEN not in p.stdout + p.stderr + again.stdout + again.stderr


def test_fixing_a_gap_closes_exactly_its_ticket_with_a_comment(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str]) -> None:
    assert sync(run_cli, demo, env, "--apply").returncode == 0
    fp = "AIMS-OWN-002:ai_system/support-chatbot"
    key = by_fp(jira)[fp]["key"]
    reg = demo.parent / "register.yaml"
    text = reg.read_text("utf-8")
    reg.write_text(text.replace(
        "      # backup: still to be named after the support re-organisation",
        "      backup: pedro.alves@northwind.example"), "utf-8")
    p = sync(run_cli, demo, env, "--apply")
    assert p.returncode == 0, p.stdout + p.stderr
    done = {k for k, i in jira.issues.items() if i["fields"]["status"]["name"] == "Done"}
    assert done == {key}
    comments = jira.issues[str(key)]["comments"]
    assert len(comments) == 1
    assert "passes" in comments[0]
    assert f"close      {key}" in p.stdout


def test_a_waiver_closes_its_ticket(run_cli: Runner, demo: Path, jira: JiraServer,
                                    env: dict[str, str]) -> None:
    assert sync(run_cli, demo, env, "--apply").returncode == 0
    fp = "AIMS-TRN-001:risk/RSK-004"
    key = str(by_fp(jira)[fp]["key"])
    (demo.parent / "waivers.yaml").write_text("""\
version: 1
waivers:
  - id: WVR-001
    rule: AIMS-TRN-001
    subject: risk/RSK-004
    reason: The course was retired; the replacement opens in January.
    requested_by: ingrid.halvorsen@northwind.example
    approved_by: arjun.mehta@northwind.example
    start: 2026-11-01
    expiry: 2027-01-31
    risk_acceptance: RSK-004
""", "utf-8")
    p = sync(run_cli, demo, env, "--apply", "--waivers", demo.parent / "waivers.yaml")
    assert p.returncode == 0, p.stdout + p.stderr
    done = {k for k, i in jira.issues.items() if i["fields"]["status"]["name"] == "Done"}
    assert done == {key}
    assert "WVR-001" in jira.issues[key]["comments"][0]


def test_429_and_5xx_are_retried(run_cli: Runner, demo: Path, jira: JiraServer,
                                 env: dict[str, str]) -> None:
    jira.inject(Fault("GET", r"/search/jql$", 429, times=1, retry_after="0"))
    jira.inject(Fault("PUT", r"/properties/aimscheck$", 503, times=2, after=3))
    jira.inject(Fault("POST", r"/watchers$", 502, times=1, after=1))
    jira.inject(Fault("POST", r"/issue$", 429, times=1, after=5, retry_after="0"))
    p = sync(run_cli, demo, env, "--apply")
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(jira.issues) == len(failing(run_cli, demo))
    assert all(f.times == 0 for f in jira.faults)
    assert all("aimscheck" in i["properties"] for i in jira.issues.values())


def test_a_server_failure_midway_reports_what_was_done_and_exits_3(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str]) -> None:
    jira.inject(Fault("POST", r"/rest/api/3/issue$", 500, times=1, after=10))
    p = sync(run_cli, demo, env, "--apply")
    assert p.returncode == 3, p.stdout + p.stderr
    assert len(jira.issues) == 10
    report = p.stdout.split("applied:")[1]
    changed = [ln for ln in report.splitlines() if ln.startswith("  changed ")]
    assert sorted(ln.split()[1] for ln in changed) == sorted(jira.issues)
    failed = [ln for ln in report.splitlines() if ln.startswith("  FAILED")]
    assert len(failed) == 1
    assert "HTTP 500" in failed[0]
    assert "(not created)" in failed[0]
    total = len(failing(run_cli, demo))
    not_changed = [ln for ln in report.splitlines() if ln.startswith("  not changed")]
    assert len(not_changed) == total - 11
    # the next run finishes the job without duplicates
    again = sync(run_cli, demo, env, "--apply", "--report", demo.parent / "sync.json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(jira.issues) == total == len(by_fp(jira))
    rep = json.loads((demo.parent / "sync.json").read_text("utf-8"))
    assert rep["applied"] is True
    outcomes = [(c["action"], c["outcome"]) for c in rep["changes"]]
    assert outcomes.count(("create", "done")) == total - 10
    assert outcomes.count(("unchanged", "unchanged")) == 10
    assert all(c["owner"] for c in rep["changes"])


def test_bad_tickets_config_is_a_located_error(run_cli: Runner, demo: Path,
                                               env: dict[str, str]) -> None:
    text = demo.read_text("utf-8").replace("    timeout_seconds: 5\n",
                                           "    timeout_secs: 5\n")
    demo.write_text(text, "utf-8")
    p = sync(run_cli, demo, env)
    assert p.returncode == 2
    line = text.splitlines().index("    timeout_secs: 5") + 1
    assert f"aimscheck.yaml:{line}:" in p.stderr
    assert "timeout_secs" in p.stderr


def _drop_rsk011(base: Path) -> None:
    reg = base / "register.yaml"
    lines = reg.read_text("utf-8").splitlines(keepends=True)
    start = lines.index("  - id: RSK-011\n")
    reg.write_text("".join(lines[:start] + lines[start + 6:]), "utf-8")


def test_a_new_owner_reassigns_the_ticket_with_a_comment(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str]) -> None:
    assert sync(run_cli, demo, env, "--apply").returncode == 0
    fp = "AIMS-OWN-002:ai_system/support-chatbot"
    key = str(by_fp(jira)[fp]["key"])
    count = len(jira.issues)
    reg = demo.parent / "register.yaml"
    reg.write_text(reg.read_text("utf-8").replace(
        "      primary: daniel.okafor@northwind.example\n",
        "      primary: pedro.alves@northwind.example\n", 1), "utf-8")
    p = sync(run_cli, demo, env, "--apply")
    assert p.returncode == 0, p.stdout + p.stderr
    pedro = hr_accounts(DEMO)["pedro.alves@northwind.example"][0]
    issue = jira.issues[key]
    assert issue["fields"]["assignee"]["accountId"] == pedro
    assert any(c.startswith("Reassigned by aimscheck from Daniel Okafor to Pedro Alves")
               for c in issue["comments"])
    assert "Pedro Alves" in json.dumps(issue["fields"]["description"], ensure_ascii=False)
    assert len(by_fp(jira)) == len(jira.issues)  # one ticket per fingerprint, still
    assert len(jira.issues) >= count


def test_a_subject_that_disappears_closes_its_ticket(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str]) -> None:
    assert sync(run_cli, demo, env, "--apply").returncode == 0
    keys = {str(i["key"]) for fp, i in by_fp(jira).items() if fp.endswith(":risk/RSK-011")}
    assert keys
    _drop_rsk011(demo.parent)
    p = sync(run_cli, demo, env, "--apply")
    assert p.returncode == 0, p.stdout + p.stderr
    done = {k for k, i in jira.issues.items() if i["fields"]["status"]["name"] == "Done"}
    assert done == keys
    for k in keys:
        assert "no longer in the evidence" in jira.issues[k]["comments"][-1]


def test_nothing_is_closed_while_a_source_is_in_error(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str]) -> None:
    assert sync(run_cli, demo, env, "--apply").returncode == 0
    _drop_rsk011(demo.parent)
    (demo.parent / "evidence" / "alerts.jsonl").unlink()
    p = sync(run_cli, demo, env, "--apply")
    assert p.returncode == 3, p.stdout + p.stderr
    assert "kept open" in p.stdout
    done = {k for k, i in jira.issues.items() if i["fields"]["status"]["name"] == "Done"}
    assert done == set()


def test_canary_no_credential_in_any_output_even_when_the_server_echoes_it(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str]) -> None:
    import base64

    jira.inject(Fault("PUT", r"/properties/aimscheck$", 400, times=1, after=2, echo=True))
    p = run_cli("--debug", "tickets", "sync", "-c", demo, "--as-of", AS_OF, "--apply",
                env=env)
    assert p.returncode == 3, p.stdout + p.stderr
    assert "injected 400 for" in p.stdout
    basic = base64.b64encode(f"{jira.email}:{TOKEN}".encode()).decode()
    for secret in (TOKEN, basic):
        assert secret not in p.stdout + p.stderr
        assert secret not in json.dumps(jira.issues)


def test_data_center_v2_with_wiki_markup_and_usernames(run_cli: Runner, tmp_path: Path) -> None:
    import shutil

    from .conftest import TICKETS_YAML
    from .jira_server import serve

    accounts = hr_accounts(DEMO)
    users = {email.split("@")[0]: name for email, (_, name) in accounts.items()}
    with serve(JiraServer(email="", token=TOKEN, users=users, datacenter=True)) as dc:
        base = tmp_path / "demo"
        shutil.copytree(DEMO, base)
        (base / "jira-users.csv").write_text(
            "accountId,email\n" + "".join(f"{e.split('@')[0]},{e}\n" for e in accounts),
            "utf-8")
        cfg = base / "aimscheck.yaml"
        conn = TICKETS_YAML.format(site=dc.url).replace(
            "auth: {email_env: TEST_JIRA_EMAIL, token_file: jira-token.txt}",
            "deployment: datacenter\n    auth: {pat_file: jira-token.txt}\n"
            "    identity: {csv: jira-users.csv}\n    account_id_pattern: '^$'")
        cfg.write_text(cfg.read_text("utf-8") + conn, "utf-8")
        (base / "jira-token.txt").write_text(TOKEN + "\n", "utf-8")
        p = run_cli("tickets", "sync", "-c", cfg, "--as-of", AS_OF, "--apply")
        assert p.returncode == 0, p.stdout + p.stderr
        want = failing(run_cli, cfg)
        assert len(dc.issues) == len(want)
        got = {i["properties"]["aimscheck"]["fingerprint"]: i for i in dc.issues.values()}
        f = want["AIMS-OWN-002:ai_system/support-chatbot"]
        issue = got["AIMS-OWN-002:ai_system/support-chatbot"]
        owner = f["owner"]
        assert isinstance(owner, dict)
        assert issue["fields"]["assignee"]["name"] == str(owner["email"]).split("@")[0]
        assert issue["fields"]["description"].startswith("h3. Finding\n")
        again = run_cli("tickets", "sync", "-c", cfg, "--as-of", AS_OF, "--apply")
        assert again.returncode == 0
        assert "0 create, 0 update" in again.stdout
        assert TOKEN not in p.stdout + p.stderr
