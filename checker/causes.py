"""Underlying facts: one fact that makes several rules fail on the same subject.

An unknown owner fails the identity, individual, active and coverage rules at once; an
incident naming an AI system nobody knows fails the link rule and the escalation rule. A
check that fails *only* because of such a fact says so with a :class:`Fact` on its
:class:`~checker.checks.base.Outcome`; the engine turns it into the finding's ``cause``
key and picks the remediation for that fact (an unknown person's fix is to correct the
handle or add the person, not to replace a group mailbox).

The cause key is ``<fact kind>:<subject kind/id>:<reference>``, e.g.
``person.unknown:dataset/customer-transactions:j.smith@northwind.example``:

- *fact kind* — one of :data:`FACT_KINDS`: ``person.<availability status>`` (the person
  is unknown, ambiguous, a group, a shared mailbox, a leaver, not yet hired, on leave, a
  contractor), ``release.no_signoff`` (no approval of the release counts: none, late,
  rejected, or by who built or deployed it) or ``reference.unresolved`` (an AI system or
  model name that no source knows);
- *subject* — the finding's target (``kind/id``): one fact on one subject;
- *reference* — the person's id when the handle resolves, else the handle as written,
  trimmed and case-folded; for a reference, the name as written, case-folded; none for
  ``release.no_signoff`` (the subject is the release: ``release.no_signoff:release/m:7``).

Equal keys mean the same fact. A finding has a cause only when every failing part of its
rule is explained by that one fact; a finding that also fails for another reason (an
owner unknown *and* the backup on leave) keeps ``cause: null`` and is shown on its own.
The reports for people show each cause once with the rules it fails; JSON, JUnit and SARIF
keep every finding and carry the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .availability import Availability

__all__ = ["FACT_KINDS", "Fact", "cause_key", "person_fact", "reference_fact"]

#: Every fact kind and the remediation that fixes it (whatever rule it fails).
FACT_KINDS: dict[str, str] = {
    "person.unknown": "Correct the handle in the record, or add the person (or an identity "
                      "mapping for their account) to the people source.",
    "person.ambiguous": "Make the handle name one person: use their e-mail or person id, or "
                        "remove the duplicate from the people sources.",
    "person.not_individual": "Replace the group or service account with a named individual "
                             "from the people source.",
    "person.shared_mailbox": "Replace the shared mailbox or team account with a named "
                             "individual from the people source.",
    "person.terminated": "Hand the responsibility over to a current employee and record the "
                         "handover.",
    "person.not_hired": "Name someone already employed, or record the responsibility from "
                        "the person's start date.",
    "person.on_leave": "Hand the responsibility over (or name a present backup) for the "
                       "leave, and record it.",
    "person.contractor": "Name an internal employee, or allow contractors as owners in the "
                         "config (settings.allow_contractors) with a recorded decision.",
    "release.no_signoff": "The accountable person (the AI system's risk owner or owner — not "
                          "whoever registered or deployed it) reviews this exact version and "
                          "records an approval before it is deployed.",
    "reference.unresolved": "Name the AI system (or registered model) exactly as the register "
                            "or model registry lists it, or add it there.",
}


@dataclass(frozen=True)
class Fact:
    """One underlying fact: its kind, what it is about, and one sentence saying it.

    Two facts are equal when kind and reference are (the sentence may be worded by
    different checks).
    """

    kind: str
    ref: str
    text: str = field(compare=False)

    @property
    def remediation(self) -> str:
        """The fix for this fact."""
        return FACT_KINDS[self.kind]


def person_fact(a: Availability, handle: str | None) -> Fact | None:
    """The fact behind an availability problem of ``handle`` (None when available/nobody).

    ``nobody`` (no one named) is not a fact about a person: the rule that needs someone
    named says so itself.
    """
    if a.ok or a.status == "nobody" or not handle:
        return None
    ref = a.person.id if a.person is not None else handle.strip().casefold()
    return Fact(f"person.{a.status}", ref, a.reason)


def reference_fact(ref: str, text: str) -> Fact:
    """An AI system or model reference that resolves to nothing."""
    return Fact("reference.unresolved", ref.strip().casefold(), text)


def cause_key(fact: Fact, target: str) -> str:
    """The finding's ``cause``: ``<fact kind>:<subject kind/id>:<reference>``."""
    return f"{fact.kind}:{target}:{fact.ref}" if fact.ref else f"{fact.kind}:{target}"
