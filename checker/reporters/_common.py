"""Helpers shared by the reporters for people: verdicts, readiness, worklists, locations."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.findings import FAILING, CoverageRow, Finding, OwnerRef, ScanResult

__all__ = [
    "CauseGroup",
    "ClauseGroup",
    "FactGroup",
    "Readiness",
    "Worklist",
    "by_cause",
    "clause_groups",
    "config_path",
    "definition_site",
    "fact_groups",
    "failing",
    "neutralise",
    "neutralise_document",
    "neutralise_lines",
    "readiness",
    "readiness_pct",
    "repo_path",
    "repo_root",
    "summary_line",
    "verdict",
    "who",
    "worklists",
]


_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(_CSV_TRIGGERS) else value


#: ``path/to/file.ext:LINE`` — a locator that points at a line of a file.
_FILE_LINE = re.compile(r"^(?P<path>[^\s:]+\.[A-Za-z0-9]+):(?P<line>[1-9][0-9]*)$")


#: Characters a terminal, an editor or a log viewer acts on instead of showing: C0 controls
#: (ESC starts a terminal escape sequence, CR rewinds the line, NUL truncates), DEL, C1
#: controls, line/paragraph separators and bidirectional overrides. Tab is kept.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e"
                      "\u2066-\u2069]")
_CONTROL_IN_DOCUMENT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
                                  "\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def neutralise(text: str) -> str:
    r"""Show control characters in evidence text as visible escapes (``\x1b``).

    A value holding ESC sequences, NUL, CR or LF could otherwise repaint a terminal, hide
    text or forge a line of the report (``PASS: …``) in every human-readable format.
    """
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def neutralise_lines(lines: list[str]) -> str:
    """Join report lines with newlines, each line neutralised (its own newlines included)."""
    return "\n".join(neutralise(line) for line in lines) + "\n"


def neutralise_document(text: str) -> str:
    """Neutralise control characters in a whole document, keeping its tabs and newlines.

    For formats whose own markup makes a newline harmless (HTML): everything else that a
    viewer could act on is shown as an escape.
    """
    return _CONTROL_IN_DOCUMENT.sub(_escape, text)


def verdict(result: ScanResult) -> str:
    """PASS/FAIL/ERROR (or RELEASE/BLOCK for a gate) from the exit code."""
    if result.mode == "gate":
        return {0: "RELEASE", 1: "BLOCK", 3: "BLOCK (evidence incomplete)"}.get(
            result.exit_code, "BLOCK")
    return {0: "PASS", 1: "FAIL", 3: "ERROR (evidence incomplete)"}.get(
        result.exit_code, "ERROR")


def summary_line(result: ScanResult) -> str:
    """The one-line summary every scan ends with (text report, and stderr for any format)."""
    summ = result.summary
    owners = summ.get("owners", 0)
    return (f"{verdict(result)}: {summ.get('total', 0)} findings — {summ.get('pass', 0)} pass, "
            f"{summ.get('fail', 0)} fail, {summ.get('error', 0)} error, "
            f"{summ.get('warn', 0)} warn, "
            + (f"{summ['waived']} waived, " if summ.get("waived") else "")
            + f"{summ.get('not_applicable', 0)} n/a; {owners} "
            f"{'person' if owners == 1 else 'people'} must act "
            f"(fail-on {result.fail_on}, exit {result.exit_code})")


def who(o: OwnerRef | None) -> str:
    """``Name <email>`` (or the name, or ``none``)."""
    if o is None:
        return "none"
    return f"{o.name} <{o.email}>" if o.email else o.name


def _finding_key(f: Finding) -> tuple[int, str, str]:
    return (-f.severity.rank, f.rule_id, f.target)


def failing(result: ScanResult) -> list[Finding]:
    """Failing findings (fail, error) by severity, then rule, then target."""
    return sorted((f for f in result.findings if f.status in FAILING), key=_finding_key)


def definition_site(f: Finding, result: ScanResult | None = None) -> tuple[str, int] | None:
    """Where the finding's subject is defined, as ``(path, line)``.

    The subject's own locator from the accountability matrix when it is a ``path:line``
    (a register entry), else the first ``path:line`` evidence locator.
    """
    if result is not None:
        key = f.target
        for row in result.matrix:
            if row.key == key:
                m = _FILE_LINE.match(row.locator)
                if m:
                    return m["path"], int(m["line"])
                break
    for loc in f.evidence:
        m = _FILE_LINE.match(loc)
        if m:
            return m["path"], int(m["line"])
    return None


def repo_root(result: ScanResult) -> Path | None:
    """The repository root: ``--sarif-root`` if given, else the git work tree of the config.

    The work tree is found the way git finds it: the nearest folder upwards from the config
    file that holds ``.git`` (a folder, or a file in a worktree or submodule). None when the
    config is not in a repository (then paths stay relative to the config folder).
    """
    if result.repo_root is not None:
        return result.repo_root.resolve()
    if result.config_file is None:
        return None
    here = result.config_file.resolve().parent
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def repo_path(result: ScanResult, path: str) -> str:
    """A config-relative evidence path as a POSIX path relative to the repository root.

    Code-scanning services resolve result paths against the repository root, not the
    config folder. Without a known config or root, or for a file outside the root, the
    path is returned unchanged (relative to the config folder).
    """
    root = repo_root(result)
    if result.config_file is None or root is None:
        return path
    full = result.config_file.resolve().parent / path
    rel = os.path.relpath(full, root)
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        return path
    return Path(rel).as_posix()


def config_path(result: ScanResult) -> str | None:
    """The config file relative to the repository root (None when unknown or outside)."""
    if result.config_file is None:
        return None
    root = repo_root(result)
    name = result.config_file.name
    return repo_path(result, name) if root is not None else name


@dataclass
class Readiness:
    """One coverage row with the counts of findings that cite it."""

    row: CoverageRow
    passed: int = 0
    failed: int = 0
    warned: int = 0

    @property
    def checked(self) -> int:
        """Findings that decided something (pass, warn, fail, error)."""
        return self.passed + self.failed + self.warned


def readiness(result: ScanResult) -> list[Readiness]:
    """Each coverage row with pass/warn/fail counts from the findings' ISO 42001 references."""
    rows = {r.id: Readiness(r) for r in result.coverage}
    for f in result.findings:
        for ref in f.references.get("iso42001", []):
            rd = rows.get(ref)
            if rd is None:
                continue
            if f.status == "pass":
                rd.passed += 1
            elif f.status == "warn":
                rd.warned += 1
            elif f.status in FAILING:
                rd.failed += 1
    for info, n in result.passes_by_rule():
        for ref in info.references.get("iso42001", []):
            rd = rows.get(ref)
            if rd is not None:
                rd.passed += n
    return list(rows.values())


