"""Plain wording (issue 21): durations with units, roles and events in words, never tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from checker.checks.signoff import role_words
from checker.findings import FAILING, ScanResult
from checker.timeutil import duration_text


@pytest.mark.parametrize(("td", "text"), [
    (timedelta(minutes=15), "15 min"),
    (timedelta(seconds=59), "1 min"),
    (timedelta(hours=1), "1 h"),
    (timedelta(hours=3, minutes=30), "3 h 30 min"),
    (timedelta(hours=24), "24 h"),
    (timedelta(hours=50), "2 days 2 h"),
    (timedelta(hours=48), "2 days"),
    (timedelta(days=91, hours=5), "91 days 5 h"),
    (timedelta(days=2, hours=23, minutes=50), "3 days"),
])
def test_durations_have_units_and_no_fractions(td: timedelta, text: str) -> None:
    assert duration_text(td) == text


def test_role_tokens_in_words() -> None:
    assert role_words("system.risk_owner") == "the AI system's risk owner"
    assert role_words("system.primary") == "the AI system's owner"
    assert role_words("model.backup") == "the model's backup owner"
    assert role_words("primary") == "the owner"


#: Machine tokens a person should never have to decode in a finding's message.
JARGON = [
    (re.compile(r"\b\d+\.\d+ h\b"), "a decimal hour ('0.2 h')"),
    (re.compile(r"\b(system|model)\.[a-z_]+\b"), "an owner-role token ('system.risk_owner')"),
    (re.compile(r"\b[a-z]+_(changed|registered|updated)\b"), "an event-type token"),
    (re.compile(r"\bneeds [a-z_]+\.[a-z_]+"), "'needs <token>'"),
]


def test_demo_messages_are_plain(demo_result: ScanResult) -> None:
    texts = [f.message for f in demo_result.findings if f.status in (*FAILING, "warn")]
    texts += [f.remediation for f in demo_result.findings if f.status in FAILING]
    assert texts
    for text in texts:
        for pattern, what in JARGON:
            assert not pattern.search(text), f"{what} in: {text}"
    messages = {(f.rule_id, f.target): f.message for f in demo_result.findings}
    assert "the SLA of 15 min ran out" in messages[("AIMS-MON-001", "alert/ALR-3104")]
    assert "after 3 h 30 min" in messages[("AIMS-INC-002", "incident/INC-2026-021")]
    assert ("the approver must be the AI system's risk owner" in
            messages[("AIMS-REL-002", "release/credit-risk-scorer:11")])
