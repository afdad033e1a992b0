"""Delivering alerts to a local SMTP server and a local webhook, with retries."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from governance.alert_tables import AlertDelivery
from governance.audit import unit_of_work, verify_chain
from governance.cli import main
from governance.errors import InvalidInputError
from governance.operations.alerts import list_alerts, raise_alert
from governance.operations.delivery import deliver_pending
from governance.settings import AlertChannels, SmtpChannel, load_settings
from governance.store import read_session
from governance.tables import AuditEvent


@pytest.fixture
def start():
    """A run time just after the alerts a test raises."""
    return datetime.now(UTC) + timedelta(minutes=1)


@dataclass
class Webhook:
    """A local HTTP endpoint that records what it is sent."""

    status: int = 204
    delay: float = 0.0
    received: list[dict] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if hook.delay:
                hook.release.wait(hook.delay)
            hook.received.append(json.loads(body))
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/SECRET-TOKEN"
    yield hook
    hook.release.set()
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    """What a local SMTP server accepted: (sender, recipients, message bytes)."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    port: int = 0
    refuse_recipients: bool = False


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()

    class SmtpHandler(socketserver.StreamRequestHandler):
        # Just enough of RFC 5321 for smtplib: greeting, EHLO, MAIL, RCPT, DATA.
        def handle(self):
            sender, recipients = "", []
            self._reply("220 test ESMTP")
            while line := self.rfile.readline():
                verb = line.decode().strip().split(" ", 1)[0].split(":")[0].upper()
                argument = line.decode().strip()[len(verb) :].strip()
                if verb in ("EHLO", "HELO"):
                    self._reply("250 test")
                elif verb == "MAIL":
                    sender = argument.split(":", 1)[1].strip(" <>")
                    self._reply("250 OK")
                elif verb == "RCPT" and box.refuse_recipients:
                    self._reply("550 no such mailbox")
                elif verb == "RCPT":
                    recipients.append(argument.split(":", 1)[1].strip(" <>"))
                    self._reply("250 OK")
                elif verb == "DATA":
                    self._reply("354 go ahead")
                    box.messages.append((sender, recipients, self._data()))
                    self._reply("250 queued")
                elif verb == "QUIT":
                    self._reply("221 bye")
                    return
                else:
                    self._reply("250 OK")

        def _data(self):
            lines = []
            while (line := self.rfile.readline()) not in (b".\r\n", b""):
                lines.append(line)
            return b"".join(lines)

        def _reply(self, text):
            self.wfile.write(text.encode() + b"\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box.port = server.server_address[1]
    yield box
    server.shutdown()
    server.server_close()


def _with_webhook(settings, url, timeout=5.0):
    return replace(
        settings, alert_channels=AlertChannels(webhook_url=url, timeout_seconds=timeout)
    )


def _raise(engine, settings, title="PSI 0.31 on region"):
    with unit_of_work(engine) as work:
        alert = raise_alert(
            work,
            kind="retraining_trigger",
            severity="high",
            title=title,
            body="Drift above the retraining level.\nOpen the drift page.",
            roles=["data_scientist"],
            source="monitoring",
            settings=settings,
        )
    return alert.id


def _deliveries(engine):
    with read_session(engine) as session:
        return session.exec(select(AlertDelivery).order_by(AlertDelivery.id)).all()


def _actions(engine, prefix):
    with read_session(engine) as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    return [
        (event.action, json.loads(event.payload))
        for event in events
        if event.action.startswith(prefix)
    ]


def test_a_webhook_receives_the_alert_as_json_once(
    start, engine, people, policy, settings, webhook
):
    configured = _with_webhook(settings, webhook.url)
    alert_id = _raise(engine, configured)

    report = deliver_pending(engine, configured, policy, now=start)
    again = deliver_pending(engine, configured, policy, now=start + timedelta(hours=1))

    assert [(o.alert_id, o.channel, o.status) for o in report.outcomes] == [
        (alert_id, "webhook", "sent")
    ]
    assert again.outcomes == ()
    (received,) = webhook.received
    assert received["alert"]["id"] == alert_id
    assert received["alert"]["title"] == "PSI 0.31 on region"
    assert received["alert"]["roles"] == ["data_scientist"]
    (delivery,) = _deliveries(engine)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "sent",
        1,
        None,
    )
    assert _actions(engine, "alert.deliver") == [
        (
            "alert.delivered",
            {
                "delivery_id": delivery.id,
                "channel": "webhook",
                "attempts": 1,
                "error": None,
            },
        )
    ]
    assert verify_chain(engine).is_intact


