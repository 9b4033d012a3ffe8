"""Shared helpers for adapter tests: a SourceContext rooted at tmp_path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from checker.adapters import SourceContext

FETCHED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture
def ctx(tmp_path: Path) -> SourceContext:
    return SourceContext(base_dir=tmp_path, source_name="test", fetched_at=FETCHED, as_of=AS_OF)
