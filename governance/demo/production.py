"""The demo's twelve monthly production batches, monitoring runs, alerts and a retraining request."""

from __future__ import annotations

from sqlalchemy import Engine

from governance.policy import Policy
from governance.settings import Settings


def seed_production(settings: Settings, engine: Engine, policy: Policy) -> str:
    """Seed this part of the demo; return one sentence saying what was added."""
    del settings, engine, policy
    return ""
