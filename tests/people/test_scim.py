"""The scim adapter against the real SCIM server (scim2-server), plus a dying one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from checker.evidence import EvidenceBundle
from checker.identity import IdentityIndex
from evidence_adapters.hr_csv import HrCsvAdapter
from evidence_adapters.scim import ScimAdapter

from .conftest import ENTERPRISE, Scim, die, send_json

pytestmark = pytest.mark.services


def run(ctx: SourceContext, **cfg: Any) -> EvidenceBundle:
    return ScimAdapter(ScimAdapter.Config.model_validate(cfg), ctx).collect()


def load_people(scim: Scim, tag: str) -> dict[str, dict[str, Any]]:
    boss = scim.user(f"helena-{tag}@t.example", display="Helena Vogt", user_type="Employee",
                     title="Chief Executive Officer",
                     enterprise={"employeeNumber": f"E1-{tag}", "department": "Executive"})
    zoe = scim.user(f"zoe-{tag}@t.example", emails=[f"Zoe.Mueller-{tag}@T.Example"],
                    display="Zoë Müller", title="Head of AI Governance",
                    roles=[{"value": "ai-risk-owner"}],
                    enterprise={"employeeNumber": f"E2-{tag}", "department": "AI Governance",
                                "manager": {"value": boss["id"]}})
    gone = scim.user(f"marco-{tag}@t.example", display="Marco Rossi", active=False,
                     enterprise={"employeeNumber": f"E3-{tag}"})
    contractor = scim.user(f"ben-{tag}@t.example", display="Ben Carter",
                           user_type="Contractor", enterprise={"employeeNumber": f"E4-{tag}"})
    bot = scim.user(f"svc-mlflow-{tag}@t.example", display="MLflow bot",
                    enterprise={"employeeNumber": f"S1-{tag}"})
    siobhan = scim.user(f"siobhan-{tag}@t.example", display="Siobhán Ní Bhriain",
                        enterprise={"employeeNumber": f"E5-{tag}"})
    board = scim.group(f"AI Board {tag}", f"G-{tag}", [boss["id"], zoe["id"]])
    return {"boss": boss, "zoe": zoe, "gone": gone, "contractor": contractor, "bot": bot,
            "siobhan": siobhan, "board": board}


def live(scim: Scim, tag: str, **extra: Any) -> dict[str, Any]:
    return {"url": scim.url, "users_filter": f'userName co "{tag}"',
            "groups_filter": f'displayName co "{tag}"', "page_size": 2, **extra}


def test_users_and_groups_paged_to_the_end(scim_env: Scim, tag: str, ctx: SourceContext
                                           ) -> None:
    made = load_people(scim_env, tag)
    recorded: dict[str, bytes] = {}
    ctx = SourceContext(ctx.base_dir, "idp", ctx.fetched_at, ctx.as_of,
                        recorder=lambda n, b: recorded.__setitem__(n, b))
    bundle = run(ctx, **live(scim_env, tag, service_patterns=[r"^svc-"], roles_from=[
        {"role": "executive", "title": r"\bChief\b", "department": ["Executive"]},
        {"role": "ai-governance-lead", "title": "^Head of AI Governance$"}]))
    by_id = {p.id: p for p in bundle.people}
    assert set(by_id) == {f"E1-{tag}", f"E2-{tag}", f"E3-{tag}", f"E4-{tag}", f"S1-{tag}",
                          f"E5-{tag}", f"group:G-{tag}"}
    # six users at two per page → three pages (+ one page of groups); all recorded
    assert sorted(n for n in recorded if n.startswith("users/")) == [
        "users/page-0001.json", "users/page-0002.json", "users/page-0003.json"]
    assert all(b"Bearer" not in b for b in recorded.values())
    zoe = by_id[f"E2-{tag}"]
    assert zoe.name == "Zoë Müller"
    assert [e.casefold() for e in zoe.emails] == [f"zoe.mueller-{tag}@t.example"]
    assert zoe.emails[0].startswith("Zoe.Mueller-")  # stored as given
    assert zoe.department == "AI Governance"
    assert zoe.manager == f"helena-{tag}@t.example"  # the manager's SCIM id → email
    assert zoe.roles == ("ai-risk-owner", "ai-governance-lead")
    assert made["zoe"]["id"] in zoe.handles
    assert zoe.provenance.url == made["zoe"]["meta"]["location"]
    assert by_id[f"E1-{tag}"].roles == ("executive",)
    assert by_id[f"E3-{tag}"].status == "terminated"
    assert not by_id[f"E3-{tag}"].employed_at(datetime(2020, 1, 1, tzinfo=UTC))
    assert by_id[f"E4-{tag}"].employment_type == "contractor"
    assert by_id[f"S1-{tag}"].kind == "service"
    assert by_id[f"E5-{tag}"].name == "Siobhán Ní Bhriain"
    board = by_id[f"group:G-{tag}"]
    assert board.kind == "group"
    assert f"AI Board {tag}" in board.handles
    # emails differing only in case resolve to the same person
    index = IdentityIndex(bundle.people)
    assert index.resolve(f"mailto:zoe.mueller-{tag}@t.example") is zoe


def test_wrong_token_is_a_401_error(scim: Scim, tag: str, ctx: SourceContext,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIM_TOKEN", "not-the-token-" + tag)
    with pytest.raises(EvidenceError) as exc:
        run(ctx, url=scim.url)
    (d,) = exc.value.diagnostics
    assert d.code == "E342"
    assert "401" in d.message
    assert "$SCIM_TOKEN" in (d.hint or "")
    assert tag not in str(exc.value)  # the token is never printed


def test_missing_token_variable(ctx: SourceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    with pytest.raises(EvidenceError) as exc:
        run(ctx, url="http://127.0.0.1:9/v2", token_env="NO_SUCH_TOKEN_VAR")
    assert exc.value.diagnostics[0].code == "E340"


def _page(start: int, total: int, n: int) -> bytes:
    return json.dumps({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total, "startIndex": start, "itemsPerPage": n,
        "Resources": [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                       "id": f"u{start + i}", "userName": f"u{start + i}@t.example"}
                      for i in range(n)]}).encode()


def test_server_dying_mid_pagination_fails_closed(flaky_server: Any, ctx: SourceContext,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def handle(req: BaseHTTPRequestHandler, n: int) -> None:
        if n == 1:
            send_json(req, _page(1, 5, 2))
        else:
            die(req)

    base = flaky_server(handle)
    monkeypatch.setenv("SCIM_TOKEN", "tok-dying")
    with pytest.raises(EvidenceError) as exc:
        run(ctx, url=base + "/v2", page_size=2, groups=False)
    assert exc.value.exit_code == 3
    assert exc.value.diagnostics[0].code == "E341"
    assert "startIndex=3" in exc.value.diagnostics[0].message


def test_empty_page_claiming_more_is_an_error(flaky_server: Any, ctx: SourceContext,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def handle(req: BaseHTTPRequestHandler, n: int) -> None:
        send_json(req, _page(1, 5, 2) if n == 1 else _page(3, 5, 0))

    base = flaky_server(handle)
    monkeypatch.setenv("SCIM_TOKEN", "tok-empty")
    with pytest.raises(EvidenceError) as exc:
        run(ctx, url=base, page_size=2, groups=False)
    assert exc.value.diagnostics[0].code == "E345"


def test_saved_list_response_file_and_folder(tmp_path: Path, ctx: SourceContext) -> None:
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "id": "2819c223", "externalId": "DE-2031", "userName": "jonas.richter@example.com",
            "name": {"formatted": "Jonas Richter"}, "userType": "Employee", "active": False,
            ENTERPRISE: {"employeeNumber": "DE-2031", "department": "Product"}}
    group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1",
             "displayName": "Product Leads"}
    lr = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
          "totalResults": 2, "startIndex": 1, "itemsPerPage": 2, "Resources": [user, group]}
    (tmp_path / "users.json").write_text(json.dumps(lr), encoding="utf-8")
    bundle = run(ctx, path="users.json")
    jonas, grp = bundle.people
    assert (jonas.id, jonas.name, jonas.status, jonas.department) == (
        "DE-2031", "Jonas Richter", "terminated", "Product")
    assert jonas.provenance.locator == "users.json#Users/2819c223"
    assert grp.kind == "group"
    # one page of a larger result saved alone is refused (it is not the whole directory)
    (tmp_path / "partial.json").write_text(json.dumps({**lr, "totalResults": 7}))
    with pytest.raises(EvidenceError) as exc:
        run(ctx, path="partial.json")
    assert exc.value.diagnostics[0].code == "E345"
    # a folder of pages
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "page-1.json").write_text(json.dumps({**lr, "Resources": [user]}))
    (pages / "page-2.json").write_text(json.dumps({**lr, "startIndex": 2, "Resources": [group]}))
    assert [p.id for p in run(ctx, path="pages").people] == ["DE-2031", "group:g1"]


def test_unknown_user_type_is_an_error(tmp_path: Path, ctx: SourceContext) -> None:
    lr = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
          "totalResults": 1, "Resources": [{
              "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "x",
              "userName": "x@example.com", "userType": "Robot"}]}
    (tmp_path / "u.json").write_text(json.dumps(lr))
    with pytest.raises(EvidenceError) as exc:
        run(ctx, path="u.json")
    assert exc.value.diagnostics[0].code == "E346"
    assert "Robot" in exc.value.diagnostics[0].message


def test_supplement_and_leave_for_scim_people(scim_env: Scim, tag: str, tmp_path: Path,
                                              ctx: SourceContext) -> None:
    load_people(scim_env, tag)
    (tmp_path / "dates.csv").write_text(
        "employee_id,hire_date,termination_date,jira_account_id\n"
        f"E3-{tag},2021-06-01,2026-09-30,712020:marco\n"
        f"E2-{tag},2021-02-01,,\n", encoding="utf-8")
    (tmp_path / "leave.csv").write_text(
        f"who,first_day,last_day,type\nZOE-{tag}@t.example,2026-11-01,2027-01-31,Parental\n",
        encoding="utf-8")
    bundle = run(ctx, **live(scim_env, tag,
                 supplement={"path": "dates.csv", "columns": {
                     "person": "employee_id", "hired": "hire_date",
                     "terminated": "termination_date", "handles": ["jira_account_id"]}},
                 leave={"path": "leave.csv", "columns": {
                     "person": "who", "start": "first_day", "end": "last_day", "type": "type"}}))
    by_id = {p.id: p for p in bundle.people}
    marco, zoe = by_id[f"E3-{tag}"], by_id[f"E2-{tag}"]
    assert marco.terminated == datetime(2026, 10, 1, tzinfo=UTC)
    assert "712020:marco" in marco.handles
    assert zoe.hired == datetime(2021, 2, 1, tzinfo=UTC)
    assert zoe.on_leave_at(datetime(2026, 11, 30, tzinfo=UTC))
    assert not zoe.active_at(datetime(2026, 11, 30, tzinfo=UTC))
    # a leave row for someone SCIM does not know is an error with file and line
    (tmp_path / "leave.csv").write_text("who,first_day,last_day,type\n"
                                        "nobody@t.example,2026-11-01,,\n", encoding="utf-8")
    with pytest.raises(EvidenceError) as exc:
        run(ctx, **live(scim_env, tag, leave={"path": "leave.csv", "columns": {
            "person": "who", "start": "first_day"}}))
    assert exc.value.diagnostics[0].location == "leave.csv:2"
    assert exc.value.diagnostics[0].code == "E312"


def test_the_same_person_in_two_hr_sources_is_merged(
        scim_env: Scim, tag: str, tmp_path: Path, ctx: SourceContext) -> None:
    load_people(scim_env, tag)
    scim_people = run(ctx, **live(scim_env, tag)).people
    # The same Zoë (seconded) in an HR export under another id, her email in another case:
    (tmp_path / "people.csv").write_bytes(
        ("\ufeffid,name,email\n"
         f"HR-2,\"Müller, Zoë\",ZOE.MUELLER-{tag}@t.example\n"
         f"E1-{tag},Helena Vogt,helena-{tag}@t.example\n").encode())
    hr = HrCsvAdapter(HrCsvAdapter.Config.model_validate(
        {"path": "people.csv", "columns": {"id": "id", "name": "name", "email": "email"}}),
        ctx).collect()
    index = IdentityIndex([*scim_people, *hr.people])
    zoe = index.resolve(f"zoe.mueller-{tag}@t.example")
    assert zoe is not None
    assert index.resolve("HR-2") == zoe
    assert {r.provenance.adapter for r in index.records(zoe)} == {"scim", "hr_csv"}
    assert not index.conflicts


def test_config_needs_exactly_one_source() -> None:
    with pytest.raises(ValidationError):
        ScimAdapter.Config.model_validate({})
    with pytest.raises(ValidationError):
        ScimAdapter.Config.model_validate({"url": "http://x", "path": "y"})
