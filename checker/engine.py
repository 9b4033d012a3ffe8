"""Pure evaluation of rules × targets at an injected as-of time. No I/O, no clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import cast

from .causes import cause_key
from .checks.base import EvalContext, Outcome, combine_all, locator, target_id, target_kind
from .config import Config
from .errors import IncompleteEvidence
from .evidence import Person, Provenance, Release, Subject
from .findings import FAILING, Finding, FindingStatus, OwnerRef, PassRecord, RuleInfo
from .owners import OwnerChoice, resolve_owner
from .rules import CompiledRule
from .severity import Severity, severity_rank
from .store import EvidenceStore, Target

__all__ = ["NO_TARGET", "evaluate", "evaluate_compact", "exit_code_for", "summarise"]


def _name(target: Target) -> str:
    if isinstance(target, Subject | Person):
        return target.name
    if isinstance(target, Release):
        return f"{target.model} v{target.version}"
    title = getattr(target, "title", "")
    return str(title or target_id(target))


def _ref(choice: OwnerChoice | None,
         refs: dict[tuple[int, str], tuple[Person, OwnerRef]] | None = None
         ) -> OwnerRef | None:
    if choice is None:
        return None
    p = choice.person
    if refs is None:
        return OwnerRef(id=p.id, name=p.name, email=p.primary_email, via=choice.via)
    # the same few thousand people own most findings: one (immutable) ref per (person, via)
    key = (id(p), choice.via)
    hit = refs.get(key)
    if hit is None or hit[0] is not p:
        hit = refs[key] = (p, OwnerRef(id=p.id, name=p.name, email=p.primary_email,
                                       via=choice.via))
    return hit[1]


def _evaluate_one(rule: CompiledRule, ctx: EvalContext, target: Target) -> Outcome | None:
    """None means not applicable."""
    if rule.where:
        sel = combine_all([c.run(ctx, target) for c in rule.where])
        if sel.status == "error":
            return sel
        if sel.status == "fail":
            return None
    return combine_all([c.run(ctx, target) for c in rule.require])


def evaluate(
    rules: Iterable[CompiledRule],
    store: EvidenceStore,
    as_of: datetime,
    config: Config,
    *,
    gate_release: str | None = None,
    only: set[str] | None = None,
) -> list[Finding]:
    """Every finding of :func:`evaluate_compact`, passes included, as full findings.

    Returns:
        One finding per (rule, target), sorted by rule id, target kind and id.
    """
    findings, passes = evaluate_compact(rules, store, as_of, config, gate_release=gate_release,
                                        only=only)
    return sorted([*findings, *(p.to_finding() for p in passes)],
                  key=lambda f: (f.rule_id, f.target_kind, f.target_id))


def evaluate_compact(
    rules: Iterable[CompiledRule],
    store: EvidenceStore,
    as_of: datetime,
    config: Config,
    *,
    gate_release: str | None = None,
    only: set[str] | None = None,
) -> tuple[list[Finding], list[PassRecord]]:
    """Evaluate each rule on each target it applies to.

    Args:
        rules: Compiled rules.
        store: The evidence.
        as_of: The evaluation time (the only "now").
        config: The run configuration (settings, accountable executive).
        gate_release: ``model:version`` when running ``gate release``.
        only: When given, evaluate only targets whose ``kind/id`` is in this set.

    Returns:
        The findings that do not pass, and the passes as compact records: one per (rule,
        target), each list sorted by rule id, target kind and id. A rule that matched no
        target yields one ``warn`` finding saying so. Only non-passing outcomes become
        validated :class:`Finding` models; a pass shares its rule's details and its owners'
        references with the other passes.
    """
    exec_ = config.accountable_executive
    findings: list[Finding] = []
    passes: list[PassRecord] = []
    fallback = _fallback_owner(exec_)
    # Many rules share a finding-owner chain: resolve each (target, chain) once.
    owners: dict[tuple[int, tuple[str, ...], frozenset[str]],
                 tuple[OwnerRef | None, OwnerRef | None]] = {}
    refs: dict[tuple[int, str], tuple[Person, OwnerRef]] = {}
    for rule in rules:
        info = RuleInfo(rule.id, rule.title, Severity(rule.severity), rule.references,
                        rule.remediation, rule.file, rule.good_practice)
        missing = sorted(k for k in rule.needs if k in store.incomplete)
        ctx = EvalContext(store, as_of, config.settings, rule.params, gate_release)
        matched = 0
        for kind in rule.applies_to:
            for target in store.targets(kind):
                tkey = f"{target_kind(target)}/{target_id(target)}"
                if only is not None and tkey not in only:
                    continue
                if missing:
                    diag = store.incomplete[missing[0]][0]
                    out: Outcome | None = Outcome(
                        "error", f"evidence incomplete ({', '.join(missing)}): "
                        f"{diag.one_line()}", (locator(target),))
                else:
                    try:
                        # The store raises on any incomplete kind a check reads, declared
                        # in its `needs` or not: fail closed without trusting declarations.
                        with store.guarded():
                            out = _evaluate_one(rule, ctx, target)
                    except IncompleteEvidence as exc:
                        out = Outcome("error", f"evidence incomplete ({exc.kind}): "
                                      f"{exc.diagnostics[0].one_line()}", (locator(target),))
                    except OverflowError:
                        # dates at the calendar's edge (9999-12-31 plus a validity period):
                        # the check cannot be decided, so it fails closed, located
                        out = Outcome("error", f"date arithmetic out of range in {rule.id} "
                                      f"({rule.file}:{rule.line}): the evidence or the "
                                      "rule's params reach past year 9999",
                                      (locator(target),))
                matched += 1
                chain = tuple(rule.chain_for(kind))
                excl = _subjects(store, target, out)
                okey = (id(target), chain, excl)
                if okey not in owners:
                    o, d = resolve_owner(store, target, list(chain), exec_, as_of,
                                         config.settings, excl)
                    owners[okey] = (_ref(o, refs), _ref(d, refs))
                owner_ref, deputy_ref = owners[okey]
                if out is not None and out.status == "pass":
                    passes.append(PassRecord(
                        info, target_kind(target), target_id(target), _name(target),
                        out.message, tuple(e for e in out.evidence if e and e != "?"),
                        out.act, owner_ref or fallback, deputy_ref))
                else:
                    findings.append(_finding(rule, target, out, owner_ref, deputy_ref, exec_))
        if matched == 0 and only is None:
            if missing:
                diag = store.incomplete[missing[0]][0]
                out = Outcome("error", f"evidence incomplete ({', '.join(missing)}): "
                              f"{diag.one_line()}")
            else:
                out = Outcome("warn", f"rule matched no {'/'.join(rule.applies_to)} at all: "
                              "is that evidence missing from the config's sources?")
            o, d = resolve_owner(store, NO_TARGET, [], exec_, as_of, config.settings)
            findings.append(_finding(rule, None, out, _ref(o), _ref(d), exec_))
    findings.sort(key=lambda f: (f.rule_id, f.target_kind, f.target_id))
    passes.sort(key=lambda p: (p.rule.rule_id, p.target_kind, p.target_id))
    return findings, passes


def _fallback_owner(executive: str) -> OwnerRef:
    return OwnerRef(id=executive, name=executive, email=None,
                    via="accountable_executive (not found in HR)")


def _subjects(store: EvidenceStore, target: Target, out: Outcome | None) -> frozenset[str]:
    """Person ids that may not be a finding's deputy: its subject person and its causes."""
    handles = [*(out.cause if out is not None else ())]
    if target_kind(target) == "person":
        handles.append(target_id(target))
    ids: set[str] = set()
    for h in handles:
        p = store.identity.resolve(h)
        ids.add(p.id if p is not None else h)
    return frozenset(ids)


