"""GitHub Actions workflow commands: one annotation per failing or warning finding.

``aimscheck scan --format github`` prints lines such as::

    ::error file=compliance/register.yaml,line=35,title=AIMS-OWN-002 ai_system/x::no backup…

which the Actions runner turns into annotations on the run, the pull request and the file
— also in private repositories without code scanning. The level follows the severity
(critical/high → ``error``, medium → ``warning``, low → ``notice``); ``error`` findings
(evidence missing) are always ``error``; ``warn`` findings are ``warning``. Paths are
relative to the repository root, like SARIF's. Data and property values are encoded as the
runner decodes them (``%`` → ``%25``, CR → ``%0D``, LF → ``%0A``; in properties also
``:`` → ``%3A`` and ``,`` → ``%2C``), so no finding text can end a command early or inject
another one. A last ``notice`` line gives the verdict and counts.
"""

from __future__ import annotations

from checker.findings import Finding, ScanResult
from checker.severity import Severity

from ._common import (
    config_path,
    definition_site,
    neutralise,
    neutralise_document,
    repo_path,
    verdict,
    who,
)
from .base import Reporter, register_reporter

__all__ = ["GithubReporter", "escape_data", "escape_property", "workflow_command"]

_LEVEL: dict[Severity, str] = {Severity.CRITICAL: "error", Severity.HIGH: "error",
                               Severity.MEDIUM: "warning", Severity.LOW: "notice"}


def escape_data(value: str) -> str:
    """Encode a command's message the way the runner decodes it.

    Other control characters (ESC, NUL …) would reach the job log as they are: they are
    shown as escapes (``neutralise_document``); CR and LF are the runner's own encoding.
    """
    value = neutralise_document(value)
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Encode a property value (``file``, ``title`` …) the way the runner decodes it."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, properties: dict[str, str | int], message: str) -> str:
    """``::command key=value,key=value::message`` with every part encoded."""
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items())
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def _level(f: Finding) -> str:
    if f.status == "error":
        return "error"
    if f.status == "warn":
        return "warning"
    return _LEVEL[f.severity]


def _annotation(f: Finding, result: ScanResult) -> str:
    site = definition_site(f, result)
    props: dict[str, str | int] = {}
    if site is not None:
        props["file"] = repo_path(result, site[0])
        props["line"] = site[1]
    elif (cfg := config_path(result)) is not None:
        props["file"] = cfg
        props["line"] = 1
    props["title"] = f"{f.rule_id} {f.target} ({f.severity})"
    # the evidence's own CR/LF are shown as escapes: only the reporter starts a new line
    # of an annotation (the Fix: line), so a name cannot forge one
    text = neutralise(f"{f.message} — owner: {who(f.owner)}")
    if f.deputy is not None:
        text += neutralise(f"; deputy: {who(f.deputy)}")
    if f.status in ("fail", "error") and f.remediation:
        text += f"\nFix: {f.remediation}"
    return workflow_command(_level(f), props, text)


@register_reporter("github")
class GithubReporter(Reporter):
    """Failing and warning findings as GitHub Actions annotations (workflow commands)."""

    extension = "txt"

    def render(self, result: ScanResult) -> str:
        """One command per line: the most severe first, then a verdict notice."""
        shown = sorted((f for f in result.findings if f.status in ("fail", "error", "warn")),
                       key=lambda f: (f.status != "error", f.status == "warn",
                                      -f.severity.rank, f.rule_id, f.target))
        lines = [_annotation(f, result) for f in shown]
        s = result.summary
        counts = ", ".join(f"{s.get(k, 0)} {k.replace('_', ' ')}" for k in
                           ("fail", "error", "warn", "waived", "pass", "not_applicable"))
        lines.append(workflow_command("notice", {"title": f"aimscheck {verdict(result)}"},
                                      f"{result.organisation} as of {result.as_of}: {counts}"))
        return "\n".join(lines) + "\n"
