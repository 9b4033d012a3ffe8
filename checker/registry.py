"""A small generic registry used for checks, adapters and reporters."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["Registry", "UnknownName", "did_you_mean"]

T = TypeVar("T")


class UnknownName(KeyError):
    """A name that is not registered; ``hint`` suggests the closest registered names."""

    def __init__(self, kind: str, name: str, hint: str | None) -> None:
        self.kind = kind
        self.name = name
        self.hint = hint
        super().__init__(f"unknown {kind} {name!r}")

    def __str__(self) -> str:
        return f"unknown {self.kind} {self.name!r}"


def did_you_mean(name: str, choices: list[str]) -> str | None:
    """Return a "did you mean …?" hint for ``name`` among ``choices``, or None."""
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


class Registry(Generic[T]):
    """Name → item mapping; duplicates are refused and unknown names get a hint."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Return a decorator that registers its argument under ``name``."""

        def deco(item: T) -> T:
            self.add(name, item)
            return item

        return deco

    def add(self, name: str, item: T) -> None:
        """Register ``item`` under ``name``; a duplicate name raises ValueError."""
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"duplicate {self.kind} name {name!r}")
        self._items[name] = item

    def get(self, name: str) -> T:
        """Return the item registered as ``name`` or raise :class:`UnknownName`."""
        try:
            return self._items[name]
        except KeyError:
            raise UnknownName(self.kind, name, did_you_mean(name, sorted(self._items))) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def items(self) -> list[tuple[str, T]]:
        """Return ``(name, item)`` pairs sorted by name."""
        return sorted(self._items.items())

    def names(self) -> list[str]:
        """Return the registered names, sorted."""
        return sorted(self._items)
