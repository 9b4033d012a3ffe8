"""The reporter contract and registry. A reporter reads only the scan result."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

from checker.findings import ScanResult
from checker.registry import Registry

__all__ = ["Reporter", "register_reporter", "reporter_registry"]


class Reporter(ABC):
    """Renders a :class:`ScanResult` as text in one format."""

    name: ClassVar[str] = ""
    extension: ClassVar[str] = "txt"

    @abstractmethod
    def render(self, result: ScanResult) -> str:
        """Return the whole document."""


reporter_registry: Registry[type[Reporter]] = Registry("format")


def register_reporter(name: str) -> Callable[[type[Reporter]], type[Reporter]]:
    """Class decorator registering a reporter under ``name``."""

    def deco(cls: type[Reporter]) -> type[Reporter]:
        cls.name = name
        reporter_registry.add(name, cls)
        return cls

    return deco
