"""Escalation as findings age: who else must know when a failing finding stays failing.

With the scan history recorded (``scan --record``), each failing finding knows since when
it has failed without a break (:meth:`checker.history.History.failing_since`; the current
scan counts as the last of the run). The config's ladder::

    escalation:
      - {after_days: 14, to: deputy}                  # the finding's backup
      - {after_days: 30, to: manager}                 # the owner's manager (HR `manager`)
      - {after_days: 45, to: accountable_executive}

gives the finding ``escalated_to``: the target of the highest step reached. A target that
cannot be named (no deputy, no manager in HR, a manager who has left, or the owner
themselves) passes the escalation up to the next step's target, and finally to the
accountable executive. Whether a target can be named is :func:`checker.availability.availability`
at the as-of under the config's settings — the answer owner resolution, the checks, the
matrix and the waivers use (a manager on leave, terminated, a contractor when contractors
may not own, or a shared mailbox is passed over). Everything is computed from the as-of and
the recorded scans, so the same history and ``--as-of`` give the same escalations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from .availability import availability
from .config import DEFAULT_HISTORY_FILE, LoadedConfig, Settings
from .errors import ConfigError
from .findings import FAILING, ClosedFinding, Finding, OwnerRef, PassRecord
from .identity import IdentityIndex
from .loopconfig import EscalationStep
from .timeutil import format_ts, parse_ts
from .yamlsrc import Located

__all__ = ["age_from_history", "apply_escalation", "check_ladder", "failing_days"]

Key = tuple[str, str, str]


def check_ladder(steps: Sequence[EscalationStep], located: Located | None) -> None:
    """The ladder climbs: strictly increasing ``after_days``.

    Raises:
        ConfigError: with the file:line of the offending step.
    """
    for i in range(1, len(steps)):
        if steps[i].after_days <= steps[i - 1].after_days:
            msg = (f"escalation step {i + 1} (after_days {steps[i].after_days}) does not come "
                   f"after step {i} (after_days {steps[i - 1].after_days})")
            hint = "list the steps in order of increasing after_days"
            if located is not None:
                raise ConfigError(located.diag(("escalation", i, "after_days"), "E140", msg,
                                               hint))
            from .errors import Diagnostic

            raise ConfigError(Diagnostic("escalation", 0, 0, "E140", msg, hint))


def failing_days(since: str, as_of: datetime) -> int:
    """Whole days from ``since`` to ``as_of``."""
    return (as_of - parse_ts(since)).days


def _ref(identity: IdentityIndex, handle: str | None, as_of: datetime, settings: Settings,
         via: str, exclude: str) -> OwnerRef | None:
    """The target when :func:`availability` says they can be accountable at ``as_of``."""
    a = availability(identity, handle, as_of, settings)
    person = a.person
    if not a.ok or person is None or person.id == exclude:
        return None
    return OwnerRef(id=person.id, name=person.name, email=person.primary_email, via=via)


def _target(step: EscalationStep, f: Finding, identity: IdentityIndex, executive: str,
            as_of: datetime, settings: Settings) -> OwnerRef | None:
    via = f"escalation:{step.after_days}d:{step.to}"
    if step.to == "deputy":
        if f.deputy is None:
            return None
        return _ref(identity, f.deputy.id, as_of, settings, via, f.owner.id)
    if step.to == "manager":
        owner = identity.by_id(f.owner.id) or identity.resolve(f.owner.email)
        return _ref(identity, owner.manager if owner else None, as_of, settings, via,
                    f.owner.id)
    if step.to == "accountable_executive":
        return _ref(identity, executive, as_of, settings, via, f.owner.id)
    return _ref(identity, step.to, as_of, settings, via, f.owner.id)


def apply_escalation(findings: Sequence[Finding], steps: Sequence[EscalationStep],
                     since: dict[Key, str], as_of: datetime, identity: IdentityIndex,
                     executive: str, settings: Settings | None = None) -> list[Finding]:
    """Stamp ``failing_since`` and ``escalated_to`` on failing findings.

    Args:
        findings: The scan's findings (after waivers).
        steps: The ladder, increasing ``after_days``.
        since: From :meth:`History.failing_since` over the scans before this one.
        as_of: This scan's as-of (this scan is the last of every failing run).
        identity: People, for managers and named targets (the store's index, so absences
            from absence sources count).
        executive: The accountable executive's handle.
        settings: The availability policy (shared mailboxes, contractors); default: the
            built-in settings, as :func:`availability` defaults.
    """
    s = settings or Settings()
    now = format_ts(as_of)
    ordered = sorted(steps, key=lambda s: s.after_days)
    out: list[Finding] = []
    for f in findings:
        if f.status not in FAILING:
            out.append(f)
            continue
        start = since.get((f.rule_id, f.target_kind, f.target_id), now)
        days = failing_days(start, as_of)
        reached = [i for i, s in enumerate(ordered) if days >= s.after_days]
        target: OwnerRef | None = None
        if reached:
            for step in ordered[reached[-1]:]:
                target = _target(step, f, identity, executive, as_of, s)
                if target is not None:
                    break
            if target is None:
                last = EscalationStep(after_days=ordered[reached[-1]].after_days,
                                      to="accountable_executive")
                target = _target(last, f, identity, executive, as_of, s)
        out.append(f.model_copy(update={"failing_since": start, "escalated_to": target}))
    return out


def age_from_history(loaded: LoadedConfig, findings: Sequence[Finding], as_of: datetime,
                     identity: IdentityIndex, history_url: str | None,
                     passes: Iterable[PassRecord] = (), *, notes: list[str] | None = None,
                     ) -> tuple[list[Finding], tuple[ClosedFinding, ...]]:
    """Age every failing finding and list the ones this scan closes (10.2).

    With a history store (``history_url``, or the SQLite file beside the config), each
    failing finding gets ``failing_since`` (and ``escalated_to`` when the config has a
    ladder), and every finding that failed in the latest recorded scan up to ``as_of`` but
    does not fail now is returned as closed — its corrective action verified by this scan.
    Without a store, only a configured ladder applies (everything starts failing now).
    ``identity`` is the scan's index (``store.identity``): the people, their merged HR
    records and their absences, as the checks saw them.

    The store is only read, never created: a ``--history-url`` naming a SQLite file that
    does not exist yet counts as no store, and ``notes`` gets one line saying so
    (``scan --record`` creates the file after the reports).
    """
    cfg = loaded.config
    history = None
    if history_url or (loaded.base_dir / DEFAULT_HISTORY_FILE).exists():
        from .history import History, default_url  # SQLAlchemy: only when there is a store

        history = History(history_url or default_url(loaded.path))
        absent = history.missing()
        if absent is not None:  # as if there were no store: this scan starts every age
            history = None
            if notes is not None:
                notes.append(f"note: history: no store at {absent} yet; nothing to compare "
                             "with")
    if history is None and not cfg.escalation:
        return list(findings), ()
    check_ladder(cfg.escalation, loaded.located)
    since: dict[Key, str] = {}
    if history is not None:
        since = history.failing_since(format_ts(as_of))
    aged = apply_escalation(findings, cfg.escalation, since, as_of, identity,
                            cfg.accountable_executive, cfg.settings)
    now = format_ts(as_of)
    current = {(f.rule_id, f.target_kind, f.target_id): f.status for f in findings}
    if since:  # a closed finding that passes now says so (else it is 'gone')
        current.update(((p.rule_id, p.target_kind, p.target_id), "pass") for p in passes)
    closed = tuple(
        ClosedFinding(rule_id=k[0], target_kind=k[1], target_id=k[2], first_seen=start,
                      closed_at=now, status_now=current.get(k, "gone"))
        for k, start in sorted(since.items())
        if current.get(k) not in FAILING and start != now)
    return aged, closed
