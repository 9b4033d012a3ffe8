"""The ``lms_csv`` adapter: training completions from an LMS report (Docebo, Absorb, Moodle …).

LMS reports have no standard layout, so the config maps our fields to the report's column
headers and says which status values mean *passed*, *failed* or *not a completion*
(``In Progress``, ``Not Started``: such rows are skipped, since they record no attempt). An
unknown status is an error, never a guess. Each completion or failed attempt becomes one
:class:`~checker.evidence.Training`.

Dates: a completion date alone means midnight UTC that day. A certificate expiry date is
read as the midnight *starting* that day (the certificate is no longer valid on it), the
conservative reading. Without an expiry column, ``default_validity_days`` can derive one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from checker.adapters import Adapter, AdapterConfig
from checker.errors import Diagnostic, EvidenceError
from checker.evidence import EvidenceBundle, Provenance, Training
from checker.timeutil import ensure_utc
from evidence_adapters._common import (
    Columns,
    CsvReader,
    ValueMap,
    empty_source,
    parse_instant,
    record_file,
)
from evidence_adapters._presets import apply_preset, load_preset, preset_names

__all__ = ["LmsColumns", "LmsCsvAdapter", "LmsCsvConfig"]

Outcome = Literal["passed", "failed", "skip"]

DEFAULT_STATUS_VALUES: dict[str, Outcome] = {
    "Completed": "passed", "Passed": "passed", "Failed": "failed",
    "In Progress": "skip", "Not Started": "skip", "Enrolled": "skip",
}
DEFAULT_PASSED_VALUES: dict[str, bool] = {
    "true": True, "yes": True, "1": True, "pass": True, "passed": True,
    "false": False, "no": False, "0": False, "fail": False, "failed": False,
}


class LmsColumns(AdapterConfig):
    """Our training fields → the report's column headers."""

    person: str = Field(description="Column with the learner's email or other handle.")
    course: str = Field(description="Column with the course code (see `course_values`).")
    completed: str = Field(description="Column with the completion (or attempt) date.")
    expires: str | None = Field(None, description="Column with the certificate expiry date.")
    status: str | None = Field(None, description="Column with the status; see `status_values`.")
    passed: str | None = Field(None, description="Column with a pass flag; see `passed_values`.")
    score: str | None = Field(None, description="Column with a numeric score (see `min_score`).")

    @model_validator(mode="after")
    def _one_outcome(self) -> LmsColumns:
        if self.status is not None and self.passed is not None:
            raise ValueError("map either `status` or `passed`, not both")
        return self


class LmsCsvConfig(AdapterConfig):
    """Config of an ``lms_csv`` source (the keys of its ``sources:`` entry)."""

    preset: str | None = Field(
        None, description="A vendor preset (docebo, moodle, cornerstone): column names, status "
                          "values and date format; explicit keys override it.")
    path: str = Field(description="The completions report, relative to the config file.")
    columns: LmsColumns
    status_values: dict[str, Outcome] = Field(
        default_factory=lambda: dict(DEFAULT_STATUS_VALUES),
        description="Status value → passed / failed / skip (case-insensitive). Replaces the "
                    "default mapping when given.",
    )
    passed_values: dict[str, bool] = Field(
        default_factory=lambda: dict(DEFAULT_PASSED_VALUES),
        description="Pass-flag value → true/false (case-insensitive).",
    )
    course_values: dict[str, str] = Field(
        default_factory=dict,
        description="Report course value → course id used by rules; unmapped values pass "
                    "through unchanged.",
    )
    min_score: float | None = Field(
        None, description="With a `score` column: a lower score makes the attempt failed.",
    )
    date_format: str = Field("%Y-%m-%d", description="strptime format; no %z means UTC.")
    completed_format: str | None = Field(
        None, description="strptime format of the completion column when it differs from "
                          "`date_format` (e.g. a timestamp `%Y-%m-%dT%H:%M:%S%z`).")
    expires_format: str | None = Field(
        None, description="strptime format of the expiry column when it differs from "
                          "`date_format` (e.g. a date `%d.%m.%Y`).")
    default_validity_days: int | None = Field(
        None, gt=0, description="Expiry = completion + N days when the report has none.",
    )
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = Field("utf-8-sig", description="utf-8-sig accepts a byte-order mark.")

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        return apply_preset("lms_csv", data)

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, v: str | None) -> str | None:
        if v is not None and v not in preset_names("lms_csv"):
            load_preset("lms_csv", v)  # raises with the available names
        return v


