"""The ``mlflow`` adapter: models and releases from an MLflow Model Registry.

Reads the tracking server's REST API 2.0 (``registered-models/search`` and
``model-versions/search``, paged to the end with ``page_token``), or the same responses
saved in a folder (``offline``). Registered models become ``model`` subjects: owners by role
from tags (``owner.primary``, ``owner.backup``, ``owner.risk_owner`` …), the AI system, the
third-party flag and the risk tier from tags. Model versions become releases: registered by
(``user_id``, else a ``registered_by`` tag, else the source run's user) and at
(``creation_timestamp``), source run, stage, aliases, and deployed by/at from the tags the
deploy pipeline sets. All tag names are configurable; see ``README.md`` beside this file.

Why not the ``mlflow`` client package: it pulls in the whole ML stack (pandas, numpy,
pyarrow, scikit-learn, SQLAlchemy, Flask …, ≈ 850 MB) and pins much of it, which a compliance
tool that only reads two documented search endpoints should not impose on its users.

Fail closed: any page that cannot be fetched or parsed, a truncated saved listing or a
malformed tag value raises :class:`~checker.errors.EvidenceError` (E360–E379); nothing is
half-read into a pass.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from checker.adapters import Adapter, AdapterConfig, system_ref, widen_systems
from checker.errors import (
    Diagnostic,
    EvidenceError,
    EvidenceUnavailable,
    register_url_secrets,
)
from checker.evidence import Event, EvidenceBundle, Provenance, Release, Subject
from checker.timeutil import parse_ts
from evidence_adapters._replay import REPLAY_BASE, ReplayTransport, load_bodies

from ._client import HttpReader, OfflineReader, Reader
from ._config import MlflowConfig, TagNames
from ._replay import MlflowRules

__all__ = ["MlflowAdapter", "MlflowConfig", "TagNames"]

_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Tag(_Raw):
    key: str
    value: str = ""


class _Alias(_Raw):
    alias: str
    version: str


class _RawModel(_Raw):
    name: str
    creation_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    tags: list[_Tag] = Field(default_factory=list)
    aliases: list[_Alias] = Field(default_factory=list)


class _RawVersion(_Raw):
    name: str
    version: str
    creation_timestamp: int | None = None
    user_id: str | None = None
    current_stage: str | None = None
    source: str | None = None
    run_id: str | None = None
    status: str | None = None
    tags: list[_Tag] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)


def _epoch_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def _quote_filter(value: str) -> str | None:
    """An MLflow filter string literal, or None when the value cannot be quoted safely."""
    if "'" in value and '"' in value:
        return None
    return f'"{value}"' if "'" in value else f"'{value}'"


class MlflowAdapter(Adapter):
    """Model subjects and releases from an MLflow tracking server or saved responses."""

    name: ClassVar[str] = "mlflow"
    Config: ClassVar[type[AdapterConfig]] = MlflowConfig
    provides: ClassVar[frozenset[str]] = frozenset({"subject", "release", "event"})
    honours_only_models: ClassVar[bool] = True

    def kinds(self) -> frozenset[str]:
        """Releases; subjects (models, AI systems) unless switched off; events if asked."""
        cfg: MlflowConfig = self.config
        out = {"release"}
        if cfg.subjects or cfg.systems != "none":
            out.add("subject")
        if cfg.events:
            out.add("event")
        return frozenset(out)

    def _reader(self) -> Reader:
        cfg: MlflowConfig = self.config
        if cfg.replay is not None:
            bodies = load_bodies(self.ctx, cfg.replay, "E364")
            transport = ReplayTransport(self.ctx.source_name, bodies, MlflowRules(), "E364")
            return HttpReader(REPLAY_BASE, ctx=self.ctx, cfg=cfg, transport=transport)
        if cfg.offline is not None:
            folder = self.ctx.path(cfg.offline)
            return OfflineReader(folder, self.ctx.display(folder), source=self.ctx.source_name,
                                 record=self.ctx.record)
        uri = cfg.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        if uri:
            register_url_secrets(uri)  # a URL may carry credentials: never print them
        if not uri or not uri.startswith(("http://", "https://")):
            raise EvidenceUnavailable(Diagnostic(
                self.ctx.source_name, 0, 0, "E367",
                "no tracking server: `tracking_uri` is not set" if not uri else
                f"tracking_uri {uri!r} is not an http(s) URL",
                "set `tracking_uri` (or MLFLOW_TRACKING_URI) to the server's base URL, or "
                "`offline` to a folder of saved responses"))
        return HttpReader(uri, ctx=self.ctx, cfg=cfg)

    def collect(self) -> EvidenceBundle:
        """Read every registered model and model version, or what a gate needs of them.

        For the gate (``ctx.only_models``): the gated models, registered models whose names
        collide, and every model and version on the gated models' AI systems (and on
        ``ctx.only_systems``). Sets :attr:`listed_models`, :attr:`listed_systems` and
        :attr:`read_systems`.

        Raises:
            EvidenceUnavailable: the server cannot be reached, refuses the credentials, or
                the offline folder is missing (E360, E361, E365, E367).
            EvidenceError: a page is not the documented JSON (E362), a saved listing is
                truncated (E364), a registrant cannot be determined (E368), a tag holds a
                value of the wrong form (E363).
        """
        cfg: MlflowConfig = self.config
        reader = self._reader()
        try:
            bundle = self._collect(cfg, reader)
            transport = getattr(reader, "transport", None)
            if isinstance(transport, ReplayTransport) and self.ctx.only_models is None:
                transport.finish()
            return bundle
        finally:
            close = getattr(reader, "close", None)
            if close is not None:
                close()

    def _collect(self, cfg: MlflowConfig, reader: Reader) -> EvidenceBundle:
        only = self.ctx.only_models
        wanted = {m.casefold() for m in only} if only is not None else None

        # Registered models are always listed in full (cfg.filter aside), also for the
        # gate: names compare case-insensitively, so the gated model may be registered in
        # another letter case, or twice in two cases. Models whose names collide are kept
        # whatever is gated: the store reports them (E314/E332) and the run fails closed,
        # as the scan of the same registry does.
        model_params: dict[str, Any] = {"max_results": cfg.page_size}
        if cfg.filter:
            model_params["filter"] = cfg.filter
        diags: list[Diagnostic] = []
        by_fold: dict[str, list[Any]] = defaultdict(list)
        for body in reader.pages("registered-models/search", model_params):
            for raw in body.get("registered_models") or []:
                by_fold[_name_of(raw) or ""].append(raw)
        self.listed_models = frozenset(by_fold)
        # the AI system each listed model's tag names (raw: the gate parses few models);
        # only the gate asks (a scan keeps every model and version)
        model_system = {_exact(raw): _raw_system(raw, cfg.tags.system)
                        for raws in by_fold.values() for raw in raws
                        if isinstance(raw, dict)} if wanted is not None else {}

        # The gate of a model in an AI system reads the system's other models too
        # (``systems``): its AI system's owners and attributes come from all of them, and
        # with ``events`` every version registered on the system is a change that the
        # system's risk reviews and the release's sign-off are judged against — a sibling's
        # new version included. A version's own ``ai_system`` tag may put it on any system,
        # so with events the gate searches every version (no name filter) and keeps those
        # on the gated model's systems.
        sibling_scope = wanted is not None and cfg.systems != "model"
        if wanted is not None and cfg.systems == "model":
            # each model is its own AI system: a system another source found the gated
            # model in is a model to read here (by any of its names)
            named = {system_ref(s) for s in self.ctx.only_systems or ()}
            widen_systems(named, self.ctx.system_aliases)
            wanted |= {fold for fold in by_fold if system_ref(fold) in named}
        systems: set[str] = set()
        # with systems: tag, each distinct tag is one AI system: two spellings of one
        # (`Pricing`, `pricing`) are two subjects of one key, a duplicate (E314) the scan
        # reports; the gate reads their models, whatever is gated, to report it too
        spellings: dict[str, set[str]] = defaultdict(set)
        if cfg.systems == "tag":
            for raws in by_fold.values():
                for raw in raws:
                    if value := _raw_tag(raw, cfg.tags.system):
                        spellings[system_ref(value)].add(value)
        self.listed_systems = frozenset(spellings)
        if sibling_scope and wanted is not None:
            systems |= {ref for ref, values in spellings.items() if len(values) > 1}
            systems |= {system_ref(s) for s in self.ctx.only_systems or ()}
            systems |= {model_system[_exact(raw)] for fold in wanted
                        for raw in by_fold.get(fold, []) if isinstance(raw, dict)}
            systems.discard("")
            widen_systems(systems, self.ctx.system_aliases)
        all_versions = sibling_scope and cfg.events

        version_params: dict[str, Any] = {"max_results": cfg.page_size}
        exact = [_exact(raw) for fold in (wanted or ()) for raw in by_fold.get(fold, [])
                 if isinstance(raw, dict) and isinstance(raw.get("name"), str)]
        if (only is not None and len(only) == 1 and len(exact) <= 1 and not all_versions
                and not isinstance(reader, OfflineReader)):
            # one model: only its versions (by its registered name, else the name asked for)
            name_filter = _quote_filter(exact[0] if exact else next(iter(only)))
            if name_filter:
                version_params["filter"] = f"name = {name_filter}"
        raw_versions: list[Any] = []
        for body in reader.pages("model-versions/search", version_params):
            for raw in body.get("model_versions") or []:
                if wanted is not None and _name_of(raw) not in wanted and not (
                        all_versions and (_raw_system(raw, cfg.tags.system)
                                          or model_system.get(_exact(raw)))):
                    continue  # another model's version, in no AI system the gate may need
                raw_versions.append(raw)
        if sibling_scope and wanted is not None:
            # a gated model's version may name its own AI system in a tag
            systems |= {_raw_system(raw, cfg.tags.system) for raw in raw_versions
                        if _name_of(raw) in wanted}
            systems.discard("")
            widen_systems(systems, self.ctx.system_aliases)
            raw_versions = [raw for raw in raw_versions if _name_of(raw) in wanted or (
                (_raw_system(raw, cfg.tags.system)
                 or model_system.get(_exact(raw)) or "") in systems)]
        if wanted is not None and cfg.systems == "model":
            # the gated models are the systems: other registries read their siblings
            systems = {system_ref(fold) for fold in wanted if fold in by_fold}
            widen_systems(systems, self.ctx.system_aliases)
        self.read_systems = frozenset(systems)

        keep = {_name_of(raw) or "" for raw in raw_versions}  # the models of kept versions
        models: dict[str, _RawModel] = {}
        for fold, raws in by_fold.items():
            if (wanted is not None and fold not in wanted and len(raws) < 2
                    and fold not in keep
                    and not any(model_system.get(_exact(raw)) in systems for raw in raws)):
                continue  # the gate needs other models only when their names collide,
                # or when they share an AI system with the gated model
            for raw in raws:
                m = self._parse(_RawModel, raw, "registered model", diags)
                if m is not None:
                    models[m.name] = m

        listed = {_exact(raw) for raws in by_fold.values() for raw in raws
                  if isinstance(raw, dict)}
        versions: list[_RawVersion] = []
        for raw in raw_versions:
            v = self._parse(_RawVersion, raw, "model version", diags)
            if v is None:
                continue
            if cfg.filter and v.name not in listed:
                continue  # the model is outside the configured filter
            versions.append(v)

        bundle = EvidenceBundle(kinds=self.kinds())
        ordered = sorted(models.values(), key=lambda m: m.name)
        if cfg.systems == "model":
            bundle.subjects.extend(self._subject(cfg.tags, m, reader, kind="ai_system")
                                   for m in ordered)
        elif cfg.subjects:
            bundle.subjects.extend(self._subject(cfg.tags, m, reader) for m in ordered)
        if cfg.systems == "tag":
            bundle.subjects.extend(self._tag_systems(cfg.tags, ordered, reader))
        aliases: dict[tuple[str, str], list[str]] = defaultdict(list)
        for m in models.values():
            for a in m.aliases:
                aliases[(m.name, a.version)].append(a.alias)
        run_users: dict[str, str | None] = {}
        for v in sorted(versions, key=lambda v: (v.name, _vkey(v.version))):
            if (v.status or "READY") == "FAILED_REGISTRATION":
                continue
            rel = self._release(cfg, v, models.get(v.name), aliases, reader, run_users, diags)
            if rel is not None:
                bundle.releases.append(rel)
                if cfg.events:
                    bundle.events.extend(self._events(cfg, v, rel, diags))
        if diags:
            raise EvidenceError(sorted(diags))
        return bundle

    def _events(self, cfg: MlflowConfig, v: _RawVersion, rel: Release,
                diags: list[Diagnostic]) -> list[Event]:
        """The change events a version's record gives an instant for.

        Registration (``creation_timestamp``, or the ``registered_at`` tag); each tag of
        ``event_tags``; each ``<alias_event_prefix><alias>`` tag. Nothing else: the REST
        API keeps no stage or alias history, and ``last_updated_timestamp`` moves with any
        edit (a tag, the description, a stage), so it dates no particular change.
        """
        tags = {t.key: t.value.strip() for t in v.tags}
        where = f"{self.ctx.source_name}: {v.name}/{v.version}"
        subject = rel.system or f"model/{rel.model}"
        base = f"{rel.model}/{rel.version}"
        out: list[Event] = []
        if rel.registered_at is not None:
            out.append(Event(provenance=rel.provenance, id=f"{base}#registered",
                             subject=subject, type="model_version_registered",
                             occurred_at=rel.registered_at, actor=rel.registered_by))
        stamped = [(tag, kind, f"{base}#{tag}") for tag, kind in sorted(cfg.event_tags.items())]
        if cfg.alias_event_prefix:
            p = cfg.alias_event_prefix
            stamped += [(tag, "model_version_alias_set", f"{base}#alias:{tag[len(p):]}")
                        for tag in sorted(tags) if tag.startswith(p) and len(tag) > len(p)]
        for tag, kind, ident in stamped:
            at = _tag_time(tags, tag, where, diags)
            if at is None:
                continue
            actor = rel.deployed_by if tag == cfg.tags.deployed_at else None
            out.append(Event(provenance=rel.provenance, id=ident, subject=subject, type=kind,
                             occurred_at=at, actor=actor))
        return out

    def _parse(self, model: type[Any], raw: Any, what: str, diags: list[Diagnostic]) -> Any:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            name = raw.get("name", "?") if isinstance(raw, dict) else "?"
            diags.append(Diagnostic(f"{self.ctx.source_name}: {name}", 0, 0, "E362",
                                    f"{what} does not have the documented shape: {where}: "
                                    f"{first['msg']}"))
            return None

    def _prov(self, reader: Reader, locator: str, path: str | None) -> Provenance:
        url = None
        if isinstance(reader, HttpReader) and path is not None and reader.transport is None:
            url = f"{reader.base}/#/models/{path}"
        return Provenance(adapter=self.name, locator=locator, url=url,
                          fetched_at=self.ctx.fetched_at)

    def _tag_systems(self, names: TagNames, models: list[_RawModel], reader: Reader
                     ) -> list[Subject]:
        """One AI system per distinct ``ai_system`` tag, described by its models' tags.

        The first model (by name) naming a role's owner sets it; another model of the same
        system naming someone else is recorded in ``attributes.owner_conflicts`` (rule
        AIMS-OWN-006 reports it), never silently dropped.
        """
        by_system: dict[str, list[_RawModel]] = defaultdict(list)
        for m in models:
            sys_id = {t.key: t.value.strip() for t in m.tags}.get(names.system)
            if sys_id:
                by_system[sys_id].append(m)
        out: list[Subject] = []
        for sys_id in sorted(by_system, key=str.casefold):
            first = by_system[sys_id][0]
            base = self._subject(names, first, reader, kind="ai_system")
            owners = dict(base.owners)
            attributes = {k: v for k, v in base.attributes.items()
                          if k not in ("system", "tags", "description")}
            conflicts: list[dict[str, str]] = []
            for m in by_system[sys_id][1:]:
                other = self._subject(names, m, reader, kind="ai_system")
                for role, h in sorted(other.owners.items()):
                    have = owners.get(role)
                    if have is None:
                        owners[role] = h
                    elif have.casefold() != h.casefold():
                        conflicts.append({"role": role, "owner": have,
                                          "source": f"mlflow {first.name}", "other": h,
                                          "other_source": f"mlflow {m.name}"})
                for k, v in other.attributes.items():
                    attributes.setdefault(k, v)
            if conflicts:
                attributes["owner_conflicts"] = conflicts
            attributes["models"] = [m.name for m in by_system[sys_id]]
            out.append(Subject(provenance=self._prov(reader, f"ai_system {sys_id} "
                                                     f"(tag on {first.name})", None),
                               kind="ai_system", id=sys_id, name=sys_id, owners=owners,
                               attributes=attributes))
        return out

    def _subject(self, names: TagNames, m: _RawModel, reader: Reader,
                 kind: str = "model") -> Subject:
        tags = {t.key: t.value.strip() for t in m.tags}
        owners: dict[str, str] = {}
        for key, value in tags.items():
            if names.owner_prefix and key.startswith(names.owner_prefix) and value:
                owners[key[len(names.owner_prefix):]] = value
        for role, key in names.owners.items():
            if tags.get(key):
                owners.setdefault(role, tags[key])
        attributes: dict[str, Any] = {}
        if tags.get(names.system) and kind == "model":
            attributes["system"] = tags[names.system]
        if tags.get(names.vendor):
            attributes["vendor"] = tags[names.vendor]
        if tags.get(names.status):
            attributes["status"] = tags[names.status]
        if tags.get(names.lifecycle):
            attributes["lifecycle"] = tags[names.lifecycle]
        if tags.get(names.risk_tier):
            attributes["risk_tier"] = tags[names.risk_tier]
        flag = tags.get(names.third_party)
        if flag is not None:
            attributes["third_party"] = flag.casefold() in _TRUE
        if m.description:
            attributes["description"] = m.description
        attributes["registry"] = "mlflow"
        attributes["tags"] = dict(sorted(tags.items()))
        return Subject(provenance=self._prov(reader, m.name, quote(m.name, safe="")),
                       kind=kind,
                       id=m.name, name=tags.get(names.display_name) or m.name,
                       owners=owners, attributes=attributes)

    def _release(self, cfg: MlflowConfig, v: _RawVersion, m: _RawModel | None,
                 aliases: dict[tuple[str, str], list[str]], reader: Reader,
                 run_users: dict[str, str | None], diags: list[Diagnostic]) -> Release | None:
        names = cfg.tags
        tags = {t.key: t.value.strip() for t in v.tags}
        model_tags = {t.key: t.value.strip() for t in (m.tags if m else [])}
        loc = f"{v.name}/{v.version}"
        where = f"{self.ctx.source_name}: {loc}"
        before = len(diags)

        def when(tag: str) -> datetime | None:
            return _tag_time(tags, tag, where, diags)

        registrant = (v.user_id or "").strip() or tags.get(names.registered_by) or None
        if registrant is None and cfg.run_user and v.run_id:
            if v.run_id not in run_users:
                body = reader.run(v.run_id)
                info = ((body or {}).get("run") or {}).get("info") or {}
                run_users[v.run_id] = (str(info.get("user_id") or "").strip() or None)
            registrant = run_users[v.run_id]
            if registrant is None:
                diags.append(Diagnostic(where, 0, 0, "E368",
                                        f"the registrant is unknown: no user_id, no "
                                        f"{names.registered_by!r} tag, and source run "
                                        f"{v.run_id} has no user",
                                        f"set the {names.registered_by!r} tag on the version "
                                        "(separation of duties needs the registrant)"))
        stage = v.current_stage if v.current_stage and v.current_stage != "None" else None
        version_aliases = tuple(sorted({*v.aliases, *aliases.get((v.name, v.version), [])}))
        attributes: dict[str, Any] = {"registry": "mlflow"}
        if v.run_id:
            attributes["run_id"] = v.run_id
        if v.source:
            attributes["source"] = v.source
        if v.status:
            attributes["status"] = v.status
        prod_stages = {s.casefold() for s in cfg.production_stages}
        prod_aliases = {a.casefold() for a in cfg.production_aliases}
        if ((stage or "").casefold() in prod_stages
                or any(a.casefold() in prod_aliases for a in version_aliases)):
            attributes["production"] = True
        deployed_at = when(names.deployed_at)
        registered_at = when(names.registered_at) or _epoch_ms(v.creation_timestamp)
        if len(diags) > before:
            return None
        return Release(
            provenance=self._prov(reader, loc, f"{quote(v.name, safe='')}/versions/{v.version}"),
            model=v.name, version=v.version,
            system=(v.name if cfg.systems == "model" else
                    tags.get(names.system) or model_tags.get(names.system) or None),
            stage=stage, aliases=version_aliases,
            registered_by=registrant, registered_at=registered_at,
            deployed_by=tags.get(names.deployed_by) or None, deployed_at=deployed_at,
            requested_by=tags.get(names.requested_by) or None, attributes=attributes)


def _tag_time(tags: dict[str, str], tag: str, where: str,
              diags: list[Diagnostic]) -> datetime | None:
    """The instant a tag holds (ISO 8601 with an offset, or epoch ms); E363 when malformed."""
    text = tags.get(tag)
    if not text:
        return None
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        return parse_ts(text, date_only_ok=False)
    except (ValueError, OverflowError) as exc:
        diags.append(Diagnostic(where, 0, 0, "E363",
                                f"tag {tag!r} = {text!r} is not a timestamp: {exc}",
                                "the deploy pipeline must write ISO 8601 with an "
                                "offset (2026-10-05T09:00:00+02:00) or epoch ms"))
        return None


def _raw_tag(raw: Any, tag: str) -> str:
    """A raw model's or version's tag value, trimmed ('' when it has none)."""
    tags = raw.get("tags") if isinstance(raw, dict) else None
    for t in tags if isinstance(tags, list) else ():
        if isinstance(t, dict) and t.get("key") == tag and isinstance(t.get("value"), str):
            return str(t["value"]).strip()
    return ""


def _raw_system(raw: Any, tag: str) -> str:
    """The AI system a raw model's or version's ``ai_system`` tag names, normalised; ''."""
    return system_ref(_raw_tag(raw, tag))


def _exact(raw: Any) -> str:
    """A raw record's ``name`` as registered ('' when it has none)."""
    name = raw.get("name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) else ""


def _name_of(raw: Any) -> str | None:
    """A raw record's ``name``, case-folded (None when it has none)."""
    return _exact(raw).casefold() or None


def _vkey(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)
