"""Sending queued alert deliveries by e-mail (SMTP) or webhook (JSON POST).

``deliver_pending`` is what ``python -m governance alerts deliver`` runs from a
scheduler. Each round claims due deliveries in a write transaction (the store's
write lock makes the claim exclusive, so two deliverers never send the same
delivery), sends them outside any transaction with the configured timeout, and
writes the outcome back:

- sent: the delivery is done; audited as ``alert.delivered``;
- failed with attempts left: the error, the attempt count and the time of the
  next attempt (exponential backoff from the policy) are stored; this is
  operational state, not audited;
- failed with no attempt left: the delivery is marked ``failed``, audited as
  ``alert.delivery_failed`` and reported; the alert itself stays in the app.

A deliverer that dies mid-attempt holds its claim until it expires
(``alerts.delivery_claim_minutes``); the delivery is then claimed again and the
interrupted attempt counts as one attempt.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine, and_, or_
from sqlmodel import Session, col, select

from governance.access import SYSTEM_USER_ID
from governance.alert_tables import Alert, AlertDelivery
from governance.audit import unit_of_work
from governance.errors import GovernanceError
from governance.policy import Policy
from governance.settings import AlertChannels, Settings
from governance.store import write_session
from governance.tables import utc_now

logger = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class DeliveryOutcome:
    """What happened to one delivery in this run."""

    delivery_id: int
    alert_id: int
    channel: str
    status: str
    attempts: int
    error: str | None = None
    next_attempt_at: datetime | None = None

    def describe(self) -> str:
        """One line for a person or a cron mail."""
        head = f"alert {self.alert_id} by {self.channel}"
        if self.status == SENT:
            return f"{head}: sent (attempt {self.attempts})"
        if self.status == FAILED:
            return (
                f"{head}: FAILED for good after {self.attempts} attempts: {self.error}"
            )
        when = self.next_attempt_at.strftime("%Y-%m-%d %H:%M UTC")  # type: ignore[union-attr]
        return f"{head}: attempt {self.attempts} failed ({self.error}); retry at {when}"


@dataclass(frozen=True)
class DeliveryReport:
    """The outcome of one ``deliver_pending`` run."""

    outcomes: tuple[DeliveryOutcome, ...]

    @property
    def sent(self) -> list[DeliveryOutcome]:
        """Deliveries sent in this run."""
        return [item for item in self.outcomes if item.status == SENT]

    @property
    def retrying(self) -> list[DeliveryOutcome]:
        """Deliveries whose attempt failed and that will be tried again."""
        return [item for item in self.outcomes if item.status == PENDING]

    @property
    def given_up(self) -> list[DeliveryOutcome]:
        """Deliveries that failed their last allowed attempt in this run."""
        return [item for item in self.outcomes if item.status == FAILED]


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    token: str
    channel: str
    attempts: int
    alert: dict[str, object]


class DeliveryError(GovernanceError):
    """One attempt failed; the message is what is stored on the delivery."""


def deliver_pending(
    engine: Engine,
    settings: Settings,
    policy: Policy,
    now: datetime | None = None,
    *,
    batch_size: int = 1,
) -> DeliveryReport:
    """Send every delivery that is due, retrying failures with backoff.

    Parameters
    ----------
    engine, settings, policy
        The store, the configured channels and the retry rules (``alerts``).
    now
        The time of this run (the current time by default); a failed attempt is
        retried from this time on, after the backoff.
    batch_size
        How many deliveries one claim takes before sending them. One by default:
        a claim's lease then covers a single attempt, however slow the others.

    Returns
    -------
    DeliveryReport
        What was sent, what will be retried and what was given up.
    """
    moment = as_utc(now) if now is not None else utc_now()
    outcomes: list[DeliveryOutcome] = []
    while claimed := _claim(engine, policy, moment, batch_size):
        for item in claimed:
            error = _attempt(settings.alert_channels, item)
            outcomes.append(_settle(engine, policy, item, error, moment))
    report = DeliveryReport(tuple(outcomes))
    logger.info(
        "Alert deliveries: %s sent, %s to retry, %s given up",
        len(report.sent),
        len(report.retrying),
        len(report.given_up),
    )
    return report


def _claim(
    engine: Engine, policy: Policy, moment: datetime, batch_size: int
) -> list[_Claimed]:
    token = uuid.uuid4().hex
    # The lease runs from the real time of the claim, not the run's start: a long
    # run must not hand out claims that have already expired.
    until = max(moment, utc_now()) + timedelta(
        minutes=policy.alerts.delivery_claim_minutes
    )
    with write_session(engine) as session:
        rows = session.exec(
            select(AlertDelivery, Alert)
            .join(Alert, col(Alert.id) == col(AlertDelivery.alert_id))
            .where(_due(moment))
            .order_by(col(AlertDelivery.id))
            .limit(batch_size)
        ).all()
        claimed = []
        for delivery, alert in rows:
            delivery.status = SENDING
            delivery.attempts += 1
            delivery.claim_token = token
            delivery.claimed_until = until
            session.add(delivery)
            assert delivery.id is not None
            claimed.append(
                _Claimed(
                    delivery.id,
                    token,
                    delivery.channel,
                    delivery.attempts,
                    _alert_document(alert),
                )
            )
    return claimed


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (a naive time is taken to be UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _due(moment: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(
            col(AlertDelivery.status) == PENDING,
            col(AlertDelivery.next_attempt_at) <= moment,
        ),
        and_(
            col(AlertDelivery.status) == SENDING,
            col(AlertDelivery.claimed_until) < moment,
        ),
    )


def _alert_document(alert: Alert) -> dict[str, object]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "title": alert.title,
        "body": alert.body,
        "roles": list(alert.roles),
        "model_version_id": alert.model_version_id,
        "source": alert.source,
        "raised_at": as_utc(alert.raised_at).isoformat(),
    }


def _attempt(channels: AlertChannels, item: _Claimed) -> str | None:
    try:
        if item.channel == "webhook":
            post_webhook(channels, item.alert)
        elif item.channel == "email":
            send_email(channels, item.alert)
        else:
            raise DeliveryError(f"unknown channel {item.channel!r}")
    except DeliveryError as exc:
        logger.warning(
            "Delivery %s of alert %s by %s failed (attempt %s): %s",
            item.delivery_id,
            item.alert["id"],
            item.channel,
            item.attempts,
            exc,
        )
        return str(exc)[:MAX_ERROR_CHARS]
    return None


def post_webhook(channels: AlertChannels, alert: dict[str, object]) -> None:
    """POST ``alert`` as JSON to the configured webhook, within the timeout.

    Raises
    ------
    DeliveryError
        On a refused connection, a timeout or a status other than 2xx.
    """
    if not channels.webhook_url:
        raise DeliveryError(
            "the webhook channel is no longer configured "
            "(GOVERNANCE_ALERT_WEBHOOK_URL is not set)"
        )
    request = urllib.request.Request(
        channels.webhook_url,
        data=json.dumps({"alert": alert}).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "governance"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 (http/https checked in settings)
            request, timeout=channels.timeout_seconds
        ) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} {exc.reason} from the webhook") from exc
    except TimeoutError as exc:
        raise DeliveryError(_timed_out(channels)) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise DeliveryError(_timed_out(channels)) from exc
        raise DeliveryError(f"cannot reach the webhook: {exc.reason}") from exc
    except OSError as exc:
        raise DeliveryError(f"cannot reach the webhook: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from the webhook")


def send_email(channels: AlertChannels, alert: dict[str, object]) -> None:
    """E-mail ``alert`` to the configured recipients through the SMTP server.

    Raises
    ------
    DeliveryError
        On a refused connection, a timeout or an SMTP error reply.
    """
    smtp = channels.smtp
    if smtp is None:
        raise DeliveryError(
            "the e-mail channel is no longer configured (GOVERNANCE_SMTP_HOST is not set)"
        )
    try:
        message = email_message(alert, sender=smtp.sender, recipients=smtp.recipients)
        with smtplib.SMTP(
            smtp.host, smtp.port, timeout=channels.timeout_seconds
        ) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            server.send_message(message)
    except TimeoutError as exc:
        raise DeliveryError(_timed_out(channels)) from exc
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"the SMTP server refused the message: {exc}") from exc
    except ValueError as exc:
        raise DeliveryError(f"the message could not be built: {exc}") from exc
    except OSError as exc:
        raise DeliveryError(
            f"cannot reach the SMTP server {smtp.host}:{smtp.port}: {exc}"
        ) from exc


def email_message(
    alert: dict[str, object], *, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """The alert as a plain-text e-mail."""
    message = EmailMessage()
    title = " ".join(str(alert["title"]).split())
    message["Subject"] = f"[{alert['severity']}] {title}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    roles = ", ".join(str(role) for role in alert["roles"])  # type: ignore[attr-defined]
    message.set_content(
        f"{alert['body']}\n\n"
        f"Kind: {alert['kind']}\nSeverity: {alert['severity']}\n"
        f"For: {roles}\nRaised at: {alert['raised_at']}\n"
        f"Source: {alert['source'] or '-'}\nAlert id: {alert['id']}\n"
    )
    return message


def _timed_out(channels: AlertChannels) -> str:
    return f"no answer within {channels.timeout_seconds:g} s (timed out)"


def _settle(
    engine: Engine,
    policy: Policy,
    item: _Claimed,
    error: str | None,
    moment: datetime,
) -> DeliveryOutcome:
    rules = policy.alerts
    if error is None:
        return _finish(engine, item, SENT, None, moment)
    if item.attempts >= rules.delivery_max_attempts:
        return _finish(engine, item, FAILED, error, moment)
    delay = rules.delivery_first_retry_minutes * rules.delivery_backoff_factor ** (
        item.attempts - 1
    )
    retry_at = moment + timedelta(minutes=delay)
    with write_session(engine) as session:
        delivery = _still_ours(session, item)
        if delivery is not None:
            delivery.status = PENDING
            delivery.last_error = error
            delivery.next_attempt_at = retry_at
            delivery.claim_token = None
            delivery.claimed_until = None
            session.add(delivery)
    return DeliveryOutcome(
        item.delivery_id,
        int(item.alert["id"]),  # type: ignore[call-overload]
        item.channel,
        PENDING,
        item.attempts,
        error,
        retry_at,
    )


def _finish(
    engine: Engine, item: _Claimed, status: str, error: str | None, moment: datetime
) -> DeliveryOutcome:
    with unit_of_work(engine) as work:
        delivery = _still_ours(work.session, item)
        if delivery is not None:
            delivery.status = status
            delivery.last_error = error
            delivery.finished_at = moment
            delivery.claim_token = None
            delivery.claimed_until = None
            work.session.add(delivery)
            work.record(
                actor_id=SYSTEM_USER_ID,
                action="alert.delivered" if status == SENT else "alert.delivery_failed",
                entity_type="alert",
                entity_id=str(item.alert["id"]),
                payload={
                    "delivery_id": item.delivery_id,
                    "channel": item.channel,
                    "attempts": item.attempts,
                    "error": error,
                },
            )
    return DeliveryOutcome(
        item.delivery_id,
        int(item.alert["id"]),  # type: ignore[call-overload]
        item.channel,
        status,
        item.attempts,
        error,
    )


def _still_ours(session: Session, item: _Claimed) -> AlertDelivery | None:
    delivery = session.get(AlertDelivery, item.delivery_id)
    if delivery is None or delivery.claim_token != item.token:
        # Our claim expired and another deliverer took the delivery over; its
        # outcome is the one that counts.
        logger.warning(
            "Delivery %s was claimed by another deliverer; outcome not stored",
            item.delivery_id,
        )
        return None
    return delivery
