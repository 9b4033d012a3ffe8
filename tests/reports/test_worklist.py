"""The HTML owner worklist folds a person's findings of one cause into one row.

An owner whose one fact (a leaver, an unknown or group owner, a release nobody signed off)
fails several rules sees that fact once: one row naming every rule it fails (each linking to
its finding) and the one fix. Findings without a shared cause stay one row each, and the
counts per owner still count findings — checked here against ``scan --format json`` of the
same evidence, through the installed CLI, on the demo and on registry-only.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AS_OF, REPO, Runner

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


@dataclass
class _Row:
    attrs: dict[str, str]
    severity: str = ""
    hrefs: list[tuple[str, str]] = field(default_factory=list)  # (href, link text)
    text: str = ""


@dataclass
class _Person:
    attrs: dict[str, str]
    heading: str = ""
    rows: list[_Row] = field(default_factory=list)


class _Worklist(HTMLParser):
    """The owner sections of ``<section id="worklist">`` and the finding rows' anchors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.people: list[_Person] = []
        self.anchors: dict[str, str] = {}  # finding id -> fingerprint (findings table)
        self._in_worklist = False
        self._in_h3 = False
        self._row: _Row | None = None
        self._href: str | None = None
        self._cell = 0
        self._in_tbody = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section":
            self._in_worklist = a.get("id") == "worklist"
        if tag == "tr" and "id" in a and "data-finding" in a:
            self.anchors[a["id"]] = a["data-finding"]
        if not self._in_worklist:
            return
        if tag == "div" and "data-owner" in a:
            self.people.append(_Person(a))
        elif tag == "h3":
            self._in_h3 = True
        elif tag == "tr" and self.people and self._in_tbody:
            self._row = _Row(a)
            self.people[-1].rows.append(self._row)
            self._cell = 0
        elif tag == "td" and self._row is not None:
            self._cell += 1
            if self._cell == 1:
                self._row.severity = a.get("class", "").removeprefix("sev-")
        elif tag == "a" and self._row is not None:
            self._href = a.get("href", "")
        elif tag == "tbody":
            self._in_tbody = True
        elif tag == "thead":
            self._in_tbody = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._in_worklist = False
        elif tag == "h3":
            self._in_h3 = False
        elif tag == "tr":
            self._row = None
        elif tag == "a":
            self._href = None

    def handle_data(self, data: str) -> None:
        if not self._in_worklist:
            return
        if self._in_h3 and self.people:
            self.people[-1].heading += data
        if self._row is not None:
            self._row.text += data
            if self._href is not None:
                self._row.hrefs.append((self._href, data))


def _scan(run_cli: Runner, config: Path, tmp: Path) -> tuple[str, list[dict[str, Any]]]:
    html_out, json_out = tmp / "report.html", tmp / "scan.json"
    rep = run_cli("report", "-c", config, "--as-of", AS_OF, "-o", html_out)
    assert rep.returncode == 1, rep.stderr
    scan = run_cli("scan", "-c", config, "--as-of", AS_OF, "--format", "json", "-o", json_out)
    assert scan.returncode == 1, scan.stderr
    # the same input gives the same page, byte for byte
    again = run_cli("report", "-c", config, "--as-of", AS_OF, "-o", tmp / "again.html")
    assert again.returncode == 1, again.stderr
    assert (tmp / "again.html").read_bytes() == html_out.read_bytes()
    findings = json.loads(json_out.read_text(encoding="utf-8"))["findings"]
    return html_out.read_text(encoding="utf-8"), findings


@pytest.mark.parametrize(("fixture", "folded"), [
    # owner id -> the causes expected to be folded for them (a leaver's risk, an unknown and
    # a group owner, two releases nobody signed off)
    ("demo", {"NW-1019": {"person.terminated:risk/RSK-007:NW-1005"},
              "NW-1015": {"person.unknown:dataset/customer-transactions:"
                          "j.smith@northwind.example"},
              "NW-1017": {"person.not_individual:ai_system/churn-predictor:NW-9001"},
              "NW-1010": {"release.no_signoff:release/fraud-gbm:7"},
              "NW-1003": {"release.no_signoff:release/support-bot-llm:3"}}),
    ("registry-only", {"FJ-002": {"release.no_signoff:release/credit-scorer:1"}}),
])
def test_worklist_has_one_row_per_cause_and_counts_every_finding(
        run_cli: Runner, tmp_path: Path, fixture: str, folded: dict[str, set[str]]) -> None:
    html, findings = _scan(run_cli, REPO / "fixtures" / fixture / "aimscheck.yaml", tmp_path)
    failing = [f for f in findings if f["status"] in ("fail", "error")]
    assert not any(f["message"].startswith("evidence incomplete (") for f in failing)
    by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in failing:
        by_owner[f["owner"]["id"]].append(f)

    page = _Worklist()
    page.feed(html)
    people = {p.attrs["data-owner"]: p for p in page.people}
    assert len(people) == len(page.people)
    assert set(people) == set(by_owner)
    seen_folded: dict[str, set[str]] = defaultdict(set)
    for owner, mine in by_owner.items():
        p = people[owner]
        n = len(mine)
        # the counts count findings, not rows (as the JSON does), in words on the page
        assert re.search(rf" — {n} findings?(,|$)", p.heading), p.heading
        shared = {c: k for c, k in Counter(f["cause"] for f in mine if f["cause"]).items()
                  if k > 1}
        # one row per shared cause, one per other finding
        assert len(p.rows) == n - sum(shared.values()) + len(shared), owner
        assert p.attrs["data-findings"] == str(n)
        if shared:
            assert f", {len(p.rows)} to fix (" in p.heading, p.heading
        # every finding of the owner is linked exactly once, to its own row below
        fingerprints = [page.anchors[h.removeprefix("#")] for r in p.rows for h, _ in r.hrefs]
        assert sorted(fingerprints) == sorted(
            f"{f['rule_id']}:{f['target_kind']}/{f['target_id']}" for f in mine)
        for r in p.rows:
            cause = r.attrs.get("data-cause")
            if cause is None:
                assert len(r.hrefs) == 1
                continue
            assert cause in shared, cause
            seen_folded[owner].add(cause)
            of_cause = [f for f in mine if f["cause"] == cause]
            # the row names every rule the fact fails, each linking to that finding
            assert sorted(t for _, t in r.hrefs) == sorted(f["rule_id"] for f in of_cause)
            assert r.attrs["data-findings"] == str(len(of_cause))
            assert f"One cause, {len(of_cause)} findings:" in r.text
            # the fact once, and its one fix
            assert of_cause[0]["cause_text"] in r.text
            assert r.text.count("Fix: ") == 1
            assert f"Fix: {of_cause[0]['remediation']}" in r.text
            assert len({f["remediation"] for f in of_cause}) == 1
            assert r.severity == max((f["severity"] for f in of_cause),
                                     key=SEVERITY_RANK.__getitem__)
        assert sum(1 for r in p.rows if r.attrs.get("data-cause")) == len(shared)
        # worst first
        ranks = [SEVERITY_RANK[r.severity] for r in p.rows]
        assert ranks == sorted(ranks, reverse=True), owner
    assert dict(seen_folded) == folded
