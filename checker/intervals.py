"""Half-open time intervals ``[start, end)`` in aware UTC: the arithmetic behind coverage rules.

Pure functions, no clock. ``None`` as a start means "since forever" and as an end "until
further notice"; :func:`clip` turns such open intervals into closed ones inside a window.
Every datetime is normalised to UTC on the way in, so the result never depends on the
offsets the evidence was written with.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .timeutil import ensure_utc

__all__ = [
    "Interval",
    "clip",
    "complement",
    "intersect",
    "length",
    "subtract",
    "union",
]


@dataclass(frozen=True, order=True)
class Interval:
    """The half-open interval ``[start, end)``; empty when ``end <= start``.

    Attributes:
        start: First instant inside (aware, stored in UTC).
        end: First instant after (aware, stored in UTC).
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start))
        object.__setattr__(self, "end", ensure_utc(self.end))

    @property
    def empty(self) -> bool:
        """True when the interval holds no instant."""
        return self.end <= self.start

    @property
    def duration(self) -> timedelta:
        """Elapsed time inside (zero for an empty interval)."""
        return max(self.end - self.start, timedelta(0))

    def contains(self, t: datetime) -> bool:
        """True when ``t`` lies inside."""
        return self.start <= ensure_utc(t) < self.end


def clip(start: datetime | None, end: datetime | None, window: Interval) -> Interval | None:
    """The part of a possibly open interval that lies inside ``window`` (None if empty)."""
    s = window.start if start is None else max(ensure_utc(start), window.start)
    e = window.end if end is None else min(ensure_utc(end), window.end)
    iv = Interval(s, e)
    return None if iv.empty else iv


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint, non-adjacent intervals covering the same instants.

    Adjacent intervals (``a.end == b.start``) are merged: half-open intervals that touch
    leave no instant uncovered between them.
    """
    out: list[Interval] = []
    for iv in sorted(i for i in intervals if not i.empty):
        if out and iv.start <= out[-1].end:
            if iv.end > out[-1].end:
                out[-1] = Interval(out[-1].start, iv.end)
        else:
            out.append(iv)
    return out


def complement(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The parts of ``window`` that no interval covers, in order (exact gap detection)."""
    gaps: list[Interval] = []
    cursor = window.start
    for iv in union(intervals):
        if iv.end <= window.start or iv.start >= window.end:
            continue
        if iv.start > cursor:
            gaps.append(Interval(cursor, iv.start))
        cursor = max(cursor, iv.end)
    if cursor < window.end:
        gaps.append(Interval(cursor, window.end))
    return gaps


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """Instants in both sets, as sorted disjoint intervals."""
    ua, ub = union(a), union(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(ua) and j < len(ub):
        s = max(ua[i].start, ub[j].start)
        e = min(ua[i].end, ub[j].end)
        if s < e:
            out.append(Interval(s, e))
        if ua[i].end <= ub[j].end:
            i += 1
        else:
            j += 1
    return union(out)


def subtract(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """Instants in ``a`` but not in ``b``."""
    ua = union(a)
    if not ua:
        return []
    window = Interval(ua[0].start, ua[-1].end)
    return intersect(ua, complement(b, window))


def length(intervals: Iterable[Interval]) -> timedelta:
    """Total time covered (overlaps counted once)."""
    return sum((iv.duration for iv in union(intervals)), timedelta(0))
