"""One identity index over every people source: any handle → the person it denotes.

**Handles** are compared after stripping whitespace and a ``mailto:`` prefix, Unicode NFC
normalisation and ``lower()``, so ``Jane.Doe@Example.com``, `` jane.doe@example.com `` and
``mailto:jane.doe@example.com`` are the same. Never ``casefold()``: it makes look-alikes
such as ``ﬁ``/``fi`` or ``ß``/``ss`` equal, and two mailboxes must never become one.

**One person across sources.** The same human can be listed by several HR sources (a
parent company's HR export and a subsidiary's SCIM directory). Records of *different*
sources that share a merge key — an email address, the person id or the employee number
(the declared cross-source id) — are one person. The merged person keeps every record
(:meth:`IdentityIndex.records`, provenance per source); its attributes merge (emails,
handles and roles united; employment combined: employed when employed in any source, see
:meth:`IdentityIndex.employed_by`; leave periods united). The merge is independent of the
order in which records arrive.

**Contradictions** are never guessed: two records of the *same* source linked by a key (one
export listing two people with one email), or a further handle (a Jira accountId, an
identity-map entry) claimed by two different people. The handle then resolves to nobody
(a reference to it is an unknown-person finding) and :attr:`IdentityIndex.conflicts` names
both locations, which the scan reports as an error of the people evidence.

Every email also yields the handle ``sha1:<hex>``, the SHA-1 of ``mailto:`` + the lower-cased
address: that is how xAPI identifies an actor by ``mbox_sha1sum`` without revealing the
address, and the xAPI adapter (which cannot see HR) emits it as the training's person.

**Status without dates.** An HR status ``on_leave`` with no dated leave period says the
person was on leave on the export's effective date (``provenance.effective_at``, else the
as-of instant of the run): it becomes one leave day in the organisation's time zone, never
an absence at every instant.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from .evidence import Absence, Period, Person
from .timeutil import END_OF_TIME

__all__ = [
    "Conflict",
    "IdentityIndex",
    "day_period",
    "mbox_sha1_handle",
    "normalise_handle",
    "origin_of",
]


def normalise_handle(handle: str) -> str:
    """Canonical form of a handle used as the index key (NFC, then ``lower()``)."""
    h = handle.strip()
    if h[:7].lower() == "mailto:":
        h = h[7:].strip()
    if h.isascii():  # NFC leaves ASCII unchanged: skip it on the common path
        return h.lower()
    return unicodedata.normalize("NFC", h).lower()


def mbox_sha1_handle(email: str) -> str:
    """The ``sha1:<hex>`` handle of an email: SHA-1 of ``mailto:`` + the lower-cased address."""
    address = email.strip()
    if address[:7].lower() == "mailto:":
        address = address[7:]
    address = address.lower()
    return "sha1:" + hashlib.sha1(f"mailto:{address}".encode()).hexdigest()


def origin_of(record: Person, origins: Mapping[int, str] | None = None) -> str:
    """The source a record came from.

    Its configured source name when known, else the adapter and file of its locator
    (``hr_csv:hr/people.csv``).
    """
    if origins is not None:
        got = origins.get(id(record))
        if got is not None:
            return got
    loc = record.provenance.locator.split("#", 1)[0]
    head, sep, tail = loc.rpartition(":")
    if sep and tail.isdigit():
        loc = head
    return f"{record.provenance.adapter}:{loc}"


def day_period(day: date, tz: tzinfo, kind: str | None, last: date | None = None) -> Period:
    """The days ``day`` … ``last`` (inclusive; ``last`` None = just ``day``) in ``tz``.

    A last day of 9999-12-31 ("open-ended" in many exports) ends at the end of time, as
    :func:`checker.timeutil.day_end` does for HR exports.
    """
    end = last or day
    start = datetime.combine(day, time.min, tzinfo=tz)
    stop = (END_OF_TIME if end >= date.max
            else datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))
    return Period(start=start, end=stop, kind=kind)


@dataclass(frozen=True)
class Conflict:
    """A contradiction between people records: one handle, two people.

    Attributes:
        handle: The handle as written in the first record.
        first: The locator of the first record claiming it.
        second: The locator of the second record claiming it.
        why: What contradicts (``same source``, ``two people``).
    """

    handle: str
    first: str
    second: str
    why: str

    def message(self) -> str:
        """One sentence naming both locations."""
        return (f"{self.handle!r} is claimed by two different people ({self.why}): "
                f"{self.first} and {self.second}")


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _keys(p: Person) -> tuple[set[str], set[str]]:
    """The merge keys (id, emails, employee number) and every key of a record."""
    merge = {normalise_handle(h) for h in (p.id, *p.emails, p.employee_number)
             if h and h.strip()}
    extra = {normalise_handle(h) for h in p.handles if h and h.strip()}
    extra.update(mbox_sha1_handle(e) for e in p.emails if e.strip())
    return merge, merge | extra


_STATUS_RANK = {"active": 0, "on_leave": 1, "terminated": 2}


def _status_leave(p: Person, as_of: datetime | None, tz: tzinfo) -> Person:
    """Turn an undated ``on_leave`` status into a leave day on the export's effective date."""
    if p.status != "on_leave" or p.leave:
        return p
    when = p.provenance.effective_at or as_of
    if when is None:
        return p  # no date known: Person.active_at keeps the conservative reading
    day = when.astimezone(tz).date()
    return p.model_copy(update={"leave": (day_period(day, tz, "on_leave status"),)})