@dataclass
class ClauseGroup:
    """A top-level clause (``5``) or Annex A objective (``A.3``) and its readiness."""

    id: str
    family: str
    passed: int = 0
    failed: int = 0
    automated: int = 0
    partial: int = 0
    manual: int = 0

    @property
    def ratio(self) -> float | None:
        """Share of checked findings that hold (None when nothing was checked)."""
        n = self.passed + self.failed
        return self.passed / n if n else None


def _group_id(ref: str) -> str:
    parts = ref.split(".")
    return ".".join(parts[:2]) if ref.startswith("A.") else parts[0]


def clause_groups(rows: list[Readiness]) -> list[ClauseGroup]:
    """Readiness rolled up to clauses 4–10 and Annex A objectives A.2–A.10."""
    out: dict[str, ClauseGroup] = {}
    for rd in rows:
        gid = _group_id(rd.row.id)
        g = out.setdefault(gid, ClauseGroup(gid, rd.row.family))
        g.passed += rd.passed + rd.warned
        g.failed += rd.failed
        setattr(g, rd.row.status, getattr(g, rd.row.status) + 1)
    return list(out.values())


@dataclass
class Worklist:
    """What one named person must fix."""

    owner: OwnerRef
    items: list[Finding] = field(default_factory=list)

    @property
    def rows(self) -> list[Finding | FactGroup]:
        """The items with this person's findings of one cause folded into one group.

        One row per fact (naming the rules it fails and its one fix), every other finding
        a row of its own; in the order of ``items`` (a group stands where its most severe
        finding stood). Every item appears exactly once.
        """
        return fact_groups(self.items)

    @property
    def counts(self) -> str:
        """``9 findings, 6 to fix (4 from one shared cause)``: findings, rows, and why fewer.

        The first figure counts findings (as JSON, JUnit and SARIF do); the second counts
        the rows, each one thing to fix.
        """
        n = len(self.items)
        text = f"{n} finding{'s' if n != 1 else ''}"
        groups = [r for r in self.rows if isinstance(r, FactGroup)]
        if not groups:
            return text
        shared = sum(len(g.findings) for g in groups)
        k = len(groups)
        why = ("one shared cause" if k == 1 else f"{k} shared causes")
        return f"{text}, {n - shared + k} to fix ({shared} from {why})"


#: The message of an ``error`` finding whose evidence was incomplete (``checker.engine``).
_INCOMPLETE = re.compile(r"^evidence incomplete \([^)]*\): (?P<cause>.+)$", re.DOTALL)


