"""The ``hr_csv`` adapter: people from an HR export (Workday, BambooHR, Personio …) as CSV.

No HR system has a fixed CSV layout, so the config maps our fields to the export's column
headers. Every row becomes one :class:`~checker.evidence.Person`; an optional leave export
adds dated leave periods. A bad row is never dropped: every problem is a diagnostic with
``file:line`` and the source fails closed with :class:`~checker.errors.EvidenceError`.

Dates: a termination date is the *last day worked*, so ``Person.terminated`` is the
midnight (UTC) after it; leave first/last days are inclusive, so a leave period runs from
midnight of the first day to midnight after the last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from checker.adapters import Adapter, AdapterConfig
from checker.errors import Diagnostic, EvidenceError
from checker.evidence import EvidenceBundle, Period, Person, Provenance
from checker.identity import normalise_handle
from checker.timeutil import day_end, day_start
from evidence_adapters._common import Columns, CsvReader, ValueMap, parse_day

__all__ = ["HrColumns", "HrCsvAdapter", "HrCsvConfig", "LeaveColumns", "LeaveConfig"]

Status = Literal["active", "on_leave", "terminated"]
Kind = Literal["individual", "group", "service"]
EmploymentType = Literal["employee", "contractor"]

DEFAULT_STATUS_VALUES: dict[str, Status] = {
    "Active": "active", "On Leave": "on_leave", "Terminated": "terminated",
}
DEFAULT_KIND_VALUES: dict[str, Kind] = {
    "individual": "individual", "group": "group", "service": "service",
}
DEFAULT_EMPLOYMENT_TYPE_VALUES: dict[str, EmploymentType] = {
    "employee": "employee", "contractor": "contractor",
}


class HrColumns(AdapterConfig):
    """Our person fields → the export's column headers.

    ``id`` and ``email`` are required; the name comes from ``name`` or from
    ``first_name`` + ``last_name``. ``handles`` lists headers whose cells are further
    handles of the person (a Jira accountId, an MLflow user …).
    """

    id: str = Field(description="Column with the stable employee/worker id (Person.id).")
    email: str = Field(description="Column with the work email.")
    name: str | None = Field(None, description="Column with the display name.")
    first_name: str | None = Field(None, description="Column with the first name.")
    last_name: str | None = Field(None, description="Column with the last name.")
    employee_number: str | None = None
    status: str | None = Field(None, description="Employment status; see `status_values`.")
    hired: str | None = Field(None, description="Hire date (first day).")
    terminated: str | None = Field(None, description="Termination date (last day worked).")
    kind: str | None = Field(None, description="Account kind; see `kind_values`.")
    employment_type: str | None = Field(None, description="See `employment_type_values`.")
    department: str | None = None
    title: str | None = None
    manager: str | None = Field(None, description="Manager handle (email or id).")
    roles: str | None = Field(None, description="Roles, separated by `roles_separator`.")
    handles: tuple[str, ...] = Field((), description="Columns holding further handles.")

    @model_validator(mode="after")
    def _name_source(self) -> HrColumns:
        if self.name is None and (self.first_name is None or self.last_name is None):
            raise ValueError("map `name`, or both `first_name` and `last_name`")
        return self


class LeaveColumns(AdapterConfig):
    """Leave export fields → column headers."""

    person: str = Field(description="Column with the person's id, email or other handle.")
    start: str = Field(description="Column with the first day of leave (inclusive).")
    end: str | None = Field(None, description="Column with the last day of leave (inclusive).")
    type: str | None = Field(None, description="Column with the leave type.")


class LeaveConfig(AdapterConfig):
    """An optional leave-of-absence export."""

    path: str
    columns: LeaveColumns
    date_format: str | None = Field(None, description="Defaults to the people file's format.")
    delimiter: str | None = None
    encoding: str | None = None


class HrCsvConfig(AdapterConfig):
    """Config of an ``hr_csv`` source (the keys of its ``sources:`` entry)."""

    path: str = Field(description="The people export, relative to the config file.")
    columns: HrColumns
    status_values: dict[str, Status] = Field(
        default_factory=lambda: dict(DEFAULT_STATUS_VALUES),
        description="Export status value → active/on_leave/terminated (case-insensitive). "
                    "Replaces the default mapping when given.",
    )
    kind_values: dict[str, Kind] = Field(
        default_factory=lambda: dict(DEFAULT_KIND_VALUES),
        description="Export account-kind value → individual/group/service.",
    )
    employment_type_values: dict[str, EmploymentType] = Field(
        default_factory=lambda: dict(DEFAULT_EMPLOYMENT_TYPE_VALUES),
    )
    date_format: str = Field("%Y-%m-%d", description="strptime format of date cells.")
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = Field("utf-8-sig", description="utf-8-sig accepts a byte-order mark.")
    roles_separator: str = Field(";", min_length=1)
    leave: LeaveConfig | None = None


@dataclass
class _Row:
    file: str
    line: int
    diags: list[Diagnostic]

    def err(self, code: str, message: str, hint: str | None = None) -> None:
        self.diags.append(Diagnostic(self.file, self.line, 0, code, message, hint))


@dataclass
class _Maps:
    status: ValueMap[Status]
    kind: ValueMap[Kind]
    employment_type: ValueMap[EmploymentType]


class HrCsvAdapter(Adapter):
    """People from an HR CSV export, with optional leave periods from a second export."""

    name: ClassVar[str] = "hr_csv"
    Config: ClassVar[type[AdapterConfig]] = HrCsvConfig
    provides: ClassVar[frozenset[str]] = frozenset({"person"})

    def collect(self) -> EvidenceBundle:
        """Read the people (and leave) exports completely.

        Raises:
            EvidenceError: with one diagnostic per problem (missing column, bad date,
                unmapped value, empty required cell, duplicate id, unknown person in the
                leave export).
        """
        cfg: HrCsvConfig = self.config
        diags: list[Diagnostic] = []
        rows = self._read_people(cfg, diags)
        if cfg.leave is not None:
            self._read_leave(cfg, cfg.leave, rows, diags)
        if diags:
            raise EvidenceError(sorted(diags))
        people = [Person(**fields, leave=tuple(leave)) for fields, leave in rows.values()]
        return EvidenceBundle(kinds=self.kinds(), people=people)

    def _read_people(
        self, cfg: HrCsvConfig, diags: list[Diagnostic],
    ) -> dict[str, tuple[dict[str, Any], list[Period]]]:
        path = self.ctx.path(cfg.path)
        file = self.ctx.display(path)
        reader = CsvReader(path, file, cfg.delimiter, cfg.encoding, diags)
        maps = _Maps(ValueMap(cfg.status_values), ValueMap(cfg.kind_values),
                     ValueMap(cfg.employment_type_values))
        c = cfg.columns
        wanted = {k: v for k, v in c.model_dump().items() if k != "handles"}
        wanted.update({f"handles[{i}]": h for i, h in enumerate(c.handles)})
        out: dict[str, tuple[dict[str, Any], list[Period]]] = {}
        first_line: dict[str, int] = {}
        cols: Columns | None = None
        for line, cells in reader.rows():
            if cols is None:
                cols = Columns.locate(file, line, cells, wanted, diags)
                if diags:
                    return out
                continue
            if len(cells) != len(cols.header):
                diags.append(Diagnostic(
                    file, line, 0, "E308",
                    f"row has {len(cells)} cells, the header has {len(cols.header)}",
                    "check for an unquoted delimiter in a cell",
                ))
                continue
            pid = cols.get(cells, "id")
            if pid and pid in first_line:
                diags.append(Diagnostic(
                    file, line, 0, "E306",
                    f"duplicate person id {pid!r} (first on line {first_line[pid]})",
                    "each person must appear once in the export",
                ))
                continue
            fields = self._person(cfg, cols, cells, _Row(file, line, diags), maps)
            if fields is None:
                continue
            first_line[pid] = line
            out[pid] = (fields, [])
        if cols is None and not diags:
            diags.append(Diagnostic(file, 1, 0, "E300", "file is empty (no header row)",
                                    "export the report with its header row"))
        return out

    def _person(
        self, cfg: HrCsvConfig, cols: Columns, cells: list[str], row: _Row, maps: _Maps,
    ) -> dict[str, Any] | None:
        """The Person fields of one row, or None after recording its problems."""
        c = cfg.columns
        before = len(row.diags)

        def need(fld: str) -> str:
            value = cols.get(cells, fld)
            if not value:
                row.err("E305", f"empty {fld} (column {getattr(c, fld)!r})",
                        "every person row needs an id and an email")
            return value

        def day(fld: str) -> date | None:
            value = cols.get(cells, fld)
            if not value:
                return None
            try:
                return parse_day(value, cfg.date_format)
            except ValueError:
                row.err("E303", f"{fld} {value!r} (column {getattr(c, fld)!r}) is not a date "
                                f"in format {cfg.date_format!r}",
                        "fix the cell, or set `date_format` to the export's format")
                return None

        def mapped(fld: str, vmap: ValueMap[Any], cfg_key: str, default: str) -> Any:
            value = cols.get(cells, fld)
            if not value:
                return default
            got = vmap.get(value)
            if got is None:
                row.err("E304", f"{fld} {value!r} (column {getattr(c, fld)!r}) is not mapped; "
                                f"known values: {', '.join(vmap.keys)}",
                        f"add {value!r} to `{cfg_key}` in the source config")
            return got

        pid = need("id")
        email = need("email")
        hired = day("hired")
        last_day = day("terminated")
        # An empty status cell says nothing; the termination date (if any) decides.
        status = mapped("status", maps.status, "status_values",
                        "terminated" if cols.get(cells, "terminated") else "active")
        kind = mapped("kind", maps.kind, "kind_values", "individual")
        etype = mapped("employment_type", maps.employment_type, "employment_type_values",
                       "employee")
        if len(row.diags) > before:
            return None
        if c.name is not None:
            name = cols.get(cells, "name")
        else:
            name = f"{cols.get(cells, 'first_name')} {cols.get(cells, 'last_name')}".strip()
        roles = tuple(r.strip() for r in cols.get(cells, "roles").split(cfg.roles_separator)
                      if r.strip())
        handles = tuple(dict.fromkeys(
            v for i in range(len(c.handles)) if (v := cols.get(cells, f"handles[{i}]"))
        ))
        return {
            "provenance": Provenance(adapter=self.name, locator=f"{row.file}:{row.line}",
                                     fetched_at=self.ctx.fetched_at),
            "id": pid,
            "name": name or email,
            "emails": (email,),
            "handles": handles,
            "employee_number": cols.get(cells, "employee_number") or None,
            "kind": kind,
            "status": status,
            "employment_type": etype,
            "hired": day_start(hired) if hired else None,
            "terminated": day_end(last_day) if last_day else None,
            "department": cols.get(cells, "department") or None,
            "title": cols.get(cells, "title") or None,
            "manager": cols.get(cells, "manager") or None,
            "roles": roles,
        }

    def _read_leave(
        self, cfg: HrCsvConfig, leave: LeaveConfig,
        rows: dict[str, tuple[dict[str, Any], list[Period]]], diags: list[Diagnostic],
    ) -> None:
        path = self.ctx.path(leave.path)
        file = self.ctx.display(path)
        fmt = leave.date_format or cfg.date_format
        reader = CsvReader(path, file, leave.delimiter or cfg.delimiter,
                           leave.encoding or cfg.encoding, diags)
        lookup: dict[str, str] = {}
        for pid, (fields, _) in rows.items():
            handles: list[str | None] = [pid, *fields["emails"], *fields["handles"],
                                         fields["employee_number"]]
            for h in handles:
                if h:
                    lookup.setdefault(normalise_handle(h), pid)
        lc = leave.columns
        cols: Columns | None = None
        for line, cells in reader.rows():
            if cols is None:
                errs: list[Diagnostic] = []
                cols = Columns.locate(file, line, cells, lc.model_dump(), errs,
                                      prefix="leave.columns")
                diags.extend(errs)
                if errs:
                    return
                continue
            if len(cells) != len(cols.header):
                diags.append(Diagnostic(
                    file, line, 0, "E308",
                    f"row has {len(cells)} cells, the header has {len(cols.header)}",
                ))
                continue
            who = cols.get(cells, "person")
            days: list[date | None] = []
            bad = False
            for fld in ("start", "end"):
                value = cols.get(cells, fld)
                if not value:
                    days.append(None)
                    continue
                try:
                    days.append(parse_day(value, fmt))
                except ValueError:
                    bad = True
                    diags.append(Diagnostic(
                        file, line, 0, "E303",
                        f"leave {fld} {value!r} is not a date in format {fmt!r}",
                        "fix the cell, or set `leave.date_format`",
                    ))
            if bad:
                continue
            start, end = days
            if start is None:
                diags.append(Diagnostic(file, line, 0, "E305", "empty leave start date"))
                continue
            if end is not None and end < start:
                diags.append(Diagnostic(
                    file, line, 0, "E303", f"leave ends ({end}) before it starts ({start})",
                ))
                continue
            owner = lookup.get(normalise_handle(who)) if who else None
            if owner is None:
                diags.append(Diagnostic(
                    file, line, 0, "E312",
                    f"leave row for {who!r}, who is not in the people export",
                    "the leave export and the people export must cover the same people",
                ))
                continue
            rows[owner][1].append(Period(
                start=day_start(start),
                end=day_end(end) if end is not None else None,
                kind=cols.get(cells, "type") or None,
            ))
        if cols is None and not diags:
            diags.append(Diagnostic(file, 1, 0, "E300", "file is empty (no header row)"))
