"""Replay against the real servers: what a live scan received, saved under any names and
replayed, gives the same people and trainings through the same paging code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.scim import ScimAdapter
from evidence_adapters.xapi import XapiAdapter
from tests.har import HarRecorder, write_har

from .conftest import Lrs, Scim
from .test_scim import live, load_people
from .test_xapi import load

pytestmark = pytest.mark.services


def recording(ctx: SourceContext) -> tuple[SourceContext, dict[str, bytes]]:
    got: dict[str, bytes] = {}
    return SourceContext(ctx.base_dir, ctx.source_name, ctx.fetched_at, ctx.as_of,
                         recorder=got.__setitem__), got


def save_as(folder: Path, bodies: list[bytes]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, body in enumerate(bodies):
        name = f"{folder.name}/export {i + 1:02d}.json"
        (folder.parent / name).write_bytes(body)
        names.append(name)
    return names


def people(bundle: Any) -> set[tuple[Any, ...]]:
    return {(p.id, p.name, p.emails, p.kind, p.status, p.roles, p.manager)
            for p in bundle.people}


def test_scim_saved_pages_replay_like_live(scim_env: Scim, tag: str, ctx: SourceContext
                                          ) -> None:
    load_people(scim_env, tag)
    rec_ctx, got = recording(ctx)
    cfg = live(scim_env, tag)
    live_bundle = ScimAdapter(ScimAdapter.Config.model_validate(cfg), rec_ctx).collect()
    # saved in reverse order under other names: the pages say where they sit
    names = save_as(ctx.base_dir / "idp", [got[k] for k in sorted(got, reverse=True)])
    replay_cfg = {k: v for k, v in cfg.items() if k != "url"} | {"replay": names}
    replayed = ScimAdapter(ScimAdapter.Config.model_validate(replay_cfg), ctx).collect()
    assert people(replayed) == people(live_bundle)
    assert len(got) >= 4  # three pages of users, one of groups
    users = sorted(n for n in got if n.startswith("users/"))
    middle = names[sorted(got, reverse=True).index(users[1])]
    (ctx.base_dir / middle).unlink()
    with pytest.raises(EvidenceError) as exc:
        ScimAdapter(ScimAdapter.Config.model_validate(replay_cfg | {
            "replay": [n for n in names if n != middle]}), ctx).collect()
    assert exc.value.diagnostics[0].code == "E345"


def test_xapi_saved_pages_replay_like_live(lrs_env: Lrs, tag: str, ctx: SourceContext
                                          ) -> None:
    acts = load(lrs_env, tag)
    rec_ctx, got = recording(ctx)
    cfg: dict[str, Any] = {"limit": 3, "server_verb_filter": False,
                           "unmapped_activities": "skip",
                           "courses": {acts["course"]: "ai-governance-basics",
                                       acts["other"]: "eu-ai-act-essentials"}}
    live_bundle = XapiAdapter(XapiAdapter.Config.model_validate(
        {**cfg, "endpoint": lrs_env.url}), rec_ctx).collect()
    # plain saved bodies: `more` links are opaque, so they are refused (a gap would not show)
    names = save_as(ctx.base_dir / "lrs", [got[k] for k in sorted(got)])
    with pytest.raises(EvidenceError) as exc:
        XapiAdapter(XapiAdapter.Config.model_validate({**cfg, "replay": names}),
                    ctx).collect()
    assert "cannot be checked" in exc.value.diagnostics[0].message
    # the customer's client pages the real LRS behind a recording proxy: a HAR
    rec = HarRecorder()
    with httpx.Client(transport=rec, auth=(lrs_env.user, lrs_env.password),
                      headers={"X-Experience-API-Version": "1.0.3"}) as client:
        url = httpx.URL(f"{lrs_env.url}/statements", params={"limit": 3})
        while True:
            more = client.get(url).raise_for_status().json().get("more")
            if not more:
                break
            url = url.join(more)
    entries = rec.entries
    assert len(entries) > 2  # the LRS paged
    write_har(ctx.base_dir / "lrs.har", entries)
    replayed = XapiAdapter(XapiAdapter.Config.model_validate({**cfg, "replay": "lrs.har"}),
                           ctx).collect()

    def key(b: Any) -> set[tuple[Any, ...]]:
        return {(t.person, t.course, t.passed, t.completed_at, t.provenance.locator)
                for t in b.trainings}

    assert key(replayed) == key(live_bundle)
    for gone in range(len(entries)):  # any recorded page deleted: exit 3 naming the gap
        write_har(ctx.base_dir / "lrs.har", entries[:gone] + entries[gone + 1:])
        with pytest.raises(EvidenceError) as exc:
            XapiAdapter(XapiAdapter.Config.model_validate({**cfg, "replay": "lrs.har"}),
                        ctx).collect()
        d = exc.value.diagnostics[0]
        assert d.code == "E345"
        if gone == 0:
            assert "the first page is missing" in d.message, d
        else:
            assert d.file.startswith(f"lrs.har entry {gone} "), d
            assert "a page is missing" in d.message, d
