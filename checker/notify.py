"""``aimscheck notify``: one RFC 5322 message per person who must act.

Each person gets their failing findings — as owner, and those escalated to them — oldest
first (by ``failing_since`` from the recorded history), each with the fix, the evidence and
a deadline: ``failing_since`` + the configured days to fix (``notify.fix_days_by_rule`` for
rules with their own SLA or cadence, else ``notify.fix_days`` by severity), and the date of
the next escalation step. Messages are :class:`email.message.EmailMessage`
objects with a ``Date`` and ``Message-ID`` derived from the as-of and the content, so the
same scan gives byte-identical ``.eml`` files.

Delivery (``--send``) goes through ``smtplib`` with STARTTLS (the server's certificate is
verified); the password comes from an environment variable or a file, is registered as a
secret and never printed. A username without STARTTLS is refused: credentials never travel
in clear text.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from .errors import ConfigError, Diagnostic, EvidenceUnavailable, redact, register_secret
from .findings import FAILING, Finding, OwnerRef, ScanResult
from .loopconfig import EscalationStep, NotifyConfig, SmtpConfig
from .timeutil import parse_ts

__all__ = ["Delivery", "Digest", "build_digests", "render_plan", "send_smtp", "write_eml"]



@dataclass
class Digest:
    """The message for one person."""

    person: OwnerRef
    owned: list[Finding]
    escalated: list[Finding]
    message: EmailMessage | None = None

    @property
    def count(self) -> int:
        """Findings in the message."""
        return len(self.owned) + len(self.escalated)


def _since(f: Finding, as_of: str) -> str:
    return (f.failing_since or as_of)[:10]


def _order(as_of: str) -> object:
    return lambda f: (_since(f, as_of), -f.severity.rank, f.rule_id, f.target)


def _who(o: OwnerRef) -> str:
    return f"{o.name} <{o.email}>" if o.email else o.name


def _fix_days(f: Finding, cfg: NotifyConfig) -> tuple[int, str]:
    if f.rule_id in cfg.fix_days_by_rule:
        return cfg.fix_days_by_rule[f.rule_id], f"the deadline set for {f.rule_id}"
    return cfg.fix_days[f.severity], f"for {f.severity} findings"


def _deadline(f: Finding, cfg: NotifyConfig, as_of: str) -> datetime:
    return parse_ts(f.failing_since or as_of) + timedelta(days=_fix_days(f, cfg)[0])


def _next_step(f: Finding, ladder: Sequence[EscalationStep], as_of: str
               ) -> tuple[datetime, EscalationStep] | None:
    start = parse_ts(f.failing_since or as_of)
    now = parse_ts(as_of)
    for step in sorted(ladder, key=lambda s: s.after_days):
        when = start + timedelta(days=step.after_days)
        if when > now:
            return when, step
    return None


def _item(f: Finding, cfg: NotifyConfig, ladder: Sequence[EscalationStep], as_of: str,
          links: dict[str, str], *, escalated: bool) -> list[str]:
    now = parse_ts(as_of)
    days = (now - parse_ts(f.failing_since or as_of)).days
    due = _deadline(f, cfg, as_of)
    late = " — OVERDUE" if due < now else ""
    out = [f"* [{f.severity.upper()}] {f.rule_id} {f.target} ({f.target_name})",
           f"  {f.message}",
           f"  failing since {_since(f, as_of)} ({days} day{'s' if days != 1 else ''})",
           f"  fix by {due.date().isoformat()} ({_fix_days(f, cfg)[0]} days, "
           f"{_fix_days(f, cfg)[1]}){late}"]
    if escalated:
        out.append(f"  escalated to you; the owner is {_who(f.owner)}")
    else:
        nxt = _next_step(f, ladder, as_of)
        if f.escalated_to is not None:
            out.append(f"  already escalated to {_who(f.escalated_to)}")
        if nxt is not None:
            out.append(f"  escalates to the {nxt[1].to.replace('_', ' ')} on "
                       f"{nxt[0].date().isoformat()} if still failing")
    out.append(f"  how to fix: {f.remediation}")
    if f.evidence:
        ev = [f"{e} ({links[e]})" if e in links else e for e in f.evidence[:6]]
        out.append(f"  evidence: {', '.join(ev)}")
    refs = ", ".join(f.references.get("iso42001", []))
    if refs:
        out.append(f"  ISO/IEC 42001: {refs}")
    return out


def build_digests(result: ScanResult, cfg: NotifyConfig, ladder: Sequence[EscalationStep],
                  organisation: str) -> tuple[list[Digest], list[str]]:
    """One digest per person (sorted by email), and who cannot be reached (no email)."""
    people: dict[str, Digest] = {}
    for f in result.findings:
        if f.status not in FAILING:
            continue
        people.setdefault(f.owner.id, Digest(f.owner, [], [])).owned.append(f)
        if f.escalated_to is not None and f.escalated_to.id != f.owner.id:
            people.setdefault(f.escalated_to.id, Digest(f.escalated_to, [], [])
                              ).escalated.append(f)
    unreachable: list[str] = []
    out: list[Digest] = []
    for d in people.values():
        if not d.person.email:
            unreachable.append(f"{d.person.name}: no email address in the evidence; "
                               f"{d.count} finding(s) not sent")
            continue
        d.owned.sort(key=_order(result.as_of))  # type: ignore[arg-type]
        d.escalated.sort(key=_order(result.as_of))  # type: ignore[arg-type]
        d.message = _message(d, result, cfg, ladder, organisation)
        out.append(d)
    out.sort(key=lambda d: (d.person.email or "", d.person.id))
    return out, sorted(unreachable)


def _message(d: Digest, result: ScanResult, cfg: NotifyConfig,
             ladder: Sequence[EscalationStep], organisation: str) -> EmailMessage:
    as_of = result.as_of
    lines = [f"Hello {d.person.name},", "",
             f"as of {as_of[:10]}, the AI management system checks of {organisation} name you "
             "as the person who must act on the finding(s) below — oldest first.", ""]
    if d.owned:
        lines.append(f"You own {len(d.owned)} failing finding(s):")
        lines.append("")
        for f in d.owned:
            lines += _item(f, cfg, ladder, as_of, result.links, escalated=False)
            lines.append("")
    if d.escalated:
        lines.append(f"{len(d.escalated)} finding(s) were escalated to you because they have "
                     "failed too long:")
        lines.append("")
        for f in d.escalated:
            lines += _item(f, cfg, ladder, as_of, result.links, escalated=True)
            lines.append("")
    lines += ["Each finding cites the evidence that decided it. When the evidence shows the "
              "fix, the next scan passes it; a finding that cannot be fixed in time needs an "
              "approved waiver.", "", "— aimscheck (automated message; do not reply with "
              "evidence, update the source systems)"]
    body = redact("\n".join(lines) + "\n")
    msg = EmailMessage()
    subject = cfg.subject.replace("{count}", str(d.count)).replace(
        "{organisation}", organisation)
    msg["From"] = cfg.sender
    msg["To"] = _who(d.person)
    if cfg.reply_to:
        msg["Reply-To"] = cfg.reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(parse_ts(as_of))
    domain = parseaddr(cfg.sender)[1].rpartition("@")[2] or "aimscheck.invalid"
    h = hashlib.sha256(f"{as_of}\n{d.person.id}\n{body}".encode()).hexdigest()[:32]
    msg["Message-ID"] = f"<aimscheck.{h}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Aimscheck-As-Of"] = as_of
    msg.set_content(body)
    return msg


def render_plan(digests: Sequence[Digest], unreachable: Sequence[str], *, mode: str) -> str:
    """One line per message (who, how many findings, the oldest)."""
    out = [f"aimscheck notify — {len(digests)} message(s) — {mode}"]
    for d in digests:
        oldest = (d.owned or d.escalated)[0]
        out.append(f"  {_who(d.person)}: {len(d.owned)} owned, {len(d.escalated)} escalated "
                   f"(oldest: {oldest.rule_id} {oldest.target}, since "
                   f"{(oldest.failing_since or '')[:10] or 'now'})")
    for u in unreachable:
        out.append(f"  cannot notify {u}")
    return "\n".join(out) + "\n"


def _file_name(d: Digest) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in d.person.id)
    return f"{safe}.eml"


def write_eml(digests: Sequence[Digest], folder: Path) -> list[Path]:
    """Write one ``.eml`` per message (CRLF line ends, as on the wire)."""
    from email import policy

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in digests:
        assert d.message is not None
        path = folder / _file_name(d)
        path.write_bytes(d.message.as_bytes(policy=policy.SMTP))
        paths.append(path)
    return paths


@dataclass
class Delivery:
    """What ``--send`` delivered."""

    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_attempted: list[str] = field(default_factory=list)


def smtp_password(smtp: SmtpConfig, base_dir: Path) -> str | None:
    """The password from ``password_file`` or ``password_env`` (registered as a secret).

    Raises:
        EvidenceUnavailable: E621 when a configured file is unreadable or empty, or a
            username is set but no password.
    """
    if smtp.password_file:
        path = Path(smtp.password_file)
        path = path if path.is_absolute() else base_dir / path
        try:
            value = path.read_text("utf-8-sig").strip()
        except OSError as exc:
            raise EvidenceUnavailable(Diagnostic("notify.smtp", 0, 0, "E621",
                                                 f"cannot read the SMTP password file {path}: "
                                                 f"{exc.strerror or exc}")) from None
        if not value:
            raise EvidenceUnavailable(Diagnostic("notify.smtp", 0, 0, "E621",
                                                 f"the SMTP password file {path} is empty"))
    else:
        value = os.environ.get(smtp.password_env, "").strip()
    if value:
        register_secret(value)
        return value
    return None


def send_smtp(digests: Sequence[Digest], smtp: SmtpConfig, base_dir: Path) -> Delivery:
    """Deliver each message; stop at the first failure and say who got theirs.

    Raises:
        ConfigError: a username without STARTTLS (credentials would travel in clear).
        EvidenceUnavailable: the password cannot be read.
    """
    user = os.environ.get(smtp.username_env, "").strip() if smtp.username_env else ""
    password = smtp_password(smtp, base_dir) if user else None
    if user and not smtp.starttls:
        raise ConfigError(Diagnostic("notify.smtp", 0, 0, "E620",
                                     "refusing to log in without STARTTLS",
                                     "set notify.smtp.starttls: true"))
    if user and not password:
        raise EvidenceUnavailable(Diagnostic(
            "notify.smtp", 0, 0, "E621", f"{smtp.username_env} is set but no password: set "
            f"{smtp.password_env} or notify.smtp.password_file"))
    out = Delivery()
    todo = [d for d in digests if d.message is not None]
    where = f"{smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as conn:
            conn.ehlo()
            if smtp.starttls:
                ca = None
                if smtp.ca_file:
                    ca = smtp.ca_file if Path(smtp.ca_file).is_absolute() else str(
                        base_dir / smtp.ca_file)
                conn.starttls(context=ssl.create_default_context(cafile=ca))
                conn.ehlo()
            if user and password:
                conn.login(user, password)
            for i, d in enumerate(todo):
                assert d.message is not None
                try:
                    conn.send_message(d.message)
                except (smtplib.SMTPException, OSError) as exc:
                    out.failed.append(f"{_who(d.person)}: {redact(_one(exc))}")
                    out.not_attempted = [_who(x.person) for x in todo[i + 1:]]
                    return out
                out.sent.append(_who(d.person))
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        done = set(out.sent) | {x.split(":")[0] for x in out.failed}
        rest = [_who(x.person) for x in todo if _who(x.person) not in done]
        if rest and not out.failed:
            out.failed.append(f"{rest[0]}: SMTP {where}: {redact(_one(exc))}")
            out.not_attempted = rest[1:]
    return out


def _one(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]
