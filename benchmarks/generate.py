"""Deterministic synthetic organisation for the benchmarks.

One size parameter, N = employees, and a seed. Writes the evidence in the formats the
file adapters read, plus the same evidence as ONE JSON document for the peer (OPA) and
the indexed-Python floor:

    <out>/register.yaml              N/5 AI systems, N/5 models, N/5 risks
    <out>/hr/people.csv, leave.csv   N people (hr_csv)
    <out>/training/completions.csv   5N training rows (lms_csv)
    <out>/evidence/*.jsonl           N/2 releases, N/2 approvals, N/10 incidents,
                                     N/5 risk reviews, N/2 events (jsonl)
    <out>/aimscheck.yaml             the built-in iso42001 pack (the nightly scan)
    <out>/aimscheck-six.yaml         the six benchmark checks (benchmarks/rules)
    <out>/bench-input.json           the same evidence as one JSON document
    <out>/planted.json               the violations planted on purpose, by check

About 10% of subjects, releases and high-severity incidents carry a planted violation.
The as-of date is fixed (2026-11-30), so the same N and seed give the same bytes.

Usage: python benchmarks/generate.py N OUT_DIR [--seed S]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
AS_OF_TEXT = "2026-11-30"
COURSE = "ai-governance-basics"
COURSE_CODE = "AIGOV-101"
OTHER_COURSES = ["EUAI-201", "RML-110", "SEC-100", "PRIV-120", "CODE-001"]
HERE = Path(__file__).resolve().parent
BENCH_RULES = HERE / "rules"
DOMAIN = "bank.example"
#: aimscheck's default shared-mailbox patterns (checker.config.DEFAULT_SHARED_PATTERNS),
#: copied so that OPA and the floor apply the same test.
SHARED_PATTERNS = [
    r"^(team|teams|group|all|ml|ai|data|ops|support|info|admin|security|platform|risk"
    r"|compliance|noreply|no-reply|do-not-reply)[-._@]",
    r"[-._](team|group|list|ops|platform|shared)@",
    r"^(svc|bot|service|system)[-._]",
    r"[-._](bot|svc)@",
]

FIRST = ["anna", "ben", "carla", "dmitri", "elena", "farid", "grace", "hugo", "ines", "jonas",
         "kemal", "lena", "mateo", "nora", "oskar", "priya", "quinn", "rosa", "sven", "tara",
         "umar", "vera", "wei", "xenia", "yusuf", "zoe"]
LAST = ["adler", "brandt", "costa", "dubois", "eriksen", "fischer", "garcia", "haas", "ivanova",
        "jansen", "kowalski", "lindqvist", "moreau", "novak", "okafor", "petrov", "quist",
        "rossi", "schmidt", "tanaka", "umarov", "vogel", "weber", "yilmaz", "zeller"]
DEPTS = ["Retail Banking", "Markets", "Risk", "Operations", "Technology", "Compliance", "HR"]


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


class Org:
    """The whole synthetic organisation, built in memory from one seeded RNG."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = random.Random(f"aimscheck-bench:{n}:{seed}")
        self.people: list[dict[str, Any]] = []
        self.leave: list[dict[str, Any]] = []
        self.trainings: list[dict[str, Any]] = []
        self.systems: list[dict[str, Any]] = []
        self.models: list[dict[str, Any]] = []
        self.risks: list[dict[str, Any]] = []
        self.releases: list[dict[str, Any]] = []
        self.approvals: list[dict[str, Any]] = []
        self.incidents: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.planted: dict[str, list[str]] = {
            "assigned_distinct": [], "individual": [], "trained": [], "release_approved": [],
            "incident_ack": [], "active": [],
        }
        self._build()

    # -- people ---------------------------------------------------------------------------
    def _build_people(self) -> None:
        rng = self.rng
        for i in range(self.n):
            pid = f"E{i:07d}"
            first, last = rng.choice(FIRST), rng.choice(LAST)
            r = rng.random()
            kind, status = "User", "Active"
            hired = date(2008, 1, 1) + timedelta(days=rng.randrange(6200))
            terminated: date | None = None
            cat = "good"
            email = f"{first}.{last}.{i}@{DOMAIN}"
            if i == 0:  # the accountable executive: a good, active individual
                email, hired = f"ceo@{DOMAIN}", date(2010, 1, 1)
            elif r < 0.03:
                status, cat = "Terminated", "terminated"
                terminated = date(2024, 1, 1) + timedelta(days=rng.randrange(1000))
                hired = min(hired, terminated - timedelta(days=30))
            elif r < 0.04:
                status, cat = "On Leave", "leave"
            elif r < 0.045:
                cat = "prehire"
                hired = AS_OF.date() + timedelta(days=1 + rng.randrange(60))
            elif r < 0.05:
                kind, cat = "Shared Mailbox", "group"
                email = f"team-{last}.{i}@{DOMAIN}"
            etype = "Contractor" if rng.random() < 0.05 and i else "Employee"
            manager = self.people[rng.randrange(i)]["email"] if i else ""
            p = {
                "id": pid, "first": first.title(), "last": last.title(), "email": email,
                "status": status, "hired": hired, "terminated": terminated, "kind": kind,
                "etype": etype, "dept": rng.choice(DEPTS), "title": "Analyst",
                "manager": manager, "roles": "executive" if i == 0 else "",
                "mlflow": f"u{i:07d}", "cat": cat,
            }
            if cat == "leave":
                start = AS_OF.date() - timedelta(days=rng.randrange(1, 40))
                end = AS_OF.date() + timedelta(days=rng.randrange(1, 90))
                self.leave.append({"person": pid, "type": "Parental leave", "start": start,
                                   "end": end})
            self.people.append(p)
        self.good = [p for p in self.people if p["cat"] == "good"]
        self.bad = {c: [p for p in self.people if p["cat"] == c]
                    for c in ("terminated", "leave", "prehire", "group")}

    def _build_trainings(self) -> None:
        rng = self.rng
        # about 4% of good people hold no valid governance training
        self.untrained = {p["id"] for p in self.good if rng.random() < 0.04}
        for p in self.people:
            rows = []
            if p["id"] in self.untrained:
                how = rng.randrange(3)
                if how == 0:     # completed, but more than 365 days ago
                    old = AS_OF.date() - timedelta(days=370 + rng.randrange(300))
                    rows.append((COURSE_CODE, old, "Completed"))
                elif how == 1:   # only a failed attempt
                    rows.append((COURSE_CODE, AS_OF.date() - timedelta(days=rng.randrange(1, 200)),
                                 "Failed"))
                else:            # still in progress (not an attempt)
                    rows.append((COURSE_CODE, None, "In Progress"))
            else:
                rows.append((COURSE_CODE, AS_OF.date() - timedelta(days=rng.randrange(1, 360)),
                             "Completed"))
                rows.append((COURSE_CODE, AS_OF.date() - timedelta(days=400 + rng.randrange(400)),
                             "Completed"))
            while len(rows) < 5:
                rows.append((rng.choice(OTHER_COURSES),
                             AS_OF.date() - timedelta(days=rng.randrange(1, 900)),
                             rng.choice(["Completed", "Completed", "Completed", "Failed"])))
            for code, when, status in rows:
                # some LMS exports carry the email in another letter case
                who = p["email"].upper() if rng.random() < 0.05 else p["email"]
                self.trainings.append({"person": who, "course": code, "completed": when,
                                       "status": status})

    # -- owners -----------------------------------------------------------------------------
    def _handle(self, p: dict[str, Any]) -> str:
        """A handle for a person: mostly the email, sometimes another known handle."""
        r = self.rng.random()
        if r < 0.80:
            return str(p["email"])
        if r < 0.88:
            return str(p["email"]).upper()
        if r < 0.94:
            return str(p["id"])
        return str(p["mlflow"])

    def _owners(self, key: str) -> dict[str, str | None]:
        """Primary and backup owners for one subject, with a ~10% planted violation."""
        rng = self.rng
        a, b = rng.sample(range(len(self.good)), 2)
        primary, backup = self.good[a], self.good[b]
        owners: dict[str, str | None] = {"primary": self._handle(primary),
                                         "backup": self._handle(backup)}
        r = rng.random()
        if r < 0.02:
            owners["backup"] = None
            self.planted["assigned_distinct"].append(key)
        elif r < 0.04:  # the same person twice, by two different handles
            owners["backup"] = str(primary["id"])
            owners["primary"] = str(primary["email"])
            self.planted["assigned_distinct"].append(key)
        elif r < 0.05:
            owners["backup"] = f"nobody.{rng.randrange(10**6)}@{DOMAIN}"
            self.planted["individual"].append(key)
            self.planted["active"].append(key)
        elif r < 0.06 and self.bad["group"]:
            owners["backup"] = str(rng.choice(self.bad["group"])["email"])
            self.planted["individual"].append(key)
            self.planted["active"].append(key)
        elif r < 0.08 and self.bad["terminated"]:
            owners["primary"] = self._handle(rng.choice(self.bad["terminated"]))
            self.planted["active"].append(key)
        elif r < 0.09 and self.bad["leave"]:
            owners["backup"] = self._handle(rng.choice(self.bad["leave"]))
            self.planted["active"].append(key)
        elif r < 0.095 and self.bad["prehire"]:
            owners["backup"] = self._handle(rng.choice(self.bad["prehire"]))
            self.planted["active"].append(key)
        if any(o is not None and self._resolve(o) in self.untrained for o in owners.values()):
            self.planted["trained"].append(key)
        return owners

    def _resolve(self, handle: str) -> str | None:
        return self._handles.get(handle.casefold())

    # -- subjects, releases, decisions --------------------------------------------------------
    def _build(self) -> None:
        rng = self.rng
        self._build_people()
        self._handles: dict[str, str] = {}
        for p in self.people:
            for h in (p["id"], p["email"], p["mlflow"]):
                self._handles[h.casefold()] = p["id"]
        self._build_trainings()
        n_sys = max(2, self.n // 5)
        for i in range(n_sys):
            sid = f"sys-{i:06d}"
            self.systems.append({
                "id": sid, "name": f"AI system {i}", "risk_tier": rng.choice(
                    ["high", "limited", "minimal"]),
                "lifecycle": "production", "owners": self._owners(f"ai_system/{sid}")})
            mid = f"model-{i:06d}"
            owner = self.good[rng.randrange(len(self.good))]
            self.models.append({"id": mid, "name": f"Model {i}", "system": sid,
                                "owners": {"primary": str(owner["email"]),
                                           "backup": str(self.good[rng.randrange(
                                               len(self.good))]["email"])}})
        for i in range(max(2, self.n // 5)):
            rid = f"RSK-{i:06d}"
            self.risks.append({"id": rid, "name": f"Risk {i}",
                               "system": self.systems[rng.randrange(n_sys)]["id"],
                               "status": "open", "owners": self._owners(f"risk/{rid}")})
            last = AS_OF - timedelta(days=rng.randrange(1, 100 if rng.random() < 0.9 else 400))
            self.reviews.append({"id": f"REV-{i:06d}", "subject": rid, "kind": "risk_review",
                                 "reviewer": str(self.good[rng.randrange(len(self.good))]
                                                 ["email"]),
                                 "reviewed_at": _ts(last), "outcome": "accepted"})
        self._build_releases(n_sys)
        self._build_incidents(n_sys)

    def _build_releases(self, n_sys: int) -> None:
        rng = self.rng
        n_rel = max(2, self.n // 2)
        versions: dict[int, int] = {}
        for i in range(n_rel):
            m = i % n_sys
            versions[m] = versions.get(m, 0) + 1
            model = self.models[m]
            reg_p = self.good[rng.randrange(len(self.good))]
            dep_p = self.good[rng.randrange(len(self.good))]
            registered = AS_OF - timedelta(days=rng.randrange(5, 600), minutes=rng.randrange(1440))
            stage = rng.choice(["Production", "Production", "Archived", "Staging"])
            rel: dict[str, Any] = {
                "model": model["id"], "version": str(versions[m]), "system": model["system"],
                "stage": stage, "registered_by": str(reg_p["mlflow"]),
                "registered_at": _ts(registered)}
            deployed = None
            if stage != "Staging":
                # never after the as-of: a deployment dated after the export would be judged
                # against the collection time (checker/asof.py), i.e. by the day the
                # benchmark runs, and the reference findings would change with the calendar
                deployed = min(registered + timedelta(hours=rng.randrange(2, 200)),
                               AS_OF - timedelta(minutes=1))
                rel["deployed_by"] = str(dep_p["mlflow"])
                rel["deployed_at"] = _ts(deployed)
            self.releases.append(rel)
            self.events.append({"id": f"EVT-{i:07d}", "subject": model["system"],
                                "type": "model_version_registered",
                                "occurred_at": _ts(registered), "actor": str(reg_p["mlflow"])})
            rid = f"{model['id']}:{versions[m]}"
            approver = self.good[rng.randrange(len(self.good))]
            while approver["id"] == reg_p["id"]:
                approver = self.good[rng.randrange(len(self.good))]
            handle = self._handle(approver)
            decided = (deployed or registered + timedelta(hours=100)) - timedelta(
                hours=1 + rng.randrange(48))
            r = rng.random()
            planted = stage == "Production"
            if r < 0.03:
                handle = str(reg_p["email"])          # the registrant approves their own
            elif r < 0.06 and deployed is not None:
                decided = deployed + timedelta(hours=1 + rng.randrange(48))  # too late
            elif r < 0.08:
                handle = f"ghost.{rng.randrange(10**6)}@{DOMAIN}"  # unknown approver
            elif r < 0.10:
                rid = f"{rid}-rc"  # no approval for this version: it names a candidate
            else:
                planted = False
            if planted:
                self.planted["release_approved"].append(f"{model['id']}:{versions[m]}")
            mm, vv = rid.split(":", 1)
            self.approvals.append({"id": f"APR-{i:07d}", "subject": rid, "model": mm,
                                   "version": vv, "decision": "approved", "approver": handle,
                                   "decided_at": _ts(decided), "kind": "release"})

    def _build_incidents(self, n_sys: int) -> None:
        rng = self.rng
        for i in range(max(2, self.n // 10)):
            sev = rng.choices(["critical", "high", "medium", "low"], [5, 25, 40, 30])[0]
            opened = AS_OF - timedelta(days=rng.randrange(1, 400), minutes=rng.randrange(1440))
            assignee: str | None = self._handle(self.good[rng.randrange(len(self.good))])
            ack: datetime | None = opened + timedelta(minutes=rng.randrange(10, 23 * 60))
            planted = sev in ("critical", "high")
            r = rng.random()
            if r < 0.03:
                assignee = None
            elif r < 0.05 and self.bad["group"]:
                assignee = str(rng.choice(self.bad["group"])["email"])
            elif r < 0.08:
                ack = opened + timedelta(hours=25 + rng.randrange(100))
            elif r < 0.10:
                ack = None
            else:
                planted = False
            inc: dict[str, Any] = {"id": f"INC-{i:07d}", "title": f"Incident {i}",
                                   "system": self.systems[rng.randrange(n_sys)]["id"],
                                   "severity": sev, "opened_at": _ts(opened)}
            if assignee is not None:
                inc["assignee"] = assignee
            if ack is not None:
                inc["acknowledged_at"] = _ts(ack)
            self.incidents.append(inc)
            if planted:
                self.planted["incident_ack"].append(str(inc["id"]))


# -- writers ----------------------------------------------------------------------------------
def _yq(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def write_register(org: Org, path: Path) -> None:
    out = io.StringIO()
    out.write("# Synthetic AIMS register (benchmarks/generate.py)\n")

    def owners(o: dict[str, str | None]) -> None:
        out.write("    owners:\n")
        for role, h in o.items():
            out.write(f"      {role}: {_yq(h) if h is not None else ''}\n")

    out.write("ai_systems:\n")
    for s in org.systems:
        out.write(f"  - id: {_yq(s['id'])}\n    name: {_yq(s['name'])}\n"
                  f"    risk_tier: {s['risk_tier']}\n    lifecycle: {s['lifecycle']}\n")
        owners(s["owners"])
    out.write("models:\n")
    for m in org.models:
        out.write(f"  - id: {_yq(m['id'])}\n    name: {_yq(m['name'])}\n"
                  f"    system: {_yq(m['system'])}\n")
        owners(m["owners"])
    out.write("risks:\n")
    for r in org.risks:
        out.write(f"  - id: {_yq(r['id'])}\n    name: {_yq(r['name'])}\n"
                  f"    system: {_yq(r['system'])}\n    status: {r['status']}\n")
        owners(r["owners"])
    path.write_text(out.getvalue(), encoding="utf-8")


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_hr(org: Org, out: Path) -> None:
    _csv(out / "hr" / "people.csv",
         ["employee_id", "first_name", "last_name", "work_email", "employment_status",
          "hire_date", "termination_date", "department", "job_title", "manager_email",
          "account_type", "roles", "worker_type", "mlflow_user"],
         [[p["id"], p["first"], p["last"], p["email"], p["status"], p["hired"].isoformat(),
           p["terminated"].isoformat() if p["terminated"] else "", p["dept"], p["title"],
           p["manager"], p["kind"], p["roles"], p["etype"], p["mlflow"]] for p in org.people])
    _csv(out / "hr" / "leave.csv", ["employee_id", "leave_type", "first_day", "last_day"],
         [[lv["person"], lv["type"], lv["start"].isoformat(), lv["end"].isoformat()]
          for lv in org.leave])


def write_lms(org: Org, out: Path) -> None:
    _csv(out / "training" / "completions.csv",
         ["Email", "Course Code", "Completion Date", "Enrollment Status"],
         [[t["person"], t["course"], t["completed"].isoformat() if t["completed"] else "",
           t["status"]] for t in org.trainings])


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, separators=(", ", ": ")) + "\n")


CONFIG = """\
# Generated by benchmarks/generate.py (N = {n}); paths are relative to this file.
version: 1
organisation: Synthetic Bank (N = {n})
accountable_executive: ceo@{domain}
rule_packs: [{packs}]
fail_on: low
settings:
  production_stages: [production]
  production_aliases: [production]
sources:
  - adapter: register
    name: register
    path: register.yaml
  - adapter: hr_csv
    name: hr
    path: hr/people.csv
    columns:
      id: employee_id
      first_name: first_name
      last_name: last_name
      email: work_email
      status: employment_status
      hired: hire_date
      terminated: termination_date
      kind: account_type
      employment_type: worker_type
      department: department
      title: job_title
      manager: manager_email
      roles: roles
      handles: [mlflow_user]
    status_values: {{Active: active, On Leave: on_leave, Terminated: terminated}}
    kind_values: {{User: individual, Shared Mailbox: group, Service Account: service}}
    leave:
      path: hr/leave.csv
      columns: {{person: employee_id, start: first_day, end: last_day, type: leave_type}}
  - adapter: lms_csv
    name: lms
    path: training/completions.csv
    columns: {{person: Email, course: Course Code, completed: Completion Date,
              status: Enrollment Status}}
    course_values: {{AIGOV-101: ai-governance-basics}}
    status_values: {{Completed: passed, Failed: failed, In Progress: skip}}
  - {{adapter: jsonl, name: releases, path: evidence/releases.jsonl, kind: release}}
  - {{adapter: jsonl, name: approvals, path: evidence/approvals.jsonl, kind: approval}}
  - {{adapter: jsonl, name: reviews, path: evidence/reviews.jsonl, kind: review}}
  - {{adapter: jsonl, name: incidents, path: evidence/incidents.jsonl, kind: incident}}
  - {{adapter: jsonl, name: events, path: evidence/events.jsonl, kind: event}}
"""


def bench_document(org: Org) -> dict[str, Any]:
    """The evidence as one JSON document: what OPA and the floor read.

    Dates are epoch seconds, normalised exactly as the adapters do (a termination date is
    the last day worked, so employment ends at the midnight after it; a leave period ends
    at the midnight after its last day; an LMS date is midnight UTC).
    """
    def sec(d: date) -> int:
        return _epoch(_day(d))

    def iso(s: str | None) -> int | None:
        return _epoch(datetime.fromisoformat(s.replace("Z", "+00:00"))) if s else None

    leave: dict[str, list[list[int]]] = {}
    for lv in org.leave:
        leave.setdefault(lv["person"], []).append([sec(lv["start"]), sec(lv["end"]) + 86400])
    status = {"Active": "active", "On Leave": "on_leave", "Terminated": "terminated"}
    people = [{
        "id": p["id"], "handles": [p["id"], p["email"], p["mlflow"]], "emails": [p["email"]],
        "kind": "individual" if p["kind"] == "User" else "group",
        "status": status[p["status"]], "hired": sec(p["hired"]),
        "terminated": sec(p["terminated"]) + 86400 if p["terminated"] else None,
        "leave": leave.get(p["id"], []),
    } for p in org.people]
    trainings = [{"person": t["person"],
                  "course": COURSE if t["course"] == COURSE_CODE else t["course"],
                  "completed": sec(t["completed"]), "passed": t["status"] == "Completed"}
                 for t in org.trainings if t["status"] != "In Progress"]
    subjects = [{"kind": kind, "id": s["id"], "owners": {k: v for k, v in s["owners"].items()
                                                         if v is not None}}
                for kind, items in (("ai_system", org.systems), ("model", org.models),
                                    ("risk", org.risks)) for s in items]
    releases = [{**{k: v for k, v in r.items() if not k.endswith("_at")},
                 "registered_at": iso(r.get("registered_at")),
                 "deployed_at": iso(r.get("deployed_at"))} for r in org.releases]
    approvals = [{**a, "decided_at": iso(a["decided_at"])} for a in org.approvals]
    incidents = [{"id": i["id"], "severity": i["severity"], "opened_at": iso(i["opened_at"]),
                  "assignee": i.get("assignee"), "acknowledged_at": iso(
                      i.get("acknowledged_at"))} for i in org.incidents]
    return {
        "as_of": _epoch(AS_OF),
        "settings": {"production_stages": ["production"], "production_aliases": ["production"],
                     "shared_mailbox_patterns": SHARED_PATTERNS,
                     "validity_days": 365, "ack_hours": 24,
                     "owner_kinds": ["ai_system", "risk"]},
        "people": people, "trainings": trainings, "subjects": subjects,
        "releases": releases, "approvals": approvals, "incidents": incidents,
    }


def generate(n: int, out: Path, seed: int = 42, rules_dir: Path = BENCH_RULES) -> Org:
    """Write the organisation of size ``n`` to ``out`` and return it."""
    org = Org(n, seed)
    out.mkdir(parents=True, exist_ok=True)
    write_register(org, out / "register.yaml")
    write_hr(org, out)
    write_lms(org, out)
    ev = out / "evidence"
    _jsonl(ev / "releases.jsonl", org.releases)
    _jsonl(ev / "approvals.jsonl", org.approvals)
    _jsonl(ev / "reviews.jsonl", org.reviews)
    _jsonl(ev / "incidents.jsonl", org.incidents)
    _jsonl(ev / "events.jsonl", org.events)
    (out / "aimscheck.yaml").write_text(CONFIG.format(n=n, domain=DOMAIN, packs="iso42001"),
                                        encoding="utf-8")
    (out / "aimscheck-six.yaml").write_text(
        CONFIG.format(n=n, domain=DOMAIN, packs=json.dumps(str(rules_dir))), encoding="utf-8")
    with (out / "bench-input.json").open("w", encoding="utf-8") as fh:
        json.dump(bench_document(org), fh, separators=(",", ":"))
    (out / "planted.json").write_text(
        json.dumps({k: sorted(v) for k, v in org.planted.items()}, indent=1) + "\n",
        encoding="utf-8")
    return org


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="employees")
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    generate(a.n, a.out, a.seed)


if __name__ == "__main__":
    main()
