"""Config models of the ``jira`` source: connection, offline snapshot, and mapping per kind.

Field references (``model: Model``, ``backup: customfield_10042``) name a Jira field by id
(``assignee``, ``customfield_10042``) or by display name (``Backup Owner``), which is
resolved through the ``names`` map Jira returns with ``expand=names``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from checker.adapters import AdapterConfig
from checker.evidence import SubjectKind
from checker.severity import Severity
from evidence_adapters._http import RetryConfig

__all__ = [
    "ApprovalMapping",
    "AuthConfig",
    "IdentityConfig",
    "IncidentMapping",
    "JiraConfig",
    "OfflineConfig",
    "RetryConfig",
    "ReviewMapping",
    "SubjectMapping",
    "Transition",
]

DEFAULT_SEVERITY_VALUES: dict[str, Severity] = {
    "Highest": Severity.CRITICAL, "Critical": Severity.CRITICAL, "High": Severity.HIGH,
    "Medium": Severity.MEDIUM, "Low": Severity.LOW, "Lowest": Severity.LOW,
}


class Transition(AdapterConfig):
    """A status change that means something: into one of ``to``, optionally from ``from``.

    In the config a plain list of status names is short for ``{to: [...]}``. Names compare
    case-insensitively; a status id (``"10202"``) matches too.
    """

    to: tuple[str, ...] = Field(min_length=1, description="Target status names (or ids).")
    from_: tuple[str, ...] = Field((), alias="from",
                                   description="Only when leaving one of these statuses.")
    assignee_changed: bool = Field(False, description="Only when the same history entry "
                                                      "also changes the assignee (e.g. an "
                                                      "escalation that hands the issue on).")

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The schema editors see: the mapping, or the list/one-name shorthand."""
        mapping = handler.resolve_ref_schema(handler(core_schema))
        return {"anyOf": [dict(mapping),
                          {"type": "array", "items": {"type": "string"}, "minItems": 1},
                          {"type": "string"}],
                "description": mapping.get("description", "")}

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if isinstance(data, (list, tuple)):
            return {"to": list(data)}
        if isinstance(data, str):
            return {"to": [data]}
        return data


def _t(*names: str) -> Transition:
    return Transition.model_validate(list(names))


class _Mapping(AdapterConfig):
    """What every mapping has: which issues (JQL live; projects/issue types/where otherwise)."""

    jql: str | None = Field(None, description="The JQL of this mapping's own live search. "
                                              "Default: built from `projects` and "
                                              "`issue_types`. Not with one search for all "
                                              "mappings (source-level `jql` or `replay`).")
    projects: tuple[str, ...] = Field((), description="Project keys (filter offline too).")
    issue_types: tuple[str, ...] = Field(min_length=1, description="Issue type names.")
    where: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Further filters of one search: field (id or display name) → value or "
                    "list of values; an issue matches when every field's text equals one of "
                    "its values (case-insensitive; for multi-value fields such as labels, "
                    "when any value does). `null`-like empty fields never match.")
    id: str = Field("key", description="Field holding the record id (default: issue key).")

    def effective_jql(self) -> str:
        """The configured JQL, or one built from projects and issue types (bounded)."""
        if self.jql:
            return self.jql
        parts = []
        if self.projects:
            parts.append("project in (" + ", ".join(_q(p) for p in self.projects) + ")")
        parts.append("issuetype in (" + ", ".join(_q(t) for t in self.issue_types) + ")")
        return " AND ".join(parts) + " ORDER BY key ASC"

    def selects(self, project: str | None, issue_type: str | None) -> bool:
        """Whether an issue belongs to this mapping (used offline, and as a guard live)."""
        if self.projects and (project or "").casefold() not in {
                p.casefold() for p in self.projects}:
            return False
        return (issue_type or "").casefold() in {t.casefold() for t in self.issue_types}


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ApprovalMapping(_Mapping):
    """Release sign-off tickets: one issue = one approval decision."""

    issue_types: tuple[str, ...] = ("Release Approval",)
    model: str | None = Field("Model", description="Field holding the model name.")
    version: str | None = Field("Model Version", description="Field holding the (model) "
                                                             "version.")
    subject: str | None = Field(None, description="Field holding the subject id; when unset "
                                                  "or empty, `<model>:<version>`.")
    kind_field: str | None = Field(None, description="Field whose value is Approval.kind "
                                                     "(overrides `kind`).")
    requested_by: str | None = Field("reporter", description="User field of the requester.")
    approved: Transition = Field(default_factory=lambda: _t("Approved"),
                                 description="The transition that means approved: every such "
                                             "transition is an approval by its author at its "
                                             "instant, whatever the issue did later.")
    rejected: Transition | None = Field(
        default_factory=lambda: _t("Rejected"),
        description="The transition that means rejected: a rejection record (which withdraws "
                    "earlier approvals of the same release in the sign-off rules). null: none.")
    voids: Transition | None = Field(
        None, description="Transitions that withdraw the issue's earlier approvals without "
                          "being a rejection (e.g. {to: [Reopened]}). Default: none — an "
                          "approval stays an approval whatever happened later.")
    kind: str = Field("release", description="Approval.kind of every record.")
    rules: str | None = Field(None, description="Field holding the rule ids this decision "
                              "accepts a deviation from (e.g. `labels`, or a text field; ids "
                              "separated by commas or spaces): a waiver of one of those rules "
                              "may name the record as its risk acceptance.")


