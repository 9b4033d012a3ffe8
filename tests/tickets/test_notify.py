"""``aimscheck notify`` against a loopback SMTP server (aiosmtpd, STARTTLS + AUTH)."""

from __future__ import annotations

import email
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import Runner

from .conftest import TOKEN

USER = "aims-mailer"
PASSWORD = "canary-SMTP-PASSWORD-91c2e7"  # a test canary


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[tuple[list[str], bytes]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    """A STARTTLS-only SMTP server with AUTH on loopback; yields (inbox, port, CA file)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    inbox = Inbox()

    def auth(server: Any, session: Any, envelope: Any, mechanism: str,
             data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and data.login.decode() == USER
              and data.password.decode() == PASSWORD)
        if ok:
            inbox.logins.append(data.login.decode())
        return AuthResult(success=ok)

    port = _free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=ctx,
                     require_starttls=True, authenticator=auth, auth_require_tls=True,
                     auth_required=True)
    ctl.start()
    try:
        yield inbox, port, ca_file
    finally:
        ctl.stop()


def _config(demo: Path, port: int, ca_file: Path) -> None:
    demo.write_text(demo.read_text("utf-8") + f"""
notify:
  sender: "AI governance <aims@northwind.example>"
  fix_days_by_rule: {{AIMS-OWN-002: 3}}
  smtp: {{host: 127.0.0.1, port: {port}, ca_file: {ca_file},
          username_env: TEST_SMTP_USER, password_file: smtp-password.txt,
          timeout_seconds: 10}}
escalation:
  - {{after_days: 30, to: manager}}
""", "utf-8")
    (demo.parent / "smtp-password.txt").write_text(PASSWORD + "\n", "utf-8")


def _owners(run_cli: Runner, demo: Path) -> dict[str, set[str]]:
    p = run_cli("scan", "-c", demo, "--as-of", "2026-11-30", "-f", "json")
    out: dict[str, set[str]] = {}
    for f in json.loads(p.stdout)["findings"]:
        if f["status"] in ("fail", "error"):
            out.setdefault(f["owner"]["email"], set()).add(
                f"{f['rule_id']} {f['target_kind']}/{f['target_id']}")
    return out


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_notify_delivers_one_message_per_owner_with_their_findings(
        run_cli: Runner, demo: Path, env: dict[str, str],
        smtp: tuple[Inbox, int, Path]) -> None:
    inbox, port, ca_file = smtp
    _config(demo, port, ca_file)
    env = {**env, "TEST_SMTP_USER": USER}
    # no history: nobody is escalated, so the recipients are exactly the owners
    dry = run_cli("notify", "-c", demo, "--as-of", "2026-11-30", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout
    assert inbox.messages == []
    owners = _owners(run_cli, demo)
    p = run_cli("--debug", "notify", "-c", demo, "--as-of", "2026-11-30", "--send", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert inbox.logins == [USER]
    assert len(inbox.messages) == len(owners) > 5
    seen = set()
    for rcpts, raw in inbox.messages:
        assert len(rcpts) == 1
        to = rcpts[0]
        seen.add(to)
        msg = _parse(raw)
        assert msg["To"].addresses[0].addr_spec == to
        body = msg.get_content()
        for email_, items in owners.items():
            for item in items:
                assert (item in body) == (email_ == to), (to, item)
        assert "how to fix:" in body
        assert "fix by " in body
    assert seen == set(owners)
    everything = b"".join(raw for _, raw in inbox.messages).decode("utf-8", "replace")
    for secret in (PASSWORD, TOKEN):
        assert secret not in everything
        assert secret not in p.stdout + p.stderr + dry.stdout + dry.stderr


def test_eml_files_are_oldest_first_and_byte_identical(
        run_cli: Runner, demo: Path, env: dict[str, str], tmp_path: Path,
        smtp: tuple[Inbox, int, Path]) -> None:
    _, port, ca_file = smtp
    _config(demo, port, ca_file)
    for day in ("2026-10-01", "2026-11-30"):
        assert run_cli("scan", "-c", demo, "--as-of", day, "--record", "-f", "json", "-o",
                       tmp_path / f"{day}.json").returncode in (0, 1, 3)
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        p = run_cli("notify", "-c", demo, "--as-of", "2026-11-30", "--eml", out, env=env)
        assert p.returncode == 0, p.stderr
    files = sorted(x.name for x in a.iterdir())
    assert files == sorted(x.name for x in b.iterdir())
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in files)
    escalated = 0
    for n in files:
        msg = _parse((a / n).read_bytes())
        assert msg["Date"]
        assert msg["Message-ID"]
        assert msg["From"]
        body = msg.get_content()
        owned = body.split("were escalated to you")[0]
        dates = [ln.split()[2] for ln in owned.splitlines()
                 if ln.startswith("  failing since ")]
        assert dates == sorted(dates)
        escalated += "were escalated to you" in body
    assert "2026-10-01" in "".join((a / n).read_text("utf-8") for n in files)
    assert escalated >= 1  # managers get what has failed 30+ days
    daniel = next((a / n).read_text("utf-8") for n in files
                  if "daniel.okafor@" in _parse((a / n).read_bytes())["To"])
    item = _parse(daniel.encode()).get_content().split(
        "AIMS-OWN-002 ai_system/support-chatbot")[1]
    assert "fix by 2026-10-04 (3 days, the deadline set for AIMS-OWN-002) — OVERDUE" in item


def test_a_wrong_password_is_reported_without_the_password(
        run_cli: Runner, demo: Path, env: dict[str, str],
        smtp: tuple[Inbox, int, Path]) -> None:
    inbox, port, ca_file = smtp
    _config(demo, port, ca_file)
    (demo.parent / "smtp-password.txt").write_text("canary-WRONG-pass-5521\n", "utf-8")
    p = run_cli("notify", "-c", demo, "--as-of", "2026-11-30", "--send",
                env={**env, "TEST_SMTP_USER": USER})
    assert p.returncode == 3
    assert "FAILED" in p.stdout
    assert "not sent" in p.stdout
    assert inbox.messages == []
    assert "canary-WRONG-pass-5521" not in p.stdout + p.stderr
