"""Ticket descriptions: ADF for Jira Cloud, wiki markup for Data Center."""

from __future__ import annotations

from checker.findings import Finding, OwnerRef
from checker.tickets import Line, Section, TicketDoc, digest, ticket_doc
from evidence_adapters.jira._tickets import adf, wiki

DOC = TicketDoc("[AIMS-OWN-002] Chatbot: no backup", (
    Section("Finding", (Line("support-chatbot has no backup [owner] *now*"),)),
    Section("Evidence", (Line("register.yaml:35"), Line("JIRA-7", "https://j.example/browse/JIRA-7")),
            bullets=True),
))


def test_adf_is_a_version_1_document_with_headings_lists_and_links() -> None:
    doc = adf(DOC)
    assert doc["type"] == "doc"
    assert doc["version"] == 1
    kinds = [n["type"] for n in doc["content"]]
    assert kinds == ["heading", "paragraph", "heading", "bulletList"]
    link = doc["content"][3]["content"][1]["content"][0]["content"][0]
    assert link["marks"] == [{"type": "link", "attrs": {"href": "https://j.example/browse/JIRA-7"}}]


def test_wiki_markup_escapes_markup_characters_and_links() -> None:
    text = wiki(DOC)
    assert text.startswith("h3. Finding\n")
    assert "support\\-chatbot has no backup \\[owner\\] \\*now\\*" in text
    assert "* register.yaml:35\n" in text
    assert "* [JIRA\\-7|https://j.example/browse/JIRA-7]" in text


def _finding(**kw: object) -> Finding:
    base: dict[str, object] = dict(
        rule_id="AIMS-OWN-002", title="A backup owner", severity="medium", status="fail",
        target_kind="ai_system", target_id="support-chatbot", target_name="Chatbot",
        message="no backup", owner=OwnerRef(id="NW-1", name="Dan", email="d@x.example",
                                            via="primary"),
        references={"iso42001": ["5.3", "A.3.2"]}, remediation="Name a backup.",
        evidence=("register.yaml:35",))
    base.update(kw)
    return Finding.model_validate(base)


def test_the_description_names_the_references_and_does_not_depend_on_the_as_of() -> None:
    doc = ticket_doc(_finding(), {})
    text = repr(doc)
    assert "ISO/IEC 42001 clause 5.3 — Roles, responsibilities and authorities" in text
    assert "ISO/IEC 42001 Annex A control A.3.2 — AI roles and responsibilities" in text
    assert "Name a backup." in text
    assert digest(doc, ["a"]) == digest(ticket_doc(_finding(), {}), ["a"])
    assert digest(doc, ["a"]) != digest(ticket_doc(_finding(message="other"), {}), ["a"])
