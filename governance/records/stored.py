"""Kept reports and documents: files written once, their digests, reading them back.

Every periodic report and per-version document is rendered from one `Document`
into HTML and PDF, and both files are written once under the evidence directory
(``reports/<id>-<kind>-<label>-<random>.html|pdf``): exclusive creation means an
existing file is never replaced, so regenerating a period or a document always
makes a new record. The ``compliance_report`` row keeps the paths (absolute, like the
assessment's artifact folder) and the SHA-256 of each file; the audit event
``report.generated`` carries the same digests. Reading a file back checks it
against its recorded digest and refuses a file that changed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from governance.audit import unit_of_work
from governance.errors import GovernanceError, InvalidInputError, NotFoundError
from governance.records.rendering import Document, render_html, render_pdf
from governance.records_tables import ComplianceReport
from governance.settings import Settings
from governance.store import read_session
from governance.workflow.permissions import require_permission

logger = logging.getLogger(__name__)

GENERATED_ACTION = "report.generated"
REPORTS_FOLDER = "reports"


@dataclass(frozen=True)
class StoredReport:
    """A kept report or document: its record and where its files are."""

    id: int
    kind: str
    title: str
    model_version_id: int | None
    period_start: date | None
    period_end: date | None
    html_path: Path
    pdf_path: Path
    html_sha256: str
    pdf_sha256: str
    summary: str
    policy_version: str
    created_by: str
    created_at: datetime

    @property
    def file_stem(self) -> str:
        """A download name without extension, e.g. ``12-monthly_compliance-2026-11``."""
        return self.html_path.stem.rsplit("-", 1)[0]


def _stored(row: ComplianceReport) -> StoredReport:
    assert row.id is not None
    return StoredReport(
        id=row.id,
        kind=row.kind,
        title=row.title,
        model_version_id=row.model_version_id,
        period_start=row.period_start,
        period_end=row.period_end,
        html_path=Path(row.html_path),
        pdf_path=Path(row.pdf_path),
        html_sha256=row.html_sha256,
        pdf_sha256=row.pdf_sha256,
        summary=row.summary,
        policy_version=row.policy_version,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "report"


def keep_document(
    settings: Settings,
    engine: Engine,
    *,
    actor_id: str,
    permission: str,
    kind: str,
    doc: Document,
    policy_version: str,
    summary: str,
    label: str,
    period_start: date | None = None,
    period_end: date | None = None,
    model_version_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> StoredReport:
    """Render ``doc`` as HTML and PDF, write both files once, record and audit them.

    The files are named after the new record's id, written with exclusive
    creation (an existing file is never replaced), and removed again when the
    transaction does not commit.

    Raises
    ------
    PermissionDeniedError
        When the actor lacks ``permission``.
    """
    html_bytes = render_html(doc).encode("utf-8")
    pdf_bytes = render_pdf(doc)
    folder = settings.evidence_dir / REPORTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        with unit_of_work(engine) as work:
            require_permission(work.session, actor_id, permission)
            row = ComplianceReport(
                kind=kind,
                title=doc.title[:300],
                model_version_id=model_version_id,
                period_start=period_start,
                period_end=period_end,
                html_path="",
                pdf_path="",
                html_sha256=hashlib.sha256(html_bytes).hexdigest(),
                pdf_sha256=hashlib.sha256(pdf_bytes).hexdigest(),
                summary=summary,
                policy_version=policy_version,
                created_by=actor_id,
            )
            work.session.add(row)
            work.session.flush()
            # The random part keeps a record id that SQLite hands out again after
            # a crash between writing and committing from meeting the orphan
            # files of that attempt.
            token = secrets.token_hex(4)
            stem = folder / f"{row.id}-{_slug(kind)}-{_slug(label)}-{token}"
            for suffix, content in ((".html", html_bytes), (".pdf", pdf_bytes)):
                path = stem.with_name(stem.name + suffix)
                with path.open("xb") as handle:
                    written.append(path)
                    handle.write(content)
            row.html_path, row.pdf_path = str(written[0]), str(written[1])
            work.session.add(row)
            work.record(
                actor_id=actor_id,
                action=GENERATED_ACTION,
                entity_type="compliance_report",
                entity_id=str(row.id),
                payload={
                    "kind": kind,
                    "title": row.title,
                    "model_version_id": model_version_id,
                    "period_start": row.period_start.isoformat()
                    if row.period_start
                    else None,
                    "period_end": row.period_end.isoformat()
                    if row.period_end
                    else None,
                    "html_sha256": row.html_sha256,
                    "pdf_sha256": row.pdf_sha256,
                    "policy_version": policy_version,
                    **(payload or {}),
                },
            )
            stored = _stored(row)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    logger.info("Kept %s %s as report %s", kind, label, stored.id)
    return stored


def check_permission(engine: Engine, actor_id: str, permission: str) -> None:
    """Refuse early, before any work, when the actor lacks ``permission``.

    The check runs in a unit of work that changes nothing, so that a refusal is
    recorded in the audit trail (``access.denied``) as every refused action is.
    """
    with unit_of_work(engine) as work:
        require_permission(work.session, actor_id, permission)


def list_reports(
    engine: Engine,
    *,
    kinds: Sequence[str] | None = None,
    model_version_id: int | None = None,
    limit: int = 200,
) -> list[StoredReport]:
    """Kept reports and documents, newest first."""
    query = select(ComplianceReport)
    if kinds:
        query = query.where(col(ComplianceReport.kind).in_(kinds))
    if model_version_id is not None:
        query = query.where(ComplianceReport.model_version_id == model_version_id)
    query = query.order_by(col(ComplianceReport.id).desc()).limit(limit)
    with read_session(engine) as session:
        return [_stored(row) for row in session.exec(query).all()]


def get_report(engine: Engine, report_id: int) -> StoredReport:
    """The kept report ``report_id``."""
    with read_session(engine) as session:
        row = session.get(ComplianceReport, report_id)
    if row is None:
        raise NotFoundError(f"No stored report with id {report_id}.")
    return _stored(row)


class ReportIntegrityError(GovernanceError):
    """A kept report's file is missing or no longer matches its digest."""


def report_file(report: StoredReport, fmt: str) -> bytes:
    """The bytes of a kept report's ``html`` or ``pdf`` file, checked against its digest.

    Raises
    ------
    ReportIntegrityError
        When the file is gone or its SHA-256 differs from the one recorded.
    """
    if fmt not in ("html", "pdf"):
        raise InvalidInputError(f"Unknown report format {fmt!r}; use html or pdf.")
    path = report.html_path if fmt == "html" else report.pdf_path
    expected = report.html_sha256 if fmt == "html" else report.pdf_sha256
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ReportIntegrityError(
            f"The {fmt.upper()} file of report {report.id} cannot be read "
            f"({exc.strerror}); restore it from a backup."
        ) from exc
    if hashlib.sha256(content).hexdigest() != expected:
        raise ReportIntegrityError(
            f"The {fmt.upper()} file of report {report.id} no longer matches its "
            "recorded SHA-256; it was changed after it was kept. Restore it from a "
            "backup and tell the security officer."
        )
    return content
