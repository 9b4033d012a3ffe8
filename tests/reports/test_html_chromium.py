"""The HTML self-assessment opened in headless Chromium (Debian's `chromium`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from checker.findings import HistoryPoint, ScanResult
from checker.reporters.html import HtmlReporter

from .conftest import HOSTILE, JIRA_URL

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
    # Every host name fails to resolve: a request to anywhere shows up as an error.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr", "--v=0",
]


#: Chromium's own background services (time sync, updates, account check): they are
#: the browser's requests, not the page's, and fail anyway under the resolver rule above.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")


def page_requests(netlog: Path) -> set[str]:
    """URLs in a Chromium net log other than the browser's own background services."""
    urls = set(re.findall(r'"url":"([^"]+)"', netlog.read_text("utf-8", errors="replace")))
    out = set()
    for u in urls:
        parts = urlsplit(u)
        if parts.scheme in ("file", "data", "about", "chrome", "blob"):
            continue
        host = parts.hostname or ""
        if any(host == h or host.endswith("." + h) for h in BROWSER_HOSTS):
            continue
        out.add(u)
    return out


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed; `make system-deps` installs Debian's package")
    return exe


def run_chromium(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", *extra,
         page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def page(hostile_result: ScanResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = hostile_result.model_copy(update={"history": (
        HistoryPoint(as_of="2026-09-30T00:00:00Z", readiness=88.5, failing=25, total=280),
        HistoryPoint(as_of="2026-10-31T00:00:00Z", readiness=91.0, failing=21, total=285),
        HistoryPoint(as_of="2026-11-30T00:00:00Z", readiness=93.4, failing=19, total=290))})
    out = tmp_path_factory.mktemp("html") / "report.html"
    out.write_text(HtmlReporter().render(result), "utf-8")
    return out


def test_page_is_self_contained(page: Path) -> None:
    html = page.read_text("utf-8")
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"\bsrc\s*=", html, re.I)
    assert "@import" not in html
    assert "url(" not in html
    # the only external URLs are evidence links a person may follow
    hrefs = re.findall(r'href="(https?://[^"]*)"', html)
    assert hrefs == [JIRA_URL]
    assert "javascript:" not in html


def test_dom_in_chromium(page: Path, tmp_path: Path) -> None:
    netlog = tmp_path / "netlog.json"
    res = run_chromium(page, tmp_path, "--dump-dom", f"--log-net-log={netlog}")
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    # the page loaded, with its sections
    for anchor in ('id="clause-table"', 'id="annex-a-table"', 'id="worklist"',
                   'id="matrix-table"', 'id="findings-table"', 'id="readiness-chart"',
                   'id="history-chart"'):
        assert anchor in dom, anchor
    assert 'data-id="5.3"' in dom
    assert 'data-id="A.3.2"' in dom
    assert 'data-owner="NW-1003"' in dom
    # the hostile Jira summary is text, never an element
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<b>ops</b>" not in dom
    # no console messages and no network activity
    log = res.stderr
    assert "CONSOLE" not in log, log[-2000:]
    assert netlog.exists()
    assert page_requests(netlog) == set()


def test_request_detection_catches_an_external_image(tmp_path: Path) -> None:
    """Negative control: the same harness sees a page's request and its console error."""
    bad = tmp_path / "bad.html"
    bad.write_text('<p>x</p><img src="https://cdn.example.net/x.png">'
                   '<script>console.error("boom")</script>', "utf-8")
    netlog = tmp_path / "netlog.json"
    res = run_chromium(bad, tmp_path, "--dump-dom", f"--log-net-log={netlog}")
    assert "https://cdn.example.net/x.png" in page_requests(netlog)
    assert "CONSOLE" in res.stderr


def test_screenshot(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    res = run_chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,1800",
                       "--hide-scrollbars")
    assert res.returncode == 0, res.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    assert "CONSOLE" not in res.stderr


def test_hostile_text_is_escaped_in_source(page: Path) -> None:
    html = page.read_text("utf-8")
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
