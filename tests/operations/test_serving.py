"""Shadow and canary evidence: the numbers, the store, the gate and the CLI."""

import datetime as dt
import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sqlmodel import select

from governance.datasets import file_sha256
from governance.errors import (
    InvalidInputError,
    PermissionDeniedError,
    WorkflowBlockedError,
)
from governance.operations.prediction_logs import read_prediction_log
from governance.operations.serving import (
    compare_canary,
    compare_shadow,
    compute_serving_evidence,
    get_serving_evidence,
    serving_evidence_of,
)
from governance.store import read_session
from governance.tables import AuditEvent
from tests.operations.serving_support import record_passing_evidence
from tests.workflow.conftest import register
from tests.workflow.test_rollout import START, approve_version, step

SHADOW_AT = START + dt.timedelta(days=1)
CANDIDATE = [0.9, 0.8, 0.6, 0.45, 0.3, 0.2, 0.7, 0.1]
BASELINE = [0.85, 0.35, 0.5, 0.45, 0.2, 0.5, 0.3, 0.05]
OUTCOMES = [1, 1, 0, 1, 0, 0, 1, 0]
THRESHOLDS = {"1": 0.4, "2": 0.5}


def bounded(policy, *, psi_bins=None, **evidence):
    """The policy with some ``deployment.evidence`` bounds (and PSI bins) changed."""
    deployment = policy.deployment.model_copy(
        update={"evidence": policy.deployment.evidence.model_copy(update=evidence)}
    )
    update = {"deployment": deployment}
    if psi_bins is not None:
        update["drift"] = policy.drift.model_copy(update={"psi_bins": psi_bins})
    return policy.model_copy(update=update)


def shadow_rows(candidate, baseline, outcomes, *, at=SHADOW_AT, versions=("2", "1")):
    """One shadow row of ``versions[0]`` and one production row of ``versions[1]``
    per request, a minute apart."""
    rows = []
    for index, (ours, theirs, outcome) in enumerate(
        zip(candidate, baseline, outcomes, strict=True)
    ):
        when = (at + dt.timedelta(minutes=index + 1)).isoformat()
        for version, traffic, score in (
            (versions[0], "shadow", ours),
            (versions[1], "production", theirs),
        ):
            rows.append(
                {
                    "model_version": version,
                    "timestamp": when,
                    "score": score,
                    "outcome": outcome,
                    "traffic": traffic,
                    "request_id": f"r{index}",
                }
            )
    return rows


