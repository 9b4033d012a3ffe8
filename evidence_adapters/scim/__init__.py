"""The ``scim`` adapter: people and groups from a SCIM 2.0 service (RFC 7643/7644).

Live: ``GET {url}/Users`` (and ``/Groups``) with a bearer token from an environment
variable, paged with ``startIndex``/``count`` until ``totalResults`` is reached; an empty
page that claims more, a dropped connection or an unexpected status fails the source
(exit 3) rather than returning a partial directory. Offline: a saved ``ListResponse`` file
or a folder of saved pages.

Payloads are parsed with ``scim2-models`` (the maintained pydantic models of
python-scim), which knows the core User/Group schemas, the enterprise extension and the
case rules of attribute names, instead of hand-written dictionary walking.

Mapping: a User becomes a :class:`~checker.evidence.Person` (``active: false`` →
terminated; ``userType`` and name patterns → kind ``service``/``group`` and contractor);
a Group becomes a Person of kind ``group``, so that it can never pass as an owner. SCIM has
no hire, termination or leave dates: an optional ``supplement`` CSV adds them (and further
handles such as a Jira accountId), and an optional ``leave`` export adds leave periods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from scim2_models import Context, EnterpriseUser, Group, ListResponse, User

from checker.adapters import Adapter, AdapterConfig
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable
from checker.evidence import EvidenceBundle, Period, Person, Provenance
from checker.identity import normalise_handle
from checker.regex import compile_pattern, search
from checker.safefile import read_bytes
from checker.timeutil import day_end, day_start
from evidence_adapters._common import Columns, CsvReader, loads, parse_day
from evidence_adapters._http import ErrorCodes, HttpClient, RetryConfig, env_value, read_secret
from evidence_adapters._replay import REPLAY_BASE, ReplayTransport, load_bodies
from evidence_adapters._roles import RoleRule, derive_roles
from evidence_adapters.hr_csv import LeaveConfig, read_leave

from ._replay import ScimRules

__all__ = [
    "CODES",
    "ScimAdapter",
    "ScimConfig",
    "SupplementColumns",
    "SupplementConfig",
    "UserType",
]

Kind = Literal["individual", "group", "service"]
EmploymentType = Literal["employee", "contractor"]
IdSource = Literal["employee_number", "external_id", "id", "user_name"]

_Page = ListResponse[User[EnterpriseUser] | Group]

#: The codes of the live people/training sources in the shared HTTP layer (E340–E359).
CODES = ErrorCodes(network="E341", status="E343", unauthorized="E342", forbidden="E342",
                   not_found="E343", body="E344")


class UserType(AdapterConfig):
    """What a ``userType`` value means."""

    kind: Kind = "individual"
    employment_type: EmploymentType = "employee"


DEFAULT_USER_TYPES: dict[str, UserType] = {
    "Employee": UserType(),
    "Intern": UserType(),
    "Contractor": UserType(employment_type="contractor"),
    "Contingent Worker": UserType(employment_type="contractor"),
    "External": UserType(employment_type="contractor"),
    "Service": UserType(kind="service"),
    "Service Account": UserType(kind="service"),
    "Shared Mailbox": UserType(kind="group"),
}


class SupplementColumns(AdapterConfig):
    """Columns of the supplementary CSV (what SCIM does not carry)."""

    person: str = Field(description="Column with the person's id, email or other handle.")
    hired: str | None = Field(None, description="Hire date (first day).")
    terminated: str | None = Field(None, description="Termination date (last day worked).")
    handles: tuple[str, ...] = Field((), description="Columns holding further handles.")


class SupplementConfig(AdapterConfig):
    """A CSV adding hire/termination dates and handles to the SCIM people."""

    path: str
    columns: SupplementColumns
    date_format: str = "%Y-%m-%d"
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"


class ScimConfig(AdapterConfig):
    """Config of a ``scim`` source (the keys of its ``sources:`` entry)."""

    url: str | None = Field(None, description="SCIM base URL, e.g. https://idp/scim/v2.")
    url_env: str | None = Field(None, description="Env var holding the base URL (instead "
                                                  "of `url`).")
    token_env: str = Field("SCIM_TOKEN", description="Env var holding the bearer token.")
    token_file: str | None = Field(
        None, description="A file holding the bearer token (relative to the config file); "
                          "replaces `token_env`.")
    path: str | None = Field(
        None, description="Offline: a saved ListResponse JSON file, or a folder of pages.")
    replay: tuple[str, ...] | str | None = Field(
        None, description="Saved ListResponse bodies of /Users (and /Groups): files, folders "
                          "or globs, any names. They answer the live requests, paged by "
                          "startIndex/totalResults exactly as live.")
    page_size: int = Field(100, ge=1, le=1000, description="`count` per request.")
    users_filter: str | None = Field(None, description="SCIM filter for /Users.")
    groups: bool = Field(True, description="Also read /Groups (as people of kind group).")
    groups_filter: str | None = Field(None, description="SCIM filter for /Groups.")
    sort: bool = Field(
        False, description="Ask for sortBy=userName/displayName, for servers whose order is "
                           "not stable between pages.")
    timeout: float = Field(30.0, gt=0, description="Seconds per request (connect, each read, "
                                                   "and the whole response).")
    retry: RetryConfig = Field(default_factory=RetryConfig,
                               description="Retries of connection errors, timeouts, HTTP 429 "
                                           "and 5xx: bounded in count and total time.")
    id_from: tuple[IdSource, ...] = Field(
        ("employee_number", "external_id", "id"), min_length=1,
        description="Where Person.id comes from: the first non-empty of these.")
    user_types: dict[str, UserType] = Field(
        default_factory=lambda: dict(DEFAULT_USER_TYPES),
        description="userType value → kind and employment type (case-insensitive); "
                    "replaces the default when given. An unmapped value is an error.")
    service_patterns: tuple[str, ...] = Field(
        (), description="Regexes on userName/emails that mark a service account.")
    group_patterns: tuple[str, ...] = Field(
        (), description="Regexes on userName/emails that mark a shared mailbox (group).")
    scim_roles: bool = Field(True, description="Copy the SCIM `roles` values.")
    roles_from: tuple[RoleRule, ...] = ()
    supplement: SupplementConfig | None = None
    leave: LeaveConfig | None = None
    allow_empty: bool = Field(
        False, description="Accept a directory with no users. Otherwise it is an error "
                           "(E317): rules over its people must not pass on an empty read.")

    @field_validator("service_patterns", "group_patterns")
    @classmethod
    def _regexes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            compile_pattern(p)  # RegexError is a ValueError: pydantic reports it
        return v

    @field_validator("replay", mode="before")
    @classmethod
    def _replay_list(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_source(self) -> ScimConfig:
        if len([k for k in ("url", "url_env", "path", "replay") if getattr(self, k)]) != 1:
            raise ValueError("give exactly one of `url` or `url_env` (live), `replay` (saved "
                             "response bodies) or `path` (saved pages)")
        return self


_Rows = dict[str, tuple[dict[str, Any], list[Period]]]


class ScimAdapter(Adapter):
    """People (Users) and groups from SCIM 2.0."""

    name: ClassVar[str] = "scim"
    Config: ClassVar[type[AdapterConfig]] = ScimConfig
    provides: ClassVar[frozenset[str]] = frozenset({"person"})

    def collect(self) -> EvidenceBundle:
        """Read every User (and Group), then the supplement and leave exports.

        Raises:
            EvidenceError: any page missing, unreadable or inconsistent, an unmapped
                userType, or a bad supplement/leave row.
        """
        cfg: ScimConfig = self.config
        url = cfg.url
        if cfg.url_env is not None:
            url = env_value(self.ctx.source_name, cfg.url_env, "SCIM base URL", "E340")
        if cfg.replay is not None:
            bodies = load_bodies(self.ctx, cfg.replay, "E345")
            transport = ReplayTransport(self.ctx.source_name, bodies, ScimRules(), "E345")
            resources = [(r, loc, None if (url or "").startswith(REPLAY_BASE) else url)
                         for r, loc, url in self._live(cfg, REPLAY_BASE, transport)]
            transport.finish()
        elif url is not None:
            resources = self._live(cfg, url)
        else:
            resources = self._saved(self.ctx.path(cfg.path or ""))
        diags: list[Diagnostic] = []
        rows = self._people(cfg, resources, diags)
        if not diags and not cfg.allow_empty and all(
                f["id"].startswith("group:") for f, _ in rows.values()):
            where = url or self.ctx.display(self.ctx.path(cfg.path or ""))
            diags.append(Diagnostic(where, 0, 0, "E317", "the SCIM directory has no users: an "
                                    "empty export is treated as a failed one",
                                    "check the URL, `users_filter` and the token's scope; if "
                                    "it is empty on purpose, set `allow_empty: true`"))
        if cfg.supplement is not None:
            self._supplement(cfg.supplement, rows, diags)
        if cfg.leave is not None:
            read_leave(self.ctx, cfg.leave, rows, diags, match_people=not diags)
        if diags:
            raise EvidenceError(sorted(diags))
        people = [Person(**f, leave=tuple(lv)) for f, lv in rows.values()]
        return EvidenceBundle(kinds=self.kinds(), people=people)

    # -- reading ------------------------------------------------------------------------

    def _live(self, cfg: ScimConfig, url: str, transport: ReplayTransport | None = None
              ) -> list[tuple[Any, str, str | None]]:
        if transport is None:
            token: str | None
            token, where = read_secret(self.ctx, code="E340", env=cfg.token_env,
                                       file=cfg.token_file, what="SCIM bearer token")
        else:
            token, where = None, "the saved responses (`replay`)"
        base = url.rstrip("/")
        out: list[tuple[Any, str, str | None]] = []
        endpoints = [("Users", cfg.users_filter, "userName")]
        if cfg.groups:
            endpoints.append(("Groups", cfg.groups_filter, "displayName"))
        with HttpClient(source=self.ctx.source_name, retry=cfg.retry, timeout=cfg.timeout,
                        codes=CODES, check=f"the bearer token in {where}",
                        record=self.ctx.record, headers={"Accept": "application/scim+json"},
                        progress=self.ctx.progress, transport=transport,
                        bearer=token) as client:
            for endpoint, flt, sort_by in endpoints:
                out.extend(self._paged(client, cfg, base, endpoint, flt,
                                       sort_by if cfg.sort else None))
        return out

    def _paged(
        self, client: HttpClient, cfg: ScimConfig, base: str, endpoint: str,
        flt: str | None, sort_by: str | None,
    ) -> list[tuple[Any, str, str | None]]:
        src = self.ctx.source_name
        url = f"{base}/{endpoint}"
        start, page_no = 1, 0
        seen: set[str] = set()
        out: list[tuple[Any, str, str | None]] = []
        while True:
            page_no += 1
            params: dict[str, Any] = {"startIndex": start, "count": cfg.page_size}
            if flt:
                params["filter"] = flt
            if sort_by:
                params["sortBy"] = sort_by
            data, _ = client.get_json(url, params,
                                      record_as=f"{endpoint.lower()}/page-{page_no:04d}.json")
            where = f"{url}?startIndex={start}&count={cfg.page_size}"
            page = self._parse(data, where)
            total = page.total_results
            if total is None:
                raise EvidenceError(Diagnostic(src, 0, 0, "E344",
                                               f"{where}: ListResponse without totalResults"))
            resources = list(page.resources or [])
            for r in resources:
                rid = r.id or ""
                if rid in seen:
                    raise EvidenceError(Diagnostic(
                        src, 0, 0, "E345",
                        f"{where}: {endpoint[:-1]} {rid!r} came twice while paging: the "
                        "server's order changed between pages, so some may be missing",
                        "set `sort: true` in the source config"))
                seen.add(rid)
                loc = (r.meta.location if r.meta and r.meta.location else f"{url}/{rid}")
                out.append((r, f"{endpoint}/{rid}", str(loc)))
            start += len(resources)
            if start > total:
                return out
            if not resources:
                raise EvidenceError(Diagnostic(
                    src, 0, 0, "E345",
                    f"{where}: empty page, but totalResults is {total} and only "
                    f"{start - 1} were returned",
                    "the directory changed while it was read, or the server pages wrongly; "
                    "run again"))

    def _saved(self, path: Path) -> list[tuple[Any, str, str | None]]:
        if path.is_dir():
            files = sorted(path.glob("*.json"))
            if not files:
                raise EvidenceUnavailable(Diagnostic(
                    self.ctx.display(path), 0, 0, "E348", "folder has no *.json pages"))
        elif path.is_file():
            files = [path]
        else:
            raise EvidenceUnavailable(Diagnostic(
                self.ctx.display(path), 0, 0, "E348", "no such file or folder",
                "relative paths are resolved from the config file's folder"))
        out: list[tuple[Any, str, str | None]] = []
        for f in files:
            shown = self.ctx.display(f)
            raw = read_bytes(f)
            self.ctx.record(f"pages/{f.name}", raw)
            try:
                data = loads(raw)
            except ValueError as exc:
                raise EvidenceError(Diagnostic(shown, 0, 0, "E344", f"not JSON: {exc}")) from None
            page = self._parse(data, shown)
            resources = list(page.resources or [])
            if page.total_results is not None and len(files) == 1 and \
                    len(resources) < page.total_results:
                raise EvidenceError(Diagnostic(
                    shown, 0, 0, "E345",
                    f"saved page holds {len(resources)} of totalResults {page.total_results}",
                    "save every page into a folder and point `path` at the folder"))
            for r in resources:
                kind = "Groups" if isinstance(r, Group) else "Users"
                out.append((r, f"{shown}#{kind}/{r.id}", None))
        return out

    def _parse(self, data: Any, where: str) -> Any:
        try:
            return _Page.model_validate(data, scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        except ValidationError as exc:
            first = exc.errors()[0]
            at = ".".join(str(p) for p in first["loc"])
            raise EvidenceError(Diagnostic(
                self.ctx.source_name, 0, 0, "E344",
                f"{where}: not a SCIM ListResponse of Users/Groups ({exc.error_count()} "
                f"problem(s); first at {at}: {first['msg']})",
                "check the URL points at the SCIM base (…/scim/v2)")) from None

    # -- mapping ------------------------------------------------------------------------

    def _people(
        self, cfg: ScimConfig, resources: list[tuple[Any, str, str | None]],
        diags: list[Diagnostic],
    ) -> _Rows:
        types = {k.strip().casefold(): v for k, v in cfg.user_types.items()}
        rows: _Rows = {}
        scim_ids: dict[str, str] = {}
        for res, locator, url in resources:
            prov = Provenance(adapter=self.name, locator=locator, url=url,
                              fetched_at=self.ctx.fetched_at)
            fields: dict[str, Any] | None
            if isinstance(res, Group):
                fields = self._group(res, prov)
            else:
                fields = self._user(cfg, res, prov, types, locator, diags)
            if fields is None:
                continue
            pid = fields["id"]
            if pid in rows:
                diags.append(Diagnostic(self.ctx.source_name, 0, 0, "E306",
                                        f"{locator}: duplicate person id {pid!r} "
                                        f"(also {rows[pid][0]['provenance'].locator})",
                                        "set `id_from` to an attribute unique per user"))
                continue
            rows[pid] = (fields, [])
            if res.id:
                scim_ids[res.id] = pid
        # The enterprise manager is a SCIM id: name the manager by a handle HR knows.
        for fields, _ in rows.values():
            mgr = fields.get("manager")
            if mgr and mgr in scim_ids:
                m = rows[scim_ids[mgr]][0]
                fields["manager"] = m["emails"][0] if m["emails"] else m["id"]
        return rows

    def _group(self, g: Any, prov: Provenance) -> dict[str, Any]:
        ident = g.external_id or g.id or g.display_name
        handles = tuple(dict.fromkeys(h for h in (g.display_name, g.id, g.external_id) if h))
        return {"provenance": prov, "id": f"group:{ident}", "name": g.display_name or ident,
                "emails": (), "handles": handles, "employee_number": None, "kind": "group"}

    def _user(
        self, cfg: ScimConfig, u: Any, prov: Provenance, types: dict[str, UserType],
        locator: str, diags: list[Diagnostic],
    ) -> dict[str, Any] | None:
        ent = u[EnterpriseUser]
        emails = [e.value for e in sorted(u.emails or [], key=lambda e: not e.primary)
                  if e.value]
        if not emails and u.user_name and "@" in u.user_name:
            emails = [u.user_name]
        candidates = {
            "employee_number": ent.employee_number if ent else None,
            "external_id": u.external_id, "id": u.id, "user_name": u.user_name,
        }
        pid = next((candidates[k] for k in cfg.id_from if candidates[k]), None)
        if not pid:
            diags.append(Diagnostic(self.ctx.source_name, 0, 0, "E305",
                                    f"{locator}: user has none of {', '.join(cfg.id_from)}",
                                    "extend `id_from`"))
            return None
        utype = UserType()
        if u.user_type:
            got = types.get(u.user_type.strip().casefold())
            if got is None:
                diags.append(Diagnostic(
                    self.ctx.source_name, 0, 0, "E346",
                    f"{locator}: userType {u.user_type!r} is not mapped; known: "
                    f"{', '.join(sorted(cfg.user_types))}",
                    f"add {u.user_type!r} to `user_types` in the source config"))
                return None
            utype = got
        kind: Kind = utype.kind
        names = [n for n in (u.user_name, *emails) if n]
        if any(search(p, n) for p in cfg.group_patterns for n in names):
            kind = "group"
        if any(search(p, n) for p in cfg.service_patterns for n in names):
            kind = "service"
        name = u.display_name
        if not name and u.name:
            name = u.name.formatted or " ".join(
                p for p in (u.name.given_name, u.name.family_name) if p)
        handles = tuple(dict.fromkeys(
            h for h in (u.user_name, u.id, u.external_id) if h and h != pid))
        title = u.title
        department = ent.department if ent else None
        roles = tuple(r.value for r in (u.roles or []) if r.value) if cfg.scim_roles else ()
        if cfg.roles_from:
            roles = derive_roles(cfg.roles_from, existing=roles,
                                 handles=[pid, *emails, *handles], title=title,
                                 department=department)
        return {
            "provenance": prov,
            "id": pid,
            "name": name or u.user_name or pid,
            "emails": tuple(dict.fromkeys(emails)),
            "handles": handles,
            "employee_number": ent.employee_number if ent and ent.employee_number else None,
            "kind": kind,
            "status": "terminated" if u.active is False else "active",
            "employment_type": utype.employment_type,
            "department": department,
            "title": title,
            "manager": ent.manager.value if ent and ent.manager and ent.manager.value else None,
            "roles": roles,
        }

    def _supplement(self, sup: SupplementConfig, rows: _Rows, diags: list[Diagnostic]) -> None:
        path = self.ctx.path(sup.path)
        file = self.ctx.display(path)
        if path.is_file():
            self.ctx.record(f"supplement/{path.name}", read_bytes(path))
        lookup: dict[str, str] = {}
        for pid, (f, _) in rows.items():
            for h in (pid, *f.get("emails", ()), *f.get("handles", ()),
                      f.get("employee_number")):
                if h:
                    lookup.setdefault(normalise_handle(h), pid)
        c = sup.columns
        wanted: dict[str, str | None] = {"person": c.person, "hired": c.hired,
                                         "terminated": c.terminated}
        wanted.update({f"handles[{i}]": h for i, h in enumerate(c.handles)})
        cols: Columns | None = None
        for line, cells in CsvReader(path, file, sup.delimiter, sup.encoding, diags).rows():
            if cols is None:
                errs: list[Diagnostic] = []
                cols = Columns.locate(file, line, cells, wanted, errs,
                                      prefix="supplement.columns")
                diags.extend(errs)
                if errs:
                    return
                continue
            if len(cells) != len(cols.header):
                diags.append(Diagnostic(file, line, 0, "E308",
                                        f"row has {len(cells)} cells, the header has "
                                        f"{len(cols.header)}"))
                continue
            who = cols.get(cells, "person")
            owner = lookup.get(normalise_handle(who)) if who else None
            if owner is None:
                diags.append(Diagnostic(file, line, 0, "E312",
                                        f"supplement row for {who!r}, who is not in SCIM",
                                        "the supplement may only describe SCIM people"))
                continue
            fields = rows[owner][0]
            for fld in ("hired", "terminated"):
                value = cols.get(cells, fld)
                if not value:
                    continue
                try:
                    day = parse_day(value, sup.date_format)
                except ValueError:
                    diags.append(Diagnostic(file, line, 0, "E303",
                                            f"{fld} {value!r} is not a date in format "
                                            f"{sup.date_format!r}"))
                    continue
                fields[fld] = day_start(day) if fld == "hired" else day_end(day)
            extra = [v for i in range(len(c.handles)) if (v := cols.get(cells, f"handles[{i}]"))]
            fields["handles"] = tuple(dict.fromkeys([*fields.get("handles", ()), *extra]))
        if cols is None and not diags:
            diags.append(Diagnostic(file, 1, 0, "E300", "file is empty (no header row)"))
