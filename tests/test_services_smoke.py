"""Smoke tests: the real test servers started by tests/services/services.sh answer.

The adapter tests rely on these servers; this module proves each one is up and speaks
the API the adapters use, before anything more specific is tested against it.

Where the servers are comes from environment variables (see tests/services/README.md).
When a variable is not in the environment, the ``.services.env`` file written by
``services.sh start`` at the repo root is read instead. Nothing is skipped: a missing
server is a failure that says how to start it.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = REPO_ROOT / ".services.env"
HOW_TO_START = (
    "start the test servers first: `bash tests/services/services.sh start` "
    "(or run the suite with `make test`)"
)
TIMEOUT = httpx.Timeout(15.0)
XAPI_VERSION = {"X-Experience-API-Version": "1.0.3"}


def _env_file_values() -> dict[str, str]:
    values: dict[str, str] = {}
    if ENV_FILE.is_file():
        for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    return values


def service_env(name: str) -> str:
    value = os.environ.get(name) or _env_file_values().get(name)
    if not value:
        pytest.fail(
            f"{name} is not set and not in {ENV_FILE}: {HOW_TO_START}",
            pytrace=False,
        )
    return value


def _connect_error(name: str, url: str, exc: Exception) -> None:
    pytest.fail(
        f"{name} at {url} does not answer ({exc!r}); is it running? "
        f"`bash tests/services/services.sh status` tells. Otherwise {HOW_TO_START}",
        pytrace=False,
    )


# ---------------------------------------------------------------- MLflow


def test_mlflow_model_registry_create_and_search() -> None:
    base = service_env("AIMSCHECK_TEST_MLFLOW_URL").rstrip("/")
    api = f"{base}/api/2.0/mlflow"
    prefix = f"aimscheck-smoke-{uuid.uuid4().hex[:12]}"
    names = [f"{prefix}-a", f"{prefix}-b"]
    with httpx.Client(timeout=TIMEOUT) as client:
        try:
            client.get(f"{base}/health")
        except httpx.TransportError as exc:
            _connect_error("MLflow", base, exc)

        for name in names:
            r = client.post(
                f"{api}/registered-models/create",
                json={
                    "name": name,
                    "description": "aimscheck smoke test",
                    "tags": [{"key": "owner", "value": "alice@example.org"}],
                },
            )
            assert r.status_code == 200, r.text
            assert r.json()["registered_model"]["name"] == name

        r = client.get(
            f"{api}/registered-models/search",
            params={"filter": f"name = '{names[0]}'"},
        )
        assert r.status_code == 200, r.text
        found = r.json()["registered_models"]
        assert [m["name"] for m in found] == [names[0]]
        assert {"key": "owner", "value": "alice@example.org"} in found[0]["tags"]

        # Paging: one per page, the token leads to the second model.
        seen: list[str] = []
        params = {"filter": f"name LIKE '{prefix}%'", "max_results": 1}
        token = None
        for _ in range(5):
            r = client.get(
                f"{api}/registered-models/search",
                params={**params, **({"page_token": token} if token else {})},
            )
            assert r.status_code == 200, r.text
            body = r.json()
            seen += [m["name"] for m in body.get("registered_models", [])]
            token = body.get("next_page_token")
            if not token:
                break
        assert sorted(seen) == names

        # A model version needs a source the server can tie to a run (MLflow 3 checks it).
        r = client.post(f"{api}/experiments/create", json={"name": prefix})
        assert r.status_code == 200, r.text
        experiment_id = r.json()["experiment_id"]
        r = client.post(
            f"{api}/runs/create",
            json={"experiment_id": experiment_id, "user_id": "alice@example.org"},
        )
        assert r.status_code == 200, r.text
        run_id = r.json()["run"]["info"]["run_id"]
        r = client.post(
            f"{api}/model-versions/create",
            json={"name": names[0], "source": f"runs:/{run_id}/model", "run_id": run_id},
        )
        assert r.status_code == 200, r.text
        assert r.json()["model_version"]["version"] == "1"
        r = client.get(f"{api}/model-versions/search", params={"filter": f"name = '{names[0]}'"})
        assert r.status_code == 200, r.text
        versions = r.json()["model_versions"]
        assert [(v["version"], v["run_id"]) for v in versions] == [("1", run_id)]


# ---------------------------------------------------------------- xAPI LRS (Ralph)


def test_lrs_post_and_get_statement() -> None:
    base = service_env("AIMSCHECK_TEST_LRS_URL").rstrip("/")
    user = service_env("AIMSCHECK_TEST_LRS_USER")
    password = service_env("AIMSCHECK_TEST_LRS_PASSWORD")
    statements = f"{base}/statements"
    learner = f"mailto:smoke-{uuid.uuid4().hex[:12]}@example.org"
    statement = {
        "actor": {"objectType": "Agent", "mbox": learner, "name": "Smoke Learner"},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/completed",
            "display": {"en-US": "completed"},
        },
        "object": {
            "objectType": "Activity",
            "id": "https://example.org/courses/responsible-ai-101",
            "definition": {"name": {"en-US": "Responsible AI 101"}},
        },
        "result": {"success": True, "completion": True},
        "timestamp": "2026-01-15T09:30:00+00:00",
    }
    with httpx.Client(timeout=TIMEOUT, auth=(user, password), headers=XAPI_VERSION) as client:
        try:
            r = client.post(statements, json=statement)
        except httpx.TransportError as exc:
            _connect_error("the LRS", base, exc)
        assert r.status_code == 200, r.text
        ids = r.json()
        assert isinstance(ids, list)
        assert len(ids) == 1
        statement_id = ids[0]

        r = client.get(statements, params={"statementId": statement_id})
        assert r.status_code == 200, r.text
        got = r.json()
        # xAPI 1.0.3 answers ?statementId= with the bare Statement; Ralph 5.1.0 wraps it
        # in a StatementResult ({"statements": [...]}). Accept both, so that this stays
        # true to the spec and to the server we run.
        if "statements" in got:
            assert len(got["statements"]) == 1, got
            got = got["statements"][0]
        assert got["id"] == statement_id
        assert got["actor"]["mbox"] == learner
        assert got["verb"]["id"] == statement["verb"]["id"]
        assert "stored" in got
        assert "authority" in got

        # A second statement by the same learner, then page through them one at a time.
        r = client.post(statements, json={**statement, "timestamp": "2026-01-16T09:30:00+00:00"})
        assert r.status_code == 200, r.text
        agent = json.dumps({"mbox": learner})
        r = client.get(statements, params={"agent": agent, "limit": 1})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["statements"]) == 1
        assert page.get("more"), page  # the xAPI "more" link to the next page
        more = httpx.URL(base).join(page["more"])
        r = client.get(more)
        assert r.status_code == 200, r.text
        assert len(r.json()["statements"]) == 1

    # Basic auth is enforced.
    with httpx.Client(
        timeout=TIMEOUT, auth=(user, "wrong-password"), headers=XAPI_VERSION
    ) as client:
        assert client.get(statements).status_code == 401


# ---------------------------------------------------------------- SCIM 2.0


def test_scim_create_user_and_list_with_paging() -> None:
    base = service_env("AIMSCHECK_TEST_SCIM_URL").rstrip("/")
    token = service_env("AIMSCHECK_TEST_SCIM_TOKEN")
    headers = {"Accept": "application/scim+json", "Authorization": f"Bearer {token}"}
    tag = uuid.uuid4().hex[:12]
    with httpx.Client(timeout=TIMEOUT, headers=headers) as client:
        created = []
        for i in range(3):
            user_name = f"smoke-{tag}-{i}"
            try:
                r = client.post(
                    f"{base}/Users",
                    headers={"Content-Type": "application/scim+json"},
                    json={
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": user_name,
                        "displayName": f"Smoke User {i}",
                        "emails": [{"value": f"{user_name}@example.org", "primary": True}],
                        "active": True,
                    },
                )
            except httpx.TransportError as exc:
                _connect_error("the SCIM server", base, exc)
            assert r.status_code == 201, r.text
            created.append(r.json()["id"])

        r = client.get(f"{base}/Users/{created[0]}")
        assert r.status_code == 200, r.text
        assert r.json()["userName"] == f"smoke-{tag}-0"

        r = client.get(f"{base}/Users", params={"filter": f'userName eq "smoke-{tag}-1"'})
        assert r.status_code == 200, r.text
        assert [u["id"] for u in r.json()["Resources"]] == [created[1]]

        # Page through every user, one per page (RFC 7644 §3.4.2.4, 1-based startIndex).
        seen: list[str] = []
        start = 1
        total = None
        for _ in range(1000):
            r = client.get(
                f"{base}/Users",
                params={"startIndex": start, "count": 1, "sortBy": "userName"},
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert "urn:ietf:params:scim:api:messages:2.0:ListResponse" in body["schemas"]
            assert body["startIndex"] == start
            total = body["totalResults"]
            resources = body.get("Resources", [])
            assert len(resources) <= 1
            if not resources:
                break
            seen += [u["id"] for u in resources]
            start += len(resources)
            if start > total:
                break
        assert total is not None
        assert total >= 3
        assert len(seen) == total
        assert set(created) <= set(seen)

        r = client.get(f"{base}/Groups", params={"startIndex": 1, "count": 10})
        assert r.status_code == 200, r.text
        assert "totalResults" in r.json()

    # The bearer token is enforced.
    r = httpx.get(f"{base}/Users", timeout=TIMEOUT)
    assert r.status_code == 401, "the SCIM server accepted a request without its bearer token"
