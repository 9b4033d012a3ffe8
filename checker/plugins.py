"""Checks and reporters from entry points, like adapters and rule packs.

An installed distribution adds a check under ``[project.entry-points."aimscheck.checks"]``
(``name = "package.module:CheckClass"``) and an output format under
``"aimscheck.reporters"``. aimscheck's own checks and formats are registered the same way
in its ``pyproject.toml``. A plugin that cannot be imported, is not a check/reporter class
or takes a name already used is not skipped silently: it becomes an ``E211`` diagnostic,
and every command that loads rules (checks) or writes a report (reporters) stops with it
(exit 2) — a rule must never be judged with a check missing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from .errors import Diagnostic, redact
from .registry import Registry

__all__ = ["CHECK_GROUP", "REPORTER_GROUP", "load_entry_points", "plugin_loader"]

CHECK_GROUP = "aimscheck.checks"
REPORTER_GROUP = "aimscheck.reporters"

def load_entry_points(group: str, registry: Registry[Any], base: type) -> list[Diagnostic]:
    """Register every class of entry-point ``group``; return the problems (E211)."""
    diags: list[Diagnostic] = []
    for ep in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
        where = f"entry point {group}:{ep.name}"
        hint = (f"fix or uninstall the distribution that provides {ep.value!r} "
                f"(pip show -f; entry point group {group!r})")
        try:
            obj: Any = ep.load()
        except Exception as exc:
            diags.append(Diagnostic(where, 0, 0, "E211", redact(
                f"plugin {ep.name!r} ({ep.value}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}"), hint))
            continue
        if not (isinstance(obj, type) and issubclass(obj, base)):
            diags.append(Diagnostic(where, 0, 0, "E211", f"plugin {ep.name!r} ({ep.value}) is "
                                    f"not a {base.__name__} class", hint))
            continue
        declared = getattr(obj, "name", "")
        if declared and declared != ep.name:
            diags.append(Diagnostic(where, 0, 0, "E211", f"plugin {ep.name!r} ({ep.value}) "
                                    f"is registered as {declared!r}", hint))
            continue
        try:
            registry.add(ep.name, obj)
        except ValueError:
            diags.append(Diagnostic(where, 0, 0, "E211", f"plugin {ep.name!r} ({ep.value}) "
                                    f"takes a {registry.kind} name already used by "
                                    f"{registry.get(ep.name).__module__}", hint))
            continue
        setattr(obj, "name", ep.name)  # noqa: B010  # a class attribute of Check or Reporter
    return diags


def plugin_loader(group: str, registry: Registry[Any], base: type
                  ) -> Callable[[], tuple[Diagnostic, ...]]:
    """A function that registers ``group``'s entry points once and returns the E211 problems.

    Called when rules are loaded or a report is written, not at import: a plugin module
    imports our packages, so loading it during their import would be circular.
    """

    @cache
    def load() -> tuple[Diagnostic, ...]:
        return tuple(load_entry_points(group, registry, base))

    return load
