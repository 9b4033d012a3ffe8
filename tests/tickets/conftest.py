"""Fixtures of the close-the-loop tests: a demo copy with a tickets section, a Jira server."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DEMO

from .jira_server import JiraServer, serve

EMAIL = "aimscheck-bot@northwind.example"
TOKEN = "canary-JIRA-TOKEN-7f3a9c1e5b"
#: An HR person whose Jira account the server does not know (cannot be assigned).
NOT_IN_JIRA = "zoe.mueller@northwind.example"


def hr_accounts(base: Path) -> dict[str, tuple[str, str]]:
    """email -> (accountId, name) from the demo HR export."""
    out = {}
    with (base / "hr" / "people.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["jira_account_id"]:
                out[row["work_email"]] = (row["jira_account_id"],
                                          f"{row['first_name']} {row['last_name']}")
    return out


TICKETS_YAML = """
tickets:
  project: AIMS
  issue_type: Task
  done_status: Done
  connection:
    site: {site}
    auth: {{email_env: TEST_JIRA_EMAIL, token_file: jira-token.txt}}
    timeout_seconds: 5
    retry: {{max_attempts: 4, backoff_initial_seconds: 0, backoff_max_seconds: 0,
             max_total_seconds: 20, retry_after_max_seconds: 1}}
"""


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    """A running Jira-shaped server knowing every demo HR account but one."""
    users = {acc: name for email, (acc, name) in hr_accounts(DEMO).items()
             if email != NOT_IN_JIRA}
    with serve(JiraServer(email=EMAIL, token=TOKEN, users=users)) as state:
        yield state


@pytest.fixture
def demo(tmp_path: Path, jira: JiraServer) -> Path:
    """A copy of the demo whose config files tickets in ``jira``; returns the config path."""
    base = tmp_path / "demo"
    shutil.copytree(DEMO, base, ignore=shutil.ignore_patterns(".aimscheck-history.sqlite"))
    cfg = base / "aimscheck.yaml"
    cfg.write_text(cfg.read_text("utf-8") + TICKETS_YAML.format(site=jira.url), "utf-8")
    (base / "jira-token.txt").write_text(TOKEN + "\n", "utf-8")
    return cfg


@pytest.fixture
def env() -> dict[str, str]:
    """The environment of the CLI runs."""
    return {"TEST_JIRA_EMAIL": EMAIL}