class ReviewMapping(_Mapping):
    """Review tickets (risk review, impact assessment, policy review, due diligence …)."""

    issue_types: tuple[str, ...] = ("Risk Review", "Impact Assessment", "Policy Review",
                                    "Vendor Due Diligence")
    kind_by_issue_type: dict[str, str] = Field(
        default_factory=lambda: {"Risk Review": "risk_review",
                                 "Impact Assessment": "impact_assessment",
                                 "Policy Review": "policy_review",
                                 "Vendor Due Diligence": "due_diligence"},
        description="Issue type → Review.kind.")
    kind_field: str | None = Field(None, description="Field whose value is the review kind "
                                                     "(overrides `kind_by_issue_type`).")
    subject: str = Field("Subject", description="Field holding the reviewed subject's id.")
    outcome: str | None = Field("Outcome", description="Field holding the outcome text.")
    version: str | None = Field(None, description="Field holding the reviewed version.")
    attendees: str | None = Field(None, description="Multi-user field of the attendees.")
    rules: str | None = Field(None, description="Field holding the rule ids this decision "
                              "accepts a deviation from (e.g. `labels`, or a text field; ids "
                              "separated by commas or spaces): a waiver of one of those rules "
                              "may name the record as its risk acceptance.")
    reviewed: Transition = Field(default_factory=lambda: _t("Reviewed"),
                                 description="The transition that completes the review: its "
                                             "author is the reviewer, its time the date.")
    approved: Transition | None = Field(default_factory=lambda: _t("Approved"),
                                        description="The sign-off transition (optional).")


class IncidentMapping(_Mapping):
    """AI incident tickets; handling times come from status transitions."""

    issue_types: tuple[str, ...] = ("AI Incident",)
    system: str | None = Field("AI System", description="Field holding the AI system id.")
    severity: str = Field("priority", description="Field holding the severity.")
    severity_values: dict[str, Severity] = Field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_VALUES),
        description="Jira value → critical/high/medium/low (case-insensitive).")
    escalated_to: str | None = Field("Escalated To", description="User field of the escalation "
                                                                 "target.")
    acknowledged: Transition = Field(default_factory=lambda: _t("Acknowledged"))
    escalated: Transition = Field(default_factory=lambda: _t("Escalated"))
    resolved: Transition = Field(default_factory=lambda: _t("Resolved"))
    closed: Transition = Field(default_factory=lambda: _t("Closed"))
    corrective_action: Transition | None = Field(
        default_factory=lambda: _t("Corrective Action Approved"),
        description="The sign-off of the corrective action: author and time.")


