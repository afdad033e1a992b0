"""Security alerts of a monitoring run: bursts of refused actions, a broken trail.

Each run looks at the audit trail as it stands (the per-window signals of
``governance.operations.security_signals`` are stored with the windows, but a
window is scored only once it has ended, too late for a burst of this week):

- Refused actions (``access.denied``) since one monitoring window ago
  (``policy.monitoring.window``), grouped per actor into episodes: refusals at most
  ``monitoring.denied_burst_minutes`` apart belong to one episode. An
  episode in which ``monitoring.denied_burst_count`` refusals fall within
  ``denied_burst_minutes`` (the boundary counts, as in `largest_burst`) is one
  finding, named by the actor and the sequence number of its first refusal, so a
  burst that goes on across runs stays one finding. An episode that began before
  the lookback was seen by an earlier run and is left to it: run monitoring at
  least once per window, as the scheduled trigger expects anyway.
- The audit trail: the chain and its signed checkpoints
  (``governance.records.checkpoints.verify_audit_trail``). A failure is one
  finding per first bad sequence number.

Each finding raises one ``security`` alert for the security officer (framework
roles: "Access control validation", "Security incident response"); a broken
trail also goes to the compliance officer, who holds "Audit trail
verification". A finding already alerted (an alert with the same ``source``) is
not alerted again. The check and the alert share one write transaction, so two
concurrent runs cannot both raise it.

A broken trail opens no incident: an incident belongs to one model version
(``incident.model_version_id`` is required), and the trail is the whole
console's. The security officer reports one from the alert if needed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from governance.access import SYSTEM_USER_ID
from governance.alert_tables import Alert
from governance.audit import ChainVerification, unit_of_work
from governance.operations.security_signals import DENIED_ACTION, largest_burst
from governance.operations.triggers import CADENCE_STEPS
from governance.policy import Policy
from governance.settings import Settings
from governance.store import read_session
from governance.tables import AuditEvent
from governance.workflow._state import as_utc
from governance.workflow.permissions import require_permission

logger = logging.getLogger(__name__)

SECURITY_KIND = "security"
BURST_ROLES = ("security_officer",)
TRAIL_ROLES = ("security_officer", "compliance_officer")


@dataclass(frozen=True)
class SecurityFinding:
    """One thing the security officer must hear about, once."""

    source: str
    severity: str
    title: str
    body: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Denial:
    """One refused action: its audit event, who was refused and when."""

    seq: int
    actor_id: str
    at: datetime


def security_findings(
    settings: Settings, engine: Engine, policy: Policy, *, now: datetime
) -> list[SecurityFinding]:
    """The bursts of refusals since one window before ``now``, and a broken trail."""
    findings = denied_bursts(engine, policy, now=now)
    trail = _verified_trail(settings, engine)
    if not trail.is_intact:
        findings.append(_trail_finding(trail))
    return findings


def raise_security_alerts(
    settings: Settings,
    engine: Engine,
    policy: Policy,
    *,
    actor_id: str,
    now: datetime,
) -> list[str]:
    """Raise a ``security`` alert per new finding; lines saying what was found.

    Parameters
    ----------
    actor_id
        Who runs monitoring: the system account or a person allowed to.
    now
        The time of the run (UTC).
    """
    from governance.operations.alerts import raise_alert

    findings = security_findings(settings, engine, policy, now=as_utc(now))
    lines = []
    with unit_of_work(engine) as work:
        if actor_id != SYSTEM_USER_ID:
            require_permission(work.session, actor_id, "monitoring.run")
        for finding in findings:
            earlier = _alert_for(work.session, finding.source)
            if earlier is not None:
                lines.append(f"{finding.title} (alert {earlier}, raised earlier).")
                continue
            alert = raise_alert(
                work,
                kind=SECURITY_KIND,
                severity=finding.severity,
                title=finding.title,
                body=finding.body,
                roles=finding.roles,
                source=finding.source,
                settings=settings,
            )
            lines.append(f"{finding.title}: alert {alert.id} raised.")
            logger.warning("Security alert %s: %s", alert.id, finding.title)
    return lines


def _alert_for(session: Session, source: str) -> int | None:
    return session.exec(
        select(Alert.id)
        .where(Alert.kind == SECURITY_KIND, Alert.source == source)
        .limit(1)
    ).first()


# Bursts of refused actions ---------------------------------------------------------


def denied_bursts(
    engine: Engine, policy: Policy, *, now: datetime
) -> list[SecurityFinding]:
    """A finding per actor episode of refusals that reached the policy's burst."""
    rules = policy.monitoring
    gap = timedelta(minutes=rules.denied_burst_minutes)
    since = as_utc(now) - CADENCE_STEPS[rules.window]
    # One gap earlier, so that an episode begun before ``since`` shows as such.
    denials = _denials(engine, since - gap, as_utc(now))
    findings = []
    for episode in refusal_episodes(denials, gap):
        if episode[0].at < since:
            continue
        burst = largest_burst([(item.actor_id, item.at) for item in episode], gap)
        if burst is None or burst.count < rules.denied_burst_count:
            continue
        first = episode[0]
        findings.append(
            SecurityFinding(
                source=f"monitoring:denied-burst:{first.actor_id}:{first.seq}",
                severity="high",
                title=f"Burst of refused actions by user {first.actor_id}",
                body=(
                    f"User {first.actor_id} was refused {burst.count} times within "
                    f"{rules.denied_burst_minutes} minutes, from "
                    f"{burst.first_at:%Y-%m-%d %H:%M} to {burst.last_at:%H:%M} UTC "
                    f"({len(episode)} refusals in this episode, from audit event "
                    f"#{first.seq}); the policy flags {rules.denied_burst_count} "
                    "(monitoring.denied_burst_count). Check whether the account is "
                    "probing or a script runs with the wrong account: filter the "
                    "audit trail by this actor and the action access.denied, and "
                    "report a security incident if it is not explained."
                ),
                roles=BURST_ROLES,
            )
        )
    return findings


