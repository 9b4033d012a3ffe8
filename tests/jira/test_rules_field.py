"""A risk acceptance in Jira names the rules it covers: the field mapped by ``rules:``."""

from __future__ import annotations

from datetime import UTC, datetime

from evidence_adapters.jira._config import ApprovalMapping
from evidence_adapters.jira._mapping import Identities, IssueView, approvals
from evidence_adapters.jira._model import RawHistory, RawIssue
from tests.jira.jira_payloads import SITE, ZOE, approval

FETCHED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def view(raw: dict[str, object]) -> IssueView:
    issue = RawIssue.model_validate(raw)
    changelog: dict[str, list[object]] = raw["changelog"]  # type: ignore[assignment]
    hist = sorted((RawHistory.model_validate(h) for h in changelog["histories"]),
                  key=lambda h: int(h.id))
    return IssueView(issue, hist, {}, SITE, Identities({}), FETCHED)


IDS = {"model": "customfield_10050", "version": "customfield_10051"}


def test_rules_come_from_the_mapped_field() -> None:
    raw = approval("AIREL-9", 9009, "churn-xgb", "5", ZOE, "2026-11-02T10:00:00.000+0100")
    raw["fields"]["labels"] = ["AIMS-OWN-003", "AIMS-TRN-001"]
    got = approvals(view(raw), ApprovalMapping.model_validate({**IDS, "rules": "labels"}))
    assert [a.rules for a in got] == [("AIMS-OWN-003", "AIMS-TRN-001")]
    # without the mapping an approval accepts no rule (a waiver cannot cite it)
    got = approvals(view(raw), ApprovalMapping.model_validate(IDS))
    assert [a.rules for a in got] == [()]
