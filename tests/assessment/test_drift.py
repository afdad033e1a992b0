"""PSI against hand-computed cases and evidently's PSI stattest."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from governance.assessment.drift import (
    PSI_EPSILON,
    ReferenceProfile,
    assess_drift,
    drift_flags,
    feature_psi,
    population_stability_index,
    profile_reference,
    psi_from_counts,
    psi_with_edges,
    reference_quantile_edges,
)
from governance.errors import InvalidInputError
from governance.policy import Policy, load_policy

QUARTER_SHIFT = 0.25 * math.log(2) + 0.25 * math.log(1.5)  # shares .5/.5 -> .25/.75


def _psi_term(current: float, reference: float) -> float:
    return (current - reference) * math.log(current / reference)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


@pytest.fixture(scope="module")
def evidently_psi():
    stattests = pytest.importorskip("evidently.legacy.calculations.stattests.psi")
    core = pytest.importorskip("evidently.legacy.core")

    def psi(reference: pd.Series, current: pd.Series, kind: str) -> float:
        column_type = getattr(core.ColumnType, kind)
        value, _ = stattests._psi(reference, current, column_type, 0.1)
        return float(value)

    return psi


@pytest.fixture
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    reference = pd.DataFrame(
        {
            "income": rng.lognormal(10, 1, 2000),
            "age": rng.integers(18, 80, 2000),
            "region": rng.choice(["north", "south", "east"], 2000),
        }
    )
    current = pd.DataFrame(
        {
            "income": rng.lognormal(10.5, 1, 1500),
            "age": rng.integers(18, 80, 1500),
            "region": rng.choice(["north", "south", "west"], 1500),
        }
    )
    return reference, current


@pytest.mark.parametrize(
    ("reference", "current", "bins", "expected"),
    [
        pytest.param(
            ["a", "a", "b", "b"],
            ["a", "b", "b", "b"],
            10,
            QUARTER_SHIFT,
            id="categories",
        ),
        pytest.param([1.0, 2, 3, 4], [0.0, 3, 5, 10], 2, QUARTER_SHIFT, id="open-ends"),
        pytest.param(
            [1.0, 2, 3, np.nan],
            [1.0, 5, np.nan, np.nan],
            2,
            0.5 * math.log(2),
            id="nan",
        ),
        pytest.param([1.0, 2, 3, 4], [4.0, 3, 2, 1], 4, 0.0, id="same-values"),
        pytest.param(
            [True, True, False, False],
            [True] * 3 + [False],
            10,
            QUARTER_SHIFT,
            id="bool",
        ),
    ],
)
def test_psi_matches_hand_computed_value(reference, current, bins, expected):
    value = population_stability_index(
        np.array(reference), np.array(current), bins=bins
    )

    assert value == pytest.approx(expected, abs=1e-12)


def test_unseen_category_gets_its_own_bin():
    reference = pd.Series(["a", "a", "a", "b"])
    current = pd.Series(["a", "b", "c", "c"])

    value = population_stability_index(reference, current, bins=10)

    # Bins a, b, missing (empty in both), c (unseen in the reference).
    expected = _psi_term(0.25, 0.75) + _psi_term(0.5, PSI_EPSILON)
    assert value == pytest.approx(expected, abs=1e-12)


def test_categorical_missing_values_get_their_own_bin():
    reference = pd.Series(["a", "b", None, None], dtype="category")
    current = pd.Series(["a", "b", "b", None], dtype="category")

    value = population_stability_index(reference, current, bins=10)

    expected = _psi_term(0.5, 0.25) + _psi_term(0.25, 0.5)
    assert value == pytest.approx(expected, abs=1e-12)


def test_all_missing_current_lands_in_missing_bin():
    reference = np.arange(100, dtype=float)
    current = np.full(50, np.nan)

    value = population_stability_index(reference, current, bins=10)

    expected = 10 * _psi_term(PSI_EPSILON, 0.1) + _psi_term(1.0, PSI_EPSILON)
    assert value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "current",
    [
        pytest.param(np.full(5, np.nan), id="both-missing"),
        pytest.param(np.ones(5), id="values"),
    ],
)
def test_all_missing_reference_has_one_value_bin(current):
    reference = np.full(10, np.nan)

    value = population_stability_index(reference, current, bins=10)

    is_missing = bool(np.isnan(current).all())
    expected = (
        0.0 if is_missing else _psi_term(1.0, PSI_EPSILON) + _psi_term(PSI_EPSILON, 1.0)
    )
    assert value == pytest.approx(expected, abs=1e-12)


def test_quantile_edges_match_numpy():
    values = np.random.default_rng(3).normal(size=1001)

    edges = reference_quantile_edges(values, bins=10)

    np.testing.assert_allclose(
        edges, np.quantile(values, np.arange(1, 10) / 10), rtol=1e-12
    )


def test_repeated_quantiles_merge_into_one_edge():
    values = np.array([0.0] * 85 + [1.0] * 15)

    edges = reference_quantile_edges(values, bins=10)

    assert edges.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shift", [0.0, 0.3, 1.5], ids=["none", "small", "large"])
def test_psi_with_evidently_edges_equals_evidently(evidently_psi, seed, shift):
    rng = np.random.default_rng(seed)
    reference = pd.Series(rng.normal(size=4000))
    current = pd.Series(rng.normal(shift, 1.2, size=3000))
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")

    value = psi_with_edges(reference, current, edges)

    assert value == pytest.approx(
        evidently_psi(reference, current, "Numerical"), abs=1e-9
    )


@pytest.mark.parametrize(
    ("reference", "current"),
    [
        pytest.param(list("aabbbc") * 100, list("abbccc") * 90, id="shift"),
        pytest.param(list("abc") * 300, list("abcd") * 200, id="unseen"),
        pytest.param([True, False, False] * 200, [True, False] * 150, id="bool"),
    ],
)
def test_categorical_psi_equals_evidently(evidently_psi, reference, current):
    reference, current = pd.Series(reference), pd.Series(current)

    value = population_stability_index(reference, current, bins=10)

    assert value == pytest.approx(
        evidently_psi(reference, current, "Categorical"), abs=1e-9
    )


def test_psi_from_counts_rejects_misaligned_bins():
    with pytest.raises(InvalidInputError, match="same bins"):
        psi_from_counts([1, 2, 3], [1, 2])


@pytest.mark.parametrize(
    ("reference", "current", "message"),
    [
        pytest.param(
            np.array([]), np.ones(3), "reference sample is empty", id="empty-ref"
        ),
        pytest.param(
            np.ones(3), np.array([]), "current sample is empty", id="empty-cur"
        ),
        pytest.param(np.ones(3), np.array(["a", "b"]), "same dtype", id="kinds-differ"),
        pytest.param(np.array([1.0, np.inf]), np.ones(3), "infinite", id="infinite"),
        pytest.param(np.ones((2, 2)), np.ones(3), "1-D", id="two-dimensional"),
    ],
)
def test_bad_input_is_rejected(reference, current, message):
    with pytest.raises(InvalidInputError, match=message):
        population_stability_index(reference, current, bins=10)


def test_datetime_feature_is_not_supported():
    dates = pd.Series(pd.date_range("2024-01-01", periods=5))

    with pytest.raises(NotImplementedError, match="age in days"):
        population_stability_index(dates, dates, bins=10)


def test_bad_edges_are_rejected():
    with pytest.raises(InvalidInputError, match="strictly increasing"):
        psi_with_edges(np.ones(3), np.ones(3), [1.0, 0.0])


def test_feature_psi_matches_per_column_psi(frames):
    reference, current = frames

    result = feature_psi(reference, current, bins=10)

    expected = {
        name: population_stability_index(reference[name], current[name], bins=10)
        for name in reference.columns
    }
    assert result == pytest.approx(expected, abs=1e-12)
    assert list(result) == list(reference.columns)


def test_feature_psi_names_missing_column(frames):
    reference, current = frames

    with pytest.raises(InvalidInputError, match="region"):
        feature_psi(reference, current.drop(columns="region"), bins=10)


def test_feature_psi_names_column_of_bad_input(frames):
    reference, current = frames

    with pytest.raises(InvalidInputError, match="Column 'age'"):
        feature_psi(reference, current.assign(age="young"), bins=10)


def test_serial_and_threaded_profiles_agree(frames):
    reference, current = frames

    serial = profile_reference(reference, bins=10, max_workers=1).psi(
        current, max_workers=1
    )
    threaded = profile_reference(reference, bins=10, max_workers=4).psi(
        current, max_workers=4
    )

    assert serial == threaded


def test_profile_survives_json_round_trip(frames):
    reference, current = frames
    profile = profile_reference(reference, bins=10)

    stored = json.loads(json.dumps(profile.to_dict()))
    restored = ReferenceProfile.from_dict(stored)

    assert restored.psi(current) == profile.psi(current)


def test_drift_flags_reach_the_policy_thresholds_inclusively(policy):
    warn, retrain = policy.drift.psi_warn, policy.drift.psi_retrain
    psi = {
        "below_warn": warn - 1e-6,
        "at_warn": warn,
        "below_retrain": retrain - 1e-6,
        "at_retrain": retrain,
    }

    flags = drift_flags(psi, policy)

    assert flags == {
        "below_warn": "ok",
        "at_warn": "warn",
        "below_retrain": "warn",
        "at_retrain": "retrain",
    }


def test_assess_drift_flags_shifted_features(frames, policy):
    reference, current = frames

    assessment = assess_drift(reference, current, policy=policy)

    assert assessment.psi == pytest.approx(
        feature_psi(reference, current, bins=policy.drift.psi_bins)
    )
    assert assessment.features_to_retrain == ["region", "income"]
    assert assessment.flags["age"] == "ok"
    assert json.loads(json.dumps(assessment.to_dict()))["is_retrain_triggered"] is True


def test_assess_drift_rejects_profile_with_other_bins(frames, policy):
    reference, current = frames
    profile = profile_reference(reference, bins=policy.drift.psi_bins + 1)

    with pytest.raises(InvalidInputError, match="profile the reference again"):
        assess_drift(profile, current, policy=policy)


def test_compare_counts_both_samples_in_the_reference_bins():
    from governance.assessment.drift import profile_feature

    numeric = profile_feature(np.array([1.0, 2.0, 3.0, 4.0]), bins=2).compare(
        np.array([0.0, 2.5, 9.0, np.nan])
    )
    categorical = profile_feature(pd.Series(["a", "a", "b", None]), bins=2).compare(
        pd.Series(["a", "c", "c"])
    )

    assert numeric.labels[-1] == "missing"
    assert numeric.reference_counts.tolist() == [2, 2, 0]
    assert numeric.labels == ["[-inf, 2.5)", "[2.5, inf)", "missing"]
    assert numeric.current_counts.tolist() == [1, 2, 1]
    assert categorical.labels == ["a", "b", "missing", "c (new)"]
    assert categorical.reference_counts.tolist() == [2, 1, 1, 0]
    assert categorical.current_counts.tolist() == [1, 0, 0, 2]
    assert categorical.to_dict()["current_share"] == pytest.approx([1 / 3, 0, 0, 2 / 3])
