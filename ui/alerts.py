"""The alerts widget: open alerts for the signed-in person's roles.

Each alert shows its text as plain text (it may quote what someone typed), where
its deliveries stand, and an acknowledge button; the domain checks again that
the person holds one of the alert's roles.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from governance.access import Person
from governance.errors import GovernanceError
from governance.operations.alerts import AlertView, DeliveryStatus, acknowledge_alert
from governance.workflow.inbox import open_alerts
from ui.signoff import act, show_flash

SEVERITY_MARK = {"low": "·", "medium": "▲", "high": "▲▲", "critical": "■■■"}


def alerts_section(engine: Engine, person: Person, *, key: str = "alerts") -> None:
    """A section listing the open alerts addressed to ``person``'s roles."""
    st.subheader("Alerts")
    show_flash()
    try:
        alerts = open_alerts(engine, person.id)
    except GovernanceError as exc:
        st.error(str(exc))
        return
    if not alerts:
        st.caption("No open alerts for your roles.")
        return
    failed = sum(alert.has_failed_delivery for alert in alerts)
    if failed:
        st.warning(
            f"{failed} of {len(alerts)} alerts could not be delivered by e-mail or "
            "webhook; they are shown here only."
        )
    for alert in alerts:
        _alert_card(engine, person, alert, key=key)


def _alert_card(engine: Engine, person: Person, alert: AlertView, *, key: str) -> None:
    with st.container(border=True):
        mark = SEVERITY_MARK.get(alert.severity, "")
        st.text(f"{mark} {alert.severity.upper()} · {alert.title}")
        st.caption(
            f"Alert {alert.id} · {alert.kind.replace('_', ' ')} · for "
            f"{alert.role_titles} · raised {alert.raised_at:%Y-%m-%d %H:%M} UTC"
        )
        st.text(alert.body)
        for delivery in alert.deliveries:
            st.text(_delivery_line(delivery))
        if st.button("Acknowledge", key=f"{key}_ack_{alert.id}"):
            act(
                lambda: acknowledge_alert(
                    engine, actor_id=person.id, alert_id=alert.id
                ),
                f"Alert {alert.id} acknowledged.",
            )


def _delivery_line(delivery: DeliveryStatus) -> str:
    where = f"{delivery.channel} to {delivery.destination}"
    if delivery.status == "sent":
        return f"Delivered by {where}."
    if delivery.status == "failed":
        return (
            f"Delivery by {where} FAILED after {delivery.attempts} attempts: "
            f"{delivery.last_error}"
        )
    if delivery.status == "sending":
        return f"Delivery by {where} is under way (attempt {delivery.attempts})."
    if delivery.attempts:
        when = delivery.next_attempt_at
        retry = f"; next attempt {when:%Y-%m-%d %H:%M} UTC" if when else ""
        return (
            f"Delivery by {where}: attempt {delivery.attempts} failed "
            f"({delivery.last_error}){retry}."
        )
    return f"Delivery by {where} is queued."
