"""The population an auditor samples from: every subject each rule checked, as CSV.

One row per finding — pass, warn, fail, error, waived and not applicable alike (passes in
full here, whatever ``--passes`` says) — with the status, the reason (the check's message,
also for not applicable), the deciding evidence, the named owner and the as-of instant,
plus the ISO/IEC 42001 references so a sample can be drawn per control. Cells a
spreadsheet would run as formulas are neutralised.
"""

from __future__ import annotations

import csv
import io

from checker.findings import ScanResult

from ._common import csv_safe
from .base import Reporter, register_reporter

__all__ = ["PopulationReporter"]

COLUMNS = ("finding_id", "rule_id", "rule_title", "good_practice", "iso42001", "subject_kind",
           "subject_id", "subject_name", "status", "reason", "evidence", "owner",
           "owner_email", "decided_as_of", "waiver")

@register_reporter("population")
class PopulationReporter(Reporter):
    """Every (rule, subject) decision with its reason, evidence, owner and date (CSV)."""

    extension = "csv"

    def render(self, result: ScanResult) -> str:
        """One row per finding, by rule, then subject."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for f in sorted(result.all_findings(), key=lambda f: (f.rule_id, f.target)):
            w.writerow([csv_safe(v) for v in (
                f.finding_id, f.rule_id, f.title, "yes" if f.good_practice else "no",
                " ".join(f.references.get("iso42001", [])), f.target_kind, f.target_id,
                f.target_name, f.status, f.message, " ".join(f.evidence), f.owner.name,
                f.owner.email or "", result.as_of,
                f"{f.waiver.id} ({f.waiver.approved_by}, until {f.waiver.expiry})"
                if f.waiver else "")])
        return buf.getvalue()
