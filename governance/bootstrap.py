"""Preparing a store: schema, the system account and the installed policy."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlmodel import select

from governance.access import SYSTEM_USER_ID, ensure_system_user
from governance.audit import unit_of_work
from governance.errors import ConflictError
from governance.policy import Policy, load_policy
from governance.settings import Settings
from governance.store import create_store_engine, migrate, read_session
from governance.tables import InstalledPolicy

logger = logging.getLogger(__name__)


def installed_policy(engine: Engine) -> InstalledPolicy | None:
    """The policy installed most recently, or None on a new store."""
    with read_session(engine) as session:
        return session.exec(
            select(InstalledPolicy).order_by(InstalledPolicy.id.desc()).limit(1)  # type: ignore[union-attr]
        ).first()


def install_policy(
    engine: Engine, policy: Policy, *, content: str, actor_id: str = SYSTEM_USER_ID
) -> bool:
    """Install ``policy`` unless it is the one in force; return whether it changed.

    Raises
    ------
    ConflictError
        When the content changed but the version string did not: a changed policy
        must carry a new version so decisions can say which one they followed.
    """
    with unit_of_work(engine) as work:
        ensure_system_user(work)
        current = work.session.exec(
            select(InstalledPolicy).order_by(InstalledPolicy.id.desc()).limit(1)  # type: ignore[union-attr]
        ).first()
        if current is not None and current.content_hash == policy.content_hash:
            return False
        if current is not None and current.version == policy.version:
            raise ConflictError(
                f"The policy file changed but its version is still {policy.version}. "
                "Give it a new `version` and install it again."
            )
        work.session.add(
            InstalledPolicy(
                version=policy.version,
                content_hash=policy.content_hash,
                content=content,
                installed_by=actor_id,
            )
        )
        work.record(
            actor_id=actor_id,
            action="policy.installed",
            entity_type="policy",
            entity_id=policy.version,
            payload={
                "version": policy.version,
                "content_hash": policy.content_hash,
                "previous_version": current.version if current else None,
                "previous_hash": current.content_hash if current else None,
            },
        )
    logger.info("Installed policy %s (%s)", policy.version, policy.content_hash[:12])
    return True


def prepare_store(settings: Settings) -> tuple[Engine, Policy]:
    """Migrate the store, create the system account and install the policy file."""
    policy = load_policy(settings.policy_path)
    engine = create_store_engine(settings.database_url)
    migrate(engine)
    content = settings.policy_path.read_text(encoding="utf-8")
    install_policy(engine, policy, content=content)
    return engine, policy
