"""Every diagnostic code, defined once: code → family and meaning.

A code means one thing. Adding a diagnostic means adding its row here (a duplicate code
refuses to import, and ``tests/core/test_vocabularies.py`` fails on a code used in the
source but missing here, or listed here but used nowhere). Families follow the hundreds:

======  =====================================
E0xx    command-line usage
E1xx    YAML files, schemas, config, case files
E2xx    rule semantics and rule packs
E3xx    evidence and adapters (E300–E319 file adapters and merging, E320–E339 Jira,
        E340–E359 SCIM/xAPI, E360–E379 MLflow, E380–E399 locker, waivers, history, baseline)
E4xx    output
E6xx    tickets and escalation (closing the loop)
E9xx    internal
======  =====================================

Third-party adapters and checks may use their own codes; they are rendered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODES", "FAMILIES", "Code", "code_table", "describe"]

FAMILIES: dict[str, str] = {
    "E0": "command-line usage",
    "E1": "YAML and schema",
    "E2": "rule semantics",
    "E3": "evidence and adapters",
    "E4": "output",
    "E6": "tickets and escalation",
    "E9": "internal",
}


@dataclass(frozen=True)
class Code:
    """One diagnostic code.

    Attributes:
        code: ``E`` and three digits.
        family: The family it belongs to (from the hundreds digit).
        meaning: What it means, in one line.
    """

    code: str
    family: str
    meaning: str


def code_table(rows: tuple[tuple[str, str], ...]) -> dict[str, Code]:
    """Build a registry from ``(code, meaning)`` rows; a code listed twice is refused."""
    out: dict[str, Code] = {}
    for code, meaning in rows:
        if code in out:
            raise ValueError(f"diagnostic code {code} is defined twice: "
                             f"{out[code].meaning!r} and {meaning!r}")
        family = FAMILIES.get(code[:2])
        if family is None or len(code) != 4 or not code[1:].isdigit():
            raise ValueError(f"diagnostic code {code!r} is not E and three digits of a family")
        out[code] = Code(code, family, meaning)
    return out


CODES: dict[str, Code] = code_table((
    # E0xx command-line usage
    ("E001", "an option value is invalid (a date, an HR preset …)"),
    ("E002", "--format and -o/--output do not pair up"),
    ("E003", "unknown output format"),
    ("E004", "no rule with that id"),
    ("E005", "the output file exists (use --force)"),
    ("E006", "a signing or public key file is unreadable or not an Ed25519 PEM key"),
    # E1xx YAML and schema
    ("E100", "invalid YAML (syntax, or an impossible date)"),
    ("E101", "the file is not UTF-8 text"),
    ("E102", "a mapping key appears twice"),
    ("E103", "YAML anchors, aliases and merge keys are not allowed"),
    ("E104", "a mapping key is not a string"),
    ("E105", "the file is too large"),
    ("E106", "the file cannot be read"),
    ("E107", "the file is empty"),
    ("E110", "a value does not match the rule-file schema"),
    ("E111", "unknown key"),
    ("E112", "missing required key"),
    ("E113", "a value has the wrong type or is not allowed"),
    ("E114", "a condition is not a single check name with its arguments"),
    ("E115", "the file's top level is not a mapping"),
    ("E120", "config file not found"),
    ("E121", "a source has no adapter, or an unknown one"),
    ("E122", "two sources have the same name"),
    ("E123", "a *_env key holds what looks like a secret, not a variable name"),
    ("E130", "case-file evidence is not a mapping of record lists"),
    ("E131", "case-file evidence names an unknown record list"),
    ("E132", "a case-file record is not a mapping"),
    ("E133", "a case file is not a mapping, or has an unknown key"),
    ("E134", "a case file lacks its cases or its frozen as_of"),
    ("E135", "a case lacks name or expect, or has an unknown key"),
    ("E136", "a case's expect is not pass, error or a mapping of failing subjects"),
    ("E137", "a case file for a rule that does not exist"),
    ("E138", "a case-file record does not fit its evidence model"),
    ("E140", "the escalation ladder is invalid"),
    ("E160", "a Statement of Applicability file is not a mapping with controls"),
    ("E161", "a SoA entry names something that is not an Annex A control"),
    # E2xx rule semantics
    ("E201", "unknown check"),
    ("E202", "the rule id does not match the file name"),
    ("E203", "a check's arguments are invalid"),
    ("E204", "duplicate rule id"),
    ("E205", "unknown rule param"),
    ("E206", "a check cannot judge a target kind the rule applies to"),
    ("E207", "not an ISO/IEC 42001 clause leaf or Annex A control id"),
    ("E208", "the config overrides a rule that does not exist"),
    ("E209", "no rule test cases found"),
    ("E210", "rule pack not found"),
    ("E211", "a check or reporter plugin (entry point) cannot be registered"),
    # E300–E319 file adapters and merging
    ("E300", "the source cannot be read"),
    ("E301", "a configured column is missing from the header, or appears twice"),
    ("E303", "a date or timestamp cannot be parsed (or a period ends before it starts)"),
    ("E304", "a value is not in the configured value mapping"),
    ("E305", "a required value is empty"),
    ("E306", "a duplicate id within a source"),
    ("E307", "an unknown key in a source file"),
    ("E308", "a value has the wrong type or shape (or a CSV row the wrong cell count)"),
    ("E309", "a JSON Lines record does not fit the evidence model"),
    ("E310", "a JSON Lines line is not valid JSON, or not a JSON object"),
    ("E311", "a JSON Lines record's evidence kind is missing, unknown or not declared"),
    ("E312", "a row refers to a person the source does not know"),
    ("E313", "a source yields more records than settings.max_records_per_source"),
    ("E314", "the same subject comes from two sources"),
    ("E315", "one handle (email, id or account) names two different people"),
    ("E317", "an export has no records and the source does not set allow_empty"),
    ("E318", "an evidence path leaves the config's folder (allowed only by allow_outside)"),
    ("E319", "not a regular file (FIFO, socket, device) or in /proc, /sys, /dev: refused"),
    # E320–E339 Jira
    ("E320", "Jira: a credential variable or token file is missing"),
    ("E321", "Jira: HTTP 401"),
    ("E322", "Jira: HTTP 403"),
    ("E323", "Jira: HTTP 404"),
    ("E324", "Jira: HTTP errors after the retry budget, or another 4xx"),
    ("E325", "Jira: network errors after the retry budget"),
    ("E326", "Jira: a response or saved page is not the documented shape"),
    ("E327", "Jira: incomplete paging"),
    ("E328", "Jira: incomplete offline snapshot"),
    ("E329", "Jira: an issue cannot become evidence, or a field is on no issue"),
    ("E330", "Jira: bad CSV export"),
    ("E331", "Jira: bad identity CSV"),
    ("E332", "the same release comes from two sources"),
    ("E333", "no source provides an evidence kind that a rule needs"),
    # E340–E359 SCIM and xAPI
    ("E340", "SCIM/xAPI: a credential or URL variable is missing"),
    ("E341", "SCIM/xAPI: cannot connect, or the connection dropped"),
    ("E342", "SCIM/xAPI: HTTP 401 or 403"),
    ("E343", "SCIM/xAPI: another HTTP status"),
    ("E344", "SCIM/xAPI: not a ListResponse or StatementResult"),
    ("E345", "SCIM/xAPI: inconsistent paging"),
    ("E346", "SCIM: unmapped userType"),
    ("E348", "SCIM/xAPI: saved pages missing"),
    ("E349", "xAPI: unusable statement"),
    # E360–E379 MLflow
    ("E360", "MLflow: cannot connect, or an HTTP error"),
    ("E361", "MLflow: HTTP 401 or 403"),
    ("E362", "MLflow: a response is not the documented JSON"),
    ("E363", "MLflow: a tag value has the wrong form"),
    ("E364", "MLflow: a saved listing is truncated"),
    ("E365", "MLflow: the offline folder or a saved page cannot be read"),
    ("E366", "MLflow: paging does not end"),
    ("E367", "MLflow: no tracking server configured"),
    ("E368", "MLflow: the registrant of a version cannot be determined"),
    ("E369", "MLflow: a credential variable or file is missing"),
    # E380–E399 evidence locker, history, waivers, baseline
    ("E380", "not an evidence snapshot (no readable manifest)"),
    ("E381", "snapshot tampered: a file changed"),
    ("E382", "snapshot tampered: a file was removed"),
    ("E383", "snapshot tampered: a file was added"),
    ("E384", "snapshot chain broken or looping"),
    ("E385", "the snapshot output folder exists and is not empty"),
    ("E386", "cannot pseudonymise (key missing or too short, or a payload not text)"),
    ("E387", "the snapshot was pulled for another organisation than the config's"),
    ("E388", "the history store cannot be used"),
    ("E389", "no such recorded scan, or too few for a diff"),
    ("E390", "waivers file: unknown or missing key, wrong type"),
    ("E391", "waivers file: bad date"),
    ("E392", "waivers file: unknown rule"),
    ("E393", "waivers file: duplicate waiver id"),
    ("E394", "the baseline cannot be read or is not a scan JSON output"),
    ("E395", "a snapshot record does not validate, or has an unknown kind"),
    ("E396", "unsupported snapshot format"),
    ("E397", "a public key was given but the snapshot is not signed"),
    ("E398", "the snapshot's signature does not verify (another key, a forged or damaged "
             "envelope)"),
    ("E399", "the manifest was changed after it was signed"),
    # E4xx output
    ("E401", "no such person in the evidence"),
    ("E402", "not a scan result"),
    ("E403", "an output is given twice, or would overwrite an input of the run"),
    ("E404", "the report cannot be written to that path"),
    ("E405", "a scan result is not signed (no signature beside it), or --sign-key has no "
             "JSON output file to sign"),
    ("E406", "a scan result's signature does not verify (another key, a forged or damaged "
             "envelope)"),
    ("E407", "the scan result was changed after it was signed"),
    # E6xx tickets and escalation
    ("E600", "tickets: no tickets section, or an unknown tracker or one that cannot file"),
    ("E601", "tickets: credentials missing or rejected (HTTP 401)"),
    ("E602", "tickets: HTTP 403"),
    ("E603", "tickets: HTTP 404"),
    ("E604", "tickets: HTTP errors after the retry budget"),
    ("E605", "tickets: network errors after the retry budget"),
    ("E606", "tickets: a tracker response is not the documented shape"),
    ("E607", "tickets: a ticket cannot move to the wanted status"),
    ("E620", "notify: the notify or SMTP configuration is missing or unsafe"),
    ("E621", "notify: the SMTP credentials cannot be read"),
    # E9xx internal
    ("E900", "internal error (a bug: please report it)"),
))


def describe(code: str) -> str:
    """``E201 (rule semantics): unknown check``; an unregistered code is said to be so."""
    c = CODES.get(code)
    if c is None:
        return f"{code}: not an aimscheck code (from a plugin?)"
    return f"{c.code} ({c.family}): {c.meaning}"
