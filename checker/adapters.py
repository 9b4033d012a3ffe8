"""The adapter contract and discovery through the ``aimscheck.adapters`` entry points.

An adapter is a class with a snake_case ``name``, a pydantic ``Config`` model (the keys of
its ``sources:`` entry in ``aimscheck.yaml``, ``extra="forbid"``), the evidence kinds it
``provides``, and a ``collect()`` that returns an :class:`EvidenceBundle` or raises
:class:`~checker.errors.EvidenceError` with one diagnostic per problem (file:line for
files, the URL for services). Adapters are the only code that reads sources.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .errors import Diagnostic, EvidenceUnavailable
from .evidence import EvidenceBundle
from .registry import Registry, UnknownName, did_you_mean
from .safefile import special_path

__all__ = [
    "Adapter",
    "AdapterConfig",
    "SourceContext",
    "adapter_class",
    "adapter_names",
    "adapter_registry",
    "record_limit",
    "reset_record_limit",
    "set_record_limit",
    "system_ref",
    "widen_systems",
]


def system_ref(ref: str) -> str:
    """An AI system reference as the store compares it.

    Trimmed, case-folded, without the optional ``ai_system/`` prefix
    (``AI_System/Pricing `` → ``pricing``).
    """
    return ref.strip().casefold().removeprefix("ai_system/")


def widen_systems(systems: set[str], aliases: Iterable[frozenset[str]]) -> None:
    """Add to ``systems`` every other name of a system it holds (``aliases``), to the end."""
    groups = list(aliases)
    grew = True
    while grew:
        grew = False
        for g in groups:
            if g & systems and not g <= systems:
                systems |= g
                grew = True


class AdapterConfig(BaseModel):
    """Base of every adapter's config model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class SourceContext:
    """What an adapter may know about the run.

    Attributes:
        base_dir: Folder of the config file; relative paths are resolved against it.
        source_name: The name of this source in the config (defaults to the adapter id).
        fetched_at: The collection time stamped on provenance.
        as_of: The evaluation time (adapters must not filter by it; rules do).
        progress: Whether the adapter may draw progress on a terminal.
        recorder: Receives every raw payload as received (file bytes, HTTP response bodies
            — never request headers or tokens) for the evidence locker; None when not
            recording.
        only_models: A hint that the run needs only these registered models (set by
            ``gate release``); a registry adapter may then read just them. None = all.
        only_systems: With ``only_models``: AI systems (as :func:`system_ref` gives them)
            whose models, versions and change events the gate also needs, because another
            source found the gated model in them; a registry adapter reads every model
            and version it holds on them. None = only the gated models' own systems.
        system_aliases: With ``only_models``: groups of references (:func:`system_ref`)
            that name one AI system — its id and its name, as the other sources describe
            it — so that a registry whose tags name a system by its name finds the models
            that name it by its id, and back.
        allow_outside: The source's ``allow_outside: true``: its paths may lie outside the
            config's folder (never in /proc, /sys or /dev).
        allow_empty: The source's ``allow_empty: true``: an export with no records is
            accepted (otherwise it is an error: an empty export is usually a failed one).
    """

    base_dir: Path
    source_name: str
    fetched_at: datetime
    as_of: datetime
    progress: bool = False
    recorder: Callable[[str, bytes], None] | None = None
    only_models: frozenset[str] | None = None
    only_systems: frozenset[str] | None = None
    system_aliases: tuple[frozenset[str], ...] = ()
    allow_outside: bool = False
    allow_empty: bool = False

    def record(self, name: str, payload: bytes) -> None:
        """Hand a raw payload to the evidence locker (a no-op unless recording).

        Args:
            name: A relative, stable name for the payload, e.g. ``people.csv`` or
                ``search/page-0003.json``.
            payload: The bytes exactly as received.
        """
        if self.recorder is not None:
            self.recorder(name, payload)

    def path(self, value: str | Path) -> Path:
        """Resolve an evidence path relative to the config file's folder, confined to it.

        A config should not be able to make the tool read (and echo into reports) files
        outside its own folder — ``path: /proc/self/environ`` would print the CI's secrets.

        Raises:
            EvidenceUnavailable: E318 when the path (symlinks followed) leaves the config's
                folder and the source has no ``allow_outside: true``; E319 when it lies in
                /proc, /sys or /dev (always).
        """
        p = Path(value)
        p = p if p.is_absolute() else self.base_dir / p
        shown = str(value)
        if special_path(p):
            raise EvidenceUnavailable(Diagnostic(
                shown, 0, 0, "E319", "refused: a file in /proc, /sys or /dev is not evidence",
                "export the evidence to a regular file"))
        if not self.allow_outside:
            try:
                real, base = p.resolve(), self.base_dir.resolve()
            except (OSError, RuntimeError):
                real, base = p, self.base_dir
            if real != base and base not in real.parents:
                raise EvidenceUnavailable(Diagnostic(
                    shown, 0, 0, "E318", f"source {self.source_name!r}: the path leaves the "
                    "config's folder", "move the file beside the config, or set "
                    "`allow_outside: true` on this source if reading it is intended"))
        return p

    def secret_path(self, value: str | Path) -> Path:
        """Resolve a credential file's path (``*_file``) relative to the config's folder.

        Not confined: secrets are often mounted elsewhere (``/run/secrets``); their contents
        are registered as secrets and never printed.
        """
        p = Path(value)
        return p if p.is_absolute() else self.base_dir / p

    def display(self, path: Path) -> str:
        """A path for locators and messages, always relative to the config folder.

        A file outside the folder is named with ``..`` parts, never by an absolute path:
        outputs carry no path of this machine and are the same wherever the organisation's
        folder is checked out.
        """
        try:
            return path.relative_to(self.base_dir).as_posix()
        except ValueError:
            try:
                return Path(os.path.relpath(path, self.base_dir)).as_posix()
            except ValueError:  # another drive (Windows): nothing relative exists
                return path.as_posix()


