"""The run configuration, ``aimscheck.yaml``.

Paths inside the config are relative to the config file. The model below is the format's
documentation; ``checker/schemas/config.schema.json`` is generated from it.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ENV_NAME, ConfigError, Diagnostic, register_secret, register_url_secrets
from .evidence import SUBJECT_KINDS, TARGET_KINDS
from .loopconfig import EscalationStep, NotifyConfig, TicketsConfig
from .regex import compile_pattern
from .safefile import DEFAULT_MAX_FILE_BYTES
from .severity import SEVERITIES, Severity
from .yamlsrc import Located, load_yaml_file

__all__ = [
    "DEFAULT_HISTORY_FILE",
    "SEVERITIES",
    "Config",
    "LoadedConfig",
    "RuleOverride",
    "Settings",
    "WaiverPolicy",
    "load_config",
    "pydantic_diagnostics",
]


#: The SQLite history store beside the config (checker.history); defined here so that
#: checking for it does not import the database layer (SQLAlchemy) on every run.
DEFAULT_HISTORY_FILE = ".aimscheck-history.sqlite"

DEFAULT_SHARED_PATTERNS = [
    r"^(team|teams|group|all|ml|ai|data|ops|support|info|admin|security|platform|risk"
    r"|compliance|noreply|no-reply|do-not-reply)[-._@]",
    r"[-._](team|group|list|ops|platform|shared)@",
    r"^(svc|bot|service|system)[-._]",
    r"[-._](bot|svc)@",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


#: The person-reference fields of a subject (``settings.known_people``): its current
#: owners (any role), its past owners, and the people who reviewed it.
SUBJECT_REFERENCE_FIELDS: tuple[str, ...] = ("owners", "owner_history", "reviewers")
#: The person-reference fields of a record (release, incident, alert …) and its approvals.
RECORD_REFERENCE_FIELDS: tuple[str, ...] = (
    "registered_by", "deployed_by", "requested_by", "assignee", "escalated_to",
    "corrective_action_by", "actioned_by", "approvers")


def reference_fields(kind: str) -> tuple[str, ...]:
    """The person-reference fields a target kind has."""
    return SUBJECT_REFERENCE_FIELDS if kind in SUBJECT_KINDS else RECORD_REFERENCE_FIELDS


class Settings(_Strict):
    """Organisation-wide settings that checks read."""

    corrective_action_days: dict[Severity, int] = Field(
        default={Severity.CRITICAL: 7, Severity.HIGH: 30, Severity.MEDIUM: 60, Severity.LOW: 90},
        description="Corrective-action log: days from a failing finding's first sighting "
        "to its due date, by severity.")
    production_stages: list[str] = Field(
        default=["production"],
        description="Model-registry stages that mean 'in production' (case-insensitive).",
    )
    production_aliases: list[str] = Field(
        default=["production", "prod", "champion"],
        description="Model-version aliases that mean 'in production' (case-insensitive).",
    )
    shared_mailbox_patterns: list[str] = Field(
        default=DEFAULT_SHARED_PATTERNS,
        description="Regular expressions (matched against an owner's email or handle, "
        "case-insensitively) that reveal a shared mailbox, team or service account.",
    )
    risk_tiers: list[str] = Field(
        default=["unacceptable", "high", "medium", "limited", "low", "minimal"],
        description="The risk tiers an AI system may carry (compared case-insensitively, "
        "after trimming: `High` is `high`). A tier outside this list (or the tiers a rule "
        "names) is an error in the rules that depend on it, never 'no requirement'.",
    )

    known_people: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Which person-reference fields must resolve to a known person, per "
        "target kind (AIMS-IDN-001's `people_known` check), e.g. {release: [deployed_by, "
        "requested_by, approvers]}: a release's registrant (an MLflow `user_id`, often a CI "
        "service account HR does not list) need not, its deployer and approvers must. Kinds "
        "not listed: every field must (the default). Fields of subjects: owners, "
        "owner_history, reviewers; of records: registered_by, deployed_by, requested_by, "
        "assignee, escalated_to, corrective_action_by, actioned_by, approvers. `aimscheck "
        "rules show AIMS-IDN-001` prints the effective fields.")

    @field_validator("known_people")
    @classmethod
    def _known_people(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        from .registry import did_you_mean

        for kind, fields in v.items():
            if kind not in TARGET_KINDS:
                raise ValueError(f"unknown target kind {kind!r} in known_people; "
                                 + (did_you_mean(kind, list(TARGET_KINDS))
                                    or f"kinds: {', '.join(TARGET_KINDS)}"))
            allowed = reference_fields(kind)
            for f in fields:
                if f not in allowed:
                    raise ValueError(f"{kind} has no person-reference field {f!r}; "
                                     + (did_you_mean(f, list(allowed))
                                        or f"its fields: {', '.join(allowed)}"))
        return v

    @field_validator("shared_mailbox_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        for p in v:
            compile_pattern(p)  # RegexError is a ValueError: reported E113 at the pattern
        return v

    allow_contractors: bool = Field(
        default=True, description="Whether contractors may own subjects."
    )
    concentration_max_roles: int = Field(
        default=8, ge=1,
        description="The accountability matrix's concentration view flags a person holding "
        "more owner roles than this (over all subjects) as overloaded. 8 is about four "
        "subjects owned as primary and backup: beyond it an absence or departure leaves "
        "several subjects without an available owner at once.")
    timezone: str = Field(
        default="UTC",
        description="The organisation's time zone (an IANA name such as Europe/Berlin): "
        "dated absences and the effective date of an HR status are whole days there.",
    )
    max_file_bytes: int = Field(
        default=DEFAULT_MAX_FILE_BYTES, ge=1,
        description="An evidence file larger than this (counted while reading) stops its "
        "source with an error, so /dev/zero or a runaway export cannot exhaust memory.",
    )
    max_records_per_source: int = Field(
        default=50_000_000, ge=1,
        description="A source yielding more records than this stops with an error (E313), "
        "so a runaway export or API cannot exhaust memory.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as "
                             "'Europe/Berlin' or 'UTC'") from None
        return v

    @property
    def tz(self) -> tzinfo:
        """The organisation's time zone."""
        return UTC if self.timezone == "UTC" else ZoneInfo(self.timezone)


