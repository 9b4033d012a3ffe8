"""Replay of saved response bodies for mlflow, scim and xapi: the live paging code, any names.

Each test writes bodies the way the system returns them, scans them with ``replay:``, then
breaks the chain (a page deleted, truncated, saved twice) and expects an error naming the
file next to the break.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.mlflow import MlflowAdapter, MlflowConfig
from evidence_adapters.scim import ScimAdapter, ScimConfig
from evidence_adapters.xapi import XapiAdapter, XapiConfig
from tests.har import har_entry, write_har

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def save(root: Path, name: str, body: Any) -> Path:
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(body), encoding="utf-8")
    return p


# -- MLflow: next_page_token, OSS tokens carry the offset ------------------------------------


def token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def model(i: int) -> dict[str, Any]:
    return {"name": f"m{i}", "tags": [{"key": "owner.primary", "value": f"o{i}@x.example"}]}


def version(i: int) -> dict[str, Any]:
    return {"name": f"m{i}", "version": "1", "creation_timestamp": 1759300000000,
            "user_id": "cleo@x.example", "current_stage": "None", "status": "READY"}


MLFLOW = "https://mlflow.x.example/api/2.0/mlflow"


def mlflow_pages() -> list[dict[str, Any]]:
    """Four pages of models, continued by OSS MLflow's offset tokens."""
    pages = []
    for n in range(4):
        body: dict[str, Any] = {"registered_models": [model(2 * n), model(2 * n + 1)]}
        if n < 3:
            body["next_page_token"] = token(2 * n + 2)
        pages.append(body)
    return pages


def mlflow_entries(prefix: str = MLFLOW) -> list[dict[str, Any]]:
    """The models search (four pages) and the versions search, as a HAR records them."""
    entries, url = [], f"{prefix}/registered-models/search?max_results=2"
    for body in mlflow_pages():
        entries.append(har_entry(url, body))
        if "next_page_token" in body:
            url = f"{prefix}/registered-models/search?max_results=2&page_token=" + \
                body["next_page_token"].replace("=", "%3D")
    entries.append(har_entry(f"{prefix}/model-versions/search?max_results=1000",
                             {"model_versions": [version(i) for i in range(8)]}))
    return entries


def test_mlflow_replay_reads_every_page(ctx: SourceContext, tmp_path: Path) -> None:
    write_har(tmp_path / "mlflow.har", mlflow_entries())
    bundle = MlflowAdapter(MlflowConfig(replay="mlflow.har"), ctx).collect()
    assert sorted(s.id for s in bundle.subjects) == [f"m{i}" for i in range(8)]
    assert len(bundle.releases) == 8
    assert bundle.subjects[0].provenance.url is None


def test_mlflow_ui_recording_replays_too(ctx: SourceContext, tmp_path: Path) -> None:
    # the web UI asks through /ajax-api/2.0/mlflow/…: the same endpoints
    ui = "https://mlflow.x.example/ajax-api/2.0/mlflow"
    write_har(tmp_path / "ui.har", mlflow_entries(ui))
    bundle = MlflowAdapter(MlflowConfig(replay="ui.har"), ctx).collect()
    assert len(bundle.subjects) == 8


@pytest.mark.parametrize("gone", [0, 1, 2, 3, 4])
def test_mlflow_any_missing_recorded_page_is_named(ctx: SourceContext, tmp_path: Path,
                                                   gone: int) -> None:
    # the first page too, and the page before the last: the last page announces nothing
    entries = mlflow_entries()
    del entries[gone]
    write_har(tmp_path / "mlflow.har", entries)
    with pytest.raises(EvidenceError) as exc:
        MlflowAdapter(MlflowConfig(replay="mlflow.har"), ctx).collect()
    d = exc.value.diagnostics[0]
    assert d.code == "E364"
    if gone == 0:  # the recorded pages answer continuations only
        assert d.file.startswith("mlflow.har entry 1 (GET "), d
        assert "the first page is missing" in d.message, d
    elif gone == 4:  # the versions search was not recorded at all
        assert d.file == "mlflow.har", d
        assert "model-versions/search" in d.message, d
    else:  # the entry before the gap, whose token nobody answered
        assert d.file.startswith(f"mlflow.har entry {gone} (GET "), d
        assert "page_token=" in d.message, d


