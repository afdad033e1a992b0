"""Building the demo world: people, lead data, models, and their registration.

``build_demo`` is idempotent: a second run finds the ``demo.built`` audit event
and changes nothing. ``reset=True`` drops the console's tables, the local MLflow
store and the demo data, then builds everything again.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import select

from governance.access import SYSTEM_USER_ID, add_user, stable_user_id
from governance.audit import unit_of_work
from governance.bootstrap import prepare_store
from governance.demo._clock import DemoClock
from governance.errors import ConflictError, InvalidInputError
from governance.policy import Policy
from governance.registration import RegistrationRequest, register_model
from governance.settings import Settings
from governance.store import drop_store, read_session
from governance.tables import AuditEvent, GovernedModel, User, records_dated

if TYPE_CHECKING:
    from governance.demo.training import DemoVersion

logger = logging.getLogger(__name__)

DEMO_BUILT_ACTION = "demo.built"


@dataclass(frozen=True)
class DemoPerson:
    """A seeded account of the demo."""

    username: str
    display_name: str
    email: str
    roles: tuple[str, ...]


DEMO_PEOPLE = (
    DemoPerson("layla", "Layla Haddad", "layla.haddad@example.org", ("model_owner",)),
    DemoPerson("omar", "Omar Farouk", "omar.farouk@example.org", ("data_scientist",)),
    DemoPerson("priya", "Priya Nair", "priya.nair@example.org", ("ml_engineer",)),
    DemoPerson(
        "daniel", "Daniel Okafor", "daniel.okafor@example.org", ("compliance_officer",)
    ),
    DemoPerson(
        "sofia", "Sofia Marin", "sofia.marin@example.org", ("security_officer",)
    ),
    DemoPerson(
        "chen", "Chen Wei", "chen.wei@example.org", ("data_scientist", "ml_engineer")
    ),
    DemoPerson("admin", "Console Administrator", "admin@example.org", ("admin",)),
)
DEMO_OWNER = "layla"
DEMO_REGISTRAR = "omar"


def data_end(today: date) -> date:
    """The first day after the demo's data: the first of the previous month.

    The data ends before the sign-off history the demo dates over the last four
    weeks begins, so every assessment in it judges data already collected.
    """
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def demo_is_built(engine: Engine) -> bool:
    """Whether a complete demo build was recorded in this store."""
    with read_session(engine) as session:
        found = session.exec(
            select(AuditEvent.seq)
            .where(AuditEvent.action == DEMO_BUILT_ACTION)
            .limit(1)
        ).first()
    return found is not None


def build_demo(
    settings: Settings, *, seed: int = 7, reset: bool = False, end: date | None = None
) -> str:
    """Build the demo world into the store and registry of ``settings``.

    Returns a short report for a person, with the time each phase took.
    """
    started = time.perf_counter()
    if reset:
        _reset(settings)
    engine, policy = prepare_store(settings)
    if demo_is_built(engine):
        return "The demo world is already built; nothing changed. Use --reset to build it again."

    _clear_leftover_registry(settings, engine)
    seed_people(engine)
    phase = time.perf_counter()

    from governance.demo.training import train_demo_models

    clock = DemoClock()
    end = end or data_end(clock.build.date())
    versions = train_demo_models(
        tracking_uri=settings.mlflow_tracking_uri,
        data_dir=settings.home / "demo",
        seed=seed,
        end=end,
    )
    trained = time.perf_counter()
    from governance.demo.history import REGISTERED_DAYS_BEFORE, seed_history

    clock.at(REGISTERED_DAYS_BEFORE)
    with records_dated(clock):
        for item in versions:
            _register(settings, engine, policy, item)
    registered = time.perf_counter()

    history = seed_history(settings, engine, policy, clock)
    operated = time.perf_counter()
    from governance.demo.incidents import seed_incidents
    from governance.demo.production import seed_production
    from governance.demo.records import seed_records
    from governance.demo.serving import seed_serving

    stories = [
        add_part(settings, engine, policy)
        for add_part in (seed_production, seed_serving, seed_incidents, seed_records)
    ]
    operated = time.perf_counter() - operated
    with unit_of_work(engine) as work:
        work.record(
            actor_id=SYSTEM_USER_ID,
            action=DEMO_BUILT_ACTION,
            entity_type="demo",
            entity_id="demo",
            payload={"seed": seed, "end": end.isoformat(), "versions": len(versions)},
        )
    total = time.perf_counter() - started
    logger.info("Demo built in %.1f s", total)
    return (
        f"Demo world built in {total:.1f} s: {len(DEMO_PEOPLE)} people, "
        f"{len(versions)} model versions (data and training {trained - phase:.1f} s, "
        f"registration {registered - trained:.1f} s, operations and records "
        f"{operated:.1f} s). {history} {' '.join(s for s in stories if s)}"
    )


def seed_people(engine: Engine) -> None:
    """Create the demo's people with their roles, skipping those that exist."""
    with unit_of_work(engine) as work:
        existing = set(work.session.exec(select(User.username)).all())
        for person in DEMO_PEOPLE:
            if person.username in existing:
                continue
            add_user(
                work,
                actor_id=SYSTEM_USER_ID,
                username=person.username,
                display_name=person.display_name,
                email=person.email,
                roles=person.roles,
                user_id=stable_user_id(person.username),
            )