@dataclass(frozen=True)
class CauseGroup:
    """Every ``error`` finding one broken source caused: the cause once, then the findings."""

    cause: str
    findings: tuple[Finding, ...]

    @property
    def rules(self) -> list[str]:
        """The rules affected, sorted."""
        return sorted({f.rule_id for f in self.findings})


def by_cause(findings: list[Finding]) -> tuple[list[Finding], list[CauseGroup]]:
    """Split failing findings: the others, and the evidence-incomplete errors by cause.

    One HR column typo makes hundreds of findings ``error`` with the same cause; the
    reports for people name the cause once and count what it affects (JSON, JUnit and
    SARIF keep every finding).
    """
    rest: list[Finding] = []
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        m = _INCOMPLETE.match(f.message) if f.status == "error" else None
        if m is None:
            rest.append(f)
        else:
            groups.setdefault(m["cause"], []).append(f)
    return rest, [CauseGroup(c, tuple(fs)) for c, fs in groups.items()]


@dataclass(frozen=True)
class FactGroup:
    """Failing findings on one subject caused by one underlying fact (their ``cause``).

    The reports for people print the fact once, with the rules it fails and its fix;
    ``findings`` are by severity, then rule (the first is the lead: its owner acts).
    """

    cause: str
    text: str
    findings: tuple[Finding, ...]

    @property
    def lead(self) -> Finding:
        """The most severe finding: its owner, deputy and target stand for the group."""
        return self.findings[0]

    @property
    def target(self) -> str:
        """The subject (``kind/id``)."""
        return self.lead.target

    @property
    def remediation(self) -> str:
        """The fix of the fact (every finding of the group carries it)."""
        return self.lead.remediation

    @property
    def evidence(self) -> tuple[str, ...]:
        """The evidence locators of every finding, first seen first."""
        return tuple(dict.fromkeys(e for f in self.findings for e in f.evidence))

    @property
    def deputies(self) -> tuple[OwnerRef, ...]:
        """The deputies of the findings, each once, first seen first."""
        return tuple({f.deputy.id: f.deputy for f in self.findings
                      if f.deputy is not None}.values())

    @property
    def escalated_to(self) -> tuple[OwnerRef, ...]:
        """Whom the findings were escalated to, each once, first seen first."""
        return tuple({f.escalated_to.id: f.escalated_to for f in self.findings
                      if f.escalated_to is not None}.values())

    @property
    def rules(self) -> str:
        """``AIMS-IDN-001 (high), AIMS-OWN-003 (high, good practice), …``."""
        return ", ".join(f"{f.rule_id} ({f.severity}"
                         + (", good practice" if f.good_practice else "") + ")"
                         for f in self.findings)


def fact_groups(findings: list[Finding]) -> list[Finding | FactGroup]:
    """Findings with their shared causes folded: one :class:`FactGroup` per cause.

    A cause shared by two or more findings becomes one group, at the place of its first
    finding; everything else stays as it is, in order. Every finding appears exactly once.
    """
    by: dict[str, list[Finding]] = {}
    for f in findings:
        if f.cause:
            by.setdefault(f.cause, []).append(f)
    out: list[Finding | FactGroup] = []
    done: set[str] = set()
    for f in findings:
        fs = by.get(f.cause) if f.cause else None
        if fs is None or len(fs) < 2:
            out.append(f)
        elif f.cause not in done:
            assert f.cause is not None
            done.add(f.cause)
            ordered = tuple(sorted(fs, key=_finding_key))
            out.append(FactGroup(f.cause, ordered[0].cause_text or f.cause, ordered))
    return out


def worklists(result: ScanResult, findings: list[Finding] | None = None) -> list[Worklist]:
    """Failing findings per finding owner: most items first, each list by severity, rule.

    Findings carry no dates, so "oldest first" falls back to severity, then rule id.
    ``findings`` (default: every failing finding) chooses which ones are listed.
    """
    by: dict[str, Worklist] = {}
    for f in failing(result) if findings is None else findings:
        by.setdefault(f.owner.id, Worklist(f.owner)).items.append(f)
    return sorted(by.values(), key=lambda w: (-len(w.items), w.owner.name, w.owner.id))


def group_by_rule(findings: list[Finding]) -> dict[str, list[Finding]]:
    """Findings by rule id, keys sorted."""
    out: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        out[f.rule_id].append(f)
    return dict(sorted(out.items()))


def readiness_pct(summary: dict[str, Any]) -> float:
    """``(pass + warn) / (total − not_applicable)`` in %, as the scan history computes it."""
    applicable = int(summary.get("total", 0)) - int(summary.get("not_applicable", 0))
    ok = int(summary.get("pass", 0)) + int(summary.get("warn", 0))
    return round(100.0 * ok / applicable, 2) if applicable else 100.0
