"""The ``absence_csv`` adapter: absences of everyone, from one absence/leave export (CSV).

An organisation with several HR systems often has one absence report for all of them
(a time-off tool, a payroll export). Each row names a person by **any handle** — an
employee id of any HR source, an email, a Jira account — and gives the first and last day
of the absence (inclusive; an empty last day means open-ended). Rows are not matched here:
adapters cannot see HR. The evidence store attaches each absence to whoever its handle
resolves to across all people sources, turning the days into instants in the
organisation's time zone (``settings.timezone``, UTC by default).

Rows naming nobody are not dropped: the scan reports them once per source, with the count
and the first locations (``unmatched`` in the JSON, a section of the text report). With
``unknown_people: error`` such rows fail the source instead (exit 3).

Every bad row is a diagnostic with ``file:line``; the source then fails closed. An export
with a header but no rows is an error too (an empty report is more often a broken export
than a month without absences) unless the source says ``allow_empty: true``.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from checker.adapters import Adapter, AdapterConfig
from checker.errors import Diagnostic, EvidenceError
from checker.evidence import Absence, EvidenceBundle, Provenance
from evidence_adapters._common import (
    Columns,
    CsvReader,
    empty_source,
    parse_day,
    record_file,
)

__all__ = ["AbsenceColumns", "AbsenceCsvAdapter", "AbsenceCsvConfig"]


class AbsenceColumns(AdapterConfig):
    """Our absence fields → the export's column headers."""

    person: str = Field(description="Column with the person's handle: an employee id of any "
                                    "HR source, an email, or another handle.")
    start: str = Field(description="Column with the first day of the absence (inclusive).")
    end: str | None = Field(None, description="Column with the last day (inclusive); an empty "
                                              "cell means open-ended.")
    type: str | None = Field(None, description="Column with the absence type (shown in "
                                               "messages).")


class AbsenceCsvConfig(AdapterConfig):
    """Config of an ``absence_csv`` source (the keys of its ``sources:`` entry)."""

    path: str = Field(description="The absence export, relative to the config file.")
    columns: AbsenceColumns
    date_format: str = Field("%Y-%m-%d", description="strptime format of the day cells.")
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = Field("utf-8-sig", description="utf-8-sig accepts a byte-order mark.")
    unknown_people: Literal["report", "error"] = Field(
        "report", description="Rows whose handle names nobody: `report` (counted in the scan "
                              "summary, the source stays ok) or `error` (the source fails).")
    allow_empty: bool = Field(
        False, description="Accept an export with a header and no rows (otherwise an error).")


class AbsenceCsvAdapter(Adapter):
    """Absences (first and last day, type) keyed by any person handle."""

    name: ClassVar[str] = "absence_csv"
    Config: ClassVar[type[AdapterConfig]] = AbsenceCsvConfig
    provides: ClassVar[frozenset[str]] = frozenset({"absence"})

    def collect(self) -> EvidenceBundle:
        """Read the export completely.

        Raises:
            EvidenceError: with one diagnostic per problem (missing column, bad or reversed
                dates, empty person or first day, an empty export).
        """
        cfg: AbsenceCsvConfig = self.config
        path = self.ctx.path(cfg.path)
        file = self.ctx.display(path)
        record_file(self.ctx, path, file)
        diags: list[Diagnostic] = []
        out: list[Absence] = []
        cols: Columns | None = None
        for line, cells in CsvReader(path, file, cfg.delimiter, cfg.encoding, diags).rows():
            if cols is None:
                cols = Columns.locate(file, line, cells, cfg.columns.model_dump(), diags)
                if diags:
                    break
                continue
            if len(cells) != len(cols.header):
                diags.append(Diagnostic(file, line, 0, "E308",
                                        f"row has {len(cells)} cells, the header has "
                                        f"{len(cols.header)}",
                                        "check for an unquoted delimiter in a cell"))
                continue
            rec = self._row(cfg, cols, cells, file, line, diags)
            if rec is not None:
                out.append(rec)
        if cols is None and not diags and not cfg.allow_empty:
            diags.append(empty_source(file, self.ctx, "file is empty (no header row)"))
        elif cols is not None and not out and not diags and not cfg.allow_empty:
            diags.append(empty_source(file, self.ctx, "the export has a header but no rows "
                                      "(if nobody is absent, that is allow_empty)", line=2))
        if diags:
            raise EvidenceError(sorted(diags))
        bundle = EvidenceBundle(kinds=self.kinds(), absences=out)
        if cfg.unknown_people == "error":
            bundle.strict_sources.add(self.ctx.source_name)
        return bundle

    def _row(self, cfg: AbsenceCsvConfig, cols: Columns, cells: list[str], file: str,
             line: int, diags: list[Diagnostic]) -> Absence | None:
        before = len(diags)
        who = cols.get(cells, "person")
        if not who:
            diags.append(Diagnostic(file, line, 0, "E305",
                                    f"empty person (column {cfg.columns.person!r})"))
        days: dict[str, date | None] = {}
        for fld in ("start", "end"):
            value = cols.get(cells, fld)
            days[fld] = None
            if not value:
                continue
            try:
                days[fld] = parse_day(value, cfg.date_format)
            except ValueError:
                diags.append(Diagnostic(
                    file, line, 0, "E303",
                    f"{fld} {value!r} (column {getattr(cfg.columns, fld)!r}) is not a date in "
                    f"format {cfg.date_format!r}",
                    "fix the cell, or set `date_format` to the export's format"))
        start, end = days["start"], days["end"]
        if start is None and not cols.get(cells, "start"):
            diags.append(Diagnostic(file, line, 0, "E305",
                                    f"empty first day (column {cfg.columns.start!r})"))
        if start is not None and end is not None and end < start:
            diags.append(Diagnostic(file, line, 0, "E303",
                                    f"absence ends ({end}) before it starts ({start})"))
        if len(diags) > before or start is None:
            return None
        return Absence(
            provenance=Provenance(adapter=self.name, locator=f"{file}:{line}",
                                  fetched_at=self.ctx.fetched_at),
            person=who, start=start, end=end, kind=cols.get(cells, "type") or None)