def write_log(tmp_path, rows, name="log.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def frame_of(tmp_path, rows):
    return read_prediction_log(str(write_log(tmp_path, rows))).frame


# The numbers, on a small log


def test_shadow_numbers_equal_hand_computed_and_sklearn_values(tmp_path, policy):
    small = bounded(policy, psi_bins=2, min_rows=1)
    frame = frame_of(tmp_path, shadow_rows(CANDIDATE, BASELINE, OUTCOMES))

    result = compare_shadow(
        frame,
        candidate_version="2",
        thresholds=THRESHOLDS,
        baseline_version="1",
        policy=small,
    )

    # Decisions: candidate at 0.5 -> 1,1,1,0,0,0,1,0; baseline at 0.4 -> 1,0,1,1,0,1,0,0.
    assert result.metrics["agreement"] == 0.5
    assert result.metrics["decisions"] == {
        "both_positive": 2,
        "candidate_only": 2,
        "baseline_only": 2,
        "both_negative": 2,
    }
    # Two bins cut at the baseline's median 0.4: baseline 4|4, candidate 3|5.
    expected_psi = (0.375 - 0.5) * math.log(0.375 / 0.5) + (0.625 - 0.5) * math.log(
        0.625 / 0.5
    )
    assert result.metrics["score_psi"] == pytest.approx(expected_psi, abs=1e-9)
    performance = result.metrics["performance"]
    ours, theirs = (
        performance["version 2 (shadow)"],
        performance["version 1 (production)"],
    )
    cut = np.array(CANDIDATE) >= 0.5
    assert ours["auc"] == pytest.approx(roc_auc_score(OUTCOMES, CANDIDATE))
    assert ours["precision"] == pytest.approx(precision_score(OUTCOMES, cut))
    assert ours["recall"] == pytest.approx(recall_score(OUTCOMES, cut))
    assert theirs["auc"] == pytest.approx(roc_auc_score(OUTCOMES, BASELINE))
    assert theirs["recall"] == pytest.approx(
        recall_score(OUTCOMES, np.array(BASELINE) >= 0.4)
    )
    assert [breach.key for breach in result.breaches] == [
        "deployment.evidence.min_shadow_agreement"
    ]
    assert result.breaches[0].message == (
        "shadow agreement 0.500 is below deployment.evidence.min_shadow_agreement 0.85"
    )


def test_shadow_without_a_baseline_compares_with_outcomes_only(tmp_path, policy):
    small = bounded(policy, min_rows=1)
    frame = frame_of(tmp_path, shadow_rows(CANDIDATE, BASELINE, OUTCOMES))

    result = compare_shadow(
        frame,
        candidate_version="2",
        thresholds=THRESHOLDS,
        baseline_version=None,
        policy=small,
    )

    assert result.notes[0].startswith("No version is in production yet")
    measured = result.metrics["performance"]["version 2 (shadow)"]
    assert measured["auc"] == pytest.approx(roc_auc_score(OUTCOMES, CANDIDATE))
    # AUC 0.9375, precision 0.75, recall 0.75: all at or above the minimums.
    assert result.passed


def test_missing_outcomes_leave_performance_unjudged(tmp_path, policy):
    small = bounded(policy, min_rows=1)
    frame = frame_of(tmp_path, shadow_rows(CANDIDATE, CANDIDATE, [None] * 8))

    paired = compare_shadow(
        frame,
        candidate_version="2",
        thresholds={"1": 0.5, "2": 0.5},
        baseline_version="1",
        policy=small,
    )
    alone = compare_shadow(
        frame,
        candidate_version="2",
        thresholds={"1": 0.5, "2": 0.5},
        baseline_version=None,
        policy=small,
    )

    assert paired.metrics["performance"] is None
    assert paired.passed
    assert paired.notes[0].startswith("Performance not judged yet: 0 version 2")
    # Without a baseline there is nothing to compare but outcomes: not enough.
    assert [breach.key for breach in alone.breaches] == ["deployment.evidence.min_rows"]


def test_canary_numbers_against_the_rest(tmp_path, policy):
    small = bounded(policy, psi_bins=2, min_rows=1)
    at = SHADOW_AT.isoformat()
    canary = [0.9, 0.6, 0.4, 0.2]
    rest = [(0.45, "1"), (0.35, "1"), (0.55, "3"), (0.3, "3"), (0.1, "1"), (0.8, "3")]
    rows = [
        {"model_version": "2", "timestamp": at, "score": s, "traffic": "canary"}
        for s in canary
    ] + [
        {"model_version": v, "timestamp": at, "score": s, "traffic": "production"}
        for s, v in rest
    ]
    frame = frame_of(tmp_path, rows)

    result = compare_canary(
        frame,
        candidate_version="2",
        percentage=10,
        thresholds={"1": 0.4, "2": 0.5, "3": 0.6},
        policy=small,
    )

    # Canary at 0.5 selects 2 of 4; the rest, each at its own threshold, selects
    # 0.45 (v1 >= 0.4) and 0.8 (v3 >= 0.6): 2 of 6.
    assert result.metrics["selection_rate_difference"] == pytest.approx(0.5 - 2 / 6)
    assert result.metrics["rest_versions"] == ["1", "3"]
    assert result.metrics["canary_rows"] == 4
    assert result.metrics["rest_rows"] == 6
    assert result.metrics["performance"] is None
    assert [breach.key for breach in result.breaches] == [
        "deployment.evidence.max_selection_rate_difference",
        "deployment.evidence.max_score_psi",
    ]
    # Rest median (0.325 + 0.35)/2 ... two bins: rest 3|3, canary 1|3.
    edge = np.quantile([s for s, _ in rest], 0.5)
    reference = np.array([np.mean(np.array([s for s, _ in rest]) < edge)])
    current = np.array([np.mean(np.array(canary) < edge)])
    shares = (
        np.concatenate([reference, 1 - reference]),
        np.concatenate([current, 1 - current]),
    )
    expected = float(np.sum((shares[1] - shares[0]) * np.log(shares[1] / shares[0])))
    assert result.metrics["score_psi"] == pytest.approx(expected)


def test_canary_at_full_traffic_is_held_to_the_performance_minimums(tmp_path, policy):
    small = bounded(policy, min_rows=1)
    at = SHADOW_AT.isoformat()
    rows = [
        {
            "model_version": "2",
            "timestamp": at,
            "score": s,
            "outcome": o,
            "traffic": "canary",
        }
        for s, o in zip(BASELINE, OUTCOMES, strict=True)
    ]

    result = compare_canary(
        frame_of(tmp_path, rows),
        candidate_version="2",
        percentage=100,
        thresholds={"2": 0.4},
        policy=small,
    )

    measured = result.metrics["performance"]["version 2 (canary)"]
    recall = recall_score(OUTCOMES, np.array(BASELINE) >= 0.4)
    assert measured["recall"] == pytest.approx(recall)
    assert "compared with the outcomes only" in result.notes[0]
    # AUC 0.625, precision 0.5, recall 0.5: each below its policy minimum.
    assert measured["auc"] == pytest.approx(roc_auc_score(OUTCOMES, BASELINE))
    assert [breach.key for breach in result.breaches] == [
        "performance.min_auc",
        "performance.min_precision",
        "performance.min_recall",
    ]


def test_a_log_without_the_candidates_rows_is_refused(tmp_path, policy):
    frame = frame_of(tmp_path, shadow_rows(CANDIDATE, BASELINE, OUTCOMES))

    with pytest.raises(InvalidInputError, match=r"no shadow prediction of version 3"):
        compare_shadow(
            frame,
            candidate_version="3",
            thresholds=THRESHOLDS,
            baseline_version="1",
            policy=policy,
        )


def test_pairing_needs_request_ids(tmp_path, policy):
    rows = shadow_rows(CANDIDATE, BASELINE, OUTCOMES)
    for row in rows:
        del row["request_id"]

    with pytest.raises(InvalidInputError, match="no request_id column"):
        compare_shadow(
            frame_of(tmp_path, rows),
            candidate_version="2",
            thresholds=THRESHOLDS,
            baseline_version="1",
            policy=policy,
        )


def test_an_unregistered_version_in_the_log_is_named(tmp_path, policy):
    rows = shadow_rows(CANDIDATE, BASELINE, OUTCOMES, versions=("2", "9"))

    with pytest.raises(InvalidInputError, match="version 9, which is not registered"):
        compare_shadow(
            frame_of(tmp_path, rows),
            candidate_version="2",
            thresholds=THRESHOLDS,
            baseline_version="9",
            policy=policy,
        )


def test_too_few_rows_breach_the_minimum(tmp_path, policy):
    frame = frame_of(tmp_path, shadow_rows(CANDIDATE, CANDIDATE, OUTCOMES))

    result = compare_shadow(
        frame,
        candidate_version="2",
        thresholds={"1": 0.5, "2": 0.5},
        baseline_version="1",
        policy=policy,
    )

    assert result.metrics["agreement"] == 1.0
    assert [breach.message for breach in result.breaches] == [
        "8 paired shadow and production rows is below deployment.evidence.min_rows "
        f"{policy.deployment.evidence.min_rows}"
    ]


# The store and the gate (SQLite and PostgreSQL)


@pytest.fixture
def artifacts(tmp_path):
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps({"weights": [0.1]}))
    return folder