@pytest.mark.parametrize("kept", [[0, 1, 2, 3], [3], [2, 3], [0]])
def test_mlflow_plain_bodies_are_refused(ctx: SourceContext, tmp_path: Path,
                                         kept: list[int]) -> None:
    # [3]: the first three pages deleted, the last page left — no body can show that
    pages = mlflow_pages()
    for n in kept:
        save(tmp_path, f"mlflow/models {n + 1}.json", pages[n])
    save(tmp_path, "mlflow/versions.json", {"model_versions": [version(0)]})
    with pytest.raises(EvidenceError) as exc:
        MlflowAdapter(MlflowConfig(replay=["mlflow/*.json"]), ctx).collect()
    d = exc.value.diagnostics[0]
    assert (d.code, d.file) == ("E364", f"mlflow/models {kept[0] + 1}.json")
    assert "cannot be checked" in d.message
    assert "HAR" in (d.hint or "")


def test_mlflow_truncated_recording_is_named(ctx: SourceContext, tmp_path: Path) -> None:
    entries = mlflow_entries()
    content = entries[1]["response"]["content"]
    content["text"] = content["text"][:30]
    write_har(tmp_path / "mlflow.har", entries)
    with pytest.raises(EvidenceError) as exc:
        MlflowAdapter(MlflowConfig(replay="mlflow.har"), ctx).collect()
    d = exc.value.diagnostics[0]
    assert d.file == "mlflow.har entry 2 (GET /api/2.0/mlflow/registered-models/search)"
    assert "truncated" in d.message


def test_mlflow_truncated_har_file_is_named(ctx: SourceContext, tmp_path: Path) -> None:
    path = write_har(tmp_path / "mlflow.har", mlflow_entries())
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(EvidenceError) as exc:
        MlflowAdapter(MlflowConfig(replay="mlflow.har"), ctx).collect()
    assert exc.value.diagnostics[0].file == "mlflow.har"
    assert "truncated" in exc.value.diagnostics[0].message


# -- SCIM: startIndex / totalResults -----------------------------------------------------------


def scim_page(start: int, total: int, ids: list[int]) -> dict[str, Any]:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": total, "startIndex": start, "itemsPerPage": len(ids),
            "Resources": [{"schemas": [USER], "id": f"u{i}", "userName": f"p{i}@x.example",
                           "displayName": f"P {i}", "active": True,
                           "emails": [{"value": f"p{i}@x.example", "primary": True}]}
                          for i in ids]}


def scim_chain(root: Path) -> list[Path]:
    # Saved in an order unrelated to the listing: the pages say where they sit.
    return [save(root, "scim/c.json", scim_page(1, 5, [1, 2])),
            save(root, "scim/b.json", scim_page(3, 5, [3, 4])),
            save(root, "scim/a.json", scim_page(5, 5, [5]))]


def test_scim_replay_any_order(ctx: SourceContext, tmp_path: Path) -> None:
    scim_chain(tmp_path)
    bundle = ScimAdapter(ScimConfig(replay="scim", groups=False, id_from=("id",)),
                         ctx).collect()
    assert sorted(p.id for p in bundle.people) == ["u1", "u2", "u3", "u4", "u5"]
    assert all(p.provenance.url is None for p in bundle.people)


@pytest.mark.parametrize(("gone", "named"), [(0, "b.json"), (1, "c.json"), (2, "b.json")])
def test_scim_missing_page_names_the_neighbour(ctx: SourceContext, tmp_path: Path,
                                               gone: int, named: str) -> None:
    files = scim_chain(tmp_path)
    files[gone].unlink()
    with pytest.raises(EvidenceError) as exc:
        ScimAdapter(ScimConfig(replay="scim", groups=False, id_from=("id",)), ctx).collect()
    d = exc.value.diagnostics[0]
    assert d.code == "E345"
    assert d.file.endswith(named)


def test_scim_groups_not_saved_fail_closed(ctx: SourceContext, tmp_path: Path) -> None:
    scim_chain(tmp_path)
    with pytest.raises(EvidenceError, match="Groups"):
        ScimAdapter(ScimConfig(replay="scim", id_from=("id",)), ctx).collect()


# -- xAPI: more ----------------------------------------------------------------------------


def statement(i: int) -> dict[str, Any]:
    return {"id": f"00000000-0000-4000-8000-{i:012d}",
            "actor": {"objectType": "Agent", "mbox": f"mailto:p{i}@x.example"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"objectType": "Activity", "id": "https://lms.x.example/c/1"},
            "result": {"success": True}, "timestamp": "2026-10-01T09:00:00+02:00",
            "stored": "2026-10-01T07:00:01Z"}


def xapi_chain(root: Path) -> list[Path]:
    return [save(root, "lrs/1.json", {"statements": [statement(1), statement(2)],
                                      "more": "/xAPI/statements?cursor=k2"}),
            save(root, "lrs/2.json", {"statements": [statement(3), statement(4)],
                                      "more": "/xAPI/statements?cursor=k3"}),
            save(root, "lrs/3.json", {"statements": [statement(5)], "more": ""})]


