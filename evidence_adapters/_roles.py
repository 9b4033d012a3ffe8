r"""Roles derived from HR attributes by declarative rules, shared by ``hr_csv`` and ``scim``.

Real HR exports and identity providers have no "roles" column, so a source's config lists
``roles_from`` rules; each grants one role when **any** of its criteria matches:

.. code-block:: yaml

    roles_from:
      - role: executive
        title: '\\bChief\\b'            # regex, case-insensitive search in the job title
        department: [Executive]          # exact department names, case-insensitive
      - role: ai-governance-lead
        title: '^Head of AI Governance$'
      - role: board
        management_level: [Board Member]
      - role: ai-risk-owner
        people: [NW-1010, zoe.mueller@example.com]   # ids, emails or other handles

Rules then ask for roles, never for titles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import Field, field_validator, model_validator

from checker.adapters import AdapterConfig
from checker.identity import normalise_handle
from checker.regex import compile_pattern, search

__all__ = ["RoleRule", "derive_roles"]


class RoleRule(AdapterConfig):
    """One role and the HR attributes that grant it (any criterion suffices)."""

    role: str = Field(min_length=1, description="The role granted, e.g. `executive`.")
    title: str | None = Field(
        None, description="Regular expression searched (case-insensitively) in the job title.",
    )
    department: tuple[str, ...] = Field(
        (), description="Department names (exact, case-insensitive).",
    )
    management_level: tuple[str, ...] = Field(
        (), description="Management levels (exact, case-insensitive), where the source has one.",
    )
    people: tuple[str, ...] = Field(
        (), description="Explicit people: ids, emails or other handles.",
    )

    @field_validator("department", "management_level", "people", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return (v,) if isinstance(v, str) else v

    @field_validator("title")
    @classmethod
    def _valid_regex(cls, v: str | None) -> str | None:
        if v is not None:
            compile_pattern(v)  # RegexError is a ValueError: pydantic reports it
        return v

    @model_validator(mode="after")
    def _has_criterion(self) -> RoleRule:
        if not (self.title or self.department or self.management_level or self.people):
            raise ValueError(
                f"role {self.role!r} needs at least one of title, department, "
                "management_level, people")
        return self

    def matches(
        self, keys: set[str], title: str | None, department: str | None,
        management_level: str | None,
    ) -> bool:
        """True when any criterion matches the person's attributes.

        Args:
            keys: The person's normalised handles (id, emails, employee number …).
            title: Job title.
            department: Department.
            management_level: Management level, where the source has one.
        """
        if self.title and title and search(self.title, title):
            return True
        if department and department.strip().casefold() in {
                d.strip().casefold() for d in self.department}:
            return True
        if management_level and management_level.strip().casefold() in {
                m.strip().casefold() for m in self.management_level}:
            return True
        return any(normalise_handle(p) in keys for p in self.people)


def derive_roles(
    rules: Sequence[RoleRule], *, existing: Iterable[str] = (), handles: Iterable[str | None],
    title: str | None = None, department: str | None = None,
    management_level: str | None = None,
) -> tuple[str, ...]:
    """The person's roles: ``existing`` ones first, then every role a rule grants.

    Args:
        rules: The source's ``roles_from`` rules.
        existing: Roles the source states directly (a roles column, SCIM ``roles``).
        handles: Everything that identifies the person (id, emails, employee number …).
        title: Job title.
        department: Department.
        management_level: Management level.

    Returns:
        The roles without duplicates, in a stable order.
    """
    keys = {normalise_handle(h) for h in handles if h and h.strip()}
    out = list(existing)
    out.extend(r.role for r in rules
               if r.matches(keys, title, department, management_level))
    return tuple(dict.fromkeys(out))
