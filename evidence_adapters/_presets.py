"""Vendor presets for the CSV adapters, kept as data: ``<adapter>/presets/<name>.yaml``.

A preset is a partial source config (column names, value mappings, date format) for one
vendor's export. A source names it with ``preset: workday``; keys given explicitly in the
source override the preset's, and ``columns`` is merged key by key (so one renamed column
does not mean restating the whole mapping). The ``description`` key of a preset file is
documentation and is not part of the config.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from checker.registry import did_you_mean

__all__ = ["apply_preset", "load_preset", "preset_names"]

_ROOT = Path(__file__).resolve().parent
_META_KEYS = frozenset({"description", "vendor"})


def preset_names(adapter: str) -> list[str]:
    """Names of the presets an adapter ships, sorted."""
    folder = _ROOT / adapter / "presets"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


@cache
def _read(adapter: str, name: str) -> dict[str, Any]:
    path = _ROOT / adapter / "presets" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):  # pragma: no cover - shipped data, checked by tests
        raise ValueError(f"preset {path} is not a mapping")
    return data


def load_preset(adapter: str, name: str, *, with_meta: bool = False) -> dict[str, Any]:
    """The config keys of one preset (a fresh copy).

    Raises:
        ValueError: no such preset (the message lists the available ones).
    """
    names = preset_names(adapter)
    if name not in names:
        hint = did_you_mean(name, names)
        raise ValueError(f"unknown {adapter} preset {name!r}; available: {', '.join(names)}"
                         + (f" ({hint})" if hint else ""))
    data = _read(adapter, name)
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()
            if with_meta or k not in _META_KEYS}


def apply_preset(adapter: str, data: Any) -> Any:
    """Merge a raw source config over its ``preset`` (for a ``mode="before"`` validator)."""
    if not isinstance(data, dict) or data.get("preset") is None:
        return data
    name = data["preset"]
    if not isinstance(name, str):
        raise ValueError("`preset` must be a preset name")
    merged = load_preset(adapter, name)
    for key, value in data.items():
        if key == "columns" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