class Adapter(ABC):
    """Base class of evidence adapters."""

    name: ClassVar[str]
    Config: ClassVar[type[AdapterConfig]]
    provides: ClassVar[frozenset[str]]
    #: True when the adapter reads only ``ctx.only_models`` if given (a model registry in
    #: ``gate release``). The gate then widens that hint to every model the other sources'
    #: releases name, so that a release recorded twice (in this source and another, in any
    #: letter case) is found and fails the run whatever model is gated.
    honours_only_models: ClassVar[bool] = False
    #: Set by :meth:`collect` of an adapter that honours ``only_models``: the casefolded
    #: names of every model the source lists (also those it did not read), so that the
    #: gate finds a model two sources both hold (a duplicate the scan reports, E314/E332)
    #: and has both read it. None = not known.
    listed_models: frozenset[str] | None = None
    #: Likewise: the AI systems (:func:`system_ref`) the source would describe as subjects
    #: (e.g. one per distinct ``ai_system`` tag), so that the gate finds one two sources
    #: both describe (a duplicate subject, E314) and has both read it. None = not known.
    listed_systems: frozenset[str] | None = None
    #: Likewise: the AI systems (:func:`system_ref`) whose models and versions it read
    #: beyond the gated models, so that the gate has every other registry read those too.
    read_systems: frozenset[str] | None = None

    def __init__(self, config: Any, ctx: SourceContext) -> None:
        self.config = config
        self.ctx = ctx

    def kinds(self) -> frozenset[str]:
        """The evidence kinds this configured source is responsible for."""
        return self.provides

    @abstractmethod
    def collect(self) -> EvidenceBundle:
        """Read the source completely, or raise EvidenceError."""


_RECORD_LIMIT: ContextVar[int | None] = ContextVar("aimscheck_record_limit", default=None)


def record_limit() -> int | None:
    """The most records one source may yield (``settings.max_records_per_source``).

    Adapters that stream (CSV rows, JSON lines, API pages) stop with an error past it, so a
    runaway source ends with a clear message instead of exhausting memory.
    """
    return _RECORD_LIMIT.get()


def set_record_limit(limit: int | None) -> Token[int | None]:
    """Set the limit for the adapters run in this context (used by :func:`checker.run.run`)."""
    return _RECORD_LIMIT.set(limit)


def reset_record_limit(token: Token[int | None]) -> None:
    """Undo :func:`set_record_limit`."""
    _RECORD_LIMIT.reset(token)


_registry: Registry[type[Adapter]] | None = None


def adapter_names() -> list[str]:
    """Names in the ``aimscheck.adapters`` entry-point group (no adapter is imported)."""
    return sorted({ep.name for ep in entry_points(group="aimscheck.adapters")})


def adapter_class(name: str) -> type[Adapter]:
    """Import just the adapter ``name``: a gate should not pay for every adapter's imports.

    Raises:
        UnknownName: no adapter of that name (with a did-you-mean hint).
    """
    if _registry is not None:
        return _registry.get(name)
    eps = [ep for ep in entry_points(group="aimscheck.adapters") if ep.name == name]
    if not eps:
        raise UnknownName("adapter", name, did_you_mean(name, adapter_names()))
    cls: type[Adapter] = eps[0].load()
    return cls


def adapter_registry() -> Registry[type[Adapter]]:
    """Adapters registered in the ``aimscheck.adapters`` entry-point group."""
    global _registry
    if _registry is None:
        reg: Registry[type[Adapter]] = Registry("adapter")
        for ep in sorted(entry_points(group="aimscheck.adapters"), key=lambda e: e.name):
            cls = ep.load()
            reg.add(ep.name, cls)
        _registry = reg
    return _registry
