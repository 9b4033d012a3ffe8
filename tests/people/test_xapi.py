"""The xapi adapter against the real LRS (Ralph), plus a dying one."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from checker.evidence import EvidenceBundle, Person, Provenance
from checker.identity import IdentityIndex
from evidence_adapters.xapi import XapiAdapter

from .conftest import FETCHED, Lrs, die, send_json, statement

pytestmark = pytest.mark.services


def run(ctx: SourceContext, **cfg: Any) -> EvidenceBundle:
    return XapiAdapter(XapiAdapter.Config.model_validate(cfg), ctx).collect()


def person(pid: str, email: str, *handles: str) -> Person:
    return Person(provenance=Provenance(adapter="t", locator=pid, fetched_at=FETCHED),
                  id=pid, name=pid, emails=(email,), handles=handles)


def load(lrs: Lrs, tag: str) -> dict[str, str]:
    course = f"https://lms.t.example/{tag}/AIGOV-101"
    other = f"https://lms.t.example/{tag}/EUAI-201"
    sha = hashlib.sha1(f"mailto:kwame-{tag}@t.example".encode()).hexdigest()
    lrs.post([
        # mbox in another case than HR's email, a completion with success
        statement({"mbox": f"mailto:Zoe.Mueller-{tag}@T.Example", "name": "Zoë Müller"},
                  "completed", course, "2026-01-23T10:00:00+01:00", completion=True,
                  success=True),
        # a completion without result.success is not a success: it never counts
        statement({"mbox": f"mailto:mia-{tag}@t.example"}, "completed", course,
                  "2026-01-24T10:00:00Z", completion=True),
        # passed, by mbox_sha1sum
        statement({"mbox_sha1sum": sha}, "passed", course, "2026-03-01T09:00:00Z",
                  success=True),
        # by account
        statement({"account": {"homePage": "https://lms.t.example", "name": f"u-{tag}"}},
                  "passed", other, "2026-02-02T12:00:00-05:00", success=True),
        # only a failed attempt
        statement({"mbox": f"mailto:yusuf-{tag}@t.example"}, "failed", course,
                  "2026-10-14T08:00:00Z", success=False),
        # a completion that was not a success is not a pass
        statement({"mbox": f"mailto:anna-{tag}@t.example"}, "completed", course,
                  "2026-10-15T08:00:00Z", completion=True, success=False),
        # an unrelated verb is ignored
        statement({"mbox": f"mailto:anna-{tag}@t.example"}, "launched", course,
                  "2026-10-15T07:00:00Z"),
    ])
    return {"course": course, "other": other}


def test_statements_paged_and_mapped(lrs_env: Lrs, tag: str, ctx: SourceContext) -> None:
    acts = load(lrs_env, tag)
    recorded: dict[str, bytes] = {}
    ctx = SourceContext(ctx.base_dir, "lrs", ctx.fetched_at, ctx.as_of,
                        recorder=lambda n, b: recorded.__setitem__(n, b))
    bundle = run(ctx, endpoint=lrs_env.url, limit=1, unmapped_activities="skip",
                 server_verb_filter=False,
                 courses={acts["course"]: "ai-governance-basics",
                          acts["other"]: "eu-ai-act-essentials"})
    # (the LRS lower-cases the mbox domain; matching is case-insensitive anyway)
    got = {(t.person.casefold(), t.course, t.passed, t.completed_at) for t in bundle.trainings}
    sha = hashlib.sha1(f"mailto:kwame-{tag}@t.example".encode()).hexdigest()
    assert got == {
        (f"zoe.mueller-{tag}@t.example", "ai-governance-basics", True,
         datetime(2026, 1, 23, 9, tzinfo=UTC)),
        (f"sha1:{sha}", "ai-governance-basics", True, datetime(2026, 3, 1, 9, tzinfo=UTC)),
        (f"u-{tag}", "eu-ai-act-essentials", True, datetime(2026, 2, 2, 17, tzinfo=UTC)),
        (f"yusuf-{tag}@t.example", "ai-governance-basics", False,
         datetime(2026, 10, 14, 8, tzinfo=UTC)),
        (f"anna-{tag}@t.example", "ai-governance-basics", False,
         datetime(2026, 10, 15, 8, tzinfo=UTC)),
        (f"mia-{tag}@t.example", "ai-governance-basics", False,
         datetime(2026, 1, 24, 10, tzinfo=UTC)),
    }
    # one statement per page: `more` was followed across many pages, each recorded
    assert len([n for n in recorded if n.startswith("statements/")]) >= 7
    t0 = next(t for t in bundle.trainings if t.person.startswith("Zoe"))
    assert t0.provenance.locator.startswith("statement ")
    assert "statementId=" in (t0.provenance.url or "")
    # the identity index resolves mbox (any case), mbox_sha1sum and account handles
    zoe = person("E2", f"zoe.mueller-{tag}@t.example")
    kwame = person("E9", f"Kwame-{tag}@T.example")
    lms_user = person("E7", f"someone-{tag}@t.example", f"u-{tag}")
    index = IdentityIndex([zoe, kwame, lms_user])
    assert index.resolve(f"Zoe.Mueller-{tag}@T.Example") is zoe
    assert index.resolve(f"sha1:{sha}") is kwame
    assert index.resolve(f"u-{tag}") is lms_user


def test_since_filter(lrs_env: Lrs, tag: str, ctx: SourceContext) -> None:
    acts = load(lrs_env, tag)
    bundle = run(ctx, endpoint=lrs_env.url, since="2100-01-01T00:00:00Z",
                 server_verb_filter=False, unmapped_activities="skip",
                 courses={acts["course"]: "x"})
    assert bundle.trainings == []


def test_wrong_password_is_a_401_error(lrs: Lrs, ctx: SourceContext,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAPI_USER", lrs.user)
    monkeypatch.setenv("XAPI_PASSWORD", "wrong-password-xyz")
    with pytest.raises(EvidenceError) as exc:
        run(ctx, endpoint=lrs.url)
    (d,) = exc.value.diagnostics
    assert (d.code, "401" in d.message) == ("E342", True)
    assert "wrong-password-xyz" not in str(exc.value)


def test_lrs_dying_mid_pagination_fails_closed(flaky_server: Any, ctx: SourceContext,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    paths: list[str] = []

    def handle(req: BaseHTTPRequestHandler, n: int) -> None:
        paths.append(req.path)
        assert req.headers["X-Experience-API-Version"] == "1.0.3"
        if n == 1:
            send_json(req, json.dumps({"statements": [], "more": "/xAPI/statements?p=2"})
                      .encode())
        else:
            die(req)

    base = flaky_server(handle)
    monkeypatch.setenv("XAPI_USER", "u")
    monkeypatch.setenv("XAPI_PASSWORD", "p-dying")
    with pytest.raises(EvidenceError) as exc:
        run(ctx, endpoint=base + "/xAPI", verbs=["http://adlnet.gov/expapi/verbs/passed"])
    assert exc.value.exit_code == 3
    assert exc.value.diagnostics[0].code == "E341"
    # the relative `more` IRL was resolved against the endpoint's origin
    assert paths[1] == "/xAPI/statements?p=2"


def test_saved_pages_offline(tmp_path: Path, ctx: SourceContext) -> None:
    pages = tmp_path / "lrs"
    pages.mkdir()
    st1 = statement({"mbox": "mailto:a@t.example"}, "passed", "urn:c:1", "2026-01-01T00:00:00Z",
                    success=True)
    st2 = statement({"mbox": "mailto:b@t.example"}, "failed", "urn:c:1", "2026-01-02T00:00:00Z")
    (pages / "page-0001.json").write_text(json.dumps({"statements": [st1], "more": "/x?m=1"}))
    (pages / "page-0002.json").write_text(json.dumps({"statements": [st2], "more": ""}))
    bundle = run(ctx, path="lrs", courses={"urn:c:1": "c1"})
    assert [(t.person, t.course, t.passed) for t in bundle.trainings] == [
        ("a@t.example", "c1", True), ("b@t.example", "c1", False)]
    (tmp_path / "one.json").write_text(json.dumps([st1]))
    assert len(run(ctx, path="one.json").trainings) == 1


def test_actor_without_identifier_is_an_error(tmp_path: Path, ctx: SourceContext) -> None:
    st = statement({"openid": "https://id.example/x"}, "passed", "urn:c:1",
                   "2026-01-01T00:00:00Z")
    (tmp_path / "s.json").write_text(json.dumps({"statements": [st]}))
    with pytest.raises(EvidenceError) as exc:
        run(ctx, path="s.json")
    assert exc.value.diagnostics[0].code == "E349"
