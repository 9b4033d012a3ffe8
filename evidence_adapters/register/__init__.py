"""The ``register`` adapter: the AIMS register (what is accountable, and who owns it) in YAML.

The register lists the organisation's AI systems, models, datasets, risks, controls,
vendors, policies and processes, each with named owners by role and an ownership history.
Each entry becomes one :class:`~checker.evidence.Subject`. Every problem in the file is
reported (with ``file:line:col``) before the source fails closed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import Field, ValidationError

from checker.adapters import Adapter, AdapterConfig
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable
from checker.evidence import MIN_YEAR, EvidenceBundle, OwnershipSpan, Provenance, Subject
from checker.registry import did_you_mean
from checker.timeutil import day_start, ensure_utc, parse_ts
from checker.yamlsrc import Located, Path_, load_yaml_file
from evidence_adapters._common import record_file

__all__ = ["SECTIONS", "RegisterAdapter", "RegisterConfig"]

#: Top-level key → subject kind.
SECTIONS: dict[str, str] = {
    "ai_systems": "ai_system",
    "models": "model",
    "datasets": "dataset",
    "risks": "risk",
    "controls": "control",
    "vendors": "vendor",
    "policies": "policy",
    "processes": "process",
}
_RESERVED = ("id", "name", "owners", "history")
_SPAN_KEYS = ("role", "owner", "from", "to", "source")


class RegisterConfig(AdapterConfig):
    """Config of a ``register`` source (the keys of its ``sources:`` entry)."""

    path: str = Field(description="The register YAML file, relative to the config file.")
    exclude: list[str] = Field(
        default_factory=list,
        description="Sections not to read, e.g. [models] when a model registry source "
                    "(mlflow) provides the models.")


class RegisterAdapter(Adapter):
    """Subjects and their owners from the AIMS register YAML file."""

    name: ClassVar[str] = "register"
    Config: ClassVar[type[AdapterConfig]] = RegisterConfig
    provides: ClassVar[frozenset[str]] = frozenset({"subject"})

    def collect(self) -> EvidenceBundle:
        """Load and validate the register completely.

        Raises:
            EvidenceUnavailable: the file cannot be read or is not YAML.
            EvidenceError: one diagnostic per problem: unknown section (E307), wrong type
                (E308), missing id or name (E305), duplicate id within a kind (E306), bad
                date (E303).
        """
        cfg: RegisterConfig = self.config
        path = self.ctx.path(cfg.path)
        record_file(self.ctx, path, self.ctx.display(path))
        doc, diags = load_yaml_file(path, self.ctx.display(path))
        if doc is None:
            raise EvidenceUnavailable(diags)
        parser = _Parser(doc, self.name, self.ctx.fetched_at, frozenset(cfg.exclude))
        subjects = parser.parse()
        if parser.diags:
            raise EvidenceError(sorted(parser.diags))
        return EvidenceBundle(kinds=self.kinds(), subjects=subjects)


class _Parser:
    def __init__(self, doc: Located, adapter: str, fetched_at: datetime,
                 exclude: frozenset[str] = frozenset()) -> None:
        self.doc = doc
        self.exclude = exclude
        self.adapter = adapter
        self.fetched_at = fetched_at
        self.diags: list[Diagnostic] = []

    def err(self, path: Path_, code: str, message: str, hint: str | None = None,
            *, key: bool = False) -> None:
        self.diags.append(self.doc.diag(path, code, message, hint, key=key))

    def parse(self) -> list[Subject]:
        data = self.doc.data
        if not isinstance(data, dict):
            self.err((), "E308", f"the register must be a mapping of sections, got "
                                 f"{_type(data)}", f"use the keys {', '.join(SECTIONS)}")
            return []
        out: list[Subject] = []
        for section, entries in data.items():
            if section not in SECTIONS:
                self.err((section,), "E307", f"unknown register section {section!r}",
                         did_you_mean(section, list(SECTIONS))
                         or f"sections are {', '.join(SECTIONS)}", key=True)
                continue
            if entries is None or section in self.exclude:
                continue
            if not isinstance(entries, list):
                self.err((section,), "E308",
                         f"{section} must be a list of entries, got {_type(entries)}")
                continue
            seen: dict[str, int] = {}
            for i, entry in enumerate(entries):
                subject = self.entry(SECTIONS[section], (section, i), entry)
                if subject is None:
                    continue
                if subject.id in seen:
                    self.err((section, i, "id"), "E306",
                             f"duplicate {SECTIONS[section]} id {subject.id!r}",
                             f"the id is first used on line {seen[subject.id]}; ids must be "
                             f"unique within {section}")
                    continue
                seen[subject.id] = self.doc.at((section, i))[0]
                out.append(subject)
        return out

    def entry(self, kind: str, path: Path_, entry: Any) -> Subject | None:
        if not isinstance(entry, dict):
            self.err(path, "E308", f"a {kind} entry must be a mapping, got {_type(entry)}")
            return None
        before = len(self.diags)
        ident = self.text(entry, path, "id")
        name = self.text(entry, path, "name")
        owners: dict[str, str] = {}
        raw_owners = entry.get("owners")
        if raw_owners is not None and not isinstance(raw_owners, dict):
            self.err((*path, "owners"), "E308",
                     f"owners must map a role to a person, got {_type(raw_owners)}",
                     "e.g. owners: {primary: jane.doe@example.com, backup: ...}")
        elif raw_owners:
            for role, who in raw_owners.items():
                if who is None:
                    continue  # an explicitly empty role is unassigned, which rules report
                if not isinstance(who, str) or not who.strip():
                    self.err((*path, "owners", role), "E308",
                             f"owner of role {role!r} must be a person handle (a string), "
                             f"got {_type(who)}")
                    continue
                owners[role] = who.strip()
        history = self.history(entry.get("history"), (*path, "history"))
        attributes = {k: _plain(v) for k, v in entry.items() if k not in _RESERVED}
        if len(self.diags) > before or ident is None or name is None:
            return None
        line = self.doc.at(path)[0]
        try:
            return Subject(
                provenance=Provenance(adapter=self.adapter, locator=f"{self.doc.file}:{line}",
                                      fetched_at=self.fetched_at),
                kind=kind,
                id=ident,
                name=name,
                owners=owners,
                history=tuple(history),
                attributes=attributes,
            )
        except ValidationError as exc:
            for e in exc.errors(include_url=False):
                where = tuple(str(p) for p in e["loc"])
                self.err((*path, *where[:1]), "E308",
                         f"{'.'.join(where)}: {e['msg']} (got {str(e.get('input'))[:60]!r})",
                         "ids may not contain '/' or '\\' or control characters"
                         if where[:1] == ("id",) else None)
            return None

    def text(self, entry: dict[str, Any], path: Path_, key: str) -> str | None:
        value = entry.get(key)
        if value is None:
            self.err(path, "E305", f"missing {key!r}", "every entry needs an id and a name")
            return None
        if not isinstance(value, str) or not value.strip():
            self.err((*path, key), "E308", f"{key} must be a non-empty string, got "
                                           f"{_type(value)}", "quote the value")
            return None
        return value.strip()

    def history(self, raw: Any, path: Path_) -> list[OwnershipSpan]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.err(path, "E308", f"history must be a list, got {_type(raw)}")
            return []
        spans: list[OwnershipSpan] = []
        for i, item in enumerate(raw):
            p = (*path, i)
            if not isinstance(item, dict):
                self.err(p, "E308", f"a history item must be a mapping, got {_type(item)}",
                         "e.g. {role: primary, owner: jane.doe@example.com, from: 2025-01-01}")
                continue
            bad = False
            for k in item:
                if k not in _SPAN_KEYS:
                    bad = True
                    self.err((*p, k), "E307", f"unknown history key {k!r}",
                             did_you_mean(k, list(_SPAN_KEYS))
                             or f"keys are {', '.join(_SPAN_KEYS)}", key=True)
            role, owner, source = item.get("role"), item.get("owner"), item.get("source")
            if not isinstance(role, str) or not role.strip():
                bad = True
                self.err((*p, "role"), "E305" if role is None else "E308",
                         "history item needs a role (a string)")
            if owner is not None and not isinstance(owner, str):
                bad = True
                self.err((*p, "owner"), "E308", f"owner must be a string, got {_type(owner)}")
            if source is not None and not isinstance(source, str):
                bad = True
                self.err((*p, "source"), "E308", f"source must be a string, got {_type(source)}")
            start = self.when(item, p, "from", required=True)
            end = self.when(item, p, "to", required=False)
            if start is not None and end is not None and end < start:
                bad = True
                self.err((*p, "to"), "E303", f"history item ends ({end.date()}) before it "
                                             f"starts ({start.date()})")
            if bad or start is None or ("to" in item and end is None):
                continue
            spans.append(OwnershipSpan(role=str(role).strip(), owner=owner, start=start,
                                       end=end, source=source))
        return spans

    def when(self, item: dict[str, Any], p: Path_, key: str, *, required: bool) -> datetime | None:
        value = item.get(key)
        if value is None:
            if required:
                self.err(p, "E305", f"history item needs {key!r} (a date or timestamp)")
            return None
        try:
            when: datetime | None = None
            if isinstance(value, datetime):
                when = ensure_utc(value)
            elif isinstance(value, date):
                when = day_start(value)
            elif isinstance(value, str):
                when = parse_ts(value)
            if when is not None:
                if when.year < MIN_YEAR:
                    raise ValueError(f"{when.date().isoformat()} is before {MIN_YEAR}: not a "
                                     "plausible date")
                return when
        except (ValueError, OverflowError) as exc:
            self.err((*p, key), "E303", f"{key} {value!s}: {exc}",
                     "write a date (2026-01-31) or a timestamp with an offset "
                     "(2026-01-31T09:00:00+01:00)")
            return None
        self.err((*p, key), "E308", f"{key} must be a date or timestamp, got {_type(value)}")
        return None


def _type(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _plain(value: Any) -> Any:
    """Attribute values as JSON-friendly data: dates and timestamps become ISO strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