def _denials(engine: Engine, start: datetime, end: datetime) -> list[Denial]:
    with read_session(engine) as session:
        rows = session.exec(
            select(AuditEvent.seq, AuditEvent.actor_id, AuditEvent.occurred_at)
            .where(AuditEvent.action == DENIED_ACTION)
            .where(col(AuditEvent.occurred_at) >= start)
            .where(col(AuditEvent.occurred_at) <= end)
            .order_by(col(AuditEvent.seq))
        ).all()
    return [Denial(seq, actor, as_utc(at)) for seq, actor, at in rows]


def refusal_episodes(denials: list[Denial], gap: timedelta) -> list[list[Denial]]:
    """Each actor's refusals split where two lie more than ``gap`` apart."""
    by_actor: dict[str, list[Denial]] = {}
    for denial in denials:
        by_actor.setdefault(denial.actor_id, []).append(denial)
    episodes = []
    for actor in sorted(by_actor):
        current: list[Denial] = []
        for denial in sorted(by_actor[actor], key=lambda item: (item.at, item.seq)):
            if current and denial.at - current[-1].at > gap:
                episodes.append(current)
                current = []
            current.append(denial)
        episodes.append(current)
    return episodes


# The audit trail -----------------------------------------------------------------


def _verified_trail(settings: Settings, engine: Engine) -> ChainVerification:
    # Imported here: governance.records builds on governance.operations.
    from governance.records.checkpoints import verify_audit_trail

    return verify_audit_trail(settings, engine)


def _trail_finding(trail: ChainVerification) -> SecurityFinding:
    return SecurityFinding(
        source=f"monitoring:audit-chain:{trail.first_bad_seq}",
        severity="critical",
        title=f"Audit trail fails verification at sequence number {trail.first_bad_seq}",
        body=(
            f"{trail.describe().rstrip('.')}. Someone with write access to the database may have "
            "altered, removed or forged events. Contain it: restrict database "
            "access, keep the database and the checkpoint folder as they are, "
            "compare with the latest backup (`python -m governance audit verify`), "
            "and report a security incident."
        ),
        roles=TRAIL_ROLES,
    )
