"""Can this person be accountable at instant t? The one answer every part shares.

Owner resolution (:mod:`checker.owners`), the ownership and continuity checks, the
accountability matrix and the waiver policy all ask the same question; they ask it here,
so a finding is never given to someone the checks would reject.

The tests run in this order and the first that fails decides the status:

1. known — the handle resolves to exactly one person (``nobody``, ``unknown``,
   ``ambiguous``);
2. an individual — HR says ``individual`` and neither the handle nor any of the person's
   emails matches a shared-mailbox pattern (``not_individual``, ``shared_mailbox``);
3. employed at t — hired and not terminated (``not_hired``, ``terminated``);
4. present at t — not absent (``on_leave``);
5. allowed — a contractor only when ``settings.allow_contractors`` (``contractor``).

Absence semantics (what counts as "not present") live here and only here:
:func:`availability` for one instant, :func:`employed_spans` / :func:`present_spans` for
intervals.

A leave is worded by its last day, as the absence exports give it: ``on leave through
2026-12-11`` for a leave whose last day is the 11th (internally the period ends at the
midnight after it, in the organisation's time zone or in UTC, depending on the adapter).
Back-to-back periods read as one absence; an open-ended one names no end; a period ending
within a day names that instant (``until 2026-12-11 14:00Z``, the first instant back).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Literal, NamedTuple

from .config import Settings
from .evidence import Person
from .findings import OwnerStatus
from .identity import IdentityIndex
from .intervals import Interval, clip, subtract
from .regex import Pattern, compile_pattern
from .timeutil import END_OF_TIME, is_midnight

__all__ = [
    "IDENTITY_PROBLEMS",
    "PRESENCE_PROBLEMS",
    "Availability",
    "AvailabilityStatus",
    "availability",
    "display",
    "employed_spans",
    "owner_status",
    "present_spans",
    "shared_mailbox",
]

AvailabilityStatus = Literal[
    "available", "nobody", "unknown", "ambiguous", "not_individual", "shared_mailbox",
    "not_hired", "terminated", "on_leave", "contractor",
]

#: Statuses that say the handle does not denote one named individual at all.
IDENTITY_PROBLEMS: frozenset[str] = frozenset(
    {"nobody", "unknown", "ambiguous", "not_individual", "shared_mailbox"})
#: Statuses that say an individual is not employed or not present at the instant.
PRESENCE_PROBLEMS: frozenset[str] = frozenset({"not_hired", "terminated", "on_leave"})

_DEFAULT = Settings()

#: The verdicts in the owner vocabulary (:data:`checker.findings.OwnerStatus`), the words
#: the accountability matrix and ``aimscheck owners`` share: a handle naming nobody or
#: several people is ``unknown``, a group, service account or shared mailbox
#: ``not_individual``, someone not employed at the instant (left, or not yet hired)
#: ``terminated``, a contractor who may not own ``contractor``.
_OWNER_STATUS: dict[str, OwnerStatus] = {
    "unknown": "unknown", "ambiguous": "unknown", "nobody": "unknown",
    "not_individual": "not_individual", "shared_mailbox": "not_individual",
    "not_hired": "terminated", "terminated": "terminated", "on_leave": "on_leave",
    "contractor": "contractor", "available": "active",
}


class Availability(NamedTuple):
    """The answer: a status, one human reason naming the person, and the person (if any)."""

    status: AvailabilityStatus
    reason: str
    person: Person | None

    @property
    def ok(self) -> bool:
        """True when the person can be accountable at the instant."""
        return self.status == "available"

    @property
    def individual(self) -> bool:
        """True when the handle denotes one known individual (whatever their presence)."""
        return self.status not in IDENTITY_PROBLEMS

    @property
    def present(self) -> bool:
        """True for an individual who is employed and not absent at the instant."""
        return self.individual and self.status not in PRESENCE_PROBLEMS

    @property
    def detail(self) -> str:
        """The reason when the person cannot be accountable, else empty."""
        return "" if self.ok else self.reason


def owner_status(a: Availability) -> OwnerStatus:
    """The verdict in the owner vocabulary the matrix and ``aimscheck owners`` share.

    One mapping, so a person gets the same word in a matrix cell and in their own report
    at the same as-of under the same settings (the matrix may still say ``untrained`` for
    a role whose training the person lacks; that is a fact about the role, not the person).
    """
    return _OWNER_STATUS[a.status]


def display(person: Person | None, handle: str | None) -> str:
    """``Name <email>`` for a person, else the handle as given."""
    if person is None:
        return f"unknown person {handle!r}" if handle else "nobody"
    return f"{person.name} <{person.primary_email}>" if person.primary_email else person.name


def _when(t: datetime) -> str:
    if t.hour == t.minute == t.second == t.microsecond == 0:
        return t.strftime("%Y-%m-%d")
    return t.strftime("%Y-%m-%d %H:%MZ")


def _absence_end(p: Person, at: datetime) -> datetime | None:
    """The end of the leave ``p`` is on at ``at``: back-to-back periods count as one.

    None when the absence is open-ended (or undated). Leave periods are half-open
    ``[start, end)``: the returned instant is the first one the person is back.
    """
    end: datetime | None = at
    while end is not None:
        covering = [lp.end for lp in p.leave if lp.contains(end)]
        if not covering:
            return None if end == at else end
        if None in covering:
            return None
        end = max(e for e in covering if e is not None)
    return None


def _leave_until(end: datetime | None, tz: tzinfo) -> str:
    """How a leave ending (exclusively) at ``end`` is worded: its last day, inclusive.

    Adapters turn a leave's inclusive last day into the midnight after it: in the
    organisation's time zone (``absence_csv``, an undated HR ``on_leave`` status) or in UTC
    (``hr_csv`` and ``scim`` leave exports). Either midnight is worded as the day before
    (``through 2026-12-11`` for a leave whose last day is the 11th, ending at the 12th's
    midnight); a leave ending at another instant is worded by that instant (``until
    2026-12-11 14:00Z``, the first instant the person is back).
    """
    if end is None or end >= END_OF_TIME:
        return ""
    for zone_end in (end.astimezone(tz), end):
        if is_midnight(zone_end):
            return f" through {(zone_end - timedelta(days=1)).strftime('%Y-%m-%d')}"
    return f" until {_when(end)}"


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> list[Pattern]:
    """The patterns as one RE2 alternation (one linear scan per handle), else one each."""
    if len(patterns) > 1:
        try:
            return [compile_pattern("|".join(f"(?:{p})" for p in patterns))]
        except ValueError:  # each compiles alone (settings validated them): keep them apart
            pass
    return [compile_pattern(p) for p in patterns]  # RE2: linear time on any handle


@lru_cache(maxsize=1 << 18)
def _name_shared(patterns: tuple[str, ...], name: str) -> bool:
    # the same emails and handles recur across people, subjects and rules: match each once
    return any(p.search(name) for p in _compiled(patterns))


def _matches_shared(patterns: tuple[str, ...], names: tuple[str, ...]) -> bool:
    return any(_name_shared(patterns, n) for n in names)


def shared_mailbox(settings: Settings, handle: str, person: Person | None) -> bool:
    """True when the handle or the person's emails match a shared-mailbox pattern."""
    return _matches_shared(tuple(settings.shared_mailbox_patterns),
                           (handle, *(person.emails if person else ())))


