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
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from checker.adapters import Adapter, AdapterConfig, SourceContext
from checker.errors import Diagnostic, EvidenceError
from checker.evidence import EvidenceBundle, Period, Person, Provenance
from checker.identity import normalise_handle
from checker.timeutil import day_end, day_start
from evidence_adapters._common import (
    Columns,
    CsvReader,
    ValueMap,
    empty_source,
    parse_day,
    record_file,
)
from evidence_adapters._presets import apply_preset, load_preset, preset_names
from evidence_adapters._roles import RoleRule, derive_roles

__all__ = [
    "HrColumns",
    "HrCsvAdapter",
    "HrCsvConfig",
    "LeaveColumns",
    "LeaveConfig",
    "read_leave",
]

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
DEFAULT_FLAG_VALUES: dict[str, bool] = {
    "1": True, "true": True, "yes": True, "y": True,
    "0": False, "false": False, "no": False, "n": False,
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
    on_leave: str | None = Field(
        None, description="An on-leave flag (see `flag_values`); true turns an active status "
                          "into on_leave (Workday's On_Leave).")
    hired: str | None = Field(None, description="Hire date (first day).")
    terminated: str | None = Field(None, description="Termination date (last day worked).")
    kind: str | None = Field(None, description="Account kind; see `kind_values`.")
    employment_type: str | None = Field(None, description="See `employment_type_values`.")
    department: str | None = None
    title: str | None = None
    management_level: str | None = Field(
        None, description="Management level, for `roles_from` rules.")
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

    preset: str | None = Field(
        None, description="A vendor preset (workday, bamboohr, personio): column names, "
                          "value mappings and date format; explicit keys override it.")
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
    flag_values: dict[str, bool] = Field(
        default_factory=lambda: dict(DEFAULT_FLAG_VALUES),
        description="Flag cell value → true/false (case-insensitive), for `columns.on_leave`.",
    )
    roles_separator: str = Field(";", min_length=1)
    roles_from: tuple[RoleRule, ...] = Field(
        (), description="Roles derived from HR attributes (title regex, department, "
                        "management level, explicit people); see evidence_adapters/_roles.py.")
    leave: LeaveConfig | None = None
    effective_date: date | None = Field(
        None, description="The day the export describes (its 'as of' date). A status of "
                          "on_leave without dated leave applies to this day only; without it, "
                          "to the scan's as-of day.")
    allow_empty: bool = Field(
        False, description="Accept an export with a header and no rows. Otherwise it is an "
                           "error (E317): an empty people export is a broken export, and rules "
                           "over its people must not pass.")

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        return apply_preset("hr_csv", data)

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, v: str | None) -> str | None:
        if v is not None and v not in preset_names("hr_csv"):
            load_preset("hr_csv", v)  # raises with the available names
        return v


def _effective(day: date | None) -> datetime | None:
    # Noon UTC: the same calendar day in every time zone from UTC-11 to UTC+11, so the
    # organisation's time zone turns it back into this day.
    return None if day is None else datetime.combine(day, time(12), tzinfo=UTC)


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
    flag: ValueMap[bool]


class HrCsvAdapter(Adapter):
    """People from an HR CSV export, with optional leave periods from a second export."""

    name: ClassVar[str] = "hr_csv"
    Config: ClassVar[type[AdapterConfig]] = HrCsvConfig
    provides: ClassVar[frozenset[str]] = frozenset({"person"})

    @staticmethod
    def preset_names() -> list[str]:
        """The vendor presets this adapter ships (used by ``aimscheck init --hr``)."""
        return preset_names("hr_csv")

    @staticmethod
    def preset_source_yaml(preset: str, indent: int = 4) -> str:
        """A ``sources:`` entry spelling out a preset's mapping, for a starter config.

        Raises:
            ValueError: unknown preset.
        """
        data = load_preset("hr_csv", preset)
        body = yaml.safe_dump({"preset": preset, "path": "hr/people.csv", **data},
                              sort_keys=False, allow_unicode=True, width=88)
        pad = " " * indent
        out = [f"{pad[:-2]}- adapter: hr_csv"] + [pad + ln for ln in body.splitlines()]
        return "\n".join(out) + "\n"

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
            read_leave(self.ctx, cfg.leave, rows, diags, date_format=cfg.date_format,
                       delimiter=cfg.delimiter, encoding=cfg.encoding, match_people=not diags)
        if diags:
            raise EvidenceError(sorted(diags))
        people = [Person(**fields, leave=tuple(leave)) for fields, leave in rows.values()]
        return EvidenceBundle(kinds=self.kinds(), people=people)

    def _read_people(
        self, cfg: HrCsvConfig, diags: list[Diagnostic],
    ) -> dict[str, tuple[dict[str, Any], list[Period]]]:
        path = self.ctx.path(cfg.path)
        file = self.ctx.display(path)
        record_file(self.ctx, path, file)
        reader = CsvReader(path, file, cfg.delimiter, cfg.encoding, diags)
        maps = _Maps(ValueMap(cfg.status_values), ValueMap(cfg.kind_values),
                     ValueMap(cfg.employment_type_values), ValueMap(cfg.flag_values))
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
        if cols is None and not diags and not self.ctx.allow_empty:
            diags.append(empty_source(file, self.ctx, "file is empty (no header row)"))
        elif cols is not None and not out and not diags and not cfg.allow_empty:
            diags.append(empty_source(file, self.ctx, "the people export has a header but "
                                      "no rows", line=2))
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
        if mapped("on_leave", maps.flag, "flag_values", "") and status == "active":
            status = "on_leave"
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
        if cfg.roles_from:
            roles = derive_roles(
                cfg.roles_from, existing=roles,
                handles=[pid, email, cols.get(cells, "employee_number"), *handles],
                title=cols.get(cells, "title") or None,
                department=cols.get(cells, "department") or None,
                management_level=cols.get(cells, "management_level") or None,
            )
        return {
            "provenance": Provenance(adapter=self.name, locator=f"{row.file}:{row.line}",
                                     fetched_at=self.ctx.fetched_at,
                                     effective_at=_effective(cfg.effective_date)),
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


def read_leave(
    ctx: SourceContext, leave: LeaveConfig,
    rows: dict[str, tuple[dict[str, Any], list[Period]]], diags: list[Diagnostic], *,
    date_format: str = "%Y-%m-%d", delimiter: str = ",", encoding: str = "utf-8-sig",
    match_people: bool = True,
) -> None:
    """Add the periods of a leave export to ``rows`` (person id → (Person fields, leave)).

    Shared by ``hr_csv`` and ``scim``: a leave row names its person by any handle of the
    person fields (id, email, employee number, further handles). Problems are appended to
    ``diags`` with file and line. With ``match_people`` false (the people source already
    failed) the leave export is still checked, but rows are not reported as naming unknown
    people: that would only repeat the people source's own error, once per row.
    """
    path = ctx.path(leave.path)
    file = ctx.display(path)
    record_file(ctx, path, file)
    fmt = leave.date_format or date_format
    reader = CsvReader(path, file, leave.delimiter or delimiter,
                       leave.encoding or encoding, diags)
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
            if match_people:
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
