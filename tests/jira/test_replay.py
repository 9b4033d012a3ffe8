"""Replay: saved search bodies answer the live code path; one search feeds many mappings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from checker.errors import EvidenceError
from evidence_adapters.jira import JiraAdapter
from tests.har import HarRecorder, har_entry, write_har
from tests.jira.conftest import token_pages
from tests.jira.jira_payloads import (
    EMAIL,
    LUKASZ,
    NADIA,
    SIOBHAN,
    SITE,
    TOKEN,
    ZOE,
    approval,
    history,
    issue,
    move,
    page_v2,
    page_v3,
)

Make = Callable[..., JiraAdapter]


def save(folder: Path, name: str, body: Any) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def risk(key: str, iid: int, owner: dict[str, Any]) -> dict[str, Any]:
    return issue(key, iid, "Risk", "Monitoring", {"assignee": owner,
                                                   "customfield_10070": "credit-scoring"}, [
        history(iid * 10, owner, "2026-09-01T09:00:00.000+0200",
                move("Under Review", "Monitoring"))])


def mixed() -> list[dict[str, Any]]:
    return [approval("AIREL-1", 10401, "credit-risk-scorer", "11", LUKASZ,
                     "2026-07-14T10:30:00.000+0200"),
            risk("AIRISK-1", 10501, ZOE),
            approval("AIREL-2", 10402, "fraud-gbm", "7", SIOBHAN,
                     "2026-11-03T10:30:00.000+0100", hid=20010),
            risk("AIRISK-2", 10502, SIOBHAN)]


MAPPINGS: dict[str, Any] = {
    "approvals": {"projects": ["AIREL"]},
    "risks": {"projects": ["AIRISK"], "owners": {"primary": "assignee"}},
}


SEARCH = f"{SITE}/rest/api/3/search/jql?jql=project+in+%28AIREL%2C+AIRISK%29&maxResults=2"


def pages_v3() -> list[dict[str, Any]]:
    issues = mixed()
    return [page_v3(issues[:2], "tok-2", is_last=False),
            page_v3(issues[2:3], "tok-3", is_last=False),
            page_v3(issues[3:], None, is_last=True)]


def entries_v3() -> list[dict[str, Any]]:
    """The three requests of the search with their responses, as a HAR records them."""
    p = pages_v3()
    return [har_entry(SEARCH, p[0]), har_entry(f"{SEARCH}&nextPageToken=tok-2", p[1]),
            har_entry(f"{SEARCH}&nextPageToken=tok-3", p[2])]


def chain_v3(folder: Path) -> list[Path]:
    """The same pages saved as plain bodies (refused: a missing page could not be seen)."""
    return [save(folder, f"export-{c}.json", b) for c, b in zip("abc", pages_v3(), strict=True)]


def test_one_saved_search_feeds_several_mappings(tmp_path: Path, make_adapter: Make) -> None:
    write_har(tmp_path / "saved" / "search.har", entries_v3())
    bundle = make_adapter(site=SITE, replay="saved/*.har", **MAPPINGS).collect()
    assert [(a.id, a.approver) for a in bundle.approvals] == [
        ("AIREL-1", "lukasz.nowak@northwind.example"),
        ("AIREL-2", "siobhan.nibhriain@northwind.example")]
    assert sorted(s.id for s in bundle.subjects) == ["AIRISK-1", "AIRISK-2"]
    assert len(bundle.reviews) == 2


def record_search(base: str) -> list[dict[str, Any]]:
    """Page the live search the way a customer's client does, through a recording proxy."""
    rec = HarRecorder()
    with httpx.Client(transport=rec, auth=(EMAIL, TOKEN)) as client:
        params: dict[str, Any] = {"jql": "project in (AIREL, AIRISK)", "maxResults": 2,
                                  "fields": "*all", "expand": "changelog,names"}
        while True:
            page = client.get(f"{base}/rest/api/3/search/jql", params=params).json()
            if page.get("isLast") or not page.get("nextPageToken"):
                return rec.entries
            params = {**params, "nextPageToken": page["nextPageToken"]}


