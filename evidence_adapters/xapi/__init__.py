"""The ``xapi`` adapter: training from an xAPI 1.0.3 learning record store.

Live: ``GET {endpoint}/statements?verb=…[&since=…]`` with ``X-Experience-API-Version:
1.0.3`` and HTTP basic auth from environment variables, one query per configured verb,
following ``more`` links to the end (a relative IRL is resolved against the endpoint's
origin; ``""`` or a missing ``more`` ends it). Offline: a saved StatementResult (or a JSON
array of statements) or a folder of saved pages.

Outcome rules (only successes count): ``passed`` counts when ``result.success`` is not
false; ``completed`` counts only with ``result.success: true`` (and ``result.completion``
not false) — finishing a course is not passing it. A ``failed`` statement, and any
completed/passed one that does not meet these rules, becomes a ``passed: false`` record,
which never satisfies a training rule. Other verbs are ignored.

Actors: ``mbox`` → the address; ``mbox_sha1sum`` → ``sha1:<hex>``, which the identity
index resolves against SHA-1(``mailto:`` + lower-cased HR email); ``account`` → the
``account_handle`` template (default ``{name}``). Group actors are not people and are
skipped. Activity ids become course ids through ``courses``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from checker.adapters import Adapter, AdapterConfig
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable
from checker.evidence import EvidenceBundle, Provenance, Training, UtcDatetime
from checker.safefile import read_bytes
from checker.timeutil import ensure_utc, format_ts
from evidence_adapters._common import loads
from evidence_adapters._http import ErrorCodes, HttpClient, RetryConfig, env_value, read_secret
from evidence_adapters._replay import REPLAY_BASE, ReplayTransport, load_bodies

from ._replay import XapiRules

__all__ = ["CODES", "XapiAdapter", "XapiConfig"]

ADL = "http://adlnet.gov/expapi/verbs/"
COMPLETED, PASSED, FAILED = ADL + "completed", ADL + "passed", ADL + "failed"
VERSION_HEADER = {"X-Experience-API-Version": "1.0.3"}

#: The codes of the live people/training sources in the shared HTTP layer (E340–E359).
CODES = ErrorCodes(network="E341", status="E343", unauthorized="E342", forbidden="E342",
                   not_found="E343", body="E344")


# -- raw payload models (upstream shapes drift: extra="ignore") ---------------------------


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class RawAccount(_Raw):
    """An xAPI account IFI."""

    homePage: str = ""  # xAPI field name
    name: str = ""


class RawActor(_Raw):
    """An Agent or Group."""

    objectType: str = "Agent"  # xAPI field name
    name: str | None = None
    mbox: str | None = None
    mbox_sha1sum: str | None = None
    openid: str | None = None
    account: RawAccount | None = None


class RawVerb(_Raw):
    """A verb."""

    id: str


class RawObject(_Raw):
    """The statement's object (an Activity for course statements)."""

    id: str | None = None
    objectType: str = "Activity"  # xAPI field name


class RawResult(_Raw):
    """The statement's result."""

    success: bool | None = None
    completion: bool | None = None
    extensions: dict[str, Any] | None = None


class RawContext(_Raw):
    """The statement's context (only its extensions are read)."""

    extensions: dict[str, Any] | None = None


class RawStatement(_Raw):
    """One statement, trimmed to what the adapter reads."""

    id: str | None = None
    actor: RawActor
    verb: RawVerb
    object: RawObject
    result: RawResult | None = None
    context: RawContext | None = None
    timestamp: UtcDatetime | None = None
    stored: UtcDatetime | None = None


class RawStatementResult(_Raw):
    """A StatementResult page."""

    statements: list[dict[str, Any]]
    more: str | None = None