DEFAULT_WAIVER_MAX_DAYS: dict[Severity, int] = {
    Severity.CRITICAL: 30, Severity.HIGH: 90, Severity.MEDIUM: 180, Severity.LOW: 365}


class WaiverPolicy(_Strict):
    """Who may approve waivers, for how long, and when to warn.

    It lives in ``aimscheck.yaml`` (``waiver_policy:``), owned by governance, never in the
    waivers file it governs: a waivers file cannot grant itself authority.
    """

    approver_roles: tuple[str, ...] = Field(
        default=("executive", "ai-risk-owner"),
        description="HR roles that authorise a person to approve waivers.")
    max_days: dict[Severity, int] = Field(
        default_factory=lambda: dict(DEFAULT_WAIVER_MAX_DAYS),
        description="Longest waiver (expiry − start, in days) per rule severity.")
    warn_days: int = Field(default=14, ge=0,
                           description="Warn about waivers that end within this many days.")


class RuleOverride(_Strict):
    """Per-rule settings in the config."""

    enabled: bool = Field(default=True, description="False switches the rule off.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the rule's declared params."
    )
    severity: Severity | None = Field(default=None, description="Overrides the severity.")
    applies_to: list[str] | None = Field(
        default=None, min_length=1,
        description="Overrides the target kinds the rule applies to (each must be one the "
        "rule's checks understand), e.g. [ai_system] to check backups of AI systems only.")
    finding_owner: list[str] | None = Field(
        default=None, min_length=1,
        description="Overrides the rule's finding-owner chain (role tokens: primary, backup, "
        "risk_owner, system.risk_owner, model.primary, assignee, registered_by …); the "
        "accountable executive always ends it.")