#: A placeholder target for findings about a rule itself (it matched nothing).
NO_TARGET = Subject.model_construct(
    kind="process", id="-", name="-", owners={}, history=(), attributes={},
    provenance=Provenance(adapter="aimscheck", locator="-",
                          fetched_at=datetime(1970, 1, 1, tzinfo=UTC)))


def _finding(rule: CompiledRule, target: Target | None, out: Outcome | None,
             owner: OwnerRef | None, deputy: OwnerRef | None, executive: str) -> Finding:
    owner_ref = owner or _fallback_owner(executive)
    status: str = "not_applicable"
    message = "not applicable"
    evidence: tuple[str, ...] = ()
    act: tuple[str, ...] = ()
    remediation = rule.remediation
    cause: str | None = None
    cause_text: str | None = None
    if out is not None:
        status, message, evidence, act = out.status, out.message, out.evidence, out.act
        if out.fact is not None and out.status != "pass":
            # the fix is the fact's: an unknown person's fix is not "replace the group"
            tkey = f"{target_kind(target)}/{target_id(target)}" if target is not None else "-"
            cause, cause_text = cause_key(out.fact, tkey), out.fact.text
            remediation = out.fact.remediation
    return Finding(
        rule_id=rule.id, title=rule.title, severity=Severity(rule.severity),
        status=cast(FindingStatus, status),
        target_kind=target_kind(target) if target is not None else "rule",
        target_id=target_id(target) if target is not None else rule.id,
        target_name=_name(target) if target is not None else rule.title,
        message=message, owner=owner_ref, deputy=deputy,
        evidence=tuple(e for e in evidence if e and e != "?"), references=rule.references,
        remediation=remediation, rule_file=rule.file, act=act,
        good_practice=rule.good_practice, cause=cause, cause_text=cause_text,
    )


def summarise(findings: Iterable[Finding], fail_on: str, passes: int = 0) -> dict[str, object]:
    """Counts by status and the number of findings that fail the run.

    ``passes`` counts the compact passes that are not among ``findings``.
    """
    fl = list(findings)
    counts = Counter(f.status for f in fl)
    counts["pass"] += passes
    threshold = severity_rank(fail_on)
    failing = [f for f in fl if f.status in FAILING
               and (f.status == "error" or f.severity.rank >= threshold)]
    return {
        "total": len(fl) + passes,
        **{s: counts.get(s, 0) for s in ("pass", "warn", "fail", "error", "waived",
                                          "not_applicable")},
        "failing": len(failing),
        "owners": len({f.owner.id for f in failing}),
    }


def exit_code_for(findings: Iterable[Finding], fail_on: str, source_errors: bool) -> int:
    """3 when evidence was incomplete, 1 when a finding fails at or above fail_on, else 0."""
    fl = list(findings)
    if source_errors or any(f.status == "error" for f in fl):
        return 3
    s = summarise(fl, fail_on)
    return 1 if s["failing"] else 0
