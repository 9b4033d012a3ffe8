"""The check contract and the check registry.

A check is a class registered under a snake_case name with its own pydantic argument
model (``extra="forbid"``). Its docstring is user documentation: a one-line summary,
"Passes when / Fails when / Errors when", and an ``Example:`` block holding a small rule
that the test-suite validates.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from types import UnionType
from typing import Any, ClassVar, Generic, Literal, TypeVar, Union, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from checker.causes import Fact
from checker.config import Settings
from checker.evidence import KINDS, SUBJECT_KINDS, Person, Release, Subject, kind_of
from checker.registry import Registry
from checker.store import EvidenceStore, Target

__all__ = [
    "Check",
    "CheckArgs",
    "EvalContext",
    "Outcome",
    "Status",
    "check_registry",
    "combine_all",
    "locator",
    "register",
    "target_id",
    "target_kind",
]

Status = Literal["pass", "fail", "error", "warn"]


class CheckArgs(BaseModel):
    """Base of every check's argument model."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Outcome:
    """A check's verdict on one target.

    Attributes:
        status: pass, fail, warn (holds now, will not soon) or error (cannot decide).
        message: One human sentence naming people and dates.
        evidence: Locators of the records that decided it.
        act: Handles of the people who must act (e.g. who must sign off), if specific.
        cause: Handles of the people the finding is about or who caused it (the
            self-approver, the non-independent auditor): never named as the deputy.
        fact: For a non-passing outcome wholly explained by one underlying fact (an
            unknown owner, an unresolved AI-system reference): that fact
            (:mod:`checker.causes`). Reports for people group findings by it.
    """

    status: Status
    message: str
    evidence: tuple[str, ...] = ()
    act: tuple[str, ...] = ()
    cause: tuple[str, ...] = ()
    fact: Fact | None = None


@dataclass
class EvalContext:
    """Everything a check may read: the store, the as-of time, settings, rule params.

    Attributes:
        gate_release: In ``gate release`` mode, the release id being released; checks
            treat it as going to production now.
    """

    store: EvidenceStore
    as_of: datetime
    settings: Settings
    params: dict[str, Any] = field(default_factory=dict)
    gate_release: str | None = None

    def person(self, handle: str | None) -> Person | None:
        """Resolve a handle through the identity index."""
        return self.store.person(handle)

    def who(self, handle: str | None) -> str:
        """A display of a handle: ``Name <email>`` when it resolves, else the handle."""
        if not handle:
            return "nobody"
        p = self.person(handle)
        if p is None:
            return f"unknown person {handle!r}"
        return f"{p.name} <{p.primary_email}>" if p.primary_email else p.name


def locator(record: Any) -> str:
    """The provenance locator of a record (``file:line``, Jira key …)."""
    prov = getattr(record, "provenance", None)
    return prov.locator if prov is not None else "?"


def target_kind(target: Target) -> str:
    """The rule-level kind of a target (``ai_system`` … ``release``, ``incident``)."""
    if isinstance(target, Subject):
        return target.kind
    return kind_of(target)


def target_id(target: Target) -> str:
    """The id of a target within its kind."""
    if isinstance(target, Release):
        return target.id
    return str(getattr(target, "id", "?"))


TargetT = TypeVar("TargetT", bound=Target)
ArgsT = TypeVar("ArgsT", bound=CheckArgs)

_ALL_TARGETS: tuple[type, ...] = (Subject, *(s.model for s in KINDS.values() if s.target))


_MODEL_KIND: dict[type, str] = {spec.model: name for name, spec in KINDS.items()}


def _kinds_of(types: tuple[type, ...]) -> frozenset[str]:
    out: set[str] = set()
    for t in types:
        out |= set(SUBJECT_KINDS) if t is Subject else {_MODEL_KIND[t]}
    return frozenset(out)


