"""Background jobs started from the app: an assessment in its own process.

The app never loads a model, so "Assess" starts ``python -m governance job-run``
as a separate process. The job writes its progress to the ``job`` table, where
any replica of the app can read it; the assessment it produces is recorded and
audited like one run from the command line.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid

from sqlalchemy import Engine
from sqlmodel import col, select

from governance.access import require_role
from governance.errors import ConflictError, GovernanceError, NotFoundError
from governance.settings import Settings
from governance.store import read_session, write_session
from governance.tables import Job, utc_now

logger = logging.getLogger(__name__)

ASSESSING_ROLES = ("data_scientist", "ml_engineer")
ACTIVE = ("queued", "running")


def start_assessment(
    settings: Settings, engine: Engine, *, model: str, version: str, actor_id: str
) -> str:
    """Queue an assessment of ``model`` ``version`` and start its process; return the job id."""
    subject = f"{model}/{version}"
    with write_session(engine) as session:
        require_role(session, actor_id, *ASSESSING_ROLES)
        running = session.exec(
            select(Job).where(Job.subject == subject, col(Job.status).in_(ACTIVE))
        ).first()
        if running is not None:
            raise ConflictError(
                f"An assessment of {subject} is already running (job {running.id})."
            )
        job = Job(
            id=uuid.uuid4().hex, kind="assessment", subject=subject, started_by=actor_id
        )
        session.add(job)
        job_id = job.id

    log_dir = settings.home / "jobs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{job_id}.log").open("ab") as log:
        subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
            [sys.executable, "-m", "governance", "job-run", job_id],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=os.environ.copy(),
            start_new_session=True,
        )
    logger.info("Started assessment job %s for %s", job_id, subject)
    return job_id


def get_job(engine: Engine, job_id: str) -> Job:
    """One job with its progress."""
    with read_session(engine) as session:
        job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"No job {job_id}.")
    return job


def latest_job(engine: Engine, subject: str) -> Job | None:
    """The newest job about ``subject`` (e.g. ``lead-scoring/2``)."""
    with read_session(engine) as session:
        return session.exec(
            select(Job)
            .where(Job.subject == subject)
            .order_by(col(Job.started_at).desc())
            .limit(1)
        ).first()


def _update(engine: Engine, job_id: str, **values: object) -> None:
    with write_session(engine) as session:
        job = session.get(Job, job_id)
        if job is not None:
            for key, value in values.items():
                setattr(job, key, value)


def run_assessment_job(settings: Settings, job_id: str) -> int:
    """Run a queued assessment job to its end; return the CLI exit code."""
    from governance.assessment.runner import assess_version
    from governance.bootstrap import prepare_store

    engine, policy = prepare_store(settings)
    job = get_job(engine, job_id)
    model, _, version = job.subject.rpartition("/")
    _update(engine, job_id, status="running", progress=0.01, message="Starting")

    def progress(fraction: float, message: str) -> None:
        _update(engine, job_id, progress=fraction, message=message)

    try:
        outcome = assess_version(
            settings,
            engine,
            policy,
            model=model,
            version=version,
            actor_id=job.started_by,
            progress=progress,
        )
    except GovernanceError as exc:
        _update(
            engine, job_id, status="failed", message=str(exc), finished_at=utc_now()
        )
        return 2
    except Exception:
        logger.exception("Assessment job %s failed", job_id)
        _update(
            engine,
            job_id,
            status="failed",
            message="The assessment stopped on an unexpected error; its log is in the jobs folder.",
            finished_at=utc_now(),
        )
        return 2
    verdict = "all standards met" if outcome.passed else "at least one standard failed"
    _update(
        engine,
        job_id,
        status="done",
        progress=1.0,
        message=f"Assessment {outcome.assessment_id}: {verdict}",
        result_id=outcome.assessment_id,
        finished_at=utc_now(),
    )
    return 0 if outcome.passed else 1