def test_an_smtp_server_receives_the_alert_as_plain_text(
    start, engine, people, policy, settings, mailbox
):
    channels = AlertChannels(
        smtp=SmtpChannel(
            host="127.0.0.1",
            port=mailbox.port,
            sender="console@example.org",
            recipients=("risk@example.org", "ops@example.org"),
            starttls=False,
        ),
        timeout_seconds=5,
    )
    configured = replace(settings, alert_channels=channels)
    alert_id = _raise(engine, configured, title="PSI 0.31\r\nBcc: evil@example.org")

    report = deliver_pending(engine, configured, policy, now=start)

    assert [o.status for o in report.outcomes] == ["sent"]
    ((sender, recipients, raw),) = mailbox.messages
    assert sender == "console@example.org"
    assert recipients == ["risk@example.org", "ops@example.org"]
    message = message_from_bytes(raw, policy=default_email_policy)
    assert message["Subject"] == "[high] PSI 0.31 Bcc: evil@example.org"
    assert message["Bcc"] is None
    text = message.get_content()
    assert "Drift above the retraining level." in text
    assert f"Alert id: {alert_id}" in text
    assert "For: data_scientist" in text


def test_an_smtp_refusal_is_stored_and_retried(
    start, engine, people, policy, settings, mailbox
):
    mailbox.refuse_recipients = True
    channels = AlertChannels(
        smtp=SmtpChannel(
            host="127.0.0.1",
            port=mailbox.port,
            sender="console@example.org",
            recipients=("nobody@example.org",),
            starttls=False,
        ),
        timeout_seconds=5,
    )
    configured = replace(settings, alert_channels=channels)
    _raise(engine, configured)

    (outcome,) = deliver_pending(engine, configured, policy, now=start).outcomes

    assert (outcome.status, outcome.attempts) == ("pending", 1)
    assert outcome.error.startswith("the SMTP server refused the message:")
    assert "550" in outcome.error
    assert mailbox.messages == []


def test_a_failing_endpoint_is_retried_with_backoff_then_reported_failed(
    start, engine, people, policy, settings, webhook
):
    webhook.status = 500
    configured = _with_webhook(settings, webhook.url)
    alert_id = _raise(engine, configured)
    rules = policy.alerts
    moment, seen = start, []

    for attempt in range(1, rules.delivery_max_attempts + 1):
        if attempt > 1:
            before = moment - timedelta(seconds=1)
            assert (
                deliver_pending(engine, configured, policy, now=before).outcomes == ()
            )
        report = deliver_pending(engine, configured, policy, now=moment)
        (outcome,) = report.outcomes
        (delivery,) = _deliveries(engine)
        seen.append((outcome.status, delivery.status, delivery.attempts))
        assert delivery.last_error == "HTTP 500 Internal Server Error from the webhook"
        if attempt < rules.delivery_max_attempts:
            delay = (
                rules.delivery_first_retry_minutes
                * rules.delivery_backoff_factor ** (attempt - 1)
            )
            assert delivery.next_attempt_at == moment + timedelta(minutes=delay)
            moment = moment + timedelta(minutes=delay)

    last = rules.delivery_max_attempts
    assert seen == [("pending", "pending", n) for n in range(1, last)] + [
        ("failed", "failed", last)
    ]
    assert len(webhook.received) == last
    assert [o.describe() for o in report.given_up] == [
        f"alert {alert_id} by webhook: FAILED for good after {last} attempts: "
        "HTTP 500 Internal Server Error from the webhook"
    ]
    assert (
        deliver_pending(
            engine, configured, policy, now=moment + timedelta(days=1)
        ).outcomes
        == ()
    )
    ((action, payload),) = _actions(engine, "alert.deliver")
    assert action == "alert.delivery_failed"
    assert payload["attempts"] == last
    (shown,) = list_alerts(engine)
    assert shown.has_failed_delivery
    assert shown.deliveries[0].last_error.startswith("HTTP 500")


def test_the_backoff_doubles_from_the_first_retry():
    from governance.policy import load_policy

    rules = load_policy().alerts

    delays = [
        rules.delivery_first_retry_minutes * rules.delivery_backoff_factor ** (n - 1)
        for n in range(1, rules.delivery_max_attempts)
    ]

    assert delays == [2, 4, 8, 16]


