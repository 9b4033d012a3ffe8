"""Believable Jira Cloud v3 / Data Center v2 payloads for the adapter tests.

Shapes follow the documented REST responses: user objects with ``accountId`` (``712020:…``),
``emailAddress`` absent under strict privacy settings, ``customfield_NNNNN`` fields named by
``names`` (``expand=names``), changelogs as ``histories[].items[]`` newest first.
"""

from __future__ import annotations

from typing import Any

SITE = "https://northwind.atlassian.net"
TOKEN = "ATATT3xFfGF0-test-token-Zq9s7Lk2"
EMAIL = "svc-aimscheck@northwind.example"
PAT = "NjA5MzE4NzQ0MjE2OiQ-dc-personal-token"

NAMES = {
    "summary": "Summary", "issuetype": "Issue Type", "status": "Status", "assignee": "Assignee",
    "reporter": "Reporter", "created": "Created", "priority": "Priority",
    "customfield_10050": "Model", "customfield_10051": "Model Version",
    "customfield_10042": "Backup Owner", "customfield_10070": "AI System",
    "customfield_10072": "Escalated To",
}


def user(account: str, name: str, email: str | None = None, *, dc: bool = False
         ) -> dict[str, Any]:
    if dc:
        u: dict[str, Any] = {"self": f"https://jira.northwind.example/rest/api/2/user?username="
                                     f"{account}", "name": account, "key": f"JIRAUSER{len(name)}"}
    else:
        u = {"self": f"{SITE}/rest/api/3/user?accountId={account}", "accountId": account,
             "accountType": "atlassian"}
    if email:
        u["emailAddress"] = email
    u.update({"avatarUrls": {"48x48": "https://secure.gravatar.com/avatar/x?d=mm&s=48"},
              "displayName": name, "active": True, "timeZone": "Europe/Berlin"})
    return u


# Zoë's email is hidden by her privacy settings; Łukasz shows his.
ZOE = user("712020:1d22b7ed-7df0-5727-9107-5faecb289876", "Zoë Müller")
LUKASZ = user("712020:f9caf052-064e-5c6b-800c-7def691b78a0", "Łukasz Nowak",
              "lukasz.nowak@northwind.example")
SIOBHAN = user("712020:23b039a7-a26c-51a4-97f7-0ccf1010679a", "Siobhán Ní Bhriain",
               "siobhan.nibhriain@northwind.example")
NADIA = user("712020:bfe99277-d063-5e0b-9d99-3e999689325f", "Nadia Petrova",
             "nadia.petrova@northwind.example")

STATUS_IDS = {"Open": "1", "In Review": "10101", "Approved": "10102", "Rejected": "10103",
              "Acknowledged": "10201", "Escalated": "10202", "Resolved": "5", "Closed": "6",
              "Under Review": "10203", "Monitoring": "10204"}


def status(name: str) -> dict[str, Any]:
    return {"self": f"{SITE}/rest/api/3/status/{STATUS_IDS[name]}", "name": name,
            "id": STATUS_IDS[name],
            "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"}}


def move(frm: str, to: str) -> dict[str, Any]:
    return {"field": "status", "fieldtype": "jira", "fieldId": "status",
            "from": STATUS_IDS[frm], "fromString": frm, "to": STATUS_IDS[to], "toString": to}


def change(field: str, field_id: str, old: dict[str, Any] | None,
           new: dict[str, Any] | None) -> dict[str, Any]:
    def acc(u: dict[str, Any] | None) -> str | None:
        return None if u is None else (u.get("accountId") or u.get("name"))

    return {"field": field, "fieldtype": "jira" if field_id == "assignee" else "custom",
            "fieldId": field_id, "from": acc(old),
            "fromString": old["displayName"] if old else None, "to": acc(new),
            "toString": new["displayName"] if new else None}


def history(hid: int, author: dict[str, Any] | None, created: str, *items: dict[str, Any]
            ) -> dict[str, Any]:
    return {"id": str(hid), "author": author, "created": created, "items": list(items)}


def issue(key: str, iid: int, itype: str, st: str, fields: dict[str, Any],
          histories: list[dict[str, Any]], *, embed: int | None = None, api: str = "3",
          site: str = SITE) -> dict[str, Any]:
    """An issue as search returns it; ``embed`` caps the embedded changelog (newest first)."""
    newest = sorted(histories, key=lambda h: int(h["id"]), reverse=True)
    shown = newest if embed is None else newest[:embed]
    return {
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": str(iid), "self": f"{site}/rest/api/{api}/issue/{iid}", "key": key,
        "fields": {
            "summary": f"{itype} {key}",
            "issuetype": {"id": "10100", "name": itype, "subtask": False, "hierarchyLevel": 0},
            "project": {"id": "10010", "key": key.split("-")[0], "name": "AI Governance"},
            "status": status(st), "priority": {"id": "3", "name": "Medium"},
            "assignee": None, "reporter": None, "created": "2026-06-01T09:00:00.000+0200",
            "resolutiondate": None, "resolution": None, "labels": ["ai-governance"],
            "customfield_10050": None, "customfield_10051": None, "customfield_10042": None,
            "customfield_10070": None, "customfield_10072": None,
            **fields,
        },
        "changelog": {"startAt": 0, "maxResults": len(shown), "total": len(newest),
                      "histories": shown},
    }


def approval(key: str, iid: int, model: str, version: str, approver: dict[str, Any],
             decided: str, *, requester: dict[str, Any] = NADIA, hid: int = 20000,
             api: str = "3") -> dict[str, Any]:
    return issue(key, iid, "Release Approval", "Approved", {
        "summary": f"Release approval: {model} v{version}", "reporter": requester,
        "customfield_10050": model, "customfield_10051": version,
    }, [
        history(hid, requester, "2026-07-10T09:00:00.000+0200", move("Open", "In Review")),
        history(hid + 1, approver, decided, move("In Review", "Approved")),
    ], api=api)


def page_v3(issues: list[dict[str, Any]], token: str | None, *, is_last: bool | None = None
            ) -> dict[str, Any]:
    body: dict[str, Any] = {"issues": issues}
    if token:
        body["nextPageToken"] = token
    if is_last is not None:
        body["isLast"] = is_last
    body["names"] = NAMES
    return body


def page_v2(issues: list[dict[str, Any]], start: int, total: int, size: int
            ) -> dict[str, Any]:
    return {"expand": "names,schema", "startAt": start, "maxResults": size, "total": total,
            "issues": issues, "names": NAMES}
