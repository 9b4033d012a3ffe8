"""Role tokens and finding-owner resolution.

A role token names people relative to a target:

- an owner role of the subject (``primary``, ``backup``, ``risk_owner`` …);
- ``system.<role>`` / ``model.<role>``: that role on the target's AI system or model;
- a person field of the target (``assignee``, ``registered_by``, ``deployed_by``,
  ``escalated_to``, ``actioned_by``); ``person`` for a person target itself and
  ``manager`` for their manager;
- ``accountable_executive``: the configured accountable executive.

The finding owner is the first token whose person is available (``checker.availability``);
the chain always ends at the accountable executive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .availability import availability
from .config import Settings
from .evidence import Person, Release, Subject
from .store import EvidenceStore, Target

__all__ = ["OwnerChoice", "handles_for", "resolve_owner"]

_FIELDS = ("assignee", "registered_by", "deployed_by", "requested_by", "escalated_to",
           "actioned_by", "corrective_action_by")


def handles_for(store: EvidenceStore, target: Target, token: str, executive: str) -> list[str]:
    """The handles a role token names for ``target`` (possibly none)."""
    if token == "accountable_executive":
        return [executive]
    if isinstance(target, Person):
        if token == "person":
            return [target.id]
        if token == "manager":
            return [target.manager] if target.manager else []
        return []
    if "." in token:
        scope, role = token.split(".", 1)
        other: Subject | None = None
        if scope == "system":
            other = store.system_of(target)
        elif scope == "model" and isinstance(target, Release):
            other = store.subject(target.model, "model")
        elif scope == "subject" and not isinstance(target, Subject):
            other = store.subject(getattr(target, "subject", None))
        if other is None:
            return []
        return handles_for(store, other, role, executive)
    if isinstance(target, Subject):
        h = target.owners.get(token)
        return [h] if h else []
    if token in _FIELDS:
        h = getattr(target, token, None)
        return [h] if isinstance(h, str) and h else []
    return []


@dataclass(frozen=True)
class OwnerChoice:
    """A resolved finding owner: the person and the token that led to them."""

    person: Person
    via: str


def resolve_owner(
    store: EvidenceStore, target: Target, chain: list[str], executive: str, as_of: datetime,
    settings: Settings | None = None, exclude: frozenset[str] = frozenset(),
) -> tuple[OwnerChoice | None, OwnerChoice | None]:
    """First and second distinct available people along ``chain`` (+ the executive).

    ``exclude`` holds person ids that may not be the second (the deputy): the people the
    finding is about or who caused it (the self-approver, the non-independent auditor).

    "Available" is :func:`checker.availability.availability` — the same test the checks
    apply, so a finding is never given to someone a check would reject. When nobody along
    the chain is available the executive is named anyway (a finding always names a
    person).
    """
    tokens = (*chain, "accountable_executive") if "accountable_executive" not in chain \
        else tuple(chain)
    found = _candidates(store, target, tokens, executive, as_of, settings)
    if not found:
        # Fall back to the executive even when absent: a finding always names a person.
        p = store.identity.resolve(executive)
        if p is not None:
            return OwnerChoice(p, "accountable_executive"), None
        return None, None
    first = found[0]
    second = next((c for c in found[1:] if c.person.id not in exclude), None)
    return first, second


def _candidates(store: EvidenceStore, target: Target, tokens: tuple[str, ...], executive: str,
                as_of: datetime, settings: Settings | None) -> list[OwnerChoice]:
    """The distinct available people along ``tokens``, in order, each with its first token.

    The deputy only differs by the people a finding excludes: the second choice is the
    first later candidate not excluded, as a walk along the chain would pick it.
    """
    s = settings
    policy = None if s is None else (tuple(s.shared_mailbox_patterns), s.allow_contractors)
    cache = store.owner_candidates.setdefault((executive, as_of, policy), {})
    found: list[OwnerChoice] = []
    seen: set[str] = set()
    for token in tokens:
        # Many rules share tokens (primary, backup, system.primary …): the people a token
        # names for a target are looked up once per (target, token, instant, policy).
        key = (id(target), token)
        hit = cache.get(key)
        if hit is None or hit[0] is not target:
            people: list[OwnerChoice] = []
            for h in handles_for(store, target, token, executive):
                a = availability(store.identity, h, as_of, settings)
                if a.ok and a.person is not None:
                    people.append(OwnerChoice(a.person, token))
            hit = cache[key] = (target, tuple(people))
        for c in hit[1]:
            if c.person.id not in seen:
                seen.add(c.person.id)
                found.append(c)
    return found
