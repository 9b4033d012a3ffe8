"""The ISO/IEC 42001:2023 id sets that rule references are validated against.

Ids and short titles only (paraphrased); the standard's text is ISO's.
"""

from __future__ import annotations

__all__ = ["ANNEX_A", "CLAUSE_LEAVES", "is_valid_id"]

CLAUSE_LEAVES: dict[str, str] = {
    "4.1": "Organization and its context", "4.2": "Interested parties",
    "4.3": "AIMS scope", "4.4": "AI management system",
    "5.1": "Leadership and commitment", "5.2": "AI policy",
    "5.3": "Roles, responsibilities and authorities",
    "6.1.1": "Risks and opportunities: general", "6.1.2": "AI risk assessment",
    "6.1.3": "AI risk treatment", "6.1.4": "AI system impact assessment",
    "6.2": "AI objectives and planning", "6.3": "Planning of changes",
    "7.1": "Resources", "7.2": "Competence", "7.3": "Awareness", "7.4": "Communication",
    "7.5.1": "Documented information: general", "7.5.2": "Creating and updating",
    "7.5.3": "Control of documented information",
    "8.1": "Operational planning and control", "8.2": "AI risk assessment (performed)",
    "8.3": "AI risk treatment (performed)", "8.4": "AI system impact assessment (performed)",
    "9.1": "Monitoring, measurement, analysis and evaluation",
    "9.2.1": "Internal audit: general", "9.2.2": "Internal audit programme",
    "9.3.1": "Management review: general", "9.3.2": "Management review inputs",
    "9.3.3": "Management review results",
    "10.1": "Continual improvement", "10.2": "Nonconformity and corrective action",
}

ANNEX_A: dict[str, str] = {
    "A.2.2": "AI policy", "A.2.3": "Alignment with other organizational policies",
    "A.2.4": "Review of the AI policy",
    "A.3.2": "AI roles and responsibilities", "A.3.3": "Reporting of concerns",
    "A.4.2": "Resource documentation", "A.4.3": "Data resources", "A.4.4": "Tooling resources",
    "A.4.5": "System and computing resources", "A.4.6": "Human resources",
    "A.5.2": "Impact assessment process", "A.5.3": "Documentation of impact assessments",
    "A.5.4": "Impact on individuals or groups", "A.5.5": "Societal impacts",
    "A.6.1.2": "Objectives for responsible development",
    "A.6.1.3": "Processes for responsible design and development",
    "A.6.2.2": "Requirements and specification",
    "A.6.2.3": "Design and development documentation",
    "A.6.2.4": "Verification and validation", "A.6.2.5": "Deployment",
    "A.6.2.6": "Operation and monitoring", "A.6.2.7": "Technical documentation",
    "A.6.2.8": "Event logs",
    "A.7.2": "Data for development and enhancement", "A.7.3": "Acquisition of data",
    "A.7.4": "Quality of data", "A.7.5": "Data provenance", "A.7.6": "Data preparation",
    "A.8.2": "System documentation and information for users",
    "A.8.3": "External reporting", "A.8.4": "Communication of incidents",
    "A.8.5": "Information for interested parties",
    "A.9.2": "Processes for responsible use", "A.9.3": "Objectives for responsible use",
    "A.9.4": "Intended use",
    "A.10.2": "Allocating responsibilities", "A.10.3": "Suppliers", "A.10.4": "Customers",
}

assert len(CLAUSE_LEAVES) == 32
assert len(ANNEX_A) == 38


def is_valid_id(ref: str) -> bool:
    """True for a clause leaf or an Annex A control id."""
    return ref in CLAUSE_LEAVES or ref in ANNEX_A
