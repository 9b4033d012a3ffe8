"""Raw Jira payload models (``extra="ignore"``: upstream fields drift) and time parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ChangelogPage",
    "RawChangelog",
    "RawHistory",
    "RawIssue",
    "RawItem",
    "RawUser",
    "SearchPageV2",
    "SearchPageV3",
    "parse_jira_time",
]


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class RawUser(_Raw):
    """A Jira user: Cloud has ``accountId``; Data Center has ``name``/``key``."""

    accountId: str | None = None
    emailAddress: str | None = None
    displayName: str | None = None
    name: str | None = None
    key: str | None = None
    active: bool | None = None

    @property
    def account(self) -> str | None:
        """The stable account handle: accountId (Cloud) or username (Data Center)."""
        return self.accountId or self.name or self.key


class RawItem(_Raw):
    """One field change of a changelog history."""

    field: str
    fieldtype: str | None = None
    fieldId: str | None = None
    from_: str | None = Field(None, alias="from")
    fromString: str | None = None
    to: str | None = None
    toString: str | None = None


class RawHistory(_Raw):
    """One changelog entry: who changed what, when."""

    id: str
    author: RawUser | None = None
    created: str
    items: list[RawItem] = Field(default_factory=list)


class RawChangelog(_Raw):
    """The changelog embedded in a search result (possibly truncated)."""

    startAt: int = 0
    maxResults: int | None = None
    total: int | None = None
    histories: list[RawHistory] = Field(default_factory=list)


class RawIssue(_Raw):
    """An issue as returned by search."""

    id: str
    key: str
    fields: dict[str, Any] = Field(default_factory=dict)
    changelog: RawChangelog | None = None


class SearchPageV3(_Raw):
    """Cloud v3 enhanced search page (cursor paging, no total)."""

    issues: list[RawIssue]
    nextPageToken: str | None = None
    isLast: bool | None = None
    names: dict[str, str] | None = None


class SearchPageV2(_Raw):
    """Data Center v2 (and legacy v3) search page (offset paging with total)."""

    startAt: int
    maxResults: int
    total: int
    issues: list[RawIssue]
    names: dict[str, str] | None = None


class ChangelogPage(_Raw):
    """``GET /rest/api/3/issue/{key}/changelog``: paged ``values``."""

    values: list[RawHistory]
    startAt: int = 0
    maxResults: int | None = None
    total: int | None = None
    isLast: bool | None = None


_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


def parse_jira_time(text: str) -> datetime:
    """Parse Jira's ``2026-07-14T10:30:00.000+0200`` (offset without colon) to aware UTC.

    Raises:
        ValueError: not a Jira timestamp with an offset.
    """
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).astimezone(UTC)
        except ValueError:
            continue
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return dt.astimezone(UTC)