class LmsCsvAdapter(Adapter):
    """Training completions and failed attempts from an LMS CSV report."""

    name: ClassVar[str] = "lms_csv"
    Config: ClassVar[type[AdapterConfig]] = LmsCsvConfig
    provides: ClassVar[frozenset[str]] = frozenset({"training"})

    def collect(self) -> EvidenceBundle:
        """Read the report completely.

        Raises:
            EvidenceError: with one diagnostic per problem (missing column, bad date,
                unknown status or pass flag, bad score, empty person/course/date).
        """
        cfg: LmsCsvConfig = self.config
        c = cfg.columns
        path = self.ctx.path(cfg.path)
        file = self.ctx.display(path)
        diags: list[Diagnostic] = []
        record_file(self.ctx, path, file)
        reader = CsvReader(path, file, cfg.delimiter, cfg.encoding, diags)
        statuses = ValueMap(cfg.status_values)
        flags = ValueMap(cfg.passed_values)
        courses = ValueMap(cfg.course_values)
        out: list[Training] = []
        cols: Columns | None = None
        rows = 0
        for line, cells in reader.rows():
            if cols is None:
                cols = Columns.locate(file, line, cells, c.model_dump(), diags)
                if diags:
                    break
                continue
            rows += 1
            if len(cells) != len(cols.header):
                diags.append(Diagnostic(
                    file, line, 0, "E308",
                    f"row has {len(cells)} cells, the header has {len(cols.header)}",
                    "check for an unquoted delimiter in a cell",
                ))
                continue
            record = self._row(cfg, cols, cells, line, file, statuses, flags, courses, diags)
            if record is not None:
                out.append(record)
        if cols is None and not diags and not self.ctx.allow_empty:
            diags.append(empty_source(file, self.ctx, "file is empty (no header row)"))
        elif cols is not None and rows == 0 and not diags and not self.ctx.allow_empty:
            diags.append(empty_source(file, self.ctx, "no rows after the header"))
        if diags:
            raise EvidenceError(sorted(diags))
        return EvidenceBundle(kinds=self.kinds(), trainings=out)

    def _row(
        self, cfg: LmsCsvConfig, cols: Columns, cells: list[str], line: int, file: str,
        statuses: ValueMap[Outcome], flags: ValueMap[bool], courses: ValueMap[str],
        diags: list[Diagnostic],
    ) -> Training | None:
        c = cfg.columns
        before = len(diags)

        def err(code: str, message: str, hint: str | None = None) -> None:
            diags.append(Diagnostic(file, line, 0, code, message, hint))

        def unmapped(fld: str, value: str, vmap: ValueMap[Any], key: str) -> None:
            err("E304", f"{fld} {value!r} (column {getattr(c, fld)!r}) is not mapped; "
                        f"known values: {', '.join(vmap.keys)}",
                f"add {value!r} to `{key}` in the source config")

        passed = True
        if c.status is not None:
            value = cols.get(cells, "status")
            outcome = statuses.get(value)
            if outcome is None:
                unmapped("status", value, statuses, "status_values")
                return None
            if outcome == "skip":
                return None
            passed = outcome == "passed"
        elif c.passed is not None:
            value = cols.get(cells, "passed")
            flag = flags.get(value)
            if flag is None:
                unmapped("passed", value, flags, "passed_values")
                return None
            passed = flag
        if c.score is not None and cols.get(cells, "score"):
            value = cols.get(cells, "score")
            try:
                score = float(value)
            except ValueError:
                err("E304", f"score {value!r} (column {c.score!r}) is not a number")
            else:
                if cfg.min_score is not None:
                    passed = passed and score >= cfg.min_score

        def when(fld: str) -> datetime | None:
            value = cols.get(cells, fld)
            if not value:
                return None
            fmt = getattr(cfg, f"{fld}_format") or cfg.date_format
            try:
                return parse_instant(value, fmt)
            except ValueError:
                key = f"{fld}_format" if getattr(cfg, f"{fld}_format") else "date_format"
                err("E303", f"{fld} {value!r} (column {getattr(c, fld)!r}) is not a date in "
                            f"format {fmt!r}",
                    f"fix the cell, or set `{key}` to the report's format")
                return None

        person = cols.get(cells, "person")
        course = cols.get(cells, "course")
        completed = when("completed")
        expires = when("expires")
        for fld, value in (("person", person), ("course", course)):
            if not value:
                err("E305", f"empty {fld} (column {getattr(c, fld)!r})")
        if completed is None and cols.get(cells, "completed") == "":
            err("E305", f"empty completed date (column {c.completed!r}) on a "
                        f"{'passed' if passed else 'failed'} attempt",
                "map the status to `skip` in `status_values` if this is not an attempt")
        if len(diags) > before or completed is None:
            return None
        if expires is None and cfg.default_validity_days is not None:
            expires = completed + timedelta(days=cfg.default_validity_days)
        # Every field is already checked and normalised above (stripped, non-empty strings,
        # aware UTC datetimes), so the record is built without a second validation pass:
        # at 5 rows per employee that pass was most of the adapter's time.
        return Training.model_construct(
            provenance=Provenance.model_construct(adapter=self.name, locator=f"{file}:{line}",
                                                  url=None,
                                                  fetched_at=ensure_utc(self.ctx.fetched_at)),
            person=person,
            course=(courses.get(course) or course).strip(),
            completed_at=completed,
            expires_at=expires,
            passed=passed,
        )
