"""Replay against the real servers: what a live scan received, saved under any names and
replayed, gives the same people and trainings through the same paging code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.scim import ScimAdapter
from evidence_adapters.xapi import XapiAdapter

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
    names = save_as(ctx.base_dir / "lrs", [got[k] for k in sorted(got)])
    replayed = XapiAdapter(XapiAdapter.Config.model_validate({**cfg, "replay": names}),
                           ctx).collect()

    def key(b: Any) -> set[tuple[Any, ...]]:
        return {(t.person, t.course, t.passed, t.completed_at, t.provenance.locator)
                for t in b.trainings}

    assert key(replayed) == key(live_bundle)
    assert len(names) > 1  # the LRS paged; drop the last page: the chain is broken
    with pytest.raises(EvidenceError) as exc:
        XapiAdapter(XapiAdapter.Config.model_validate({**cfg, "replay": names[:-1]}),
                    ctx).collect()
    assert exc.value.diagnostics[0].file.endswith(Path(names[-2]).name)