def _register(
    settings: Settings, engine: Engine, policy: Policy, item: DemoVersion
) -> None:
    """Register a demo version exactly as a user would with ``governance register``."""
    request = RegistrationRequest(
        name=item.model_name,
        model_uri=item.model_uri,
        train=str(item.train_path),
        test=str(item.test_path),
        current=str(item.current_path),
        target=item.target,
        sensitive_features=tuple(item.sensitive_features),
        pii_columns=tuple(item.pii_columns),
        timestamp=item.timestamp_column,
        owner=DEMO_OWNER,
        features=tuple(item.features),
        decision_threshold=item.decision_threshold,
        description=item.description,
    )
    try:
        register_model(
            settings, engine, policy, request, actor_id=stable_user_id(DEMO_REGISTRAR)
        )
    except ConflictError:
        logger.info(
            "%s version %s was registered by an earlier run",
            item.model_name,
            item.version,
        )


def _clear_leftover_registry(settings: Settings, engine: Engine) -> None:
    """Make room for the demo in a store that governs no model yet.

    A local MLflow store or demo data without any governed model is what an
    interrupted build leaves behind, and is removed. A store that already governs
    models is left alone: the demo needs an empty one.
    """
    with read_session(engine) as session:
        governed = list(session.exec(select(GovernedModel.name)).all())
    if governed:
        raise ConflictError(
            f"This store already governs {', '.join(governed[:5])} but holds no complete "
            "demo. Build the demo into an empty data directory (set GOVERNANCE_HOME), or "
            "start over with `python -m governance demo --reset`."
        )
    store = settings.home / "mlflow"
    if settings.uses_local_mlflow and store.exists():
        logger.warning("Removing %s, left by an interrupted demo build", store)
        shutil.rmtree(store)
    shutil.rmtree(settings.home / "demo", ignore_errors=True)


def _reset(settings: Settings) -> None:
    if not settings.uses_local_mlflow:
        raise InvalidInputError(
            "--reset clears the local MLflow store only; with MLFLOW_TRACKING_URI set, "
            "delete the demo's registered models on the server yourself, or unset it."
        )
    drop_store(settings.database_url)
    for folder in ("mlflow", "demo", "evidence"):
        shutil.rmtree(settings.home / folder, ignore_errors=True)
    _set_checkpoints_aside(settings)
    logger.info("Demo world removed from %s", Path(settings.home))


def _set_checkpoints_aside(settings: Settings) -> None:
    """Keep the dropped trail's signed checkpoints, but out of the new trail's way.

    The checkpoints describe the trail that was just dropped; left in place they
    would contradict the new one, and verification would report it broken.
    """
    folder = settings.audit_checkpoint_dir
    if not folder.exists():
        return
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = folder.with_name(f"{folder.name}.before-reset-{stamp}")
    folder.rename(aside)
    logger.info("Audit checkpoints of the dropped trail kept in %s", aside)