def _combine(records: list[Person]) -> Person:
    """One person from the records of several sources (``records`` in canonical order)."""
    first = records[0]
    if len(records) == 1:
        return first
    emails: dict[str, str] = {}
    handles: dict[str, str] = {}
    for r in records:
        for e in r.emails:
            emails.setdefault(normalise_handle(e), e)
    for r in records:
        for h in (r.id, r.employee_number, *r.handles):
            if h and normalise_handle(h) != normalise_handle(first.id):
                handles.setdefault(normalise_handle(h), h)
    employed = [r for r in records if not (r.status == "terminated" and r.terminated is None)]
    if employed:
        hires = [r.hired for r in employed]
        hired = None if any(h is None for h in hires) else min(h for h in hires if h)
        ends = [r.terminated for r in employed]
        terminated = None if any(e is None for e in ends) else max(e for e in ends if e)
    else:
        hired, terminated = None, None
    status = min((r.status for r in records), key=lambda s: _STATUS_RANK[s])
    kinds = [r.kind for r in records if r.kind != "individual"]
    leave = tuple(sorted({p for r in records for p in r.leave},
                         key=lambda p: (p.start, p.end is None, p.end or p.start, p.kind or "")))

    def first_of(attr: str) -> str | None:
        return next((v for r in records if (v := getattr(r, attr))), None)

    return first.model_copy(update={
        "name": first_of("name") or first.id,
        "emails": tuple(emails.values()),
        "handles": tuple(handles.values()),
        "employee_number": first_of("employee_number"),
        "kind": kinds[0] if kinds else "individual",
        "status": status,
        "employment_type": ("employee" if any(r.employment_type == "employee" for r in records)
                            else "contractor"),
        "hired": hired,
        "terminated": terminated,
        "leave": leave,
        "department": first_of("department"),
        "title": first_of("title"),
        "manager": first_of("manager"),
        "roles": tuple(dict.fromkeys(x for r in records for x in r.roles)),
    })