@pytest.fixture
def in_shadow(engine, people, policy, artifacts):
    """lead-scoring 1 in shadow since SHADOW_AT; version 2 registered beside it."""
    version_id = approve_version(engine, people, policy, artifacts)
    register(engine, people, policy, version="2")
    step(engine, people, policy, version_id, "staging")
    step(engine, people, policy, version_id, "shadow", day=1)
    return version_id


def agreeing_rows(agreeing, total, *, at=SHADOW_AT):
    """``total`` requests scored by 1 (shadow) and 2 (production) at 0.5, of
    which ``agreeing`` take the same decision; outcomes follow version 1."""
    candidate = [0.7 if i % 2 else 0.3 for i in range(total)]
    baseline = [
        c if i < agreeing else (0.3 if c >= 0.5 else 0.7)
        for i, c in enumerate(candidate)
    ]
    outcomes = [int(c >= 0.5) for c in candidate]
    return shadow_rows(candidate, baseline, outcomes, at=at, versions=("1", "2"))


def evidence_for(engine, people, policy, version_id, path, **kw):
    return compute_serving_evidence(
        engine,
        actor_id=people["engineer"],
        policy=policy,
        version_id=version_id,
        log_reference=str(path),
        baseline_version=kw.pop("baseline", "2"),
        now=kw.pop("now", START + dt.timedelta(days=8)),
    )


