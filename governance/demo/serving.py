"""The demo's shadow and canary prediction logs and their evidence."""

from __future__ import annotations

from sqlalchemy import Engine

from governance.policy import Policy
from governance.settings import Settings


def seed_serving(settings: Settings, engine: Engine, policy: Policy) -> str:
    """Seed this part of the demo; return one sentence saying what was added."""
    del settings, engine, policy
    return ""
