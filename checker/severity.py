"""The severity scale, defined once.

Every other place — rule files, the config's ``fail_on``, evidence (incidents, alerts),
findings, reporters, waiver limits, check arguments, the Jira value mapping and the JSON
Schemas — takes its values and its order from :class:`Severity`.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SEVERITIES", "SEVERITY_NAMES", "Severity", "severity_rank"]


class Severity(StrEnum):
    """How bad a failure is: critical, high, medium or low."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for low … 3 for critical: a higher rank is more severe."""
        return _RANK[self]


# Members are declared most severe first (that is also the order schemas list them in).
_RANK: dict[Severity, int] = {s: len(Severity) - 1 - i for i, s in enumerate(Severity)}

#: Severity names from least to most severe (``--fail-on`` choices, comparisons).
SEVERITIES: tuple[str, ...] = tuple(s.value for s in sorted(Severity, key=lambda s: _RANK[s]))
#: Severity names most severe first (the order the schemas and documentation list them in).
SEVERITY_NAMES: tuple[str, ...] = tuple(s.value for s in Severity)


def severity_rank(name: str) -> int:
    """The rank of a severity given by name (``ValueError`` for an unknown name)."""
    return _RANK[Severity(name)]
