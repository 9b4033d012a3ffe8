"""Offline: saved API pages and Jira's CSV export."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checker.errors import EvidenceError
from evidence_adapters.jira import JiraAdapter
from tests.jira.jira_payloads import LUKASZ, SITE, ZOE, approval, page_v3

Make = Callable[..., JiraAdapter]


def save(folder: Path, name: str, body: Any) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body), encoding="utf-8")


def test_saved_pages_give_the_same_records(tmp_path: Path, make_adapter: Make) -> None:
    pages = tmp_path / "pages"
    a1 = approval("AIREL-1", 10401, "credit-risk-scorer", "11", LUKASZ,
                  "2026-07-14T10:30:00.000+0200")
    a2 = approval("AIREL-2", 10402, "fraud-gbm", "7", ZOE, "2026-11-03T10:30:00.000+0100")
    save(pages, "search/approvals/page-0001.json", page_v3([a1], "CAEaAggB-2", is_last=False))
    save(pages, "search/approvals/page-0002.json", page_v3([a2], None, is_last=True))
    bundle = make_adapter(site=SITE, offline={"pages": "pages"}, approvals={}).collect()
    assert [(a.id, a.approver) for a in bundle.approvals] == [
        ("AIREL-1", "lukasz.nowak@northwind.example"), ("AIREL-2", ZOE["accountId"])]
    assert bundle.approvals[0].provenance.url == f"{SITE}/browse/AIREL-1"


def test_saved_search_missing_its_last_page(tmp_path: Path, make_adapter: Make) -> None:
    a1 = approval("AIREL-1", 10401, "m", "1", LUKASZ, "2026-07-14T10:30:00.000+0200")
    save(tmp_path / "pages", "search/approvals/page-0001.json",
         page_v3([a1], "CAEaAggB-2", is_last=False))
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, offline={"pages": "pages"}, approvals={}).collect()
    assert exc.value.diagnostics[0].code == "E328"
    assert "stops before its last page" in exc.value.diagnostics[0].message


def test_truncated_changelog_without_saved_changelog(tmp_path: Path, make_adapter: Make
                                                      ) -> None:
    a1 = approval("AIREL-1", 10401, "m", "1", LUKASZ, "2026-07-14T10:30:00.000+0200")
    a1["changelog"]["total"] = 5
    save(tmp_path / "pages", "search/approvals/page-0001.json", page_v3([a1], None,
                                                                       is_last=True))
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, offline={"pages": "pages"}, approvals={}).collect()
    assert exc.value.diagnostics[0].code == "E328"
    assert "AIREL-1" in exc.value.diagnostics[0].message


def test_no_pages_for_a_configured_mapping(tmp_path: Path, make_adapter: Make) -> None:
    (tmp_path / "pages").mkdir()
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, offline={"pages": "pages"}, approvals={}).collect()
    assert exc.value.diagnostics[0].code == "E328"


CSV = (
    "\ufeffSummary,Issue key,Issue id,Issue Type,Status,Project key,Priority,Assignee,"
    "Assignee Id,Reporter,Reporter Id,Created,Updated,Labels,Labels,"
    "Custom field (Backup Owner),Custom field (AI System)\r\n"
    '"Thin-file applicants, under-predicted",AIRISK-12,10234,Risk,Monitoring,AIRISK,High,'
    f"Siobhán Ní Bhriain,{ZOE['accountId']},Nadia Petrova,712020:bfe99277,"
    "31/Jan/24 10:15 AM,01/Oct/26 9:00 AM,ai-risk,credit,"
    f"{LUKASZ['accountId']},credit-scoring\r\n"
    "Prompt injection via uploaded PDFs,AIRISK-13,10235,Risk,Open,AIRISK,Medium,,,"
    "Nadia Petrova,712020:bfe99277,14/Jul/26 2:30 PM,14/Jul/26 2:30 PM,,,,doc-summariser\r\n"
)


def test_csv_export_positional_headers_and_timezone(tmp_path: Path, make_adapter: Make
                                                   ) -> None:
    (tmp_path / "export.csv").write_text(CSV, encoding="utf-8")
    bundle = make_adapter(
        site=SITE, offline={"csv": "export.csv", "csv_timezone": "Europe/Berlin"},
        ownership={"subject_kind": "risk", "issue_types": ["Risk"],
                   "attributes": {"system": "AI System"}},
        identity={"map": {ZOE["accountId"]: "zoe.mueller@northwind.example"}},
    ).collect()
    first, second = bundle.subjects
    assert (first.id, first.name) == ("AIRISK-12", "Thin-file applicants, under-predicted")
    assert first.owners == {"primary": "zoe.mueller@northwind.example",
                            "backup": LUKASZ["accountId"]}
    assert first.attributes == {"system": "credit-scoring"}
    # 31/Jan/24 10:15 AM Berlin (winter, +0100) → 09:15 UTC; the span starts at creation.
    assert first.history[0].start == datetime(2024, 1, 31, 9, 15, tzinfo=UTC)
    assert second.owners == {}
    assert second.history == ()
    assert first.provenance.url == f"{SITE}/browse/AIRISK-12"


def test_csv_cannot_give_approvals(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as exc:
        JiraAdapter.Config.model_validate({"site": SITE, "offline": {"csv": "export.csv"},
                                           "approvals": {}})
    assert "changelog" in str(exc.value)
    assert "approvals" in str(exc.value)


def test_csv_bad_date(tmp_path: Path, make_adapter: Make) -> None:
    (tmp_path / "export.csv").write_text(CSV.replace("31/Jan/24 10:15 AM", "2024-01-31"),
                                         encoding="utf-8")
    with pytest.raises(EvidenceError) as exc:
        make_adapter(site=SITE, offline={"csv": "export.csv"},
                     ownership={"subject_kind": "risk", "issue_types": ["Risk"]}).collect()
    (d,) = exc.value.diagnostics
    assert (d.code, d.line) == ("E330", 2)
