"""The real adapter against a real loopback HTTP server serving documented Jira shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from checker.errors import EvidenceError
from evidence_adapters.jira import JiraAdapter
from tests.jira.conftest import Recorded, json_response, token_pages
from tests.jira.jira_payloads import (
    EMAIL,
    LUKASZ,
    NADIA,
    PAT,
    SIOBHAN,
    TOKEN,
    ZOE,
    approval,
    change,
    history,
    issue,
    move,
    page_v2,
    page_v3,
    user,
)

Make = Callable[..., JiraAdapter]
SEARCH = "/rest/api/3/search/jql"


def site(server: HTTPServer) -> str:
    return server.url_for("").rstrip("/")


def test_cloud_paginates_to_the_end_and_records_every_page(
        httpserver: HTTPServer, make_adapter: Make, recorded: Recorded) -> None:
    pages = [
        page_v3([approval("AIREL-1", 10401, "credit-risk-scorer", "11", LUKASZ,
                          "2026-07-14T10:30:00.000+0200", hid=100)], "CAEaAggB-p2",
                is_last=False),
        page_v3([approval("AIREL-2", 10402, "credit-risk-scorer", "12", SIOBHAN,
                          "2026-10-04T16:00:00.000+0200", hid=200)], "CAEaAggB-p3",
                is_last=False),
        # The last page: no nextPageToken at all and no isLast (JRACLOUD-92184).
        page_v3([approval("AIREL-3", 10403, "fraud-gbm", "7", ZOE,
                          "2026-11-03T10:30:00.000+0100", hid=300)], None),
    ]
    seen_auth: list[str | None] = []

    def handler(request: Request) -> Response:
        seen_auth.append(request.authorization.username if request.authorization else None)
        assert "changelog" in request.args["expand"]
        return token_pages(pages)(request)

    httpserver.expect_request(SEARCH).respond_with_handler(handler)
    bundle = make_adapter(site=site(httpserver), approvals={}).collect()
    got = [(a.id, a.subject, a.approver, a.decided_at) for a in bundle.approvals]
    assert got == [
        ("AIREL-1", "credit-risk-scorer:11", "lukasz.nowak@northwind.example",
         datetime(2026, 7, 14, 8, 30, tzinfo=UTC)),            # +0200 → UTC
        ("AIREL-2", "credit-risk-scorer:12", "siobhan.nibhriain@northwind.example",
         datetime(2026, 10, 4, 14, 0, tzinfo=UTC)),
        # Zoë's email is hidden and no map is configured: her accountId is the handle.
        ("AIREL-3", "fraud-gbm:7", ZOE["accountId"], datetime(2026, 11, 3, 9, 30, tzinfo=UTC)),
    ]
    assert seen_auth == [EMAIL, EMAIL, EMAIL]
    assert bundle.approvals[0].requested_by == "nadia.petrova@northwind.example"
    prov = bundle.approvals[1].provenance
    assert (prov.adapter, prov.locator, prov.url) == ("jira", "AIREL-2",
                                                      f"{site(httpserver)}/browse/AIREL-2")
    assert sorted(recorded.payloads) == [f"search/approvals/page-000{i}.json" for i in (1, 2, 3)]
    assert json.loads(recorded.payloads["search/approvals/page-0002.json"]) == pages[1]


def test_is_last_true_stops_even_with_a_token(httpserver: HTTPServer, make_adapter: Make
                                              ) -> None:
    body = page_v3([approval("AIREL-1", 10401, "m", "1", LUKASZ,
                             "2026-07-14T10:30:00.000+0200")], "CAEaAggB-stale", is_last=True)
    httpserver.expect_request(SEARCH).respond_with_json(body)
    bundle = make_adapter(site=site(httpserver), approvals={}).collect()
    assert len(bundle.approvals) == 1
    assert len(httpserver.log) == 1


def _risk_histories() -> list[dict[str, Any]]:
    # Owner cleared on Monday 2026-09-07, set again on Friday 2026-09-11: a gap.
    return [
        history(501, NADIA, "2026-06-02T09:00:00.000+0200", change("assignee", "assignee",
                                                                   None, LUKASZ)),
        history(502, LUKASZ, "2026-06-20T11:00:00.000+0200", move("Open", "Under Review")),
        history(503, ZOE, "2026-07-01T15:00:00.000+0200", move("Under Review", "Monitoring")),
        history(504, NADIA, "2026-09-07T09:00:00.000+0200", change("assignee", "assignee",
                                                                   LUKASZ, None)),
        history(505, NADIA, "2026-09-11T17:00:00.000+0200", change("assignee", "assignee",
                                                                   None, SIOBHAN)),
        history(506, NADIA, "2026-09-12T10:00:00.000+0200",
                change("Backup Owner", "customfield_10042", None, ZOE)),
        history(507, SIOBHAN, "2026-10-01T09:00:00.000+0200", move("Monitoring", "Under Review")),
        history(508, ZOE, "2026-10-02T09:00:00.000+0200", move("Under Review", "Monitoring")),
    ]


def test_truncated_changelog_is_completed_from_the_changelog_endpoint(
        httpserver: HTTPServer, make_adapter: Make, recorded: Recorded) -> None:
    hist = _risk_histories()
    risk = issue("AIRISK-12", 10234, "Risk", "Monitoring", {
        "summary": "Credit scorer under-predicts default risk for thin-file applicants",
        "assignee": SIOBHAN, "customfield_10042": ZOE,
        "customfield_10070": {"self": "x", "value": "credit-scoring", "id": "10300"},
    }, hist, embed=3)
    httpserver.expect_request(SEARCH).respond_with_json(page_v3([risk], None, is_last=True))
    oldest_first = sorted(hist, key=lambda h: int(h["id"]))

    def changelog(request: Request) -> Response:
        start = int(request.args["startAt"])
        values = oldest_first[start:start + 5]
        return json_response({"self": "…", "maxResults": 5, "startAt": start,
                              "total": len(hist), "isLast": start + 5 >= len(hist),
                              "values": values})

    httpserver.expect_request("/rest/api/3/issue/AIRISK-12/changelog"
                              ).respond_with_handler(changelog)
    bundle = make_adapter(site=site(httpserver), risks={}).collect()
    (subj,) = bundle.subjects
    assert (subj.kind, subj.id, subj.attributes) == ("risk", "AIRISK-12",
                                                     {"system": "credit-scoring"})
    assert subj.owners == {"primary": "siobhan.nibhriain@northwind.example",
                           "backup": ZOE["accountId"]}
    spans = [(s.role, s.owner, s.start.date().isoformat(),
              s.end.date().isoformat() if s.end else None) for s in subj.history]
    assert spans == [
        ("primary", "lukasz.nowak@northwind.example", "2026-06-02", "2026-09-07"),
        ("primary", None, "2026-09-07", "2026-09-11"),                     # the gap
        ("primary", "siobhan.nibhriain@northwind.example", "2026-09-11", None),
        ("backup", ZOE["accountId"], "2026-09-12", None),
    ]
    # Both reviews (leaving "Under Review"), one of them only in the full changelog.
    assert [(r.kind, r.reviewer, r.reviewed_at) for r in bundle.reviews] == [
        ("risk_review", ZOE["accountId"], datetime(2026, 7, 1, 13, tzinfo=UTC)),
        ("risk_review", ZOE["accountId"], datetime(2026, 10, 2, 7, tzinfo=UTC)),
    ]
    assert sorted(recorded.payloads) == ["changelog/AIRISK-12/page-0001.json",
                                         "changelog/AIRISK-12/page-0002.json",
                                         "search/risks/page-0001.json"]


def _flaky(first: Response, then: Any) -> Callable[[Request], Response]:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        return first if calls["n"] == 1 else json_response(then)

    return handler


def test_429_with_retry_after_then_success(httpserver: HTTPServer, make_adapter: Make) -> None:
    body = page_v3([approval("AIREL-1", 10401, "m", "1", LUKASZ,
                             "2026-07-14T10:30:00.000+0200")], None, is_last=True)
    limited = json_response({"errorMessages": ["Rate limit exceeded."]}, 429,
                            {"Retry-After": "1"})
    httpserver.expect_request(SEARCH).respond_with_handler(_flaky(limited, body))
    bundle = make_adapter(site=site(httpserver), approvals={}).collect()
    assert len(bundle.approvals) == 1
    assert [r.status_code for _, r in httpserver.log] == [429, 200]


def test_retry_after_beyond_the_time_budget_fails_at_once(httpserver: HTTPServer,
                                                          make_adapter: Make) -> None:
    limited = json_response({"errorMessages": ["Rate limit exceeded."]}, 429,
                            {"Retry-After": "3600"})
    httpserver.expect_request(SEARCH).respond_with_response(limited)
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=site(httpserver), approvals={}).collect()
    assert exc.value.diagnostics[0].code == "E324"
    assert "3600" in exc.value.diagnostics[0].message
    assert len(httpserver.log) == 1


def test_500_then_success(httpserver: HTTPServer, make_adapter: Make) -> None:
    body = page_v3([approval("AIREL-1", 10401, "m", "1", LUKASZ,
                             "2026-07-14T10:30:00.000+0200")], None, is_last=True)
    httpserver.expect_request(SEARCH).respond_with_handler(
        _flaky(Response("<html>Bad gateway</html>", status=502), body))
    assert len(make_adapter(site=site(httpserver), approvals={}).collect().approvals) == 1
    assert [r.status_code for _, r in httpserver.log] == [502, 200]


def test_persistent_500_is_an_error_after_bounded_attempts(httpserver: HTTPServer,
                                                           make_adapter: Make) -> None:
    httpserver.expect_request(SEARCH).respond_with_json({"errorMessages": ["oops"]},
                                                        status=500)
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=site(httpserver), approvals={}).collect()
    (d,) = exc.value.diagnostics
    assert d.code == "E324"
    assert "HTTP 500" in d.message
    assert "3 attempts" in d.message
    assert len(httpserver.log) == 3


def test_a_failing_changelog_page_fails_the_source(httpserver: HTTPServer,
                                                   make_adapter: Make) -> None:
    risk = issue("AIRISK-12", 10234, "Risk", "Monitoring", {"assignee": SIOBHAN},
                 _risk_histories(), embed=2)
    httpserver.expect_request(SEARCH).respond_with_json(page_v3([risk], None, is_last=True))
    httpserver.expect_request("/rest/api/3/issue/AIRISK-12/changelog").respond_with_json(
        {"errorMessages": ["Internal server error"]}, status=503)
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=site(httpserver), risks={}).collect()
    assert exc.value.diagnostics[0].code == "E324"
    assert "/rest/api/3/issue/AIRISK-12/changelog" in exc.value.diagnostics[0].message


@pytest.mark.parametrize(("status", "code"), [(401, "E321"), (403, "E322"), (404, "E323")])
def test_auth_errors_name_site_and_variables_never_the_token(
        httpserver: HTTPServer, make_adapter: Make, status: int, code: str) -> None:
    httpserver.expect_request(SEARCH).respond_with_json(
        {"errorMessages": ["Client must be authenticated"]}, status=status)
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=site(httpserver), approvals={}).collect()
    (d,) = exc.value.diagnostics
    assert d.code == code
    text = d.one_line()
    assert "\n" not in text
    assert site(httpserver) in text
    assert "JIRA_API_TOKEN" in text
    assert TOKEN not in str(exc.value)
    assert TOKEN not in text
    assert len(httpserver.log) == 1  # not retried


def test_missing_token_variable(httpserver: HTTPServer, make_adapter: Make,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIRA_API_TOKEN")
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=site(httpserver), approvals={}).collect()
    assert exc.value.diagnostics[0].code == "E320"
    assert "JIRA_API_TOKEN" in exc.value.diagnostics[0].message
    assert not httpserver.log


def test_hidden_email_resolved_through_inline_identity_map(httpserver: HTTPServer,
                                                           make_adapter: Make) -> None:
    body = page_v3([approval("AIREL-3", 10403, "fraud-gbm", "7", ZOE,
                             "2026-11-03T10:30:00.000+0100")], None, is_last=True)
    httpserver.expect_request(SEARCH).respond_with_json(body)
    bundle = make_adapter(site=site(httpserver), approvals={}, identity={
        "map": {ZOE["accountId"]: "zoe.mueller@northwind.example"}}).collect()
    assert bundle.approvals[0].approver == "zoe.mueller@northwind.example"


def test_hidden_email_resolved_through_identity_csv(httpserver: HTTPServer, make_adapter: Make,
                                                    tmp_path: Any) -> None:
    (tmp_path / "ids.csv").write_text(
        f"accountId,email\n{ZOE['accountId']},zoe.mueller@northwind.example\n",
        encoding="utf-8")
    body = page_v3([approval("AIREL-3", 10403, "fraud-gbm", "7", ZOE,
                             "2026-11-03T10:30:00.000+0100")], None, is_last=True)
    httpserver.expect_request(SEARCH).respond_with_json(body)
    bundle = make_adapter(site=site(httpserver), approvals={},
                          identity={"csv": "ids.csv"}).collect()
    assert bundle.approvals[0].approver == "zoe.mueller@northwind.example"


def test_incident_times_from_transitions(httpserver: HTTPServer, make_adapter: Make) -> None:
    inc = issue("AIINC-7", 10607, "AI Incident", "Closed", {
        "summary": "Support chatbot quoted a withdrawn refund policy", "assignee": SIOBHAN,
        "priority": {"id": "2", "name": "High"}, "customfield_10070": "support-chatbot",
        "customfield_10072": ZOE, "created": "2026-10-12T10:15:00.000+0200",
    }, [
        history(701, SIOBHAN, "2026-10-12T12:05:00.000+0200", move("Open", "Acknowledged")),
        history(702, SIOBHAN, "2026-10-12T13:00:00.000+0200", move("Acknowledged", "Escalated"),
                change("Escalated To", "customfield_10072", None, ZOE)),
        history(703, SIOBHAN, "2026-10-13T18:40:00.000+0200", move("Escalated", "Resolved")),
        history(704, ZOE, "2026-10-14T11:00:00.000+0200", move("Resolved", "Closed")),
    ])
    httpserver.expect_request(SEARCH).respond_with_json(page_v3([inc], None, is_last=True))
    (i,) = make_adapter(site=site(httpserver), incidents={}).collect().incidents
    assert (i.id, i.severity, i.system, i.assignee, i.escalated_to) == (
        "AIINC-7", "high", "support-chatbot", "siobhan.nibhriain@northwind.example",
        ZOE["accountId"])
    assert i.opened_at == datetime(2026, 10, 12, 8, 15, tzinfo=UTC)
    assert i.acknowledged_at == datetime(2026, 10, 12, 10, 5, tzinfo=UTC)
    assert i.escalated_at == datetime(2026, 10, 12, 11, 0, tzinfo=UTC)
    assert i.resolved_at == datetime(2026, 10, 13, 16, 40, tzinfo=UTC)
    assert i.closed_at == datetime(2026, 10, 14, 9, 0, tzinfo=UTC)


def test_approved_without_a_transition_is_an_error_not_a_pass(httpserver: HTTPServer,
                                                             make_adapter: Make) -> None:
    a = approval("AIREL-9", 10409, "m", "1", LUKASZ, "2026-07-14T10:30:00.000+0200")
    a["changelog"] = {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
    httpserver.expect_request(SEARCH).respond_with_json(page_v3([a], None, is_last=True))
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=site(httpserver), approvals={}).collect()
    (d,) = exc.value.diagnostics
    assert d.code == "E329"
    assert "AIREL-9" in d.message
    assert "who decided" in d.message


def test_misspelt_field_reference_is_reported(httpserver: HTTPServer, make_adapter: Make
                                              ) -> None:
    body = page_v3([approval("AIREL-1", 10401, "m", "1", LUKASZ,
                             "2026-07-14T10:30:00.000+0200")], None, is_last=True)
    httpserver.expect_request(SEARCH).respond_with_json(body)
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=site(httpserver), approvals={"version": "Model Versoin"}).collect()
    msgs = [d.message for d in exc.value.diagnostics]
    assert any("'Model Versoin'" in m for m in msgs)


def test_data_center_v2_offset_paging_bearer_and_full_changelog(
        httpserver: HTTPServer, make_adapter: Make) -> None:
    dc = "https://jira.northwind.example"
    approver = user("zmueller", "Zoë Müller", "zoe.mueller@northwind.example", dc=True)
    requester = user("npetrova", "Nadia Petrova", None, dc=True)
    issues = []
    for n in range(1, 6):
        a = approval(f"AIREL-{n}", 10400 + n, "credit-risk-scorer", str(n), approver,
                     "2026-07-14T10:30:00.000+0200", requester=requester, hid=100 * n, api="2")
        issues.append(a)
    issues[4]["changelog"] = {"startAt": 0, "maxResults": 1, "total": 2,
                              "histories": issues[4]["changelog"]["histories"][:1]}
    auth: list[str] = []

    def search(request: Request) -> Response:
        auth.append(request.headers.get("Authorization", ""))
        start, size = int(request.args["startAt"]), int(request.args["maxResults"])
        return json_response(page_v2(issues[start:start + size], start, 5, size))

    full = approval("AIREL-5", 10405, "credit-risk-scorer", "5", approver,
                    "2026-07-14T10:30:00.000+0200", requester=requester, hid=500, api="2")
    httpserver.expect_request("/rest/api/2/search").respond_with_handler(search)
    httpserver.expect_request("/rest/api/2/issue/AIREL-5").respond_with_json(full)
    bundle = make_adapter(site=site(httpserver), deployment="datacenter", page_size=2,
                          approvals={}, identity={"map": {"npetrova":
                                                          "nadia.petrova@northwind.example"}}
                          ).collect()
    assert [a.id for a in bundle.approvals] == [f"AIREL-{n}" for n in range(1, 6)]
    assert {a.approver for a in bundle.approvals} == {"zoe.mueller@northwind.example"}
    assert {a.requested_by for a in bundle.approvals} == {"nadia.petrova@northwind.example"}
    assert auth == [f"Bearer {PAT}"] * 3
    assert bundle.approvals[0].provenance.url == f"{site(httpserver)}/browse/AIREL-1"
    del dc


def test_dc_empty_page_before_total_is_incomplete(httpserver: HTTPServer, make_adapter: Make
                                                  ) -> None:
    def search(request: Request) -> Response:
        start = int(request.args["startAt"])
        issues = [approval("AIREL-1", 10401, "m", "1", LUKASZ,
                           "2026-07-14T10:30:00.000+0200", api="2")] if start == 0 else []
        return json_response(page_v2(issues, start, 4, 1))

    httpserver.expect_request("/rest/api/2/search").respond_with_handler(search)
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=site(httpserver), deployment="datacenter", approvals={}).collect()
    assert exc.value.diagnostics[0].code == "E327"
