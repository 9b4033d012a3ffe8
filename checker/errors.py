"""Diagnostics and the exception tree.

The tree, drawn once::

    AimscheckError                 base; carries one or more Diagnostics
    ├── UsageError                 bad command-line usage               exit 2
    ├── ConfigError                bad aimscheck.yaml                   exit 2
    ├── RuleError                  bad rule file or rule pack           exit 2
    └── EvidenceError              evidence could not be collected      exit 3
        ├── EvidenceUnavailable    a source could not be reached/read   exit 3
        └── IncompleteEvidence     a check read an incomplete evidence kind (the engine
                                   turns it into an ``error`` finding)

Diagnostic codes by family: E0xx usage, E1xx YAML and schema, E2xx rule semantics, E3xx
evidence and adapters, E4xx output, E9xx internal. Every code and its one meaning is listed
in :mod:`checker.codes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

__all__ = [
    "ENV_NAME",
    "AimscheckError",
    "ConfigError",
    "Diagnostic",
    "EvidenceError",
    "EvidenceUnavailable",
    "IncompleteEvidence",
    "RuleError",
    "UsageError",
    "redact",
    "register_url_secrets",
]

Level = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, rendered like a compiler message.

    Attributes:
        file: The file (or source name) the problem is in.
        line: 1-based line, or 0 when unknown.
        col: 1-based column, or 0 when unknown.
        code: Diagnostic code such as ``E201``.
        message: What is wrong, naming the offending value.
        hint: How to fix it.
        level: ``error`` or ``warning``.
    """

    file: str
    line: int = 0
    col: int = 0
    code: str = "E900"
    message: str = ""
    hint: str | None = field(default=None, compare=False)
    level: Level = field(default="error", compare=False)

    @property
    def location(self) -> str:
        """``file:line:col`` with the unknown parts left out."""
        loc = self.file
        if self.line:
            loc += f":{self.line}"
            if self.col:
                loc += f":{self.col}"
        return loc

    def render(self) -> str:
        """Return the compiler-style text, with the hint on its own line."""
        text = f"{self.location}: {self.level} {self.code} {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return redact(text)

    def one_line(self) -> str:
        """Return the message and hint on one line (for logs and finding messages)."""
        text = f"{self.location}: {self.code} {self.message}"
        if self.hint:
            text += f" — hint: {self.hint}"
        return redact(text)


class AimscheckError(Exception):
    """Base of every error aimscheck reports to a user."""

    exit_code = 2

    def __init__(self, diagnostics: Diagnostic | Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = (
            (diagnostics,) if isinstance(diagnostics, Diagnostic) else tuple(diagnostics)
        )
        super().__init__("\n".join(d.render() for d in self.diagnostics))


class UsageError(AimscheckError):
    """Bad command-line usage."""


class ConfigError(AimscheckError):
    """The configuration file is invalid."""


class RuleError(AimscheckError):
    """A rule file or rule pack is invalid."""


class EvidenceError(AimscheckError):
    """Evidence could not be collected completely; the run fails closed."""

    exit_code = 3


class EvidenceUnavailable(EvidenceError):
    """A source could not be reached or read at all."""


class IncompleteEvidence(EvidenceError):
    """A check read an evidence kind whose source failed; its verdict cannot be trusted.

    Attributes:
        kind: The incomplete evidence kind.
    """

    def __init__(self, kind: str, diagnostics: Sequence[Diagnostic]) -> None:
        self.kind = kind
        super().__init__(diagnostics)


# Secrets are registered at runtime (values of the environment variables adapters read),
# so that no rendering path can print them.
_SECRETS: set[str] = set()
_SECRET_RE: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Remember a secret value so that :func:`redact` removes it from any text."""
    global _SECRET_RE
    if value and len(value) >= 4 and value not in _SECRETS:
        _SECRETS.add(value)
        _SECRET_RE = re.compile(
            "|".join(re.escape(s) for s in sorted(_SECRETS, key=len, reverse=True))
        )


#: ``scheme://user:password@`` (or ``scheme://token@``): the whole user-info is masked.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]{1,30}://)(?P<info>[^/\s@?#]+)@")
#: ``?password=…``, ``&api_key=…``, ``;token=…`` (also ``&amp;token=`` in HTML): the value is
#: masked. Paging cursors (``page_token``, ``nextPageToken``, ``cursor``) are not secrets.
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;](?!(?:page_?token|nextpagetoken|cursor)=)[A-Za-z0-9_.\-]*?"
    r"(?:token|key|secret|passw|pwd|sig|auth|credential|session)[A-Za-z0-9_.\-]*=)"
    r"(?P<value>[^&;\s#\"'<>]+)", re.IGNORECASE)


def redact(text: str) -> str:
    """Remove secrets from ``text``: registered values, URL user-info, secret query values.

    Every rendering path (diagnostics, ``--debug``, every report format, snapshots, the
    history store) goes through here, so a credential written into a URL
    (``https://user:token@host``, ``postgresql://…?password=…``) is never printed.
    """
    if _SECRET_RE is not None:
        text = _SECRET_RE.sub("***", text)
    if "://" in text:
        text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}***@"
                                 if m["info"] != "***" else m[0], text)
    if "=" in text:
        text = _SECRET_QUERY.sub(lambda m: f"{m['key']}***", text)
    return text


def register_url_secrets(text: str) -> None:
    """Register the credentials written into any URL in ``text`` as secrets.

    The user-info (``user:password``, and the password alone) and the values of
    secret-looking query parameters: a server that echoes them back decoded (a Basic
    header in an error body) is then redacted too, not only the URL itself.
    """
    if "://" not in text:
        return
    for m in _URL_USERINFO.finditer(text):
        info = unquote(m["info"])
        register_secret(info)
        if ":" in info:
            register_secret(info.split(":", 1)[1])
    for m in _SECRET_QUERY.finditer(text):
        register_secret(unquote(m["value"]))


#: What an environment-variable name looks like (``*_env`` fields must hold one).
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Order diagnostics by file, line and column for stable output."""
    return sorted(diags)