class IdentityIndex:
    """Resolve a person from any of their handles in O(1).

    Args:
        people: Person records of every people source, in any order.
        origins: ``id(record)`` → configured source name (set by the collect stage); a
            record without one is attributed to its adapter and file.
        as_of: The run's as-of instant, the effective date of an export that states none.
        tz: The organisation's time zone (days of leave are days there).
    """

    def __init__(self, people: Iterable[Person], *, origins: Mapping[int, str] | None = None,
                 as_of: datetime | None = None, tz: tzinfo | None = None) -> None:
        zone = tz or UTC
        tagged = [(origin_of(p, origins), p) for p in people]
        tagged.sort(key=lambda t: (t[0], t[1].provenance.locator, t[1].id))
        recs = [_status_leave(p, as_of, zone) for _, p in tagged]
        src = [o for o, _ in tagged]
        self.conflicts: list[Conflict] = []
        self._seen_conflicts: set[Conflict] = set()
        #: Kept for callers of the old API: exact repeats of one record (harmless).
        self.duplicates: list[tuple[Person, Person]] = []
        self._ambiguous: dict[str, set[str]] = {}
        #: Answers of :func:`checker.availability.availability` (handle, instant, policy):
        #: pure functions of this index, so computed once; cleared when people change.
        self.availability_cache: dict[tuple[Any, ...], Any] = {}

        both = [_keys(r) for r in recs]
        keys_of = [m for m, _ in both]
        all_of = [a for _, a in both]
        # 0. Most records share no key with any other: they are people on their own, and
        #    only the few that do go through the merge below.
        seen: dict[str, int] = {}
        shared: set[int] = set()
        for i, keys in enumerate(all_of):
            for k in keys:
                j = seen.setdefault(k, i)
                if j != i:
                    shared.add(i)
                    shared.add(j)
        # 1. Within one source every record is a different person: a shared merge key
        #    there is a contradiction, never a merge.
        owner: dict[tuple[str, str], int] = {}
        bad_keys: set[str] = set()
        skip: set[int] = set(range(len(recs))) - shared
        for i in sorted(shared):
            r = recs[i]
            same = owner.get((src[i], normalise_handle(r.id)))
            if same is not None and recs[same] == r:
                self.duplicates.append((recs[same], r))  # the same record twice: harmless
                skip.add(i)
                continue
            for k in keys_of[i]:
                j = owner.setdefault((src[i], k), i)
                if j != i:
                    bad_keys.add(k)
                    self._conflict(k, recs[j], r, "same source")
        # 2. Across sources a shared (uncontradicted) merge key is one person.
        uf = _Union(len(recs))
        first_with: dict[str, int] = {}
        for i in sorted(shared - skip):
            for k in keys_of[i] - bad_keys:
                j = first_with.setdefault(k, i)
                if j != i:
                    uf.union(i, j)
        groups: dict[int, list[int]] = {}
        for i in sorted(shared):
            if i not in skip:
                groups.setdefault(uf.find(i), []).append(i)
        # 3. A chain that links two records of one source (A1–B by email, B–A2 by id) is a
        #    contradiction too: those records stay apart and the linking keys resolve to
        #    nobody.
        persons: list[tuple[Person, list[Person], set[str]]] = (
            [(r, [r], k) for r, k in zip(recs, all_of, strict=True)] if not shared else
            [(recs[i], [recs[i]], all_of[i]) for i in range(len(recs)) if i not in shared])
        for members in groups.values():
            if len(members) == 1:  # the common case: one record, nothing to merge
                i = members[0]
                persons.append((recs[i], [recs[i]], all_of[i]))
                continue
            by_src: dict[str, int] = {}
            clash = False
            for i in members:
                j = by_src.setdefault(src[i], i)
                if j != i:
                    clash = True
                    linking = sorted(k for m in members if m != i for k in keys_of[m]
                                     if k in keys_of[i] or k in keys_of[j])
                    self._conflict(linking[0] if linking else recs[i].id, recs[j], recs[i],
                                   "linked through another source")
            if clash:
                counts: dict[str, int] = {}
                for i in members:
                    for k in keys_of[i]:
                        counts[k] = counts.get(k, 0) + 1
                bad_keys.update(k for k, n in counts.items() if n > 1)
                persons.extend((recs[i], [recs[i]], all_of[i]) for i in members)
            else:
                rs = [recs[i] for i in members]
                keys = all_of[members[0]] if len(members) == 1 else set().union(
                    *(all_of[i] for i in members))
                persons.append((_combine(rs), rs, keys))

        # An email's sha1 handle stands or falls with the email.
        bad_keys |= {normalise_handle(mbox_sha1_handle(k)) for k in bad_keys if "@" in k}
        # 4. Index every handle; one claimed by two different people is ambiguous.
        self._by_key: dict[str, Person] = {}
        self._by_id: dict[str, Person] = {}
        self._records: dict[str, tuple[Person, ...]] = {}
        claims: dict[str, Person] = {}
        for merged, rs, keys in persons:
            if merged.id in self._by_id:
                # Distinct people with one id (a reported contradiction): none of their
                # handles may resolve to either of them.
                bad_keys.update(keys)
                continue
            self._by_id[merged.id] = merged
            self._records[merged.id] = tuple(rs)
            for key in keys:
                other = claims.get(key)
                if other is not None and other.id != merged.id:
                    self._ambiguous.setdefault(key, {other.id}).add(merged.id)
                    if key not in bad_keys:
                        self._conflict(key, other, merged, "two people")
                    continue
                claims[key] = merged
        for key in bad_keys:
            self._ambiguous.setdefault(key, set())
        self._by_key = claims if not self._ambiguous else {
            k: p for k, p in claims.items() if k not in self._ambiguous}
        self.conflicts.sort(key=lambda c: (c.first, c.second, c.handle))

    def attach_absences(self, absences: Iterable[Absence], tz: tzinfo | None = None
                        ) -> list[Absence]:
        """Add each absence to the leave of the person it names; return those naming nobody.

        Days are inclusive, in ``tz`` (the organisation's time zone, UTC by default).
        """
        zone = tz or UTC
        extra: dict[str, list[Period]] = {}
        unmatched: list[Absence] = []
        for a in absences:
            p = self.resolve(a.person)
            if p is None:
                unmatched.append(a)
                continue
            if a.end is None:
                start = datetime.combine(a.start, time.min, tzinfo=zone)
                period = Period(start=start, end=None, kind=a.kind)
            else:
                period = day_period(a.start, zone, a.kind, a.end)
            extra.setdefault(p.id, []).append(period)
        if extra:
            new = {pid: self._by_id[pid].model_copy(update={"leave": tuple(sorted(
                {*self._by_id[pid].leave, *periods},
                key=lambda x: (x.start, x.end is None, x.end or x.start, x.kind or "")))})
                for pid, periods in extra.items()}
            self._by_id.update(new)
            self.availability_cache.clear()
            for k, person in self._by_key.items():
                if person.id in new:
                    self._by_key[k] = new[person.id]
        return unmatched

    def _conflict(self, key: str, a: Person, b: Person, why: str) -> None:
        la, lb = sorted((a.provenance.locator, b.provenance.locator))
        c = Conflict(key, la, lb, why)
        if c not in self._seen_conflicts:
            self._seen_conflicts.add(c)
            self.conflicts.append(c)

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

    def records(self, person: Person) -> tuple[Person, ...]:
        """The source records merged into ``person`` (one per source), provenance each."""
        return self._records.get(person.id, (person,))

    def employed_by(self, person: Person, t: datetime) -> Person | None:
        """The source record that shows ``person`` employed at ``t``, or None.

        Employment is judged per source and combined: the first record (in canonical
        order) employed at ``t`` is cited.
        """
        return next((r for r in self.records(person) if r.employed_at(t)), None)

    def people(self) -> list[Person]:
        """All people, sorted by id."""
        return [self._by_id[k] for k in sorted(self._by_id)]

    def __len__(self) -> int:
        return len(self._by_id)
