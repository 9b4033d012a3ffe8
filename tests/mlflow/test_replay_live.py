"""Replay against a real MLflow server: the recorded responses, saved under any names, give
the same subjects and releases; MLflow's own page tokens let a missing page be found."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.mlflow import MlflowAdapter, MlflowConfig

from .conftest import register, unique

pytestmark = pytest.mark.services
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def test_recorded_responses_replay_like_live(mlflow_url: str, tmp_path: Path) -> None:
    model = unique("aimscheck-replay")
    register(mlflow_url, [{"name": model, "tags": {"owner.primary": "ann@example.org"},
                           "versions": [{"user": "reg.builder"} for _ in range(9)]}])
    got: dict[str, bytes] = {}
    ctx = SourceContext(tmp_path, "mlflow", NOW, NOW, recorder=got.__setitem__,
                        only_models=frozenset({model}))
    live = MlflowAdapter(MlflowConfig(tracking_uri=mlflow_url, page_size=2), ctx).collect()
    assert [r.version for r in live.releases] == [str(i) for i in range(1, 10)]
    names = []
    for i, key in enumerate(sorted(got)):
        name = f"saved/{key.split('/')[0]}-{i}.json"
        (tmp_path / "saved").mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(got[key])
        names.append(name)
    plain = SourceContext(tmp_path, "mlflow", NOW, NOW, only_models=frozenset({model}))
    replayed = MlflowAdapter(MlflowConfig(replay=names, page_size=2), plain).collect()
    assert [(r.version, r.registered_by) for r in replayed.releases] == \
        [(r.version, r.registered_by) for r in live.releases]
    assert [s.owners for s in replayed.subjects] == [s.owners for s in live.subjects]
    # the server's own tokens carry the offset: a missing middle page is found
    pages = [n for n in names if n.startswith("saved/model-versions")]
    assert len(pages) == 5
    with pytest.raises(EvidenceError) as exc:
        MlflowAdapter(MlflowConfig(replay=[n for n in names if n != pages[1]], page_size=2),
                      plain).collect()
    assert exc.value.diagnostics[0].code == "E364"
