"""Config sections that close the loop: ``tickets:``, ``escalation:`` and ``notify:``.

They live in ``aimscheck.yaml`` beside ``sources:`` and are validated with the rest of the
config (``file:line`` errors). Connection details of the ticket tracker (site, deployment,
credentials, retries) are the tracker's own keys under ``tickets.connection`` and are
validated by the tracker (the ``jira`` adapter), like a source's keys.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .severity import Severity

__all__ = ["EscalationStep", "NotifyConfig", "SmtpConfig", "TicketsConfig"]


_FIX_DAYS: dict[Severity, int] = {Severity.CRITICAL: 7, Severity.HIGH: 14, Severity.MEDIUM: 30,
                                  Severity.LOW: 60}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class TicketsConfig(_Strict):
    """``aimscheck tickets sync``: one tracker issue per failing finding."""

    tracker: str = Field("jira", description="The adapter that files tickets (an installed "
                                             "adapter offering a ticket tracker).")
    connection: dict[str, Any] = Field(
        description="The tracker's keys: for jira `site`, `deployment` (cloud/datacenter), "
        "`auth` (env variables or *_file, never values), `retry`, `timeout_seconds`, "
        "`identity` (accountId → email map/CSV) and `account_id_pattern`.")
    project: str = Field(min_length=1, description="Project key the tickets are created in.")
    issue_type: str = Field("Task", min_length=1, description="Issue type of new tickets.")
    done_status: str = Field("Done", min_length=1,
                             description="Status a ticket is moved to when its finding passes, "
                                         "is waived, or its subject disappears.")
    reopen_status: str = Field("To Do", min_length=1,
                               description="Status a done ticket is moved back to when its "
                                           "finding fails again.")
    label: str = Field("aimscheck", pattern=r"^[^\s]+$",
                       description="Label on every ticket aimscheck manages; with the "
                                   "fingerprint label `<label>-<fingerprint>` it finds them.")
    statuses: list[Literal["fail", "error"]] = Field(
        default=["fail", "error"], description="Finding statuses that get a ticket.")
    min_severity: Severity = Field(
        Severity.LOW, description="Lowest severity that gets a ticket.")


class EscalationStep(_Strict):
    """One rung of the ladder: after ``after_days`` failing, escalate to ``to``."""

    after_days: int = Field(ge=1, description="Days a finding has failed without a break "
                                              "(from the recorded history) before this step.")
    to: str = Field(min_length=1,
                    description="`deputy` (the finding's backup), `manager` (the owner's "
                                "manager in HR), `accountable_executive`, or a handle "
                                "(email) of a person.")


class SmtpConfig(_Strict):
    """The SMTP relay of ``notify --send``."""

    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = Field(True, description="Upgrade with STARTTLS before authenticating "
                                             "(refuses to send credentials in clear text).")
    username_env: str | None = Field("SMTP_USERNAME", description="Variable holding the user "
                                                                  "(unset: no login).")
    password_env: str = Field("SMTP_PASSWORD", description="Variable holding the password.")
    password_file: str | None = Field(None, description="A file holding the password "
                                                        "(relative to the config); replaces "
                                                        "`password_env`.")
    timeout_seconds: float = Field(30.0, gt=0)
    ca_file: str | None = Field(None, description="CA bundle to verify the server with "
                                                  "(default: the system's).")


class NotifyConfig(_Strict):
    """``aimscheck notify``: one digest per person who must act."""

    sender: str = Field(description="From: address, e.g. `AI governance <aims@example.com>`.")
    reply_to: str | None = None
    subject: str = Field("[aimscheck] {count} finding(s) for you to act on",
                         description="Subject line; `{count}` and `{organisation}` are "
                                     "replaced.")
    fix_days: dict[Severity, int] = Field(
        default_factory=lambda: dict(_FIX_DAYS),
        description="Days to fix a finding by severity, from when it started failing: the "
                    "deadline shown unless the rule sets its own (SLA/cadence).")
    fix_days_by_rule: dict[str, int] = Field(
        default_factory=dict, description="Days to fix by rule id, overriding fix_days: "
        "e.g. your incident-handling SLA or review cadence for those rules.")
    smtp: SmtpConfig | None = None

    @field_validator("sender")
    @classmethod
    def _address(cls, v: str) -> str:
        if "@" not in v:
            raise ValueError("sender must be an email address")
        return v