def test_evidence_is_stored_with_its_log_fingerprint_and_audited(
    engine, people, policy, in_shadow, tmp_path
):
    path = write_log(tmp_path, agreeing_rows(20, 20))
    small = bounded(policy, min_rows=20)

    evidence_id = evidence_for(engine, people, small, in_shadow, path)

    stored = get_serving_evidence(engine, evidence_id)
    assert (stored.phase, stored.percentage, stored.passed) == ("shadow", None, True)
    assert stored.log_sha256 == file_sha256(path)
    assert (stored.window_start, stored.window_end) == (
        SHADOW_AT,
        START + dt.timedelta(days=8),
    )
    assert stored.baseline_version == "2"
    assert stored.metrics["agreement"] == 1.0
    assert stored.metrics["paired_rows"] == 20
    assert (stored.policy_version, stored.created_by) == (
        policy.version,
        people["engineer"],
    )
    assert [item.id for item in serving_evidence_of(engine, in_shadow)] == [evidence_id]
    with read_session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "serving.evidence_recorded")
        ).one()
    payload = json.loads(event.payload)
    assert (payload["evidence_id"], payload["step"], payload["passed"]) == (
        evidence_id,
        "shadow",
        True,
    )
    assert payload["log_sha256"] == stored.log_sha256


def test_rows_outside_the_window_are_excluded(
    engine, people, policy, in_shadow, tmp_path
):
    now = START + dt.timedelta(days=8)
    rows = (
        agreeing_rows(20, 20)
        + agreeing_rows(0, 6, at=SHADOW_AT - dt.timedelta(hours=1))
        + agreeing_rows(0, 6, at=now)
    )
    for index, row in enumerate(rows):
        row["request_id"] = f"q{index // 2}"
    path = write_log(tmp_path, rows)

    evidence_id = evidence_for(
        engine, people, bounded(policy, min_rows=20), in_shadow, path, now=now
    )

    stored = get_serving_evidence(engine, evidence_id)
    # Before the shadow step and at or after `now`, 12 disagreeing requests.
    assert stored.metrics["candidate_rows"] == 20
    assert stored.metrics["agreement"] == 1.0


@pytest.mark.parametrize(
    ("agreeing", "allowed"),
    [(17, True), (16, False)],
    ids=["at-the-minimum", "one-below"],
)
def test_gate_on_shadow_agreement(
    engine, people, policy, in_shadow, tmp_path, agreeing, allowed
):
    small = bounded(policy, min_rows=20)
    assert small.deployment.evidence.min_shadow_agreement == 0.85
    evidence_for(
        engine,
        people,
        small,
        in_shadow,
        write_log(tmp_path, agreeing_rows(agreeing, 20)),
    )
    day = 1 + policy.deployment.shadow_min_days

    if allowed:
        step(engine, people, small, in_shadow, "canary", 10, day=day)
        return
    with pytest.raises(WorkflowBlockedError) as refused:
        step(engine, people, small, in_shadow, "canary", 10, day=day)
    assert "canary-10 is refused: the shadow evidence" in str(refused.value)
    assert (
        "shadow agreement 0.800 is below deployment.evidence.min_shadow_agreement 0.85"
        in str(refused.value)
    )