def test_replay_and_live_give_the_same_records(tmp_path: Path, httpserver: HTTPServer,
                                               make_adapter: Make) -> None:
    httpserver.expect_request("/rest/api/3/search/jql").respond_with_handler(
        token_pages(pages_v3()))
    site = httpserver.url_for("").rstrip("/")
    live = make_adapter(site=site, jql="project in (AIREL, AIRISK) ORDER BY key",
                        **MAPPINGS).collect()
    write_har(tmp_path / "rec.har", record_search(site))
    saved = make_adapter(site=site, replay="rec.har", **MAPPINGS).collect()
    assert live.model_dump() == saved.model_dump()
    # POST searches (the JSON body carries the token), as Jira's own UI sends them
    posted = [har_entry(f"{site}/rest/api/3/search/jql", page, method="POST",
                        post={"jql": "x", **({"nextPageToken": t} if t else {})})
              for page, t in zip(pages_v3(), (None, "tok-2", "tok-3"), strict=True)]
    write_har(tmp_path / "post.har", posted[::-1])  # any order: each request finds its answer
    assert make_adapter(site=site, replay="post.har", **MAPPINGS).collect().model_dump() \
        == live.model_dump()


def test_plain_bodies_of_a_token_chain_are_refused(tmp_path: Path, make_adapter: Make) -> None:
    chain_v3(tmp_path / "saved")
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, replay="saved/*.json", **MAPPINGS).collect()
    d = exc.value.diagnostics[0]
    assert d.code == "E328"
    assert d.file.endswith("export-a.json")
    assert "cannot be checked" in d.message
    assert d.hint is not None
    assert "HAR" in d.hint


@pytest.mark.parametrize("gone", [0, 1, 2])
def test_any_missing_recorded_cursor_page_names_the_gap(tmp_path: Path, make_adapter: Make,
                                                        gone: int) -> None:
    entries = entries_v3()
    del entries[gone]
    write_har(tmp_path / "search.har", entries)
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, replay="search.har", **MAPPINGS).collect()
    d = exc.value.diagnostics[0]
    assert d.code == "E328"
    if gone == 0:
        assert d.file == "search.har entry 1 (GET /rest/api/3/search/jql)"
        assert "the first page is missing" in d.message
    else:  # the page before the gap, and the token nobody answered
        assert d.file == f"search.har entry {gone} (GET /rest/api/3/search/jql)"
        assert f"nextPageToken=tok-{gone + 1}" in d.message
        assert "a page is missing" in d.message


@pytest.mark.parametrize("gone", [0, 1, 2, 3])
def test_any_missing_offset_page_names_its_neighbour(tmp_path: Path, make_adapter: Make,
                                                     gone: int) -> None:
    issues = mixed()
    folder = tmp_path / "saved"
    files = [save(folder, f"jira-{i}.json", page_v2([x], i, 4, 1))
             for i, x in enumerate(issues)]
    files[gone].unlink()
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, replay="saved", **MAPPINGS).collect()
    d = exc.value.diagnostics[0]
    assert d.code == "E328"
    before, after = f"jira-{gone - 1}.json", f"jira-{gone + 1}.json"
    assert (d.file.endswith(before) if gone else d.file.endswith(after)), d
    if 0 < gone < 3:
        assert after in d.message


def test_offset_chain_any_order_and_gaps(tmp_path: Path, make_adapter: Make) -> None:
    issues = mixed()
    folder = tmp_path / "saved"
    save(folder, "z-first.json", page_v2(issues[:2], 0, 4, 2))
    save(folder, "a-second.json", page_v2(issues[2:], 2, 4, 2))
    bundle = make_adapter(site=SITE, replay="saved", **MAPPINGS).collect()
    assert len(bundle.approvals) == 2
    (folder / "z-first.json").unlink()
    save(folder, "page3.json", page_v2(issues[3:], 3, 4, 2))
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, replay="saved", **MAPPINGS).collect()
    d = exc.value.diagnostics[0]
    assert "no saved first search page" in d.message
    assert d.file.endswith("a-second.json")


def test_offset_gap_names_the_page_before(tmp_path: Path, make_adapter: Make) -> None:
    issues = mixed()
    folder = tmp_path / "saved"
    save(folder, "p1.json", page_v2(issues[:1], 0, 4, 1))
    save(folder, "p3.json", page_v2(issues[2:3], 2, 4, 1))
    save(folder, "p4.json", page_v2(issues[3:], 3, 4, 1))
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, replay="saved", **MAPPINGS).collect()
    d = exc.value.diagnostics[0]
    assert d.file.endswith("p1.json")
    assert "p3.json" in d.message