def test_a_webhook_that_hangs_times_out_and_is_retried(
    start, engine, people, policy, settings, webhook
):
    webhook.delay = 30
    configured = _with_webhook(settings, webhook.url, timeout=0.5)
    _raise(engine, configured)

    started = time.monotonic()
    report = deliver_pending(engine, configured, policy, now=start)
    took = time.monotonic() - started

    assert took < 5
    (outcome,) = report.outcomes
    assert outcome.status == "pending"
    assert outcome.error == "no answer within 0.5 s (timed out)"
    (delivery,) = _deliveries(engine)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == start + timedelta(
        minutes=policy.alerts.delivery_first_retry_minutes
    )

    webhook.delay = 0
    retry = deliver_pending(engine, configured, policy, now=delivery.next_attempt_at)
    assert [(o.status, o.attempts) for o in retry.outcomes] == [("sent", 2)]


def test_a_refused_connection_is_stored_as_the_error(
    start, engine, people, policy, settings
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    configured = _with_webhook(settings, f"http://127.0.0.1:{closed_port}/hook")
    _raise(engine, configured)

    (outcome,) = deliver_pending(engine, configured, policy, now=start).outcomes

    assert outcome.status == "pending"
    assert outcome.error.startswith("cannot reach the webhook:")
    assert "refused" in outcome.error.lower()


def test_a_channel_removed_after_queueing_fails_with_a_clear_error(
    start, engine, people, policy, settings, webhook
):
    _raise(engine, _with_webhook(settings, webhook.url))

    (outcome,) = deliver_pending(engine, settings, policy, now=start).outcomes

    assert outcome.error == (
        "the webhook channel is no longer configured "
        "(GOVERNANCE_ALERT_WEBHOOK_URL is not set)"
    )


def test_without_a_channel_there_is_nothing_to_deliver(
    start, engine, people, policy, settings
):
    alert_id = _raise(engine, settings)

    report = deliver_pending(engine, settings, policy, now=start)

    assert report.outcomes == ()
    assert [alert.id for alert in list_alerts(engine, open_only=True)] == [alert_id]


def test_an_abandoned_claim_is_taken_over_after_it_expires(
    start, engine, people, policy, settings, webhook
):
    from governance.operations.delivery import _claim

    configured = _with_webhook(settings, webhook.url)
    _raise(engine, configured)
    (stuck,) = _claim(engine, policy, start, batch_size=10)
    lease = timedelta(minutes=policy.alerts.delivery_claim_minutes)

    during = deliver_pending(engine, configured, policy, now=start + lease)
    after = deliver_pending(
        engine, configured, policy, now=start + lease + timedelta(seconds=1)
    )

    assert during.outcomes == ()
    assert [(o.status, o.attempts) for o in after.outcomes] == [("sent", 2)]
    assert len(webhook.received) == 1


def test_two_concurrent_deliverers_send_each_delivery_once(
    start, engine, people, policy, settings, webhook
):
    webhook.delay = 0.05
    configured = _with_webhook(settings, webhook.url)
    alert_ids = [_raise(engine, configured, title=f"alert {n}") for n in range(8)]
    reports, errors = [], []

    def deliver():
        try:
            reports.append(
                deliver_pending(engine, configured, policy, now=start, batch_size=1)
            )
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    sent = sorted(o.alert_id for report in reports for o in report.sent)
    assert sent == alert_ids
    assert sorted(item["alert"]["id"] for item in webhook.received) == alert_ids
    assert all(len(report.sent) > 0 for report in reports)
    assert len(_actions(engine, "alert.delivered")) == len(alert_ids)
    assert verify_chain(engine).is_intact


def _cli_env(monkeypatch, settings, url):
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GOVERNANCE_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("GOVERNANCE_ALERT_TIMEOUT_SECONDS", "5")


def test_the_deliver_command_exits_0_when_sent(
    engine, people, settings, webhook, monkeypatch, capsys
):
    _cli_env(monkeypatch, settings, webhook.url)
    alert_id = _raise(engine, _with_webhook(settings, webhook.url))

    code = main(["alerts", "deliver"])

    assert code == 0
    out = capsys.readouterr().out
    assert f"alert {alert_id} by webhook: sent (attempt 1)" in out
    assert "1 sent, 0 to retry, 0 given up." in out


def test_the_deliver_command_exits_1_when_a_delivery_is_given_up(
    engine, people, settings, webhook, monkeypatch, capsys
):
    webhook.status = 503
    _cli_env(monkeypatch, settings, webhook.url)
    _raise(engine, _with_webhook(settings, webhook.url))
    with unit_of_work(engine) as work:
        # One attempt left: the next failure is the last.
        (delivery,) = work.session.exec(select(AlertDelivery)).all()
        delivery.attempts = 4
        work.session.add(delivery)
        work.record(
            actor_id="system",
            action="test.setup",
            entity_type="alert_delivery",
            entity_id=str(delivery.id),
        )

    code = main(["alerts", "deliver"])

    assert code == 1
    out = capsys.readouterr().out
    assert "FAILED for good after 5 attempts: HTTP 503" in out
    assert "0 sent, 0 to retry, 1 given up." in out
    code = main(["alerts", "list"])
    out = capsys.readouterr().out
    assert code == 0
    assert "webhook failed, 5 attempt(s): HTTP 503 Service Unavailable" in out


def test_settings_read_both_channels_with_secrets_from_the_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[alerts]\nsmtp_password = "s3cret"\n'
        'webhook_url = "https://hooks.example.org/T/TOKEN"\n'
    )
    env = {
        "GOVERNANCE_HOME": str(tmp_path),
        "GOVERNANCE_SECRETS_FILE": str(secrets),
        "GOVERNANCE_SMTP_HOST": "mail.example.org",
        "GOVERNANCE_SMTP_FROM": "console@example.org",
        "GOVERNANCE_SMTP_TO": "risk@example.org, ops@example.org",
        "GOVERNANCE_SMTP_USER": "console",
        "GOVERNANCE_SMTP_STARTTLS": "false",
        "GOVERNANCE_ALERT_TIMEOUT_SECONDS": "2.5",
    }

    channels = load_settings(env).alert_channels

    assert channels.smtp == SmtpChannel(
        host="mail.example.org",
        port=587,
        sender="console@example.org",
        recipients=("risk@example.org", "ops@example.org"),
        username="console",
        password="s3cret",
        starttls=False,
    )
    assert channels.webhook_url == "https://hooks.example.org/T/TOKEN"
    assert channels.timeout_seconds == 2.5
    assert "s3cret" not in repr(channels)
    assert "TOKEN" not in repr(channels)


