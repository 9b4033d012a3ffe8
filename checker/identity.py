"""One identity index: any handle → the person it denotes.

A handle is compared after stripping whitespace, a ``mailto:`` prefix and letter case, so
``Jane.Doe@Example.com``, `` jane.doe@example.com `` and ``mailto:jane.doe@example.com``
are the same. A handle claimed by two different people is *ambiguous* and resolves to
nobody (a finding, never a guess): different people are never merged.

Every email also yields the handle ``sha1:<hex>``, the SHA-1 of ``mailto:`` + the lower-cased
address: that is how xAPI identifies an actor by ``mbox_sha1sum`` without revealing the
address, and the xAPI adapter (which cannot see HR) emits it as the training's person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from .evidence import Person

__all__ = ["IdentityIndex", "mbox_sha1_handle", "normalise_handle"]


def normalise_handle(handle: str) -> str:
    """Canonical form of a handle used as the index key."""
    h = handle.strip()
    if h[:7].lower() == "mailto:":
        h = h[7:]
    return h.casefold()


def mbox_sha1_handle(email: str) -> str:
    """The ``sha1:<hex>`` handle of an email: SHA-1 of ``mailto:`` + the lower-cased address."""
    address = email.strip()
    if address[:7].lower() == "mailto:":
        address = address[7:]
    address = address.lower()
    return "sha1:" + hashlib.sha1(f"mailto:{address}".encode()).hexdigest()


class IdentityIndex:
    """Resolve a person from any of their handles in O(1)."""

    def __init__(self, people: Iterable[Person]) -> None:
        self._by_key: dict[str, Person] = {}
        self._ambiguous: dict[str, set[str]] = {}
        self._by_id: dict[str, Person] = {}
        self.duplicates: list[tuple[Person, Person]] = []
        for person in people:
            if person.id in self._by_id:
                self.duplicates.append((self._by_id[person.id], person))
                continue
            self._by_id[person.id] = person
            keys = {person.id, *person.emails, *person.handles,
                    *(mbox_sha1_handle(e) for e in person.emails if e.strip())}
            if person.employee_number:
                keys.add(person.employee_number)
            for raw in keys:
                if not raw or not raw.strip():
                    continue
                key = normalise_handle(raw)
                other = self._by_key.get(key)
                if other is not None and other.id != person.id:
                    self._ambiguous.setdefault(key, {other.id}).add(person.id)
                    continue
                self._by_key[key] = person
        for key in self._ambiguous:
            self._by_key.pop(key, None)

    def resolve(self, handle: str | None) -> Person | None:
        """Return the person a handle denotes, or None (unknown or ambiguous)."""
        if not handle:
            return None
        return self._by_key.get(normalise_handle(handle))

    def is_ambiguous(self, handle: str) -> bool:
        """True when two different people claim this handle."""
        return normalise_handle(handle) in self._ambiguous

    def by_id(self, person_id: str) -> Person | None:
        """Return a person by canonical id."""
        return self._by_id.get(person_id)

    def people(self) -> list[Person]:
        """All people, sorted by id."""
        return [self._by_id[k] for k in sorted(self._by_id)]

    def __len__(self) -> int:
        return len(self._by_id)