class SubjectMapping(_Mapping):
    """Subjects kept as issues (risks, policies, AI systems) with owners and their history."""

    subject_kind: SubjectKind
    name: str = Field("summary", description="Field holding the subject name.")
    owners: dict[str, str] = Field(
        default_factory=lambda: {"primary": "assignee", "backup": "Backup Owner"},
        description="Owner role → user field. History comes from the changelog.")
    attributes: dict[str, str] = Field(default_factory=dict,
                                       description="Subject attribute → field.")
    reviewed: Transition | None = Field(None, description="A transition that records a review "
                                                          "of the subject.")
    review_kind: str | None = Field(None, description="Review.kind of those reviews.")

    @model_validator(mode="after")
    def _review_kind(self) -> SubjectMapping:
        if self.reviewed is not None and not self.review_kind:
            raise ValueError("`reviewed` needs `review_kind` (e.g. risk_review)")
        return self


def _risks() -> dict[str, object]:
    return {"subject_kind": "risk", "issue_types": ["Risk"],
            "attributes": {"system": "AI System"},
            "reviewed": {"from": ["Under Review"], "to": ["Monitoring", "Accepted", "Closed"]},
            "review_kind": "risk_review"}


def _policies() -> dict[str, object]:
    return {"subject_kind": "policy", "issue_types": ["Policy"],
            "reviewed": ["Approved"], "review_kind": "policy_review"}


class AuthConfig(AdapterConfig):
    """Where the credentials are: environment variables, or files (never the values)."""

    email_env: str = Field("JIRA_EMAIL", description="Cloud: the account email.")
    token_env: str = Field("JIRA_API_TOKEN", description="Cloud: the API token.")
    pat_env: str = Field("JIRA_PAT", description="Data Center: the personal access token.")
    token_file: str | None = Field(None, description="Cloud: a file holding the API token "
                                                     "(relative to the config file); replaces "
                                                     "`token_env`.")
    pat_file: str | None = Field(None, description="Data Center: a file holding the personal "
                                                   "access token; replaces `pat_env`.")


class OfflineConfig(AdapterConfig):
    """A saved snapshot instead of a live site."""

    pages: str | None = Field(None, description="Folder of saved API pages: "
                              "search/<mapping>/*.json and changelog/<KEY>/*.json.")
    csv: str | None = Field(None, description="Jira CSV export (current state only).")
    csv_timezone: str = Field("UTC", description="IANA zone the CSV dates are in.")
    csv_date_format: str = Field("%d/%b/%y %I:%M %p", description="strptime format of CSV "
                                                                  "dates.")
    csv_columns: dict[str, str] = Field(default_factory=dict, description="Field id → CSV "
                                        "header, added to the defaults (Issue key, Summary, …).")

    @model_validator(mode="after")
    def _something(self) -> OfflineConfig:
        if not self.pages and not self.csv:
            raise ValueError("offline needs `pages` (saved API responses) and/or `csv`")
        return self


class IdentityConfig(AdapterConfig):
    """accountId (or Data Center username) → email, for users whose email Jira hides."""

    map: dict[str, str] = Field(default_factory=dict)
    csv: str | None = Field(None, description="CSV with header accountId,email.")


def _list(v: object) -> object:
    return [v] if isinstance(v, str) else v