class XapiConfig(AdapterConfig):
    """Config of an ``xapi`` source (the keys of its ``sources:`` entry)."""

    endpoint: str | None = Field(
        None, description="The LRS's xAPI base, e.g. https://lrs.example.com/xAPI "
                          "(statements are read from {endpoint}/statements).")
    endpoint_env: str | None = Field(
        None, description="Env var holding the endpoint (instead of `endpoint`).")
    user_env: str = Field("XAPI_USER", description="Env var with the basic-auth user/key.")
    password_env: str = Field("XAPI_PASSWORD", description="Env var with the password/secret.")
    user_file: str | None = Field(
        None, description="A file holding the basic-auth user/key (relative to the config "
                          "file); replaces `user_env`.")
    password_file: str | None = Field(
        None, description="A file holding the password/secret; replaces `password_env`.")
    path: str | None = Field(
        None, description="Offline: a saved StatementResult/array file, or a folder of pages.")
    replay: tuple[str, ...] | str | None = Field(
        None, description="A HAR recording (*.har) of one `GET statements` listing (no verb "
                          "filter) and its `more` pages: each request with its response. "
                          "They answer the live requests, following `more` exactly as live. "
                          "Plain saved bodies are refused: a missing page could not be seen.")
    verbs: tuple[str, ...] = Field(
        (COMPLETED, PASSED, FAILED), min_length=1,
        description="Verb ids read (one query each). Only completed/passed/failed carry "
                    "meaning; others are ignored.")
    server_verb_filter: bool = Field(
        True, description="Send one query per verb (`verb=`). False: one unfiltered query, "
                          "verbs filtered here (for LRSs whose verb filter is broken, e.g. "
                          "Ralph 5.1's file-system backend). Verbs are checked here anyway.")
    since: UtcDatetime | None = Field(None, description="Only statements stored after this.")
    limit: int = Field(100, ge=1, le=10000, description="Statements per page requested.")
    timeout: float = Field(30.0, gt=0, description="Seconds per request (connect, each read, "
                                                   "and the whole response).")
    retry: RetryConfig = Field(default_factory=RetryConfig,
                               description="Retries of connection errors, timeouts, HTTP 429 "
                                           "and 5xx: bounded in count and total time.")
    courses: dict[str, str] = Field(
        default_factory=dict, description="Activity id → course id used by rules.")
    unmapped_activities: Literal["keep", "skip"] = Field(
        "keep", description="keep: the activity id is the course id; skip: ignore "
                            "statements about activities not in `courses`.")
    account_handle: str = Field(
        "{name}", description="Handle template for account actors: {homePage} and {name}.")
    validity_days: int | None = Field(
        None, gt=0, description="Expiry = completion + N days (xAPI has no expiry).")
    expiry_extension: str | None = Field(
        None, description="IRI of a result or context extension holding the certificate "
                          "expiry (ISO date or timestamp), where the LMS sends one.")
    max_pages: int = Field(10000, ge=1, description="Safety stop against a `more` loop.")

    @field_validator("replay", mode="before")
    @classmethod
    def _replay_list(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_source(self) -> XapiConfig:
        given = [k for k in ("endpoint", "endpoint_env", "path", "replay") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of `endpoint` or `endpoint_env` (live), "
                             "`replay` (saved response bodies) or `path` (saved pages)")
        return self


class XapiAdapter(Adapter):
    """Training completions and failed attempts from xAPI statements."""

    name: ClassVar[str] = "xapi"
    Config: ClassVar[type[AdapterConfig]] = XapiConfig
    provides: ClassVar[frozenset[str]] = frozenset({"training"})

    def collect(self) -> EvidenceBundle:
        """Read every statement of the configured verbs.

        Raises:
            EvidenceError: a page missing or unreadable, a statement that does not parse,
                an actor with no usable identifier.
        """
        cfg: XapiConfig = self.config
        endpoint = cfg.endpoint
        if cfg.endpoint_env is not None:
            endpoint = env_value(self.ctx.source_name, cfg.endpoint_env, "LRS xAPI endpoint",
                                 "E340")
        if cfg.replay is not None:
            bodies = load_bodies(self.ctx, cfg.replay, "E345")
            transport = ReplayTransport(self.ctx.source_name, bodies, XapiRules(bodies), "E345")
            # One unfiltered listing was saved: read it once, filter verbs here.
            pages = self._live(cfg.model_copy(update={"server_verb_filter": False}),
                               REPLAY_BASE, transport)
            transport.finish()
        elif endpoint is not None:
            pages = self._live(cfg, endpoint)
        else:
            pages = self._saved(self.ctx.path(cfg.path or ""))
        diags: list[Diagnostic] = []
        out: dict[str, Training] = {}
        for where, url, statements in pages:
            for i, st in enumerate(statements):
                rec = self._training(cfg, st, f"{where}[{i}]", url, diags)
                if rec is not None:
                    out.setdefault(rec.provenance.locator, rec)
        if diags:
            raise EvidenceError(sorted(diags))
        trainings = sorted(out.values(), key=lambda t: (t.completed_at, t.provenance.locator))
        return EvidenceBundle(kinds=self.kinds(), trainings=trainings)

    # -- reading ------------------------------------------------------------------------

    def _live(self, cfg: XapiConfig, endpoint: str, transport: ReplayTransport | None = None
              ) -> list[tuple[str, str | None, list[dict[str, Any]]]]:
        src = self.ctx.source_name
        basic: tuple[str, str] | None = None
        if transport is None:
            user, user_at = read_secret(self.ctx, code="E340", env=cfg.user_env,
                                        file=cfg.user_file, what="LRS basic-auth user")
            password, password_at = read_secret(self.ctx, code="E340", env=cfg.password_env,
                                                file=cfg.password_file,
                                                what="LRS basic-auth password")
            basic = (user, password)
            check = f"{user_at} and {password_at} (the LRS credentials)"
        else:
            check = "the saved responses (`replay`)"
        base = endpoint.rstrip("/")
        url0 = httpx.URL(base + "/statements")
        pages: list[tuple[str, str | None, list[dict[str, Any]]]] = []
        with HttpClient(source=src, retry=cfg.retry, timeout=cfg.timeout, codes=CODES,
                        check=check, record=self.ctx.record, headers=VERSION_HEADER,
                        progress=self.ctx.progress, basic=basic,
                        transport=transport) as client:
            queries: list[str | None] = list(cfg.verbs) if cfg.server_verb_filter else [None]
            for v_no, verb in enumerate(queries, 1):
                params: dict[str, Any] | None = {"limit": cfg.limit}
                if verb is not None and params is not None:
                    params["verb"] = verb
                if cfg.since is not None and params is not None:
                    params["since"] = format_ts(cfg.since)
                url: httpx.URL = url0
                seen: set[str] = set()
                for page_no in range(1, cfg.max_pages + 1):
                    data, _ = client.get_json(url, params, record_as=f"statements/verb-{v_no}/"
                                                                     f"page-{page_no:04d}.json")
                    page = self._page(data, str(url))
                    pages.append((f"{verb or 'statements'} page {page_no}",
                                  None if transport is not None else base, page.statements))
                    if not page.more:
                        break
                    # `more` is relative (path + query): resolve against the origin.
                    url = url0.join(page.more)
                    params = None
                    if str(url) in seen:
                        raise EvidenceError(Diagnostic(
                            src, 0, 0, "E345", f"the LRS's `more` link repeats: {url}",
                            "the LRS pages wrongly; a partial read is not used"))
                    seen.add(str(url))
                else:
                    raise EvidenceError(Diagnostic(
                        src, 0, 0, "E345", f"more than max_pages={cfg.max_pages} pages for "
                        f"verb {verb or '(all)'}", "raise `max_pages` or `limit`, or set `since`"))
        return pages

    def _saved(self, path: Path) -> list[tuple[str, str | None, list[dict[str, Any]]]]:
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
        pages: list[tuple[str, str | None, list[dict[str, Any]]]] = []
        for f in files:
            shown = self.ctx.display(f)
            raw = read_bytes(f)
            self.ctx.record(f"pages/{f.name}", raw)
            try:
                data = loads(raw)
            except ValueError as exc:
                raise EvidenceError(Diagnostic(shown, 0, 0, "E344", f"not JSON: {exc}")) from None
            if isinstance(data, list):
                data = {"statements": data}
            pages.append((shown, None, self._page(data, shown).statements))
        return pages

    def _page(self, data: Any, where: str) -> RawStatementResult:
        try:
            return RawStatementResult.model_validate(data)
        except ValidationError as exc:
            raise EvidenceError(Diagnostic(
                self.ctx.source_name, 0, 0, "E344",
                f"{where}: not an xAPI StatementResult ({exc.errors()[0]['msg']})",
                "point `endpoint` at the xAPI base (…/xAPI), not at …/statements")) from None

    # -- mapping ------------------------------------------------------------------------

    def _training(
        self, cfg: XapiConfig, data: dict[str, Any], where: str, base: str | None,
        diags: list[Diagnostic],
    ) -> Training | None:
        src = self.ctx.source_name
        try:
            st = RawStatement.model_validate(data)
        except ValidationError as exc:
            e = exc.errors()[0]
            diags.append(Diagnostic(src, 0, 0, "E349",
                                    f"{where}: statement {data.get('id')!r} does not parse: "
                                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"))
            return None
        verb = st.verb.id
        if verb not in (COMPLETED, PASSED, FAILED) or verb not in cfg.verbs:
            return None
        activity = st.object.id
        if st.object.objectType != "Activity" or not activity:
            return None
        course = cfg.courses.get(activity)
        if course is None:
            if cfg.unmapped_activities == "skip":
                return None
            course = activity
        if st.actor.objectType == "Group":
            return None
        person = self._handle(cfg, st)
        ident = st.id or where
        if person is None:
            diags.append(Diagnostic(src, 0, 0, "E349",
                                    f"statement {ident}: the actor has no mbox, "
                                    "mbox_sha1sum or account",
                                    "openid actors cannot be matched to HR"))
            return None
        if cfg.since is not None and st.stored is not None and st.stored <= cfg.since:
            return None  # the LRS may not filter (or not on `more` pages): filter here too
        when = st.timestamp or st.stored
        if when is None:
            diags.append(Diagnostic(src, 0, 0, "E305",
                                    f"statement {ident}: no timestamp and no stored time"))
            return None
        r = st.result or RawResult()
        if verb == FAILED:
            passed = False
        elif verb == PASSED:
            passed = r.success is not False
        else:
            # `completed` says the learner finished, not that they succeeded: it counts only
            # with result.success true (a completed-but-failed or ungraded attempt never does).
            passed = r.success is True and r.completion is not False
        url = None
        if base is not None and st.id:
            url = str(httpx.URL(base + "/statements").copy_merge_params({"statementId": st.id}))
        expires: datetime | None = None
        if cfg.validity_days is not None:
            expires = when + timedelta(days=cfg.validity_days)
        if cfg.expiry_extension:
            ext = {**((st.context.extensions or {}) if st.context else {}),
                   **(r.extensions or {})}
            raw_exp = ext.get(cfg.expiry_extension)
            if raw_exp:
                try:
                    parsed = datetime.fromisoformat(str(raw_exp))
                    if parsed.tzinfo is None and len(str(raw_exp)) <= 10:
                        parsed = parsed.replace(tzinfo=UTC)  # a date: from its midnight
                    expires = ensure_utc(parsed)
                except ValueError:
                    diags.append(Diagnostic(src, 0, 0, "E303",
                                            f"statement {ident}: expiry {raw_exp!r} is not an "
                                            "ISO 8601 date or timestamp"))
                    return None
        return Training(
            provenance=Provenance(adapter=self.name, locator=f"statement {ident}", url=url,
                                  fetched_at=self.ctx.fetched_at),
            person=person, course=course, completed_at=when, expires_at=expires, passed=passed,
        )

    def _handle(self, cfg: XapiConfig, st: RawStatement) -> str | None:
        a = st.actor
        if a.mbox:
            m = a.mbox.strip()
            return m[7:] if m[:7].lower() == "mailto:" else m
        if a.mbox_sha1sum:
            return "sha1:" + a.mbox_sha1sum.strip().lower()
        if a.account and a.account.name:
            return cfg.account_handle.format(homePage=a.account.homePage, name=a.account.name)
        return None