@pytest.mark.parametrize(
    "allowed", [True, False], ids=["just-below-the-maximum", "at-the-maximum"]
)
def test_gate_on_score_psi(engine, people, policy, in_shadow, tmp_path, allowed):
    rows = agreeing_rows(20, 20)
    for row in rows:
        if row["traffic"] == "shadow":
            # Same decisions at 0.5, other score bins: 0.3 -> 0.15, 0.7 -> 0.55.
            row["score"] = round(row["score"] - 0.15, 2)
    path = write_log(tmp_path, rows)
    psi = compare_shadow(
        read_prediction_log(str(path)).frame,
        candidate_version="1",
        thresholds={"1": 0.5, "2": 0.5},
        baseline_version="2",
        policy=policy,
    ).metrics["score_psi"]
    assert psi > 0
    # Reaching a max_ bound breaches it (governance.policy.reaches).
    bound = psi * (1 + 1e-9) if allowed else psi
    small = bounded(policy, min_rows=20, max_score_psi=bound)

    evidence_for(engine, people, small, in_shadow, path)
    day = 1 + policy.deployment.shadow_min_days

    if allowed:
        step(engine, people, small, in_shadow, "canary", 10, day=day)
        return
    with pytest.raises(
        WorkflowBlockedError, match=r"at or above deployment.evidence.max_score_psi"
    ):
        step(engine, people, small, in_shadow, "canary", 10, day=day)


def test_each_canary_step_needs_its_own_evidence(
    engine, people, policy, in_shadow, tmp_path
):
    day = 1 + policy.deployment.shadow_min_days
    with pytest.raises(WorkflowBlockedError, match="needs passing shadow evidence"):
        step(engine, people, policy, in_shadow, "canary", 10, day=day)
    record_passing_evidence(
        engine,
        people["engineer"],
        policy,
        in_shadow,
        tmp_path,
        candidate="1",
        start=SHADOW_AT,
        end=START + dt.timedelta(days=day, hours=-1),
    )
    step(engine, people, policy, in_shadow, "canary", 10, day=day)

    with pytest.raises(
        WorkflowBlockedError,
        match="canary-50 needs passing canary evidence for canary-10",
    ):
        step(engine, people, policy, in_shadow, "canary", 50, day=day + 1)


def test_the_latest_evidence_of_a_step_decides(
    engine, people, policy, in_shadow, tmp_path
):
    small = bounded(policy, min_rows=20)
    evidence_for(
        engine, people, small, in_shadow, write_log(tmp_path, agreeing_rows(20, 20))
    )
    evidence_for(
        engine,
        people,
        small,
        in_shadow,
        write_log(tmp_path, agreeing_rows(10, 20), "b.csv"),
    )

    with pytest.raises(WorkflowBlockedError, match="min_shadow_agreement"):
        step(engine, people, small, in_shadow, "canary", 10, day=8)


def test_evidence_outside_shadow_and_canary_is_refused(
    engine, people, policy, artifacts, tmp_path
):
    version_id = approve_version(engine, people, policy, artifacts)
    step(engine, people, policy, version_id, "staging")

    with pytest.raises(WorkflowBlockedError, match="is at staging"):
        evidence_for(engine, people, policy, version_id, tmp_path / "log.csv")


def test_only_engineers_and_scientists_compute_evidence(
    engine, people, policy, in_shadow, tmp_path
):
    path = write_log(tmp_path, agreeing_rows(20, 20))

    with pytest.raises(PermissionDeniedError, match="serving evidence"):
        compute_serving_evidence(
            engine,
            actor_id=people["owner"],
            policy=policy,
            version_id=in_shadow,
            log_reference=str(path),
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No dataset at"),
        ("", "Give the path of the serving platform's prediction log"),
        ("model_version,timestamp\n1,2026-03-04T00:00:00Z\n", "has no score column"),
        (
            "model_version,timestamp,score\n1,2026-03-04T00:00:00Z,1.7\n",
            "has score '1.7' in row 0; it must be a number from 0 to 1",
        ),
        (
            "model_version,timestamp,score,traffic\n1,2026-03-04T00:00:00Z,0.5,blue\n",
            "has traffic 'blue' in row 0",
        ),
        (
            "model_version,timestamp,score,traffic\n1,2026-03-04T00:00:00Z,0.5,canary\n",
            "holds no shadow prediction of version 1 in the window",
        ),
    ],
    ids=["missing-file", "empty-path", "no-score", "score-range", "traffic", "no-rows"],
)
def test_bad_logs_are_refused_with_a_clear_message(
    engine, people, policy, in_shadow, tmp_path, content, message
):
    path = tmp_path / "bad.csv"
    if content:
        path.write_text(content)
    reference = "" if content == "" else str(path)

    with pytest.raises(InvalidInputError, match=message):
        compute_serving_evidence(
            engine,
            actor_id=people["engineer"],
            policy=policy,
            version_id=in_shadow,
            log_reference=reference,
            now=START + dt.timedelta(days=8),
        )
    assert serving_evidence_of(engine, in_shadow) == []