class JiraConfig(AdapterConfig):
    """Config of a ``jira`` source (the keys of its ``sources:`` entry)."""

    replay: tuple[str, ...] | str | None = Field(
        None, description="Saved responses of one search (and of full changelogs): "
                          "files, folders or globs relative to the config file, any names, "
                          "or HAR recordings (*.har) of the requests with their responses. "
                          "They answer the adapter's requests as Jira would; every mapping "
                          "selects its issues from that one search. Enhanced-search "
                          "(nextPageToken) pages need a HAR: plain bodies are refused. "
                          "Replaces the live site.")
    jql: str | None = Field(
        None, description="One live search for every mapping (each selects its issues by "
                          "`projects`, `issue_types` and `where`), instead of one search per "
                          "mapping. Must be bounded, e.g. `project in (AIRISK, AIREL) ORDER "
                          "BY key`.")

    site: str = Field(description="https://<site>.atlassian.net or the Data Center base URL; "
                                  "browse URLs are <site>/browse/KEY.")
    deployment: Literal["cloud", "datacenter"] = "cloud"
    auth: AuthConfig = Field(default_factory=AuthConfig)
    offline: OfflineConfig | None = None
    page_size: int = Field(50, ge=1, le=1000)
    timeout_seconds: float = Field(30.0, gt=0)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    approvals: ApprovalMapping | None = None
    reviews: ReviewMapping | None = None
    incidents: IncidentMapping | None = None
    risks: SubjectMapping | None = None
    policies: SubjectMapping | None = None
    ownership: SubjectMapping | None = None

    @field_validator("replay", mode="before")
    @classmethod
    def _replay_list(cls, v: object) -> object:
        return _list(v)

    @field_validator("site")
    @classmethod
    def _site(cls, v: str) -> str:
        if not v.startswith(("https://", "http://")):
            raise ValueError("site must be a URL such as https://example.atlassian.net")
        return v.rstrip("/")

    @field_validator("risks", "policies", mode="before")
    @classmethod
    def _subject_defaults(cls, v: object, info: object) -> object:
        name = getattr(info, "field_name", "")
        base = _risks() if name == "risks" else _policies()
        if v is None:
            return None
        if isinstance(v, dict):
            return {**base, **v}
        return v

    @model_validator(mode="after")
    def _complete(self) -> JiraConfig:
        if not self.mappings():
            raise ValueError("configure at least one of approvals, reviews, incidents, risks, "
                             "policies, ownership")
        if self.replay is not None and self.offline is not None:
            raise ValueError("give `replay` (saved response bodies) or `offline` (the older "
                             "folder layout / CSV), not both")
        if self.one_search():
            own = [n for n, m in self.mappings().items() if m.jql]
            if own:
                raise ValueError(
                    f"{', '.join(own)}: a mapping's own `jql` cannot apply to one search for "
                    "all mappings (source-level `jql` or `replay`); select its issues with "
                    "`projects`, `issue_types` and `where`")
        off = self.offline
        if off is not None and off.csv and not off.pages:
            needs = [n for n, m in self.mappings().items()
                     if isinstance(m, (ApprovalMapping, ReviewMapping, IncidentMapping))
                     or (isinstance(m, SubjectMapping) and m.reviewed is not None)]
            if needs:
                raise ValueError(
                    f"{', '.join(needs)} need the changelog (who moved an issue to which "
                    "status, and when), and Jira's CSV export has none: save the API pages "
                    "(offline.pages) for them, or map only current-state subjects from CSV")
        return self

    def one_search(self) -> bool:
        """Whether one search feeds every mapping (saved bodies, or a source-level JQL)."""
        return self.replay is not None or self.jql is not None

    def mappings(self) -> dict[str, _Mapping]:
        """The configured mappings by config key, in a fixed order."""
        out: dict[str, _Mapping] = {}
        for key in ("approvals", "reviews", "incidents", "risks", "policies", "ownership"):
            m = getattr(self, key)
            if m is not None:
                out[key] = m
        return out

    def kinds(self) -> frozenset[str]:
        """The evidence kinds this source is responsible for."""
        kinds: set[str] = set()
        for m in self.mappings().values():
            if isinstance(m, ApprovalMapping):
                kinds.add("approval")
            elif isinstance(m, ReviewMapping):
                kinds.add("review")
            elif isinstance(m, IncidentMapping):
                kinds.add("incident")
            elif isinstance(m, SubjectMapping):
                kinds.add("subject")
                if m.reviewed is not None:
                    kinds.add("review")
        return frozenset(kinds)
