"""``notify`` and ``tickets sync`` act on the people the scan chose, absences included.

Łukasz Nowak (NW-1004) owns the model-release process (backup: Tomás O'Brien) and
doc-summariser. His leave is not in HR but in a separate absence export (``absence_csv``,
attached by the evidence store). The scan then passes him over; notify and tickets must
address exactly whom the scan names: the available backup, or — when nobody along the
chain is available — the accountable executive, never the person on leave.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from pathlib import Path

from checker.availability import availability
from checker.commands.closeloop import loop_scan
from checker.config import load_config
from tests.conftest import DEMO, Runner

from .conftest import NOT_IN_JIRA, hr_accounts
from .jira_server import JiraServer
from .test_sync import by_fp, failing, sync

AS_OF = "2026-11-30"
LUKASZ = "lukasz.nowak@northwind.example"
TOMAS = "tomas.obrien@northwind.example"
HELENA = "helena.vogt@northwind.example"  # the accountable executive
PROCESS = "AIMS-MGT-002:process/PRC-MODEL-RELEASE"

ABSENCES = """
  - adapter: absence_csv
    name: absences
    path: absences.csv
    columns: {person: who, start: first_day, end: last_day, type: kind}
"""


def _on_leave(cfg: Path, *rows: str) -> None:
    """Add an absence source (once) with ``who`` on leave around the as-of."""
    text = cfg.read_text("utf-8")
    if "adapter: absence_csv" not in text:
        assert "\nsources:\n" in text
        cfg.write_text(text.replace("\nsources:\n", "\nsources:" + ABSENCES, 1), "utf-8")
    (cfg.parent / "absences.csv").write_text(
        "who,first_day,last_day,kind\n"
        + "".join(f"{who},2026-11-23,2026-12-11,Parental leave\n" for who in rows), "utf-8")


def _scan_owner(run_cli: Runner, cfg: Path, fp: str) -> tuple[str, str]:
    f = failing(run_cli, cfg)[fp]
    owner = f["owner"]
    assert isinstance(owner, dict)
    return str(owner["email"]), str(owner["via"])


def test_the_loop_keeps_the_people_the_scan_saw(demo_copy: Path) -> None:
    """The index tickets map people with is the scan's: absences from absence sources count."""
    _on_leave(demo_copy, "NW-1004")
    loaded = load_config(demo_copy)
    at = datetime(2026, 11, 30, tzinfo=UTC)
    result, identity = loop_scan(loaded, at, waivers=None, history_url=None, progress=False)
    a = availability(identity, LUKASZ, at, loaded.config.settings)
    assert a.status == "on_leave", a.reason
    # every owner the scan named is available in that index, or is the executive it falls
    # back to when nobody is (the same answer the scan gave)
    owners = {(f.owner.id, f.owner.via) for f in result.findings
              if f.status in ("fail", "error")}
    assert owners
    for pid, via in owners:
        assert availability(identity, pid, at, loaded.config.settings).ok or \
            via == "accountable_executive", pid
    assert LUKASZ not in {f.owner.email for f in result.findings}


def test_a_ticket_follows_the_scan_to_the_backup_and_the_executive(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str]) -> None:
    accounts = hr_accounts(DEMO)
    assert sync(run_cli, demo, env, "--apply").returncode == 0
    key = str(by_fp(jira)[PROCESS]["key"])
    assert jira.issues[key]["fields"]["assignee"]["accountId"] == accounts[LUKASZ][0]

    # Łukasz goes on leave: the scan names the backup, and the ticket is reassigned to her
    _on_leave(demo, "NW-1004")
    assert _scan_owner(run_cli, demo, PROCESS) == (TOMAS, "backup")
    p = sync(run_cli, demo, env, "--apply")
    assert p.returncode == 0, p.stdout + p.stderr
    issue = jira.issues[key]
    assert issue["fields"]["assignee"]["accountId"] == accounts[TOMAS][0]
    assert any(c.startswith("Reassigned by aimscheck from Łukasz Nowak to Tomás O'Brien")
               and "(via backup)" in c for c in issue["comments"])
    # every open ticket is assigned to its finding's owner as the scan names them
    want = failing(run_cli, demo)
    got = by_fp(jira)
    for fp, f in want.items():
        owner = f["owner"]
        assert isinstance(owner, dict)
        fields = got[fp]["fields"]
        assert isinstance(fields, dict)
        assignee = fields["assignee"]
        if owner["email"] == NOT_IN_JIRA:
            assert assignee is None
        else:
            assert assignee["accountId"] == accounts[str(owner["email"])][0], fp
    open_assignees = {i["fields"]["assignee"]["accountId"] for i in jira.issues.values()
                      if i["fields"]["assignee"] and i["fields"]["status"]["name"] != "Done"}
    assert accounts[LUKASZ][0] not in open_assignees

    # the backup is away too: nobody along the chain is available, the scan names the
    # accountable executive, and so does the ticket
    _on_leave(demo, "NW-1004", TOMAS)
    assert _scan_owner(run_cli, demo, PROCESS) == (HELENA, "accountable_executive")
    p = sync(run_cli, demo, env, "--apply")
    assert p.returncode == 0, p.stdout + p.stderr
    assert jira.issues[key]["fields"]["assignee"]["accountId"] == accounts[HELENA][0]


def test_notify_writes_to_whom_the_scan_names_never_to_the_person_on_leave(
        run_cli: Runner, demo_copy: Path, tmp_path: Path) -> None:
    demo_copy.write_text(demo_copy.read_text("utf-8")
                         + '\nnotify:\n  sender: "AI governance <aims@northwind.example>"\n',
                         "utf-8")
    _on_leave(demo_copy, "NW-1004", TOMAS)
    assert _scan_owner(run_cli, demo_copy, PROCESS) == (HELENA, "accountable_executive")
    out = tmp_path / "eml"
    p = run_cli("notify", "-c", demo_copy, "--as-of", AS_OF, "--eml", out)
    assert p.returncode == 0, p.stdout + p.stderr
    bodies: dict[str, str] = {}
    for path in out.iterdir():
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        bodies[msg["To"].addresses[0].addr_spec] = msg.get_content()
    owners: dict[str, set[str]] = {}
    for f in failing(run_cli, demo_copy).values():
        owner = f["owner"]
        assert isinstance(owner, dict)
        owners.setdefault(str(owner["email"]), set()).add(
            f"{f['rule_id']} {f['target_kind']}/{f['target_id']}")
    assert set(bodies) == set(owners)  # no history: the recipients are exactly the owners
    assert LUKASZ not in bodies
    assert TOMAS not in bodies
    assert "AIMS-MGT-002 process/PRC-MODEL-RELEASE" in bodies[HELENA]
    for to, items in owners.items():
        assert all(item in bodies[to] for item in items), to
