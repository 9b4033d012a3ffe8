"""Field changes in the changelog: what an event was about, and who owned a ticket, at its
instant — served by a real loopback Jira (pytest-httpserver), read through the live adapter.

A Version, Model or requester edited after an approval does not move the old approval onto
the new value; the person an incident was escalated to is the one named at the escalation;
owner fields (assignee, a custom user picker named by its display name, an account whose
e-mail is hidden and resolved by the identity map) give an ownership history with gaps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_httpserver import HTTPServer

from evidence_adapters.jira import JiraAdapter
from tests.jira.jira_payloads import (
    LUKASZ,
    NADIA,
    SIOBHAN,
    ZOE,
    approval,
    change,
    history,
    issue,
    move,
    page_v3,
)

Make = Callable[..., JiraAdapter]
SEARCH = "/rest/api/3/search/jql"


def text_change(field: str, field_id: str, old: str | None, new: str | None
                ) -> dict[str, Any]:
    return {"field": field, "fieldtype": "custom", "fieldId": field_id, "from": None,
            "fromString": old, "to": None, "toString": new}


def serve(server: HTTPServer, *issues: dict[str, Any]) -> str:
    server.expect_request(SEARCH).respond_with_json(page_v3(list(issues), None, is_last=True))
    return server.url_for("").rstrip("/")


def test_an_approval_keeps_the_version_it_approved(httpserver: HTTPServer,
                                                   make_adapter: Make) -> None:
    a = approval("AIREL-7", 10407, "fraud-gbm", "8", LUKASZ, "2026-07-14T10:30:00.000+0200",
                 requester=NADIA, hid=30000)
    # Approved for version 7; the next week the ticket was re-used for version 8 (and handed
    # to Łukasz as requester) without a new approval.
    a["changelog"]["histories"] = [
        history(30000, NADIA, "2026-07-10T09:00:00.000+0200", move("Open", "In Review")),
        history(30001, SIOBHAN, "2026-07-14T10:30:00.000+0200", move("In Review", "Approved")),
        history(30002, NADIA, "2026-07-21T09:00:00.000+0200",
                text_change("Model Version", "customfield_10051", "7", "8"),
                change("Reporter", "reporter", NADIA, LUKASZ)),
    ][::-1]
    a["fields"]["reporter"] = LUKASZ
    (got,) = make_adapter(site=serve(httpserver, a), jql="project = AIREL",
                          approvals={}).collect().approvals
    assert (got.subject, got.version, got.model) == ("fraud-gbm:7", "7", "fraud-gbm")
    assert got.requested_by == "nadia.petrova@northwind.example"   # the requester then
    assert got.approver == "siobhan.nibhriain@northwind.example"


def test_a_change_in_the_approving_entry_counts(httpserver: HTTPServer,
                                               make_adapter: Make) -> None:
    a = issue("AIREL-8", 10408, "Release Approval", "Approved", {
        "reporter": NADIA, "customfield_10050": "fraud-gbm", "customfield_10051": "9"}, [
        history(30010, LUKASZ, "2026-07-14T10:30:00.000+0200", move("In Review", "Approved"),
                text_change("Model Version", "customfield_10051", "8", "9"))])
    (got,) = make_adapter(site=serve(httpserver, a), jql="project = AIREL",
                          approvals={}).collect().approvals
    assert got.version == "9"


def test_escalated_to_is_the_person_named_at_the_escalation(httpserver: HTTPServer,
                                                            make_adapter: Make) -> None:
    inc = issue("AIINC-9", 10709, "AI Incident", "Resolved", {
        "priority": {"id": "2", "name": "High"}, "customfield_10070": "credit-scoring",
        "customfield_10072": ZOE, "assignee": SIOBHAN}, [
        history(41001, SIOBHAN, "2026-10-01T10:00:00.000+0200", move("Open", "Acknowledged")),
        history(41002, SIOBHAN, "2026-10-01T11:00:00.000+0200",
                move("Acknowledged", "Escalated"),
                change("Escalated To", "customfield_10072", None, LUKASZ)),
        history(41003, LUKASZ, "2026-10-09T09:00:00.000+0200",   # handed it on himself
                change("Escalated To", "customfield_10072", LUKASZ, ZOE)),
    ])
    (got,) = make_adapter(site=serve(httpserver, inc), jql="project = AIINC",
                          incidents={}).collect().incidents
    assert got.escalated_to == "lukasz.nowak@northwind.example"
    assert got.assignee == "siobhan.nibhriain@northwind.example"


def test_owner_fields_give_an_ownership_history(httpserver: HTTPServer,
                                                make_adapter: Make) -> None:
    risk = issue("AIRISK-30", 10530, "Risk", "Monitoring", {
        "assignee": ZOE, "customfield_10042": None}, [
        history(51001, NADIA, "2026-06-02T09:00:00.000+0200",
                change("assignee", "assignee", None, LUKASZ),
                change("Backup Owner", "customfield_10042", None, SIOBHAN)),
        history(51002, LUKASZ, "2026-08-03T09:00:00.000+0200",   # handed over by himself
                change("assignee", "assignee", LUKASZ, ZOE)),
        history(51003, SIOBHAN, "2026-09-01T09:00:00.000+0200",  # stepped down herself
                change("Backup Owner", "customfield_10042", SIOBHAN, None)),
    ])
    bundle = make_adapter(
        site=serve(httpserver, risk), jql="project = AIRISK",
        identity={"map": {ZOE["accountId"]: "zoe.mueller@northwind.example"}},
        risks={"owners": {"primary": "assignee", "backup": "Backup Owner"}}).collect()
    (subj,) = bundle.subjects
    assert subj.owners == {"primary": "zoe.mueller@northwind.example"}
    assert [(s.role, s.owner, s.start.date().isoformat(),
             s.end.date().isoformat() if s.end else None) for s in subj.history] == [
        ("primary", "lukasz.nowak@northwind.example", "2026-06-02", "2026-08-03"),
        ("primary", "zoe.mueller@northwind.example", "2026-08-03", None),
        ("backup", "siobhan.nibhriain@northwind.example", "2026-06-02", "2026-09-01"),
        ("backup", None, "2026-09-01", None),                  # cleared: nobody since
    ]


def test_an_incident_keeps_who_was_assigned_when(httpserver: HTTPServer,
                                                 make_adapter: Make) -> None:
    inc = issue("AIINC-10", 10710, "AI Incident", "Closed", {
        "priority": {"id": "2", "name": "High"}, "customfield_10070": "credit-scoring",
        "assignee": NADIA}, [
        history(42001, SIOBHAN, "2026-10-01T10:00:00.000+0200",
                change("assignee", "assignee", None, SIOBHAN), move("Open", "Acknowledged")),
        history(42002, SIOBHAN, "2026-10-03T10:00:00.000+0200", move("Acknowledged", "Closed")),
        history(42003, NADIA, "2026-10-05T10:00:00.000+0200",
                change("assignee", "assignee", SIOBHAN, NADIA)),
    ])
    (got,) = make_adapter(site=serve(httpserver, inc), jql="project = AIINC",
                          incidents={}).collect().incidents
    assert got.assignee == "nadia.petrova@northwind.example"
    assert [(s.role, s.owner, s.start.isoformat(), s.end.isoformat() if s.end else None)
            for s in got.assignee_history] == [
        ("assignee", "siobhan.nibhriain@northwind.example", "2026-10-01T08:00:00+00:00",
         "2026-10-05T08:00:00+00:00"),
        ("assignee", "nadia.petrova@northwind.example", "2026-10-05T08:00:00+00:00", None)]