LRS = "https://lrs.x.example/xAPI/statements"


def xapi_entries() -> list[dict[str, Any]]:
    """The listing's three requests with their responses, as a HAR records them."""
    pages = [{"statements": [statement(1), statement(2)], "more": "/xAPI/statements?cursor=k2"},
             {"statements": [statement(3), statement(4)], "more": "/xAPI/statements?cursor=k3"},
             {"statements": [statement(5)], "more": ""}]
    urls = [f"{LRS}?limit=2", f"{LRS}?cursor=k2", f"{LRS}?cursor=k3"]
    return [har_entry(u, p) for u, p in zip(urls, pages, strict=True)]


def test_xapi_replay_follows_more(ctx: SourceContext, tmp_path: Path) -> None:
    write_har(tmp_path / "lrs.har", xapi_entries())
    bundle = XapiAdapter(XapiConfig(replay="lrs.har"), ctx).collect()
    assert sorted(t.person for t in bundle.trainings) == [f"p{i}@x.example"
                                                          for i in range(1, 6)]


def test_xapi_plain_bodies_are_refused(ctx: SourceContext, tmp_path: Path) -> None:
    xapi_chain(tmp_path)
    with pytest.raises(EvidenceError) as exc:
        XapiAdapter(XapiConfig(replay="lrs/*.json"), ctx).collect()
    d = exc.value.diagnostics[0]
    assert (d.code, d.file) == ("E345", "lrs/1.json")
    assert "cannot be checked" in d.message


@pytest.mark.parametrize("gone", [0, 1, 2])
def test_xapi_any_missing_page_names_the_gap(ctx: SourceContext, tmp_path: Path,
                                             gone: int) -> None:
    entries = xapi_entries()
    del entries[gone]
    write_har(tmp_path / "lrs.har", entries)
    with pytest.raises(EvidenceError) as exc:
        XapiAdapter(XapiConfig(replay="lrs.har"), ctx).collect()
    d = exc.value.diagnostics[0]
    assert d.code == "E345"
    if gone == 0:  # the continuation left first is not taken for the first page
        assert d.file == "lrs.har entry 1 (GET /xAPI/statements)"
        assert "the first page is missing" in d.message
    else:
        assert d.file == f"lrs.har entry {gone} (GET /xAPI/statements)"
        assert f"cursor=k{gone + 1}" in d.message


def test_xapi_truncated_recording(ctx: SourceContext, tmp_path: Path) -> None:
    entries = xapi_entries()
    content = entries[1]["response"]["content"]
    content["text"] = content["text"][:40]
    write_har(tmp_path / "lrs.har", entries)
    with pytest.raises(EvidenceError) as exc:
        XapiAdapter(XapiConfig(replay="lrs.har"), ctx).collect()
    assert exc.value.diagnostics[0].file == "lrs.har entry 2 (GET /xAPI/statements)"
    assert "truncated" in exc.value.diagnostics[0].message


def test_a_glob_cannot_reach_outside_the_config_folder(ctx: SourceContext, tmp_path: Path
                                                       ) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    save(outside, "u.json", scim_page(1, 1, [1]))
    (tmp_path / "scim").mkdir()
    (tmp_path / "scim" / "link.json").symlink_to(outside / "u.json")
    with pytest.raises(EvidenceError) as exc:
        ScimAdapter(ScimConfig(replay="scim/*.json", groups=False, id_from=("id",)),
                    ctx).collect()
    assert exc.value.diagnostics[0].code == "E318"


def test_mlflow_recording_of_a_narrower_search_is_refused(ctx: SourceContext,
                                                         tmp_path: Path) -> None:
    # the models search recorded with a filter the source does not use: it would replay
    # as the whole registry
    entries = [har_entry(f"{MLFLOW}/registered-models/search?filter=name+%3D+%27m0%27",
                         {"registered_models": [model(0)]}),
               har_entry(f"{MLFLOW}/model-versions/search",
                         {"model_versions": [version(0)]})]
    write_har(tmp_path / "mlflow.har", entries)
    with pytest.raises(EvidenceError) as exc:
        MlflowAdapter(MlflowConfig(replay="mlflow.har"), ctx).collect()
    d = exc.value.diagnostics[0]
    assert d.code == "E364"
    assert "asks for another listing" in d.message, d
    # with the same filter configured, it is the listing asked for
    bundle = MlflowAdapter(MlflowConfig(replay="mlflow.har", filter="name  =  'm0'"),
                           ctx).collect()
    assert [s.id for s in bundle.subjects] == ["m0"]
    assert [r.version for r in bundle.releases] == ["1"]