def availability(identity: IdentityIndex, handle: str | None, at: datetime,
                 settings: Settings | None = None) -> Availability:
    """Whether ``handle`` names someone who can be accountable at ``at``, and why not.

    Args:
        identity: The identity index (``store.identity``).
        handle: Any handle: email, id, account id; None or empty means nobody is named.
        at: The instant (the as-of, or a historic instant such as a takeover).
        settings: Shared-mailbox patterns and whether contractors may own (default: the
            built-in settings).
    """
    s = settings or _DEFAULT
    if not handle or not handle.strip():
        return Availability("nobody", "nobody named", None)
    # The same owners are asked about at the same instants by many checks and findings:
    # answer each (handle, instant, policy) once per index (cleared when people change).
    key = (handle, at, tuple(s.shared_mailbox_patterns), s.allow_contractors, s.timezone)
    cache = identity.availability_cache
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _availability(identity, handle, at, s)
    return hit


def _availability(identity: IdentityIndex, handle: str, at: datetime, s: Settings
                  ) -> Availability:
    p = identity.resolve(handle)
    if p is None:
        if identity.is_ambiguous(handle):
            return Availability("ambiguous", f"{handle!r} is ambiguous: more than one person "
                                "has this handle", None)
        return Availability("unknown", f"unknown person {handle!r}: not found in any people "
                            "source", None)
    who = display(p, handle)
    if p.kind != "individual":
        return Availability("not_individual", f"{who} is a {p.kind}, not an individual", p)
    if shared_mailbox(s, handle, p):
        return Availability("shared_mailbox",
                            f"{who} looks like a shared mailbox or team account", p)
    if p.hired is not None and at < p.hired and len(identity.records(p)) == 1:
        return Availability("not_hired", f"{who} is not yet hired (starts {_when(p.hired)})",
                            p)
    records = identity.records(p)
    if len(records) > 1:
        # One person in several HR sources: employed when employed in any of them, and the
        # source that says so is cited (a seconded owner is employed by either company).
        employer = identity.employed_by(p, at)
        if employer is None:
            where = ", ".join(r.provenance.locator for r in records)
            return Availability("terminated", f"{who} is employed in none of their people "
                                f"sources at {_when(at)} ({where})", p)
        who = f"{who} (employed per {employer.provenance.locator})"
    elif not p.employed_at(at):
        since = f" since {_when(p.terminated)}" if p.terminated is not None else ""
        return Availability("terminated", f"{who} is terminated{since}", p)
    if not p.active_at(at):
        until = _leave_until(_absence_end(p, at), s.tz)
        return Availability("on_leave", f"{who} is on leave{until}", p)
    if p.employment_type == "contractor" and not s.allow_contractors:
        return Availability("contractor", f"{who} is a contractor and contractors may not "
                            "own subjects", p)
    return Availability("available", f"{who} is available", p)


def employed_spans(p: Person, window: Interval) -> list[Interval]:
    """The part of ``window`` in which ``p`` is employed (hired, not terminated)."""
    if p.status == "terminated" and p.terminated is None:
        return []
    iv = clip(p.hired, p.terminated, window)
    return [iv] if iv else []


def present_spans(p: Person, window: Interval) -> list[Interval]:
    """The part of ``window`` in which ``p`` is employed and not on a dated leave."""
    if not p.leave:  # most people: nothing to subtract
        return employed_spans(p, window)
    leave = [iv for per in p.leave if (iv := clip(per.start, per.end, window))]
    return subtract(employed_spans(p, window), leave)
