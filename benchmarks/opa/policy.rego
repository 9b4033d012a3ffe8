# The six benchmark checks in Rego, over the evidence as ONE JSON document
# (benchmarks/generate.py writes it as bench-input.json; bench.py loads it as `data`).
# Each rule yields the set of failing targets, keyed as aimscheck keys them:
# `kind/id` for subjects, `model:version` for releases, the incident id for incidents.
# Same decisions as benchmarks/rules (aimscheck) and benchmarks/floor.py (plain Python).
package aimscheck.bench

import rego.v1

as_of := data.as_of

settings := data.settings

# -- people: indexes built once (sets and objects), looked up per owner ------------------------
# every handle, case-insensitive → the person's id
pid := {lower(h): p.id | some p in data.people; some h in p.handles}

norm(h) := lower(trim_space(h))

# the shared-mailbox patterns as one case-insensitive alternation
shared_re := concat("", ["(?i)(", concat(")|(", settings.shared_mailbox_patterns), ")"])

shared_email(p) if {
	some n in p.emails
	regex.match(shared_re, n)
}

individuals contains p.id if {
	some p in data.people
	p.kind == "individual"
	not shared_email(p)
}

employed(p) if {
	p.hired <= as_of
	p.terminated != null
	as_of < p.terminated
}

employed(p) if {
	p.hired <= as_of
	p.terminated == null
	p.status != "terminated"
}

on_leave(p) if {
	some period in p.leave
	period[0] <= as_of
	as_of < period[1]
}

on_leave(p) if {
	p.status == "on_leave"
	count(p.leave) == 0
}

present contains p.id if {
	some p in data.people
	employed(p)
	not on_leave(p)
}

validity := settings.validity_days * 86400

trained_people contains i if {
	some t in data.trainings
	t.passed
	t.course == "ai-governance-basics"
	t.completed <= as_of
	as_of < t.completed + validity
	k := norm(t.person)
	i := pid[k]
}

shared_handle(h) if regex.match(shared_re, h)

# (a call inside a reference index, pid[norm(h)], crashes rego-cpp 1.5: bind it first)
person_id(h) := i if {
	k := norm(h)
	i := pid[k]
}

individual_ok(h) if {
	i := person_id(h)
	individuals[i]
	not shared_handle(h)
}

not_individual(h) if not individual_ok(h)

not_active(h) if not individual_ok(h)

present_ok(h) if {
	i := person_id(h)
	present[i]
}

not_active(h) if not present_ok(h)

trained_ok(h) if {
	i := person_id(h)
	trained_people[i]
}

untrained(h) if not trained_ok(h)

# -- owners of AI systems and risks ---------------------------------------------------------
owner_kinds := {k | some k in settings.owner_kinds}

owned := [s | some s in data.subjects; owner_kinds[s.kind]]

key(s) := concat("/", [s.kind, s.id])

owner_handles(s) := [h | some role in ["primary", "backup"]; h := s.owners[role]]

identity_key(h) := k if {
	k := person_id(h)
} else := concat(":", ["h", norm(h)])

assigned_distinct contains key(s) if {
	some s in owned
	some role in ["primary", "backup"]
	not s.owners[role]
}

assigned_distinct contains key(s) if {
	some s in owned
	identity_key(s.owners.primary) == identity_key(s.owners.backup)
}

individual contains key(s) if {
	some s in owned
	some h in owner_handles(s)
	not_individual(h)
}

active contains key(s) if {
	some s in owned
	some h in owner_handles(s)
	not_active(h)
}

# unknown owners are left to the people checks
trained contains key(s) if {
	some s in owned
	some h in owner_handles(s)
	person_id(h)
	untrained(h)
}

# -- releases: production versions approved before deployment, not by the registrant ----------
production_stages := {lower(x) | some x in settings.production_stages}

production_aliases := {lower(x) | some x in settings.production_aliases}

in_production(r) if {
	st := lower(r.stage)
	production_stages[st]
}

in_production(r) if {
	some a in object.get(r, "aliases", [])
	al := lower(a)
	production_aliases[al]
}

release_id(r) := concat(":", [r.model, r.version])

production := {lower(release_id(r)): r | some r in data.releases; in_production(r)}

excluded(r) := k if {
	k := person_id(r.registered_by)
} else := lower(r.registered_by)

approved contains release_id(r) if {
	some a in data.approvals
	a.decision == "approved"
	k := lower(concat(":", [a.model, a.version]))
	r := production[k]
	lower(a.model) == lower(r.model)
	a.version == r.version
	i := person_id(a.approver)
	i != excluded(r)
	a.decided_at < r.deployed_at
}

release_approved contains release_id(r) if {
	some r in production
	rid := release_id(r)
	not approved[rid]
}

# -- incidents: high severity assigned to an individual and acknowledged within 24 h ----------
high := {"critical", "high"}

ack_limit := settings.ack_hours * 3600

incident_ok(i) if {
	individual_ok(i.assignee)
	i.acknowledged_at != null
	i.acknowledged_at - i.opened_at <= ack_limit
}

incident_ack contains i.id if {
	some i in data.incidents
	high[i.severity]
	not incident_ok(i)
}

findings := {
	"assigned_distinct": assigned_distinct,
	"individual": individual,
	"trained": trained,
	"release_approved": release_approved,
	"incident_ack": incident_ack,
	"active": active,
}