class Config(_Strict):
    """The whole ``aimscheck.yaml``."""

    version: Literal[1] = Field(default=1, description="Config format version.")
    organisation: str = Field(description="Name of the organisation, shown in reports.")
    accountable_executive: str = Field(
        description="Handle (email or employee number) of the accountable executive; the "
        "last link of every finding-owner chain. Must resolve to an active individual."
    )
    rule_packs: list[str] = Field(
        default=["iso42001"],
        description="Rule packs: names of installed packs or folders relative to the config.",
    )
    sources: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Evidence sources: each has 'adapter' (an installed adapter id), an "
        "optional 'name', and the adapter's own keys.",
    )
    settings: Settings = Field(default_factory=Settings)
    rules: dict[str, RuleOverride] = Field(
        default_factory=dict, description="Per-rule overrides, by rule id."
    )
    finding_owners: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Finding-owner chain per target kind for every rule (e.g. {ai_system: "
        "[primary, backup, risk_owner], release: [system.risk_owner, system.primary], "
        "incident: [system.risk_owner, assignee]}); a rule's own `finding_owner` override "
        "wins; kinds not listed keep each rule's chain. `aimscheck rules show` prints the "
        "effective chains.")
    fail_on: Severity = Field(
        default=Severity.LOW, description="Lowest severity of a failing finding that fails the run."
    )
    soft_fail: bool = Field(
        default=False, description="Report-only: 'scan', 'report' and 'gate' exit 0 instead of "
        "1 when findings fail (every report is still written; config errors (2) and missing "
        "evidence (3) still fail). The same as --soft-fail."
    )
    waivers: str | None = Field(
        default=None, description="A waivers file (relative to the config), applied to every "
        "scan; 'scan --waivers FILE' overrides it. Format: see checker/waivers.py."
    )
    waiver_policy: WaiverPolicy = Field(
        default_factory=WaiverPolicy,
        description="Who may approve waivers (HR roles), their longest duration per severity "
        "and the warning window. Governance owns it here, in the main config: a waivers file "
        "has no 'policy:' and cannot grant itself authority.")
    tickets: TicketsConfig | None = Field(
        default=None, description="'aimscheck tickets sync': a tracker ticket per failing "
        "finding, assigned to its owner (README: Closing the loop).")
    escalation: list[EscalationStep] = Field(
        default_factory=list, description="Escalation ladder: with recorded history, a "
        "finding failing for at least after_days is escalated to the step's target.")
    notify: NotifyConfig | None = Field(
        default=None, description="'aimscheck notify': one digest per person who must act.")
    prepared_by: str | None = Field(
        default=None, description="Who prepares the assessment (name and role), printed in "
        "the report's document-control block.")
    soa: str | None = Field(
        default=None, description="The Statement of Applicability decisions file (relative "
        "to the config): per Annex A control, applicable or not, the justification and the "
        "register control that implements it. Used by 'aimscheck soa'; format: see "
        "checker/soa.py."
    )


class LoadedConfig:
    """A validated config with its file, folder and source positions."""

    def __init__(self, config: Config, path: Path, located: Located) -> None:
        self.config = config
        self.path = path
        self.base_dir = path.parent
        self.located = located


def pydantic_diagnostics(
    exc: ValidationError, located: Located, base: tuple[str | int, ...],
    codes: tuple[str, str, str] = ("E111", "E112", "E113"),
) -> list[Diagnostic]:
    """Turn a pydantic ValidationError into located diagnostics (one per error).

    ``codes`` are those of an unknown key, a missing key and any other invalid value.
    """
    unknown_code, missing_code, invalid_code = codes
    out: list[Diagnostic] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = (*base, *loc)
        kind = err["type"]
        where = ".".join(str(p) for p in loc) or "(top level)"
        if kind == "extra_forbidden":
            out.append(located.diag(path, unknown_code, f"unknown key {loc[-1]!r}",
                                    "remove it, or check its spelling", key=True))
        elif kind == "missing":
            out.append(located.diag(path[:-1], missing_code,
                                    f"missing required key {loc[-1]!r}",
                                    f"add '{loc[-1]}:'"))
        else:
            value = err.get("input")
            shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
            out.append(located.diag(path, invalid_code,
                                    f"{where}: {err['msg']} (got {shown[:80]})"))
    return out


def _pasted_secrets(located: Located) -> list[Diagnostic]:
    """``*_env`` values that are not variable names: a secret pasted in the wrong place.

    The value is registered as a secret first (so no later message can print it) and the
    diagnostic names the key, never the value.
    """
    out: list[Diagnostic] = []

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                key = str(k)
                if isinstance(v, str):
                    register_url_secrets(v)
                if key.endswith("_env") and isinstance(v, str) and not ENV_NAME.match(v):
                    register_secret(v.strip())
                    register_secret(v)
                    out.append(located.diag((*path, k), "E123", f"{key} must name an "
                                            "environment variable; its value does not look "
                                            "like a variable name (not shown: it may be the "
                                            "secret itself)",
                                            f"put the secret in a variable and write its name, "
                                            f"e.g. {key}: MY_TOKEN — and rotate the secret if "
                                            "this file was shared"))
                else:
                    walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    walk(located.data, ())
    return out


def load_config(path: Path) -> LoadedConfig:
    """Load and validate ``aimscheck.yaml``; raise ConfigError with every problem."""
    if not path.exists():
        raise ConfigError(Diagnostic(
            str(path), 0, 0, "E120", "config file not found",
            "pass -c PATH or set AIMSCHECK_CONFIG (without them aimscheck.yaml is looked for "
            "here and in the folders above, up to the repository root), or run 'aimscheck "
            "init' to write a starter config",
        ))
    located, diags = load_yaml_file(path)
    if located is None:
        raise ConfigError(diags)
    if not isinstance(located.data, dict):
        raise ConfigError(located.diag((), "E115", "config must be a mapping of keys"))
    bad_env = _pasted_secrets(located)
    if bad_env:
        raise ConfigError(bad_env)
    try:
        config = Config.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(pydantic_diagnostics(exc, located, ())) from None
    return LoadedConfig(config, path.resolve(), located)
