"""The Jira side of ``aimscheck tickets sync``.

Search, create, edit, assign, watch, comment, transition and issue properties — Cloud
REST v3 (descriptions and comments in Atlassian Document Format) or Data Center REST v2
(wiki markup).

Every request goes through the shared :class:`~evidence_adapters._http.HttpClient`
(bounded retries, ``Retry-After``, secrets masked). Creates, comments and transitions are
not repeated after a 5xx or a connection lost mid-request (the server may have acted);
the next sync finds what was done by its fingerprint label.

A person's account: the ``identity`` map/CSV (accountId → email, read in reverse), else
the first of their HR handles matching ``account_id_pattern`` (Cloud accountIds by
default; on Data Center set it to match usernames, or use the identity map).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import Field, field_validator

from checker.adapters import AdapterConfig, SourceContext
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable
from checker.evidence import Person
from checker.identity import normalise_handle
from checker.loopconfig import TicketsConfig
from checker.regex import compile_pattern
from checker.tickets import ExistingTicket, Line, TicketDoc
from evidence_adapters._http import ErrorCodes, HttpClient, RetryConfig, read_secret

from ._config import AuthConfig, IdentityConfig

__all__ = ["CODES", "JiraTracker", "JiraTrackerConfig", "adf", "wiki"]

#: ``tickets sync`` codes in the shared HTTP layer (E600–E619).
CODES = ErrorCodes(network="E605", status="E604", unauthorized="E601", forbidden="E602",
                   not_found="E603", body="E606")

CLOUD_ACCOUNT_ID = r"^(\d+:[0-9a-fA-F-]{36}|[0-9a-fA-F]{24})$"
PROPERTY = "aimscheck"


class JiraTrackerConfig(AdapterConfig):
    """``tickets.connection`` for ``tracker: jira``."""

    site: str = Field(description="https://<site>.atlassian.net or the Data Center base URL.")
    deployment: Literal["cloud", "datacenter"] = "cloud"
    auth: AuthConfig = Field(default_factory=AuthConfig)
    timeout_seconds: float = Field(30.0, gt=0)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    account_id_pattern: str = Field(CLOUD_ACCOUNT_ID, description="Which HR handle is the "
                                    "person's account (regular expression).")

    @field_validator("site")
    @classmethod
    def _site(cls, v: str) -> str:
        if not v.startswith(("https://", "http://")):
            raise ValueError("site must be a URL such as https://example.atlassian.net")
        return v.rstrip("/")

    @field_validator("account_id_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        compile_pattern(v, ignore_case=False)  # RegexError is a ValueError: reported
        return v


# -- rendering ---------------------------------------------------------------------------


def _adf_text(line: Line) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": line.text}
    if line.url:
        node["marks"] = [{"type": "link", "attrs": {"href": line.url}}]
    return node


def _adf_para(line: Line) -> dict[str, Any]:
    return {"type": "paragraph", "content": [_adf_text(line)]} if line.text else {
        "type": "paragraph"}


def adf(doc: TicketDoc) -> dict[str, Any]:
    """The description in Atlassian Document Format (Cloud v3)."""
    content: list[dict[str, Any]] = []
    for s in doc.sections:
        content.append({"type": "heading", "attrs": {"level": 3},
                        "content": [{"type": "text", "text": s.heading}]})
        if s.bullets:
            content.append({"type": "bulletList", "content": [
                {"type": "listItem", "content": [_adf_para(ln)]} for ln in s.lines]})
        else:
            content.extend(_adf_para(ln) for ln in s.lines)
    return {"type": "doc", "version": 1, "content": content}


def adf_text(text: str) -> dict[str, Any]:
    """A comment in ADF: one paragraph."""
    return {"type": "doc", "version": 1, "content": [_adf_para(Line(text))]}


_WIKI_SPECIAL = re.compile(r"([{}\[\]|*_^~+#-])")


def _wiki_line(line: Line) -> str:
    text = _WIKI_SPECIAL.sub(r"\\\1", line.text)
    return f"[{text}|{line.url}]" if line.url else text


def wiki(doc: TicketDoc) -> str:
    """The description in wiki markup (Data Center v2)."""
    out: list[str] = []
    for s in doc.sections:
        out.append(f"h3. {s.heading}")
        if s.bullets:
            out.extend(f"* {_wiki_line(ln)}" for ln in s.lines)
        else:
            out.extend(_wiki_line(ln) for ln in s.lines)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- the tracker ---------------------------------------------------------------------------


class JiraTracker:
    """Jira as the ``tickets sync`` tracker (satisfies :class:`checker.tickets.Tracker`)."""

    def __init__(self, conn: JiraTrackerConfig, ctx: SourceContext, tickets: TicketsConfig,
                 identity: dict[str, str]) -> None:
        self.conn = conn
        self.cfg = tickets
        self.site = conn.site
        self.cloud = conn.deployment == "cloud"
        self.api = "/rest/api/3" if self.cloud else "/rest/api/2"
        # RE2: linear time on any handle; anchored like re.match
        self.pattern = compile_pattern(f"^(?:{conn.account_id_pattern})", ignore_case=False)
        self.by_email: dict[str, str] = {}
        for acc, email in sorted(identity.items()):
            self.by_email.setdefault(normalise_handle(email), acc)
        a = conn.auth
        basic: tuple[str, str] | None = None
        bearer: str | None = None
        if self.cloud:
            user = _env_user(a.email_env, conn.site)
            token, where = read_secret(ctx, code="E601", env=a.token_env, file=a.token_file,
                                       what="an Atlassian API token")
            basic = (user, token)
            creds = f"{a.email_env} and {where.lstrip('$')}"
        else:
            bearer, where = read_secret(ctx, code="E601", env=a.pat_env, file=a.pat_file,
                                        what="a Data Center personal access token")
            creds = where.lstrip("$")
        self.http = HttpClient(
            source="tickets", retry=conn.retry, timeout=conn.timeout_seconds, codes=CODES,
            check=f"{creds} (credentials for {conn.site})",
            headers={"Accept": "application/json", "User-Agent": "aimscheck-tickets"},
            basic=basic, bearer=bearer, base_url=conn.site, show_query=False,
            hints={403: f"the account in {creds} may not create, edit or transition issues "
                        f"in project {tickets.project}",
                   404: f"check tickets.connection.site ({conn.site}), the project key "
                        f"({tickets.project}) and the issue",
                   400: f"check tickets.project ({tickets.project}), issue_type "
                        f"({tickets.issue_type}) and the statuses in the config"})
        self._transitions: dict[str, list[dict[str, Any]]] = {}

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    # -- identities -------------------------------------------------------------------------

    def account_id(self, person: Person) -> str | None:
        """The identity map's account for one of their emails, else a matching handle."""
        for email in person.emails:
            acc = self.by_email.get(normalise_handle(email))
            if acc:
                return acc
        for h in person.handles:
            if self.pattern.search(h.strip()):
                return h.strip()
        return None

    def assignable(self, account: str) -> bool:
        """``user/assignable/search`` for the project: is the account among the results?"""
        key = "accountId" if self.cloud else "username"
        data = self._json("GET", f"{self.api}/user/assignable/search",
                          params={"project": self.cfg.project, key: account})
        if not isinstance(data, list):
            return False
        field = "accountId" if self.cloud else "name"
        return any(isinstance(u, dict) and u.get(field) == account for u in data)

    # -- requests ---------------------------------------------------------------------------

    def _json(self, method: str, path: str, *, body: Any = None,
              params: dict[str, Any] | None = None, idempotent: bool = True) -> Any:
        resp = self.http.send(method, path, body=body, params=params, idempotent=idempotent)
        if not resp.content.strip():
            return None
        try:
            return json.loads(resp.content)
        except ValueError:
            raise EvidenceError(Diagnostic("tickets", 0, 0, "E606",
                                           f"response from {resp.url} is not JSON",
                                           f"is {self.site} a Jira site?")) from None

    def existing(self) -> list[ExistingTicket]:
        """Every issue with the managing label in the project (all pages)."""
        jql = (f'project = "{self.cfg.project}" AND labels = "{self.cfg.label}" '
               "ORDER BY key ASC")
        fields = "summary,status,assignee,labels"
        out: list[ExistingTicket] = []
        if self.cloud:
            token: str | None = None
            seen: set[str] = set()
            while True:
                params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": 100,
                                          "properties": PROPERTY}
                if token:
                    params["nextPageToken"] = token
                page = self._json("GET", f"{self.api}/search/jql", params=params)
                out.extend(self._ticket(i) for i in _issues(page, self.site))
                token = page.get("nextPageToken")
                if page.get("isLast") is True or not token or token in seen:
                    return out
                seen.add(token)
        start = 0
        while True:
            page = self._json("GET", f"{self.api}/search", params={
                "jql": jql, "fields": fields, "maxResults": 100, "startAt": start,
                "properties": PROPERTY})
            issues = _issues(page, self.site)
            out.extend(self._ticket(i) for i in issues)
            start += len(issues)
            if not issues or start >= int(page.get("total", 0)):
                return out

    def _ticket(self, issue: dict[str, Any]) -> ExistingTicket:
        fields = issue.get("fields") or {}
        status = fields.get("status") or {}
        cat = (status.get("statusCategory") or {}).get("key")
        name = str(status.get("name") or "")
        assignee = fields.get("assignee") or {}
        acc = assignee.get("accountId" if self.cloud else "name")
        labels = [str(x) for x in fields.get("labels") or []]
        prefix = f"{self.cfg.label}-"
        fp = next((x for x in sorted(labels) if x.startswith(prefix)
                   and re.fullmatch(r"[0-9a-f]{16}", x[len(prefix):])), "")
        meta = (issue.get("properties") or {}).get(PROPERTY) or {}
        return ExistingTicket(
            key=str(issue.get("key")), fingerprint_label=fp,
            done=cat == "done" or name.casefold() == self.cfg.done_status.casefold(),
            status=name, assignee=str(acc) if acc else None,
            assignee_name=assignee.get("displayName"),
            meta=meta if isinstance(meta, dict) else {})

    def _desc(self, doc: TicketDoc) -> Any:
        return adf(doc) if self.cloud else wiki(doc)

    def _user(self, account: str | None) -> dict[str, Any]:
        return {"accountId": account} if self.cloud else {"name": account}

    def create(self, doc: TicketDoc, labels: list[str], assignee: str | None) -> str:
        """POST /issue (never repeated after a 5xx)."""
        fields: dict[str, Any] = {
            "project": {"key": self.cfg.project}, "issuetype": {"name": self.cfg.issue_type},
            "summary": doc.summary, "description": self._desc(doc), "labels": labels}
        if assignee:
            fields["assignee"] = self._user(assignee)
        data = self._json("POST", f"{self.api}/issue", body={"fields": fields},
                          idempotent=False)
        key = data.get("key") if isinstance(data, dict) else None
        if not key:
            raise EvidenceError(Diagnostic("tickets", 0, 0, "E606",
                                           f"{self.site}{self.api}/issue returned no key",
                                           "check the project and issue type"))
        return str(key)

    def edit(self, key: str, doc: TicketDoc, labels: list[str]) -> None:
        """PUT /issue/KEY: summary, description, labels."""
        self._json("PUT", f"{self.api}/issue/{key}", body={"fields": {
            "summary": doc.summary, "description": self._desc(doc), "labels": labels}})

    def set_meta(self, key: str, meta: dict[str, Any]) -> None:
        """PUT /issue/KEY/properties/aimscheck."""
        self._json("PUT", f"{self.api}/issue/{key}/properties/{PROPERTY}", body=meta)

    def assign(self, key: str, account: str | None) -> None:
        """PUT /issue/KEY/assignee."""
        self._json("PUT", f"{self.api}/issue/{key}/assignee", body=self._user(account))

    def watch(self, key: str, account: str) -> None:
        """POST /issue/KEY/watchers (adding a watcher twice is harmless)."""
        self._json("POST", f"{self.api}/issue/{key}/watchers", body=account)

    def comment(self, key: str, text: str) -> None:
        """POST /issue/KEY/comment (never repeated after a 5xx)."""
        body = adf_text(text) if self.cloud else text
        self._json("POST", f"{self.api}/issue/{key}/comment", body={"body": body},
                   idempotent=False)

    def transition(self, key: str, status: str) -> None:
        """Find the transition into ``status`` and POST it."""
        data = self._json("GET", f"{self.api}/issue/{key}/transitions")
        items = data.get("transitions", []) if isinstance(data, dict) else []
        want = status.casefold()
        for t in items:
            to = (t.get("to") or {}).get("name", "")
            if str(to).casefold() == want or str(t.get("name", "")).casefold() == want:
                self._json("POST", f"{self.api}/issue/{key}/transitions",
                           body={"transition": {"id": str(t.get("id"))}}, idempotent=False)
                return
        names = ", ".join(sorted({str((t.get("to") or {}).get("name")) for t in items}))
        raise EvidenceError(Diagnostic(
            "tickets", 0, 0, "E607", f"{key} cannot move to {status!r} from its status "
            f"(available: {names or 'none'})",
            "set tickets.done_status / reopen_status to a status the workflow reaches"))


def _issues(page: Any, site: str) -> list[dict[str, Any]]:
    if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
        raise EvidenceError(Diagnostic("tickets", 0, 0, "E606",
                                       f"unexpected search response from {site}",
                                       "is the site a Jira site of the configured deployment?"))
    return [i for i in page["issues"] if isinstance(i, dict)]


def _env_user(var: str, site: str) -> str:
    import os

    value = os.environ.get(var, "").strip()
    if not value:
        raise EvidenceUnavailable(Diagnostic(
            "tickets", 0, 0, "E601", f"environment variable {var} is not set (needed for "
            f"{site})", f"export {var} with the Atlassian account email"))
    return value