class Check(ABC, Generic[TargetT, ArgsT]):
    """Base class of every condition: ``class OwnerAssigned(Check[Subject, RoleArgs])``.

    The two type parameters are the declaration: the record type(s) the check judges and
    its argument model. The engine calls :meth:`run`, which never hands :meth:`evaluate` a
    target of another type (it is an ``error`` outcome instead), so ``evaluate`` is typed
    with the narrow type and needs no ``isinstance`` preamble.

    Class attributes:
        name: The registry name (set by :func:`register`).
        Args: The argument model (from the second type parameter).
        target_types: The record types it judges (from the first type parameter).
        target_kinds: Target kinds it understands: derived from ``target_types``; a check
            may narrow it to some subject kinds.
        needs: Evidence kinds it reads, used to plan which sources to read. Fail-closed
            does not depend on it: reading an incomplete kind from the store raises
            :class:`~checker.errors.IncompleteEvidence`, which the engine turns into
            ``error``.
    """

    name: ClassVar[str] = ""
    Args: ClassVar[type[CheckArgs]] = CheckArgs
    target_types: ClassVar[tuple[type, ...]] = _ALL_TARGETS
    needs: ClassVar[frozenset[str]] = frozenset()
    target_kinds: ClassVar[frozenset[str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is not Check:
                continue
            target, args = get_args(base)
            types = (get_args(target) if get_origin(target) in (Union, UnionType)
                     else (target,))
            if all(isinstance(t, type) for t in types):
                cls.target_types = tuple(types)
                if "target_kinds" not in cls.__dict__ and cls.target_types != _ALL_TARGETS:
                    cls.target_kinds = _kinds_of(cls.target_types)
            if isinstance(args, type) and issubclass(args, CheckArgs):
                cls.Args = args

    def __init__(self, args: ArgsT) -> None:
        self.args: ArgsT = args

    def run(self, ctx: EvalContext, target: Target) -> Outcome:
        """Judge ``target`` if it is of a declared type and kind, else an ``error``."""
        if not isinstance(target, self.target_types) or (
                self.target_kinds is not None and target_kind(target) not in self.target_kinds):
            return Outcome("error", f"check {self.name!r} cannot judge {target_kind(target)} "
                           f"{target_id(target)!r}", (locator(target),))
        return self.evaluate(ctx, cast(TargetT, target))

    def children(self) -> list[Check[Any, Any]]:
        """Nested checks (for all/any/not)."""
        return []

    def all_needs(self) -> frozenset[str]:
        """Evidence kinds needed by this check and its children."""
        out = set(self.needs)
        for c in self.children():
            out |= c.all_needs()
        return frozenset(out)

    @abstractmethod
    def evaluate(self, ctx: EvalContext, target: TargetT) -> Outcome:
        """Decide on one target of a declared type."""


check_registry: Registry[type[Check[Any, Any]]] = Registry("check")


def register(name: str) -> Any:
    """Class decorator: register a check under ``name``."""

    def deco(cls: type[Check[Any, Any]]) -> type[Check[Any, Any]]:
        cls.name = name
        check_registry.add(name, cls)
        return cls

    return deco


_RANK = {"error": 3, "fail": 2, "warn": 1, "pass": 0}


def combine_all(outcomes: list[Outcome]) -> Outcome:
    """Conjunction: the worst status wins; messages of the non-passing parts are kept."""
    if not outcomes:
        return Outcome("pass", "no condition to check")
    if len(outcomes) == 1:  # the common case, kept cheap: one outcome is its own conjunction
        o = outcomes[0]
        if len(o.evidence) < 2 and len(o.act) < 2 and len(o.cause) < 2:
            return o  # nothing to de-duplicate
        if (len(set(o.evidence)) == len(o.evidence) and len(set(o.act)) == len(o.act)
                and len(set(o.cause)) == len(o.cause)):
            return o
    worst = max(outcomes, key=lambda o: _RANK[o.status]).status
    if worst == "pass":
        msgs = [o.message for o in outcomes]
        chosen = outcomes
    else:
        chosen = [o for o in outcomes if o.status != "pass"]
        msgs = [o.message for o in chosen]
    evidence = tuple(dict.fromkeys(e for o in outcomes for e in o.evidence))
    act = tuple(dict.fromkeys(a for o in chosen for a in o.act))
    cause = tuple(dict.fromkeys(c for o in chosen for c in o.cause))
    # one fact explains the conjunction only when it explains every non-passing part
    fact = chosen[0].fact if worst != "pass" else None
    if fact is not None and any(o.fact != fact for o in chosen):
        fact = None
    return Outcome(worst, "; ".join(dict.fromkeys(msgs)), evidence, act, cause, fact)
