"""Security signals for monitoring: refused actions and the audit chain's health.

Every refused action is recorded as an ``access.denied`` audit event (see
``governance.audit.unit_of_work``). Someone refused many times in a short while is
probing or running a script with the wrong account; the framework's security
officer handles "Access control validation" and "Security incident response", so
monitoring raises a ``security`` alert for them when a burst reaches the policy's
``monitoring.denied_burst_count`` within ``monitoring.denied_burst_minutes``, or
when the audit chain no longer verifies.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from governance.audit import verify_chain
from governance.errors import InvalidInputError
from governance.policy import Policy
from governance.store import read_session
from governance.tables import AuditEvent

logger = logging.getLogger(__name__)

DENIED_ACTION = "access.denied"


@dataclass(frozen=True)
class DeniedBurst:
    """The most refusals one actor collected within the policy's window."""

    actor_id: str
    count: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class SecuritySignals:
    """What the audit trail says about security between ``start`` and ``end``."""

    start: datetime
    end: datetime
    denied_count: int
    largest_burst: DeniedBurst | None
    burst_threshold: int
    burst_minutes: int
    chain_intact: bool
    first_bad_seq: int | None
    chain_problem: str | None = None

    @property
    def has_burst(self) -> bool:
        """Whether one actor was refused at least the policy's count in its window."""
        return (
            self.largest_burst is not None
            and self.largest_burst.count >= self.burst_threshold
        )

    @property
    def needs_attention(self) -> bool:
        """Whether the security officer should be alerted."""
        return self.has_burst or not self.chain_intact

    def describe(self) -> str:
        """Plain sentences for an alert's text."""
        lines = [f"{self.denied_count} refused action(s) in the window."]
        if self.has_burst and self.largest_burst is not None:
            burst = self.largest_burst
            lines.append(
                f"User {burst.actor_id} was refused {burst.count} times within "
                f"{self.burst_minutes} minutes (from {burst.first_at:%Y-%m-%d %H:%M} "
                f"to {burst.last_at:%H:%M} UTC); the policy flags "
                f"{self.burst_threshold}."
            )
        if not self.chain_intact:
            lines.append(
                f"The audit chain is broken at sequence number {self.first_bad_seq}: "
                f"{self.chain_problem}"
            )
        return " ".join(lines)


def security_signals(
    engine: Engine, policy: Policy, start: datetime, end: datetime
) -> SecuritySignals:
    """Refusals in ``[start, end)``, their largest burst, and the chain's state.

    Parameters
    ----------
    engine
        The store.
    policy
        Gives the burst's count and window (``monitoring.denied_burst_count`` and
        ``monitoring.denied_burst_minutes``).
    start, end
        The monitoring window; naive times are taken as UTC.

    Raises
    ------
    InvalidInputError
        When ``end`` is not after ``start``.
    """
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise InvalidInputError(
            f"The window ends ({end:%Y-%m-%d %H:%M}) before it starts "
            f"({start:%Y-%m-%d %H:%M}); give an end after the start."
        )
    rules = policy.monitoring
    denials = _denials(engine, start, end)
    burst = largest_burst(denials, timedelta(minutes=rules.denied_burst_minutes))
    chain = verify_chain(engine)

    signals = SecuritySignals(
        start=start,
        end=end,
        denied_count=len(denials),
        largest_burst=burst,
        burst_threshold=rules.denied_burst_count,
        burst_minutes=rules.denied_burst_minutes,
        chain_intact=chain.is_intact,
        first_bad_seq=chain.first_bad_seq,
        chain_problem=chain.reason,
    )
    if signals.needs_attention:
        logger.warning("Security signals: %s", signals.describe())
    return signals


def _denials(
    engine: Engine, start: datetime, end: datetime
) -> list[tuple[str, datetime]]:
    with read_session(engine) as session:
        rows = session.exec(
            select(AuditEvent.actor_id, AuditEvent.occurred_at)
            .where(AuditEvent.action == DENIED_ACTION)
            .where(col(AuditEvent.occurred_at) >= start)
            .where(col(AuditEvent.occurred_at) < end)
            .order_by(col(AuditEvent.seq))
        ).all()
    return [(actor, _utc(moment)) for actor, moment in rows]


def largest_burst(
    denials: list[tuple[str, datetime]], window: timedelta
) -> DeniedBurst | None:
    """The most refusals of one actor whose first and last lie within ``window``.

    A sliding window over each actor's refusals in time order: two refusals
    exactly ``window`` apart count as one burst.
    """
    by_actor: dict[str, list[datetime]] = defaultdict(list)
    for actor, moment in denials:
        by_actor[actor].append(moment)
    best: DeniedBurst | None = None
    for actor, moments in sorted(by_actor.items()):
        moments.sort()
        first = 0
        for last, moment in enumerate(moments):
            while moment - moments[first] > window:
                first += 1
            count = last - first + 1
            if best is None or count > best.count:
                best = DeniedBurst(actor, count, moments[first], moment)
    return best


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
