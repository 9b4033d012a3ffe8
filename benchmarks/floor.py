"""The indexed plain-Python floor: the six checks over ``bench-input.json`` with plain dicts.

No models, no provenance, no messages: the least work that decides the same findings as
aimscheck's benchmark pack (benchmarks/rules) and the Rego policy (benchmarks/opa). It is
what "evaluation within 2x of the floor" is measured against.

Usage: python benchmarks/floor.py OUT_DIR/bench-input.json [FINDINGS_OUT.json]
(prints the load and evaluation seconds; writes the failing targets per check if asked)
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import defaultdict
from typing import Any

Findings = dict[str, set[str]]

#: Rego rule name / floor key → aimscheck benchmark rule id.
RULE_IDS = {
    "assigned_distinct": "AIMS-BEN-001",
    "individual": "AIMS-BEN-002",
    "trained": "AIMS-BEN-003",
    "release_approved": "AIMS-BEN-004",
    "incident_ack": "AIMS-BEN-005",
    "active": "AIMS-BEN-006",
}


def check(doc: dict[str, Any]) -> Findings:
    """Failing targets per check (``kind/id`` for subjects, ``model:version``, incident id)."""
    as_of = doc["as_of"]
    st = doc["settings"]
    pats = [re.compile(p, re.IGNORECASE) for p in st["shared_mailbox_patterns"]]

    # identity: every handle (case-insensitive) → person; a handle of two people → nobody
    by_handle: dict[str, dict[str, Any]] = {}
    ambiguous: set[str] = set()
    for p in doc["people"]:
        for h in p["handles"]:
            k = h.strip().casefold()
            other = by_handle.get(k)
            if other is not None and other["id"] != p["id"]:
                ambiguous.add(k)
            by_handle[k] = p
    for k in ambiguous:
        del by_handle[k]

    def person(h: str | None) -> dict[str, Any] | None:
        return by_handle.get(h.strip().casefold()) if h else None

    # training index: (person id, course) → completion times of passed attempts
    passed: dict[tuple[str, str], list[int]] = defaultdict(list)
    for t in doc["trainings"]:
        if t["passed"]:
            p = person(t["person"])
            if p is not None:
                passed[(p["id"], t["course"])].append(t["completed"])
    validity = st["validity_days"] * 86400

    def shared(h: str, p: dict[str, Any]) -> bool:
        return any(rx.search(n) for rx in pats for n in (h, *p["emails"]))

    def not_individual(h: str) -> bool:
        p = person(h)
        return p is None or p["kind"] != "individual" or shared(h, p)

    def not_active(h: str) -> bool:
        p = person(h)
        if p is None or p["kind"] != "individual" or shared(h, p):
            return True
        if p["hired"] is not None and as_of < p["hired"]:
            return True
        if p["terminated"] is not None:
            if as_of >= p["terminated"]:
                return True
        elif p["status"] == "terminated":
            return True
        if any(s <= as_of and (e is None or as_of < e) for s, e in p["leave"]):
            return True
        return p["status"] == "on_leave" and not p["leave"]

    def untrained(h: str) -> bool:
        p = person(h)
        if p is None:
            return False  # unknown owners are left to the people checks
        return not any(c <= as_of < c + validity
                       for c in passed.get((p["id"], "ai-governance-basics"), ()))

    out: Findings = {k: set() for k in RULE_IDS}
    kinds = set(st["owner_kinds"])
    for s in doc["subjects"]:
        if s["kind"] not in kinds:
            continue
        key = f"{s['kind']}/{s['id']}"
        owners = [h for h in (s["owners"].get("primary"), s["owners"].get("backup")) if h]
        pr, bk = s["owners"].get("primary"), s["owners"].get("backup")
        if not pr or not bk:
            out["assigned_distinct"].add(key)
        else:
            pp, bp = person(pr), person(bk)
            kp = pp["id"] if pp else "h:" + pr.strip().casefold()
            kb = bp["id"] if bp else "h:" + bk.strip().casefold()
            if kp == kb:
                out["assigned_distinct"].add(key)
        if any(not_individual(h) for h in owners):
            out["individual"].add(key)
        if any(not_active(h) for h in owners):
            out["active"].add(key)
        if any(untrained(h) for h in owners):
            out["trained"].add(key)

    approvals: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in doc["approvals"]:
        keys = {a["subject"].strip().casefold()}
        if a.get("model") and a.get("version"):
            keys.add(f"{a['model']}:{a['version']}".casefold())
        for k in keys:
            approvals[k].append(a)
    stages = {x.casefold() for x in st["production_stages"]}
    aliases = {x.casefold() for x in st["production_aliases"]}
    for r in doc["releases"]:
        if (r.get("stage") or "").casefold() not in stages and not any(
                x.casefold() in aliases for x in r.get("aliases", ())):
            continue
        rid = f"{r['model']}:{r['version']}"
        dep = r.get("deployed_at")
        if dep is None:
            out["release_approved"].add(rid)  # an error: the order cannot be checked
            continue
        reg = r.get("registered_by")
        rp = person(reg)
        excluded = rp["id"] if rp else (reg.casefold() if reg else None)
        ok = False
        for a in approvals.get(rid.casefold(), ()):
            pinned = a.get("model") is not None or a.get("version") is not None
            if pinned and ((a.get("model") or "").casefold() != r["model"].casefold()
                           or a.get("version") != r["version"]):
                continue
            ap = person(a["approver"])
            if a["decision"] == "approved" and ap is not None and ap["id"] != excluded \
                    and a["decided_at"] < dep:
                ok = True
                break
        if not ok:
            out["release_approved"].add(rid)

    ack_limit = st["ack_hours"] * 3600
    for i in doc["incidents"]:
        if i["severity"] not in ("critical", "high"):
            continue
        h = i.get("assignee")
        ack = i.get("acknowledged_at")
        if not h or not_individual(h) or ack is None or ack - i["opened_at"] > ack_limit:
            out["incident_ack"].add(i["id"])
    return out


def main() -> None:
    t0 = time.perf_counter()
    with open(sys.argv[1], encoding="utf-8") as fh:
        doc = json.load(fh)
    t1 = time.perf_counter()
    res = check(doc)
    t2 = time.perf_counter()
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w", encoding="utf-8") as fh:
            json.dump({k: sorted(v) for k, v in res.items()}, fh)
    print(json.dumps({"load": t1 - t0, "evaluate": t2 - t1,
                      "counts": {k: len(v) for k, v in res.items()}}))


if __name__ == "__main__":
    main()
