"""The bad-input corpus: every file format the tool reads, broken in the ways real files are.

Each case mutates one file of a copy of the demo organisation (or writes a rule file into
a pack) and asserts the exact diagnostic code, the ``file:line`` and the exit code. A
traceback anywhere is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import AS_OF, DEMO, REPO, Runner

GOOD_RULE = (REPO / "rules" / "iso42001" / "AIMS-OWN-002.yaml").read_text("utf-8")
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi",
                                                              strict=True))


@dataclass(frozen=True)
class Case:
    """One broken input."""

    id: str
    file: str  # relative to the demo folder, or "rule" for a rule file in a pack
    mutate: Callable[[bytes], bytes]
    exit: int
    code: str | None  # None: no diagnostic expected (a valid edge case)
    loc: str | Callable[[bytes], str] | None = None  # "file:line" that must be named
    args: tuple[str, ...] = ()  # extra scan arguments; "{root}" is the org folder
    setup: Callable[[Path], object] | None = None  # run on the org folder after mutating
    forbid: tuple[str, ...] = ()  # texts that must not appear in the output

    def __str__(self) -> str:
        return self.id


def line_of(file: str, needle: str) -> Callable[[bytes], str]:
    """``file:N`` where N is the line of ``needle`` in the mutated file."""
    def f(data: bytes) -> str:
        lines = data.decode("utf-8-sig").splitlines()
        return f"{file}:{next(i for i, ln in enumerate(lines, 1) if needle in ln)}"
    return f


def last_line(file: str) -> Callable[[bytes], str]:
    """``file:N`` for the last line of the mutated file."""
    return lambda data: f"{file}:{len(data.decode('utf-8-sig').splitlines())}"


def text(f: Callable[[str], str]) -> Callable[[bytes], bytes]:
    return lambda b: f(b.decode("utf-8-sig")).encode("utf-8")


def replace(old: str, new: str, count: int = 1) -> Callable[[bytes], bytes]:
    def f(s: str) -> str:
        assert old in s, f"corpus fixture drifted: {old!r} not found"
        return s.replace(old, new, count)
    return text(f)


def set_line(n: int, line: str) -> Callable[[bytes], bytes]:
    def f(s: str) -> str:
        lines = s.splitlines()
        lines[n - 1] = line
        return "\n".join(lines) + "\n"
    return text(f)


def csv_cell(n: int, column: str, value: str) -> Callable[[bytes], bytes]:
    def f(s: str) -> str:
        lines = s.splitlines()
        header = lines[0].split(",")
        row = lines[n - 1].split(",")
        row[header.index(column)] = value
        lines[n - 1] = ",".join(row)
        return "\n".join(lines) + "\n"
    return text(f)


def append(extra: str) -> Callable[[bytes], bytes]:
    return text(lambda s: s.rstrip("\n") + "\n" + extra)


def const(data: bytes) -> Callable[[bytes], bytes]:
    return lambda _b: data


def latin1(b: bytes) -> bytes:
    return b.decode("utf-8-sig").encode("latin-1", errors="replace") + "Zoë\n".encode("latin-1")


def bom(b: bytes) -> bytes:
    return b"\xef\xbb\xbf" + b.removeprefix(b"\xef\xbb\xbf")


def rule(f: Callable[[str], str]) -> Callable[[bytes], bytes]:
    return lambda _b: f(GOOD_RULE).encode("utf-8")


HR, LMS, REG, CFG = "hr/people.csv", "training/completions.csv", "register.yaml", "aimscheck.yaml"
APR, REV, LEAVE = "evidence/approvals.jsonl", "evidence/reviews.jsonl", "hr/leave.csv"
R = "AIMS-OWN-002.yaml"

CASES: list[Case] = [
    # ---- rule files (aimscheck rules validate PACK) -----------------------------------
    Case("rule-empty", "rule", const(b""), 2, "E107", f"{R}:1"),
    Case("rule-whitespace-only", "rule", const(b"   \n\n"), 2, "E107", f"{R}:1"),
    Case("rule-latin1", "rule", lambda _b: GOOD_RULE.replace("title: Every", "title: Évery")
         .encode("latin-1"), 2, "E101", R),
    Case("rule-bom-is-fine", "rule", lambda b: b"\xef\xbb\xbf" + GOOD_RULE.encode(), 0, None),
    Case("rule-nul-bytes", "rule", const(b"id: AIMS-OWN-002\x00\n"), 2, "E101", R),
    Case("rule-duplicate-key", "rule", rule(lambda s: s + "severity: low\n"), 2, "E102",
         f"{R}:21"),
    Case("rule-billion-laughs", "rule", rule(lambda s: s + BOMB), 2, "E103", R),
    Case("rule-merge-key", "rule", rule(lambda s: s + "x: &x {a: 1}\ny:\n  <<: *x\n"), 2,
         "E103", R),
    Case("rule-syntax-error", "rule", rule(lambda s: s.replace("applies_to: [", "applies_to: [[")),
         2, "E100", R),
    Case("rule-tab-indent", "rule",
         rule(lambda s: s.replace("  - owner_assigned", "\t- owner_assigned")), 2, "E100", R),
    Case("rule-top-level-list", "rule", const(b"- id: AIMS-OWN-002\n"), 2, "E115", f"{R}:1"),
    Case("rule-severity-wrong-type", "rule", rule(lambda s: s.replace("severity: medium",
                                                                       "severity: 5")),
         2, "E110", f"{R}:7"),
    Case("rule-missing-remediation", "rule", rule(lambda s: s.split("remediation:")[0]), 2, "E112",
         R),
    Case("rule-unknown-key", "rule", rule(lambda s: s + "owner: team-ai\n"), 2, "E111",
         f"{R}:21"),
    Case("rule-unknown-check", "rule", rule(lambda s: s.replace("owner_assigned:",
                                                                 "owner_asigned:")),
         2, "E201", f"{R}:16"),
    Case("rule-arg-wrong-type", "rule", rule(lambda s: s.replace("{roles: [primary, backup]}",
                                                                  "{roles: primary}")),
         2, "E203", f"{R}:17"),
    Case("rule-arg-unknown", "rule", rule(lambda s: s.replace("{role: backup}",
                                                               "{role: backup, strict: true}")),
         2, "E203", f"{R}:16"),
    Case("rule-bad-iso-ref", "rule", rule(lambda s: s.replace('"A.3.2"', '"A.6.1.1"')), 2,
         "E207", f"{R}:10"),
    Case("rule-nonexistent-clause", "rule", rule(lambda s: s.replace('"A.3.2"', '"10.3"')), 2,
         "E207", f"{R}:10"),
    Case("rule-id-not-file-name", "rule", rule(lambda s: s.replace("id: AIMS-OWN-002",
                                                                    "id: AIMS-OWN-099")),
         2, "E202", f"{R}:1"),
    Case("rule-id-path-separator", "rule", rule(lambda s: s.replace("id: AIMS-OWN-002",
                                                                     "id: ../AIMS-OWN-002")),
         2, "E110", f"{R}:1"),
    Case("rule-unknown-param", "rule", rule(lambda s: s.replace("{role: backup}",
                                                                 "{role: '${backup_role}'}")),
         2, "E205", f"{R}:16"),
    Case("rule-two-checks-one-condition", "rule",
         rule(lambda s: s.replace("  - owner_assigned: {role: backup}\n",
                                  "  - owner_assigned: {role: backup}\n    owner_active: {}\n")),
         2, "E114", f"{R}:16"),
    Case("rule-very-long-line", "rule", rule(lambda s: s.replace(
        "title: Every", "title: " + "x" * 200_000 + " Every")), 2, "E110", f"{R}:2"),
    Case("rule-impossible-date", "rule", rule(lambda s: s + "params: {since: 2026-02-30}\n"), 2,
         "E100", f"{R}:21"),
    # ---- config (aimscheck scan -c) -----------------------------------------------------
    Case("config-empty", CFG, const(b""), 2, "E107", f"{CFG}:1"),
    Case("config-latin1", CFG, latin1, 2, "E101", CFG),
    Case("config-unknown-key", CFG, replace("fail_on: low", "fail_on: low\nfial_on: high"), 2,
         "E111", line_of(CFG, "fial_on")),
    Case("config-missing-executive", CFG,
         replace("accountable_executive: helena.vogt@northwind.example\n", ""), 2, "E112", CFG),
    Case("config-unknown-adapter", CFG, replace("adapter: lms_csv", "adapter: lms_cvs"), 2,
         "E121", CFG),
    Case("config-adapter-unknown-key", CFG, replace("path: register.yaml",
                                                    "path: register.yaml\n    strict: yes"),
         2, "E111", CFG),
    Case("config-fail-on-wrong", CFG, replace("fail_on: low", "fail_on: extreme"), 2, "E113",
         line_of(CFG, "fail_on: extreme")),
    Case("config-duplicate-key", CFG, replace("fail_on: low", "fail_on: low\nfail_on: high"), 2,
         "E102", line_of(CFG, "fail_on: high")),
    Case("config-unknown-rule-override", CFG, replace("AIMS-RSK-001:", "AIMS-RSK-999:"), 2,
         "E208", CFG),
    Case("config-unknown-param-override", CFG, replace("{cadence_days: 90}", "{cadense_days: 90}"),
         2, "E205", CFG),
    Case("config-param-wrong-type", CFG, replace("{cadence_days: 90}",
                                                 "{cadence_days: quarterly}"), 2, "E203", CFG),
    Case("config-billion-laughs", CFG, append(BOMB), 2, "E103", CFG),
    Case("config-top-level-list", CFG, const(b"- organisation: x\n"), 2, "E115", f"{CFG}:1"),
    Case("config-runaway-source-limit", CFG, replace(
        "production_aliases: [production, champion]",
        "production_aliases: [production, champion]\n  max_records_per_source: 10"), 3, "E313",
        "hr/people.csv:12"),
    Case("config-version-2", CFG, replace("version: 1", "version: 2"), 2, "E113",
         line_of(CFG, "version: 2")),
    # ---- register YAML -----------------------------------------------------------------
    Case("register-duplicate-id", REG, replace("  - id: fraud-detection",
                                               "  - id: credit-scoring"), 3, "E306", REG),
    Case("register-unknown-section", REG, append("agents:\n  - {id: a, name: A}\n"), 3, "E307",
         REG),
    Case("register-missing-name", REG, replace("    name: Card transaction fraud detection\n",
                                               ""), 3, "E305", REG),
    Case("register-impossible-date", REG, replace("from: 2025-04-01", "from: 2025-04-31"), 3,
         "E100", line_of(REG, "2025-04-31")),
    Case("register-empty", REG, const(b""), 3, "E107", REG),
    Case("register-billion-laughs", REG, append(BOMB), 3, "E103", REG),
    Case("register-duplicate-key", REG, replace("    risk_tier: high\n",
                                                "    risk_tier: high\n    risk_tier: low\n"),
         3, "E102", line_of(REG, "risk_tier: low")),
    Case("register-owners-not-mapping", REG,
         replace("    owners:\n      primary: fatima.alsayed@northwind.example\n",
                 "    owners:\n      - fatima.alsayed@northwind.example\n    other:\n"
                 "      primary: fatima.alsayed@northwind.example\n"), 3, "E308", REG),
    Case("register-id-path-separator", REG, replace("  - id: fraud-detection",
                                                    "  - id: ../../etc/passwd"), 3, "E308", REG),
    Case("register-latin1", REG, latin1, 3, "E101", REG),
    # ---- HR CSV --------------------------------------------------------------------------
    Case("hr-missing-column", HR, text(lambda s: s.replace("work_email", "mail", 1)), 3, "E301",
         f"{HR}:1"),
    Case("hr-bad-date", HR, csv_cell(4, "hire_date", "2023-13-45"), 3, "E303", f"{HR}:4"),
    Case("hr-impossible-date", HR, csv_cell(5, "hire_date", "2023-02-30"), 3, "E303", f"{HR}:5"),
    Case("hr-date-before-1970", HR, csv_cell(6, "hire_date", "1899-12-31"), 3, "E303",
         f"{HR}:6"),
    Case("hr-unknown-status", HR, csv_cell(7, "employment_status", "Sabbatical"), 3, "E304",
         f"{HR}:7"),
    Case("hr-duplicate-id", HR, csv_cell(8, "employee_id", "NW-1001"), 3, "E306", f"{HR}:8"),
    Case("hr-empty-file", HR, const(b""), 3, "E317", f"{HR}:1"),
    Case("hr-latin1", HR, latin1, 3, "E300", HR),
    Case("hr-bom-is-fine", HR, bom, 1, None),
    Case("hr-wrong-cell-count", HR, set_line(9, "NW-9999,Only,Three"), 3, "E308", f"{HR}:9"),
    Case("hr-huge-cell", HR, csv_cell(10, "job_title", "x" * 300_000), 3, "E308", HR),
    Case("hr-formula-injection-is-data", HR, csv_cell(3, "job_title", "=HYPERLINK(\"x\")"), 1,
         None),
    Case("hr-missing-email", HR, csv_cell(11, "work_email", ""), 3, "E305", f"{HR}:11"),
    Case("hr-leave-unknown-person", LEAVE, append("NW-0000,Sick,2026-11-01,2026-11-30\n"), 3,
         "E312", LEAVE),
    Case("hr-leave-ends-before-start", LEAVE, append("NW-1001,Sick,2026-11-30,2026-11-01\n"), 3,
         "E303", LEAVE),
    # ---- LMS CSV -------------------------------------------------------------------------
    Case("lms-missing-column", LMS, text(lambda s: s.replace("Course Code", "Course", 1)), 3,
         "E301", f"{LMS}:1"),
    Case("lms-bad-date", LMS, csv_cell(3, "Completion Date", "31/02/2026"), 3, "E303",
         f"{LMS}:3"),
    Case("lms-unknown-status", LMS, csv_cell(4, "Enrollment Status", "Maybe"), 3, "E304",
         f"{LMS}:4"),
    Case("lms-empty", LMS, const(b""), 3, "E317", f"{LMS}:1"),
    Case("lms-score-not-number", LMS, csv_cell(5, "Score", "ninety"), 3, "E304", f"{LMS}:5"),
    Case("lms-date-before-1970", LMS, csv_cell(6, "Completion Date", "01/01/1900"), 3, "E303",
         f"{LMS}:6"),
    # ---- JSONL ---------------------------------------------------------------------------
    Case("jsonl-invalid-json", APR, append('{"id": "APR-9", "subject": \n'), 3, "E310",
         last_line(APR)),
    Case("jsonl-missing-field", APR, append('{"id": "APR-9", "subject": "x:1", '
                                            '"decided_at": "2026-10-01T00:00:00Z"}\n'), 3,
         "E309", last_line(APR)),
    Case("jsonl-wrong-type", APR, append('{"id": "APR-9", "subject": "x:1", "approver": "a", '
                                         '"decided_at": 12}\n'), 3, "E309", last_line(APR)),
    Case("jsonl-unknown-field", APR, append('{"id": "APR-9", "subject": "x:1", "approver": "a",'
                                            ' "decided_at": "2026-10-01T00:00:00Z", '
                                            '"aproved": true}\n'), 3, "E309", last_line(APR)),
    Case("jsonl-naive-timestamp", APR, append('{"id": "APR-9", "subject": "x:1", "approver": '
                                              '"a", "decided_at": "2026-10-01T00:00:00"}\n'), 3,
         "E309", last_line(APR)),
    Case("jsonl-duplicate-json-key", APR, append('{"id": "APR-9", "id": "APR-10", "subject": '
                                                 '"x:1", "approver": "a", "decided_at": '
                                                 '"2026-10-01T00:00:00Z"}\n'), 3, "E310",
         last_line(APR)),
    Case("jsonl-provenance-given", APR, append('{"id": "APR-9", "subject": "x:1", "approver": '
                                               '"a", "decided_at": "2026-10-01T00:00:00Z", '
                                               '"provenance": {}}\n'), 3, "E309", last_line(APR)),
    Case("jsonl-not-an-object", REV, append("[1, 2, 3]\n"), 3, "E310", REV),
    Case("jsonl-latin1", REV, latin1, 3, "E300", REV),
    Case("jsonl-impossible-date", REV, append('{"id": "R9", "subject": "RSK-001", "kind": '
                                              '"risk_review", "reviewer": "a", "reviewed_at": '
                                              '"2026-02-30T10:00:00Z"}\n'), 3, "E309", REV),
]


FAIL_CLOSED: list[Case] = [
    # ---- issue 17: plausible input that used to crash (E900) ----------------------------
    Case("hr-termination-open-ended-9999", HR, csv_cell(4, "termination_date", "9999-12-31"),
         1, None),
    Case("hr-leave-open-ended-9999", LEAVE, append("NW-1011,Sabbatical,2026-12-01,9999-12-31\n"),
         1, None),
    Case("register-history-before-1970", REG, replace("from: 2024-01-15, to: 2025-04-01",
                                                      "from: 1965-01-15, to: 2025-04-01"),
         3, "E303", line_of(REG, "from: 1965-01-15")),
    Case("jsonl-deeply-nested", APR, append('{"id": ' + "[" * 100_000 + "]" * 100_000 + "}\n"),
         3, "E310", last_line(APR)),
    Case("config-invalid-regex", CFG, replace(
        "production_aliases: [production, champion]",
        "production_aliases: [production, champion]\n  shared_mailbox_patterns: ['(unclosed']"),
         2, "E113", line_of(CFG, "(unclosed")),
    Case("config-catastrophic-regex-is-linear", CFG, replace(
        "production_aliases: [production, champion]",
        "production_aliases: [production, champion]\n  shared_mailbox_patterns: ['^(a+)+$']"),
         1, None),
    Case("config-backreference-regex", CFG, replace(
        "production_aliases: [production, champion]",
        "production_aliases: [production, champion]\n  shared_mailbox_patterns: ['(a)\\1']"),
         2, "E113", line_of(CFG, "shared_mailbox_patterns")),
    Case("config-huge-param", CFG, replace("{cadence_days: 90}",
                                           "{cadence_days: 99999999999999999999}"),
         2, "E203", line_of(CFG, "cadence_days")),
    Case("config-huge-period", CFG, replace("{period_days: 365}", "{period_days: 100000000}"),
         2, "E203", line_of(CFG, "period_days")),
    Case("config-infinite-param", CFG, replace("critical: 1, high: 4", "critical: .inf, high: 4"),
         2, "E203", line_of(CFG, "sla_hours")),
    Case("as-of-year-1", CFG, lambda b: b, 2, "E001", "--as-of", ("--as-of", "0001-01-01")),
    Case("as-of-year-9999", CFG, lambda b: b, 2, "E001", "--as-of", ("--as-of", "9999-12-31")),
    Case("output-is-the-config", CFG, lambda b: b, 2, "E403", "-o",
         ("-o", "{root}/aimscheck.yaml")),
    Case("output-is-an-evidence-file", CFG, lambda b: b, 2, "E403", "-o",
         ("-o", "{root}/hr/people.csv")),
    Case("output-twice", CFG, lambda b: b, 2, "E403", "-o",
         ("-f", "text", "-f", "json", "-o", "{root}/out.txt", "-o", "{root}/out.txt")),
    Case("output-unwritable", CFG, lambda b: b, 2, "E404", "{root}/aimscheck.yaml/report.txt",
         ("-o", "{root}/aimscheck.yaml/report.txt")),
]


def fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def symlink_to(target: str) -> Callable[[Path], None]:
    def f(path: Path) -> None:
        path.unlink()
        path.symlink_to(target)
    return f


def latin1_line(n: int) -> Callable[[bytes], bytes]:
    """Line ``n`` re-encoded as Latin-1 (its non-ASCII characters become single bytes)."""
    def f(b: bytes) -> bytes:
        lines = b.split(b"\n")
        line = lines[n - 1].decode("utf-8")
        if line.isascii():  # give it an accented letter inside a value
            line = line.replace('": "', '": "é', 1) if '": "' in line else line + ",é"
        lines[n - 1] = line.encode("latin-1", "replace")
        return b"\n".join(lines)
    return f


FAIL_CLOSED += [
    # ---- issue 17: empty exports, special files, confinement, bounded reads ------------
    Case("jsonl-zero-bytes", APR, const(b""), 3, "E317", f"{APR}:1"),
    Case("jsonl-blank-lines-only", APR, const(b"\n\n  \n"), 3, "E317", f"{APR}:1"),
    Case("jsonl-zero-bytes-allowed", CFG, replace("path: evidence/approvals.jsonl",
                                                  "path: evidence/approvals.jsonl\n"
                                                  "    allow_empty: true"), 1, None,
         setup=lambda root: (root / APR).write_bytes(b"")),
    Case("lms-header-only", LMS, text(lambda s: s.splitlines()[0] + "\n"), 3, "E317",
         f"{LMS}:1"),
    Case("hr-header-only", HR, text(lambda s: s.splitlines()[0] + "\n"), 3, "E317", f"{HR}:2"),
    Case("allow-empty-not-a-bool", CFG, replace("path: evidence/approvals.jsonl",
                                                "path: evidence/approvals.jsonl\n"
                                                "    allow_empty: sometimes"), 2, "E113",
         line_of(CFG, "allow_empty")),
    Case("jsonl-fifo-refused", APR, lambda b: b, 3, "E319", APR, setup=lambda root: fifo(
        root / APR)),
    Case("jsonl-dev-zero-refused", APR, lambda b: b, 3, "E319", APR,
         setup=lambda root: symlink_to("/dev/zero")(root / APR)),
    Case("hr-fifo-refused", HR, lambda b: b, 3, "E300", HR, setup=lambda root: fifo(root / HR)),
    Case("hr-proc-environ-refused", CFG, replace("path: hr/people.csv",
                                                 "path: /proc/self/environ\n"
                                                 "    allow_outside: true"), 3, "E319",
         "/proc/self/environ"),
    Case("hr-path-outside-config-folder", CFG, replace("path: hr/people.csv",
                                                       "path: ../people.csv"), 3, "E318",
         "../people.csv", setup=lambda root: shutil.copy(root / HR, root.parent / "people.csv")),
    Case("hr-symlink-outside-config-folder", HR, lambda b: b, 3, "E318", HR,
         setup=lambda root: (shutil.copy(root / HR, root.parent / "people.csv"),
                             symlink_to(str(root.parent / "people.csv"))(root / HR))),
    Case("hr-path-outside-allowed", CFG, replace("path: hr/people.csv",
                                                 "path: ../people.csv\n    allow_outside: true"),
         1, None, setup=lambda root: shutil.copy(root / HR, root.parent / "people.csv")),
    Case("jsonl-over-byte-limit", CFG, replace(
        "production_aliases: [production, champion]",
        "production_aliases: [production, champion]\n  max_file_bytes: 2000"), 3, "E300",
         "approvals.jsonl"),
    Case("hr-latin1-byte-on-line-4", HR, latin1_line(4), 3, "E300", f"{HR}:4"),
    Case("jsonl-latin1-byte-on-line-4", REV, latin1_line(4), 3, "E300", f"{REV}:4"),
    Case("control-characters-neutralised-in-text", HR, replace(
        "Yusuf,Demir", '"Yusuf\x1b[2J\rPASS: forged\nPASS: all",Demir'), 1, None,
         "Yusuf\\x1b[2J\\x0dPASS: forged\\x0aPASS: all Demir",
         forbid=("\x1b", "\rPASS: forged", "\nPASS: all")),
    Case("hr-header-preview-bounded", HR, text(lambda s: s.replace(
        "work_email", "mail\x1b[2J" + ",x" * 500 + ",SECRET-AT-THE-END", 1)), 3, "E301",
         f"{HR}:1", forbid=("SECRET-AT-THE-END", "\x1b[2J")),
]
CASES += FAIL_CLOSED


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case: Case, tmp_path: Path, run_cli: Runner) -> None:
    if case.file == "rule":
        pack = tmp_path / "pack"
        pack.mkdir()
        mutated = case.mutate(GOOD_RULE.encode("utf-8"))
        (pack / R).write_bytes(mutated)
        res = run_cli("rules", "validate", pack, cwd=tmp_path)
    else:
        root = tmp_path / "org"
        shutil.copytree(DEMO, root)
        target = root / case.file
        mutated = case.mutate(target.read_bytes())
        target.write_bytes(mutated)
        if case.setup is not None:
            case.setup(root)
        extra = [a.replace("{root}", str(root)) for a in case.args]
        res = run_cli("scan", "-c", root / CFG, "--as-of", AS_OF, *extra, cwd=tmp_path)
    out = res.stdout + res.stderr
    assert "Traceback" not in out, out[-3000:]
    assert "internal error" not in out, out[-3000:]
    assert res.returncode == case.exit, out[-3000:]
    if case.code is not None:
        assert f" {case.code} " in out, out[-3000:]
    if case.loc is not None:
        loc = case.loc if isinstance(case.loc, str) else case.loc(mutated)
        if case.file != "rule":
            loc = loc.replace("{root}", str(root))
        assert loc in out, out[-3000:]
    for text in case.forbid:
        assert text not in out, out[-3000:]
    if case.code in ("E403", "E404"):  # refused before anything was written
        assert not (root / "out.txt").exists()
        assert (root / CFG).read_bytes() == (DEMO / CFG).read_bytes()
        assert (root / HR).read_bytes() == (DEMO / HR).read_bytes()
