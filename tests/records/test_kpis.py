"""Governance KPIs equal hand-computed values on a small store, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from governance.access import SYSTEM_USER_ID
from governance.audit import unit_of_work
from governance.errors import InvalidInputError
from governance.operations_tables import MonitoringWindow
from governance.records.kpis import (
    ComplianceMonth,
    CycleTimeMonth,
    IncidentMonth,
    governance_kpis,
    month_range,
    period_start,
)
from governance.tables import Assessment, GovernedModel, Incident, ModelVersion
from governance.workflow_tables import ApprovalRequest
from tests.store_support import engine_in_time_zone

START, END = date(2026, 1, 1), date(2026, 3, 31)
MONTHS = ("2026-01", "2026-02", "2026-03")


def _t(day: str, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


# (requested, closed, status): days from request to decision.
REQUESTS = [
    (_t("2026-01-01"), _t("2026-01-02"), "approved"),  # Jan 1
    (_t("2026-01-05"), _t("2026-01-07"), "approved"),  # Jan 2
    (_t("2026-01-10"), _t("2026-01-14", 12), "rejected"),  # Jan 4.5
    (_t("2026-01-20"), _t("2026-01-30"), "approved"),  # Jan 10
    (_t("2026-01-25"), _t("2026-02-02"), "approved"),  # Feb 8
    (_t("2026-02-01"), _t("2026-02-04"), "rejected"),  # Feb 3
    (_t("2026-02-10"), _t("2026-02-11"), "approved"),  # Feb 1
    (_t("2026-02-01"), _t("2026-02-05"), "withdrawn"),  # no decision: left out
    (_t("2026-02-01"), _t("2026-02-20"), "superseded"),  # no decision: left out
    (_t("2026-03-01"), None, "pending"),  # not decided yet
    (_t("2026-03-30"), _t("2026-03-31", 23, 30), "approved"),  # Mar 1.979...
    (_t("2025-12-01"), _t("2025-12-03"), "approved"),  # before the range
]
# (version, created, passed), in time order: the last one per month counts.
ASSESSMENTS = [
    ("a", _t("2026-01-03"), False),
    ("a", _t("2026-01-20"), True),
    ("b", _t("2026-01-21"), False),
    ("a", _t("2026-02-02"), True),
    ("c", _t("2026-02-03"), True),
    ("b", _t("2026-02-04"), True),
    ("a", _t("2026-02-27"), False),
    ("c", _t("2026-04-01"), False),  # after the range
]
INCIDENTS = [
    ("a", "performance", _t("2026-01-04")),
    ("a", "performance", _t("2026-01-31", 23, 59)),
    ("b", "bias", _t("2026-01-15")),
    ("c", "security", _t("2026-03-02")),
    ("a", "bias", _t("2025-12-31", 23, 59)),  # before the range
]
# (version, window start, AUC or None when not measured)
WINDOWS = [
    ("a", _t("2026-01-01"), 0.80),
    ("a", _t("2026-01-08"), 0.76),
    ("a", _t("2026-01-15"), 0.78),
    ("a", _t("2026-02-01"), 0.81),
    ("b", _t("2026-02-08"), 0.75),
    ("b", _t("2026-02-15"), None),
    ("c", _t("2026-02-01"), 0.70),
]
VERSIONS = {
    "a": ("lead-scoring", "1"),
    "b": ("lead-scoring", "2"),
    "c": ("renewal", "1"),
}


def _seed(engine: Engine, owner: str) -> None:
    with unit_of_work(engine) as work:
        session = work.session
        for name in ("lead-scoring", "renewal"):
            session.add(GovernedModel(name=name, owner_id=owner))
        ids = {}
        for key, (name, version) in VERSIONS.items():
            row = ModelVersion(
                model_name=name,
                version=version,
                model_uri=f"models:/{name}/{version}",
                registered_by=owner,
                policy_version="1.0.0",
                policy_hash="0" * 64,
            )
            session.add(row)
            session.flush()
            ids[key] = row.id
        assessment_ids = []
        for key, created, passed in ASSESSMENTS:
            assessment = Assessment(
                model_version_id=ids[key],
                passed=passed,
                created_by=owner,
                created_at=created,
                policy_version="1.0.0",
                policy_hash="0" * 64,
            )
            session.add(assessment)
            session.flush()
            assessment_ids.append(assessment.id)
        for requested, closed, status in REQUESTS:
            session.add(
                ApprovalRequest(
                    model_version_id=ids["a"],
                    cycle=1,
                    status=status,
                    requested_by=owner,
                    requested_at=requested,
                    closed_at=closed,
                    purpose="p",
                    changes="c",
                    risk_summary="r",
                    risk_level="low",
                    change_class="minor",
                    assessment_id=assessment_ids[0],
                    policy_version="1.0.0",
                    policy_hash="0" * 64,
                )
            )
        for key, kind, reported in INCIDENTS:
            session.add(
                Incident(
                    model_version_id=ids[key],
                    kind=kind,
                    severity="high",
                    description="d",
                    reported_by=owner,
                    reported_at=reported,
                )
            )
        for key, start, auc in WINDOWS:
            session.add(
                MonitoringWindow(
                    model_version_id=ids[key],
                    window_start=start,
                    window_end=start,
                    label=start.date().isoformat(),
                    rows=500,
                    outcome_rows=500,
                    auc=auc,
                    log_source="test",
                    scored_by=owner,
                    policy_version="1.0.0",
                    policy_hash="0" * 64,
                )
            )
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="test.kpi_records_seeded",
            entity_type="test",
            entity_id="kpis",
        )


@pytest.fixture
def kpis(engine, people):
    _seed(engine, people["owner"])
    return governance_kpis(engine, start=START, end=END)


def test_months_cover_the_period(kpis):
    assert kpis.months == MONTHS


def test_cycle_time_median_and_mean_per_decision_month(kpis):
    march = 1 + (23.5 / 24)  # 2026-03-30 00:00 to 2026-03-31 23:30

    assert [row.month for row in kpis.cycle_time] == list(MONTHS)
    january, february, third = kpis.cycle_time
    assert january == CycleTimeMonth("2026-01", 4, 3.25, pytest.approx(17.5 / 4))
    assert february == CycleTimeMonth("2026-02", 3, pytest.approx(3.0), 4.0)
    assert (third.decisions, third.median_days) == (1, pytest.approx(march))
    assert third.mean_days == pytest.approx(march)


def test_compliance_rate_counts_each_version_once_a_month(kpis):
    # January: a (last passed), b (failed); February: a (last failed), c, b passed.
    assert kpis.compliance == (
        ComplianceMonth("2026-01", 2, 1),
        ComplianceMonth("2026-02", 3, 2),
    )
    assert [row.rate for row in kpis.compliance] == [0.5, pytest.approx(2 / 3)]


def test_incident_frequency_per_month_and_kind(kpis):
    assert kpis.incidents == (
        IncidentMonth("2026-01", "bias", 1),
        IncidentMonth("2026-01", "performance", 2),
        IncidentMonth("2026-03", "security", 1),
    )
    assert kpis.incident_counts() == {
        "bias": [1, 0, 0],
        "performance": [2, 0, 0],
        "security": [0, 0, 1],
    }


def test_stability_is_the_window_auc_range_per_model_and_month(kpis):
    found = {(row.month, row.model_name): row for row in kpis.stability}

    assert set(found) == {
        ("2026-01", "lead-scoring"),
        ("2026-02", "lead-scoring"),
        ("2026-02", "renewal"),
    }
    january = found["2026-01", "lead-scoring"]
    assert (january.windows, january.auc_min, january.auc_max) == (3, 0.76, 0.80)
    assert january.auc_mean == pytest.approx(0.78)
    assert january.auc_spread == pytest.approx(0.04)
    assert january.relative_spread == pytest.approx(0.04 / 0.78)
    february = found["2026-02", "lead-scoring"]
    assert (february.windows, february.auc_min, february.auc_max) == (2, 0.75, 0.81)
    assert found["2026-02", "renewal"].auc_spread == 0.0


def test_stability_over_the_period_spans_every_month(kpis):
    scoring, renewal = kpis.stability_overall

    assert (scoring.model_name, scoring.windows) == ("lead-scoring", 5)
    assert (scoring.auc_min, scoring.auc_max) == (0.75, 0.81)
    assert scoring.auc_mean == pytest.approx(0.78)
    assert scoring.relative_spread == pytest.approx(0.06 / 0.78)
    assert (renewal.model_name, renewal.windows, renewal.auc_spread) == (
        "renewal",
        1,
        0.0,
    )


def test_an_empty_store_has_empty_series(engine):
    kpis = governance_kpis(engine, start=START, end=END)

    assert kpis.cycle_time == kpis.compliance == kpis.incidents == ()
    assert kpis.stability == kpis.stability_overall == ()
    assert kpis.incident_counts() == {}


# SQLite has no session time zone: this case exists on PostgreSQL only.
@pytest.mark.parametrize(
    "database_url",
    [pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_postgres_session_time_zone_does_not_move_months(settings, engine, people):
    _seed(engine, people["owner"])
    shifted = engine_in_time_zone(settings.database_url, "Asia/Dubai")

    kpis = governance_kpis(shifted, start=START, end=END)
    shifted.dispose()

    # 23:30 UTC on 31 March is April in Dubai; the month stays March.
    assert [row.month for row in kpis.cycle_time] == list(MONTHS)
    assert kpis.incident_counts()["performance"] == [2, 0, 0]


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        pytest.param(date(2026, 1, 1), date(2026, 1, 31), ("2026-01",), id="one-month"),
        pytest.param(
            date(2025, 11, 15),
            date(2026, 2, 1),
            ("2025-11", "2025-12", "2026-01", "2026-02"),
            id="across-a-year",
        ),
    ],
)
def test_month_range(start, end, months):
    assert month_range(start, end) == months


def test_month_range_refuses_an_end_before_the_start():
    with pytest.raises(InvalidInputError, match="before it starts"):
        month_range(date(2026, 2, 1), date(2026, 1, 31))


@pytest.mark.parametrize(
    ("end", "months", "start"),
    [
        pytest.param(date(2026, 12, 3), 1, date(2026, 12, 1), id="this-month"),
        pytest.param(date(2026, 12, 3), 12, date(2026, 1, 1), id="a-year"),
        pytest.param(date(2026, 3, 31), 6, date(2025, 10, 1), id="across-a-year"),
    ],
)
def test_period_start(end, months, start):
    assert period_start(end, months) == start


def test_period_refuses_zero_months():
    with pytest.raises(InvalidInputError, match="at least one month"):
        period_start(date(2026, 3, 31), 0)
