"""Monitoring runs on SQLite and PostgreSQL: windows, values, triggers, bad input."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sqlmodel import func, select

from governance.alert_tables import Alert
from governance.assessment.drift import population_stability_index
from governance.errors import PermissionDeniedError
from governance.operations.monitoring import (
    log_location,
    monitored_windows,
    run_monitoring,
    set_log_location,
)
from governance.operations.windows import NO_OUTCOMES
from governance.operations_tables import (
    MonitoringWindow,
    RetrainingRequest,
    RetrainingTrigger,
)
from governance.store import read_session
from governance.tables import AuditEvent, Incident
from tests.operations.monitoring_support import (
    FEATURES,
    PRODUCTION_SINCE,
    month_of_predictions,
    version_in_production,
    write_log,
)

FEB, MAR, APR, MAY = (datetime(2026, month, 1, tzinfo=UTC) for month in (2, 3, 4, 5))
DRIFTED = 9.0  # mean visits of a drifted month (the reference has 5)


@pytest.fixture
def production(engine, people, policy, tmp_path):
    """lead-scoring 1 in production, assessed, with an empty log location."""
    return version_in_production(engine, people, policy, tmp_path)


def _configure(engine, people, tmp_path, *months, name="log.csv"):
    location = write_log(tmp_path / name, *months)
    set_log_location(
        engine,
        actor_id=people["engineer"],
        model_name="lead-scoring",
        location=location,
    )
    return location


def _run(settings, engine, policy, people, now):
    return run_monitoring(
        settings, engine, policy, actor_id=people["engineer"], now=now
    )


def _count(engine, table, *where):
    with read_session(engine) as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def test_a_month_of_drift_opens_one_retraining_request(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(5)
    stable = month_of_predictions(rng, FEB, 800)
    drifted = month_of_predictions(rng, MAR, 800, visits_mean=DRIFTED)
    _configure(engine, people, tmp_path, stable, drifted)

    report = _run(settings, engine, policy, people, APR)

    with read_session(engine) as session:
        requests = session.exec(select(RetrainingRequest)).all()
        triggers = session.exec(select(RetrainingTrigger)).all()
        alerts = session.exec(select(Alert)).all()
    assert [item.scored for item in report.versions] == [["2026-02", "2026-03"]]
    assert [(r.model_name, r.status, r.model_version_id) for r in requests] == [
        ("lead-scoring", "open", production)
    ]
    assert {(t.kind, t.subject) for t in triggers} == {("data_drift", "visits")}
    assert triggers[0].value >= policy.drift.psi_retrain
    assert [(a.kind, a.model_version_id, a.id) for a in alerts] == [
        ("retraining_trigger", production, triggers[0].alert_id)
    ]
    assert "Retraining request" in alerts[0].body


def test_a_second_trigger_joins_the_open_request(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(5)
    months = [
        month_of_predictions(rng, FEB, 800),
        month_of_predictions(rng, MAR, 800, visits_mean=DRIFTED),
    ]
    _configure(engine, people, tmp_path, *months)
    _run(settings, engine, policy, people, APR)
    months.append(month_of_predictions(rng, APR, 800, visits_mean=DRIFTED))
    _configure(engine, people, tmp_path, *months)

    report = _run(settings, engine, policy, people, MAY)

    with read_session(engine) as session:
        requests = session.exec(select(RetrainingRequest)).all()
        triggers = session.exec(select(RetrainingTrigger)).all()
    drifts = [t for t in triggers if t.kind == "data_drift"]
    assert report.versions[0].scored == ["2026-04"]
    assert len(requests) == 1
    assert len(drifts) == 2
    assert {t.request_id for t in triggers} == {requests[0].id}


def test_windows_store_the_measured_values(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(11)
    month = month_of_predictions(rng, FEB, 1200)
    _configure(engine, people, tmp_path, month)

    _run(settings, engine, policy, people, MAR)

    [window] = monitored_windows(engine, production)
    outcome, score = month["outcome"].astype(int), month["score"]
    predicted = (score >= 0.5).astype(int)
    with read_session(engine) as session:
        from governance.evidence import evidence_by_id, load_predictions
        from governance.tables import Assessment

        assessment = session.exec(select(Assessment)).one()
    stored = evidence_by_id(engine, assessment.id)
    test_scores = load_predictions(stored, split="test")["y_score"]
    assert (window.label, window.rows, window.outcome_rows) == ("2026-02", 1200, 1200)
    assert window.auc == pytest.approx(roc_auc_score(outcome, score))
    assert window.precision == pytest.approx(precision_score(outcome, predicted))
    assert window.recall == pytest.approx(recall_score(outcome, predicted))
    assert window.score_psi == pytest.approx(
        population_stability_index(test_scores, score, bins=policy.drift.psi_bins)
    )
    assert window.disparities["region"] == pytest.approx(
        demographic_parity_difference(
            predicted, predicted, sensitive_features=month["region"]
        )
    )
    assert set(window.psi) == set(FEATURES)


def test_per_window_auc_aggregates_in_sql(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(2)
    _configure(
        engine,
        people,
        tmp_path,
        month_of_predictions(rng, FEB, 500),
        month_of_predictions(rng, MAR, 500),
    )
    _run(settings, engine, policy, people, APR)

    with read_session(engine) as session:
        mean_auc, windows = session.exec(
            select(func.avg(MonitoringWindow.auc), func.count()).where(
                MonitoringWindow.model_version_id == production
            )
        ).one()

    aucs = [window.auc for window in monitored_windows(engine, production)]
    assert windows == 2
    assert mean_auc == pytest.approx(sum(aucs) / 2)


def test_rerunning_adds_no_window_and_no_event(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(3)
    _configure(
        engine,
        people,
        tmp_path,
        month_of_predictions(rng, FEB, 600),
        month_of_predictions(rng, MAR, 600, visits_mean=DRIFTED),
    )
    _run(settings, engine, policy, people, APR)
    events = _count(engine, AuditEvent)

    again = _run(settings, engine, policy, people, APR)

    assert again.versions[0].scored == []
    assert again.versions[0].already_stored == 2
    assert _count(engine, MonitoringWindow) == 2
    assert _count(engine, RetrainingTrigger) == 1
    assert _count(engine, AuditEvent) == events


def test_a_window_still_running_is_left_for_later(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(3)
    _configure(engine, people, tmp_path, month_of_predictions(rng, FEB, 600))

    report = _run(settings, engine, policy, people, datetime(2026, 2, 27, tzinfo=UTC))

    assert report.versions[0].scored == []
    assert _count(engine, MonitoringWindow) == 0


def test_an_empty_window_is_stored_with_its_message(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(4)
    _configure(
        engine,
        people,
        tmp_path,
        month_of_predictions(rng, FEB, 300),
        month_of_predictions(rng, APR, 300),
    )

    _run(settings, engine, policy, people, MAY)

    windows = {w.label: w for w in monitored_windows(engine, production)}
    assert list(windows) == ["2026-02", "2026-03", "2026-04"]
    assert (windows["2026-03"].rows, windows["2026-03"].auc) == (0, None)
    assert windows["2026-03"].messages[0] == "No predictions in this window."


def test_a_window_below_min_rows_is_not_measured(
    settings, engine, policy, people, production, tmp_path
):
    few = policy.monitoring.min_window_rows - 1
    rng = np.random.default_rng(4)
    _configure(
        engine,
        people,
        tmp_path,
        month_of_predictions(rng, FEB, few, visits_mean=DRIFTED),
    )

    report = _run(settings, engine, policy, people, MAR)

    [window] = monitored_windows(engine, production)
    assert (window.rows, window.auc, window.psi, window.score_psi) == (
        few,
        None,
        {},
        None,
    )
    assert f"{few} predictions, fewer than" in window.messages[0]
    assert not [t for t in report.versions[0].triggers if t.startswith("2026-02")]


def test_no_outcomes_yet_then_outcomes_arrive(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(6)
    month = month_of_predictions(rng, FEB, 700)
    _configure(engine, people, tmp_path, month.assign(outcome=np.nan))

    _run(settings, engine, policy, people, MAR)
    [before] = monitored_windows(engine, production)
    _configure(engine, people, tmp_path, month)
    report = _run(settings, engine, policy, people, MAR)
    [after] = monitored_windows(engine, production)

    assert (before.auc, before.outcome_rows) == (None, 0)
    assert NO_OUTCOMES in before.messages
    assert set(before.psi) == set(FEATURES)
    assert before.score_psi is not None
    assert report.versions[0].updated == ["2026-02"]
    assert after.id == before.id
    assert after.auc == pytest.approx(
        roc_auc_score(month["outcome"].astype(int), month["score"])
    )
    assert NO_OUTCOMES not in after.messages


def test_a_feature_missing_from_the_log_is_named(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(7)
    month = month_of_predictions(rng, FEB, 500).drop(columns=["company_size"])
    _configure(engine, people, tmp_path, month)

    _run(settings, engine, policy, people, MAR)

    [window] = monitored_windows(engine, production)
    assert set(window.psi) == {"visits", "region"}
    assert any(
        "Drift not measured on company_size: the prediction log has no" in message
        for message in window.messages
    )
    assert window.auc is not None


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01not a csv\xff\xfe", b"model_version,score\n1,0.5\n"],
    ids=["garbage", "no-timestamp"],
)
def test_an_unreadable_log_is_reported_and_nothing_stored(
    settings, engine, policy, people, production, tmp_path, content
):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    set_log_location(
        engine,
        actor_id=people["engineer"],
        model_name="lead-scoring",
        location=str(path),
    )

    report = _run(settings, engine, policy, people, MAR)

    assert report.versions == []
    assert len(report.problems) == 1
    assert report.problems[0].startswith("lead-scoring: ")
    assert _count(engine, MonitoringWindow) == 0


def test_a_model_without_a_log_is_reported(
    settings, engine, policy, people, production
):
    report = _run(settings, engine, policy, people, MAR)

    assert "no prediction log is configured" in report.problems[0]


def test_a_performance_drop_opens_an_incident(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(8)
    month = month_of_predictions(rng, FEB, 800)
    month["outcome"] = 1.0 - month["outcome"]  # the model now ranks backwards
    _configure(engine, people, tmp_path, month)

    _run(settings, engine, policy, people, MAR)

    with read_session(engine) as session:
        triggers = session.exec(select(RetrainingTrigger)).all()
        incidents = session.exec(select(Incident)).all()
    drops = [t for t in triggers if t.kind == "performance_drop"]
    assert {t.subject for t in drops} >= {"auc"}
    assert [(i.kind, i.model_version_id) for i in incidents] == [
        ("performance", production)
    ]
    assert {t.incident_id for t in drops} == {incidents[0].id}


def test_the_schedule_fires_once_a_month_after_production(
    settings, engine, policy, people, production, tmp_path
):
    _configure(
        engine,
        people,
        tmp_path,
        month_of_predictions(np.random.default_rng(1), FEB, 200),
    )
    due = PRODUCTION_SINCE.replace(month=PRODUCTION_SINCE.month + 1)

    before = _run(settings, engine, policy, people, datetime(2026, 1, 31, tzinfo=UTC))
    at = _run(settings, engine, policy, people, due)
    again = _run(settings, engine, policy, people, due)

    with read_session(engine) as session:
        scheduled = session.exec(
            select(RetrainingTrigger).where(RetrainingTrigger.kind == "scheduled")
        ).all()
    assert before.versions[0].triggers == []
    assert len(at.versions[0].triggers) == 1
    assert again.versions[0].triggers == []
    assert [t.window_id for t in scheduled] == [None]


def test_only_ml_engineers_run_monitoring_or_set_the_log(
    settings, engine, policy, people, production, tmp_path
):
    with pytest.raises(PermissionDeniedError, match="ML engineer"):
        run_monitoring(settings, engine, policy, actor_id=people["scientist"], now=MAR)
    with pytest.raises(PermissionDeniedError):
        set_log_location(
            engine,
            actor_id=people["owner"],
            model_name="lead-scoring",
            location="x.csv",
        )

    assert log_location(engine, "lead-scoring") is None


def test_the_log_location_change_is_audited(engine, people, production, tmp_path):
    set_log_location(
        engine, actor_id=people["engineer"], model_name="lead-scoring", location="a.csv"
    )
    set_log_location(
        engine, actor_id=people["engineer"], model_name="lead-scoring", location="b.csv"
    )

    with read_session(engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "monitoring.log_configured")
        ).all()
    assert log_location(engine, "lead-scoring") == "b.csv"
    assert [e.actor_id for e in events] == [people["engineer"]] * 2
    assert '"previous":"a.csv"' in events[1].payload


def test_the_scheduler_runs_as_the_system_account(
    settings, engine, policy, people, production, tmp_path
):
    from governance.access import SYSTEM_USER_ID

    _configure(
        engine,
        people,
        tmp_path,
        month_of_predictions(np.random.default_rng(1), FEB, 300),
    )

    report = run_monitoring(settings, engine, policy, actor_id=SYSTEM_USER_ID, now=MAR)

    with read_session(engine) as session:
        window = session.exec(select(MonitoringWindow)).one()
    assert report.versions[0].scored == ["2026-02"]
    assert window.scored_by == SYSTEM_USER_ID


def test_log_rows_of_other_versions_and_traffic_are_left_out(
    settings, engine, policy, people, production, tmp_path
):
    rng = np.random.default_rng(9)
    ours = month_of_predictions(rng, FEB, 400)
    other = month_of_predictions(rng, FEB, 300, version="9")
    shadow = month_of_predictions(rng, FEB, 200).assign(traffic="shadow")
    _configure(engine, people, tmp_path, pd.concat([ours, other, shadow]))

    _run(settings, engine, policy, people, MAR)

    [window] = monitored_windows(engine, production)
    assert window.rows == 400