def test_a_page_twice_and_a_truncated_page(tmp_path: Path, make_adapter: Make) -> None:
    entries = entries_v3()
    # the same exchange recorded twice (a retried request) is one page
    write_har(tmp_path / "retry.har", [*entries[:2], entries[1], entries[2]])
    assert len(make_adapter(site=SITE, replay="retry.har", **MAPPINGS).collect().approvals) == 2
    # two different answers to one request: two listings mixed
    other = har_entry(f"{SEARCH}&nextPageToken=tok-2", page_v3([], "tok-3", is_last=False))
    write_har(tmp_path / "twice.har", [*entries[:2], other, entries[2]])
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, replay="twice.har", **MAPPINGS).collect()
    assert exc.value.diagnostics[0].file == "twice.har entry 3 (GET /rest/api/3/search/jql)"
    assert "two different recorded responses" in exc.value.diagnostics[0].message
    # a truncated HAR file, and a HAR whose recorded body was cut short
    text = write_har(tmp_path / "cut.har", entries).read_text()
    (tmp_path / "cut.har").write_text(text[: len(text) // 2])
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, replay="cut.har", **MAPPINGS).collect()
    d = exc.value.diagnostics[0]
    assert (d.file, d.code) == ("cut.har", "E328")
    assert "truncated" in d.message
    body = entries[2]["response"]["content"]
    body["text"] = body["text"][:40]
    write_har(tmp_path / "short.har", entries)
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, replay="short.har", **MAPPINGS).collect()
    d = exc.value.diagnostics[0]
    assert d.file == "short.har entry 3 (GET /rest/api/3/search/jql)"
    assert "truncated" in d.message


def test_mapping_jql_with_one_search_is_a_config_error(make_adapter: Make) -> None:
    with pytest.raises(ValueError, match="own `jql`"):
        make_adapter(site=SITE, replay="x.json", approvals={"jql": "project = AIREL"})


def test_where_filters_select_by_field_text(tmp_path: Path, make_adapter: Make) -> None:
    write_har(tmp_path / "saved" / "search.har", entries_v3())
    bundle = make_adapter(site=SITE, replay="saved/search.har",
                          approvals={"projects": ["AIREL"], "where": {"Model": "fraud-gbm"}}
                          ).collect()
    assert [a.id for a in bundle.approvals] == ["AIREL-2"]


def test_approval_kept_after_the_ticket_moved_on_unless_voided(tmp_path: Path,
                                                               make_adapter: Make) -> None:
    a = issue("AIREL-5", 10405, "Release Approval", "Open", {
        "reporter": NADIA, "customfield_10050": "m", "customfield_10051": "3"}, [
        history(30001, NADIA, "2026-07-10T09:00:00.000+0200", move("Open", "In Review")),
        history(30002, LUKASZ, "2026-07-14T10:30:00.000+0200", move("In Review", "Approved")),
        history(30003, NADIA, "2026-07-15T10:30:00.000+0200",
                {**move("Approved", "Closed"), "toString": "Released", "to": "10900"}),
        history(30004, ZOE, "2026-07-16T10:30:00.000+0200",
                {**move("Closed", "Open"), "fromString": "Released", "toString": "Reopened"}),
    ])
    save(tmp_path, "s.json", page_v2([a], 0, 1, 50))
    kept = make_adapter(site=SITE, replay="s.json", approvals={}).collect()
    assert [(x.approver, x.decided_at.isoformat()) for x in kept.approvals] == [
        ("lukasz.nowak@northwind.example", "2026-07-14T08:30:00+00:00")]
    voided = make_adapter(site=SITE, replay="s.json",
                          approvals={"voids": {"to": ["Reopened"]}}).collect()
    assert voided.approvals == []


def test_escalation_needs_the_assignee_change_in_the_same_entry(tmp_path: Path,
                                                                make_adapter: Make) -> None:
    inc = issue("AIINC-7", 10707, "AI Incident", "Escalated", {
        "assignee": SIOBHAN, "priority": {"id": "2", "name": "High"}}, [
        history(40001, ZOE, "2026-10-01T10:00:00.000+0200", move("Open", "Acknowledged")),
        history(40002, ZOE, "2026-10-01T11:00:00.000+0200", move("Acknowledged", "Escalated")),
        history(40003, ZOE, "2026-10-01T12:00:00.000+0200", move("Open", "Escalated"),
                {"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
                 "from": ZOE["accountId"], "to": SIOBHAN["accountId"]}),
    ])
    save(tmp_path, "i.json", page_v2([inc], 0, 1, 50))
    plain = make_adapter(site=SITE, replay="i.json", incidents={}).collect()
    handed = make_adapter(site=SITE, replay="i.json", incidents={
        "escalated": {"to": ["Escalated"], "assignee_changed": True}}).collect()
    assert plain.incidents[0].escalated_at is not None
    assert handed.incidents[0].escalated_at is not None
    assert plain.incidents[0].escalated_at.hour == 9
    assert handed.incidents[0].escalated_at.hour == 10
    assert handed.incidents[0].acknowledged_at is not None
    assert handed.incidents[0].acknowledged_at.isoformat() == "2026-10-01T08:00:00+00:00"
