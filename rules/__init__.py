"""Built-in aimscheck rule packs (installed as ``aimscheck_rules``).

Each pack is a folder of ``<RULE-ID>.yaml`` files with their ``<RULE-ID>.test.yaml`` case
files beside them. Packs are found through the ``aimscheck.rule_packs`` entry-point group,
exactly as third-party packs are.
"""

from __future__ import annotations

from pathlib import Path

iso42001: Path = Path(__file__).resolve().parent / "iso42001"

__all__ = ["iso42001"]