def test_the_environment_wins_over_the_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[alerts]\nwebhook_url = "https://from-file.example.org/x"\n')

    channels = load_settings(
        {
            "GOVERNANCE_HOME": str(tmp_path),
            "GOVERNANCE_SECRETS_FILE": str(secrets),
            "GOVERNANCE_ALERT_WEBHOOK_URL": "https://from-env.example.org/y",
        }
    ).alert_channels

    assert channels.webhook_url == "https://from-env.example.org/y"
    assert channels.smtp is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GOVERNANCE_SMTP_HOST": "mail"}, "set GOVERNANCE_SMTP_FROM"),
        (
            {
                "GOVERNANCE_SMTP_HOST": "mail",
                "GOVERNANCE_SMTP_FROM": "a@example.org",
                "GOVERNANCE_SMTP_TO": "b@example.org",
                "GOVERNANCE_SMTP_STARTTLS": "maybe",
            },
            "GOVERNANCE_SMTP_STARTTLS is 'maybe'",
        ),
        (
            {"GOVERNANCE_ALERT_WEBHOOK_URL": "file:///etc/passwd"},
            "must be an http:// or https:// URL",
        ),
        ({"GOVERNANCE_ALERT_TIMEOUT_SECONDS": "0"}, "above 0 and at most 60"),
        ({"GOVERNANCE_ALERT_TIMEOUT_SECONDS": "soon"}, "above 0 and at most 60"),
        ({"GOVERNANCE_ALERT_TIMEOUT_SECONDS": "61"}, "above 0 and at most 60"),
    ],
    ids=[
        "smtp-without-addresses",
        "starttls",
        "webhook-scheme",
        "zero",
        "word",
        "too-long",
    ],
)
def test_bad_channel_settings_are_refused_naming_the_variable(tmp_path, env, message):
    env = {
        "GOVERNANCE_HOME": str(tmp_path),
        "GOVERNANCE_SECRETS_FILE": str(tmp_path / "none.toml"),
        **env,
    }

    with pytest.raises(InvalidInputError, match=message):
        load_settings(env)