# The CLI gate


def test_cli_exit_codes(
    engine, people, policy, in_shadow, tmp_path, settings, monkeypatch, capsys
):
    from governance.cli import main

    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)
    monkeypatch.setattr(
        "governance.operations.serving.utc_now",
        lambda: START + dt.timedelta(days=8),
    )
    rows = agreeing_rows(20, 20)
    many = [
        dict(row, request_id=f"{row['request_id']}-{n}")
        for n in range(10)
        for row in rows
    ]
    good = write_log(tmp_path, many, "good.csv")
    bad = write_log(
        tmp_path,
        [
            dict(r, request_id=f"{r['request_id']}-{n}")
            for n in range(10)
            for r in agreeing_rows(10, 20)
        ],
        "bad.csv",
    )
    command = ["serving", "evidence", "--model", "lead-scoring", "--version", "1"]

    assert (
        main([*command, "--log", str(good), "--baseline", "2", "--as", "engineer"]) == 0
    )
    assert "shadow evidence against version 2: PASSED" in capsys.readouterr().out

    assert (
        main(
            [
                *command,
                "--log",
                str(bad),
                "--baseline",
                "2",
                "--as",
                "engineer",
                "--json",
            ]
        )
        == 1
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["passed"] is False
    assert printed["breaches"][0]["key"] == "deployment.evidence.min_shadow_agreement"

    assert (
        main([*command, "--log", str(tmp_path / "none.csv"), "--as", "engineer"]) == 2
    )
    assert "No dataset at" in capsys.readouterr().err


def canary_with_outcomes(canary_hits, *, rest_versions=("1", "3")):
    """20 canary and 20 rest predictions, 10 positives each; the canary finds
    ``canary_hits`` positives, the rest all of them."""
    at = SHADOW_AT.isoformat()
    rows = []
    for traffic, hits in (("canary", canary_hits), ("production", 10)):
        for index in range(20):
            positive = index < 10
            found = positive and index < hits
            version = "2" if traffic == "canary" else rest_versions[index % 2]
            score = (0.9 if found else 0.45) if positive else 0.05 + index / 100
            rows.append(
                {
                    "model_version": version,
                    "timestamp": at,
                    "score": score,
                    "outcome": int(positive),
                    "traffic": traffic,
                }
            )
    return rows


@pytest.mark.parametrize(
    ("hits", "breached"),
    [
        (10, []),
        (9, ["monitoring.performance_drop_fraction"]),
        (8, ["monitoring.performance_drop_fraction"]),
    ],
    ids=["no-recall-drop", "recall-drop-at-10-percent", "recall-drop-20-percent"],
)
def test_canary_performance_drop_against_the_rest(tmp_path, policy, hits, breached):
    loose = bounded(policy, min_rows=1, max_score_psi=100.0)
    rows = canary_with_outcomes(hits)
    frame = frame_of(tmp_path, rows)
    thresholds = {"1": 0.4, "2": 0.5, "3": 0.3}

    result = compare_canary(
        frame, candidate_version="2", percentage=50, thresholds=thresholds, policy=loose
    )

    rest = [row for row in rows if row["traffic"] == "production"]
    outcomes = [row["outcome"] for row in rest]
    decided = [row["score"] >= thresholds[row["model_version"]] for row in rest]
    measured = result.metrics["performance"]["rest (production)"]
    assert measured["auc"] == pytest.approx(
        roc_auc_score(outcomes, [row["score"] for row in rest])
    )
    assert measured["precision"] == pytest.approx(precision_score(outcomes, decided))
    assert measured["recall"] == pytest.approx(recall_score(outcomes, decided))
    assert result.metrics["performance"]["version 2 (canary)"]["recall"] == hits / 10
    assert [breach.key for breach in result.breaches] == breached
