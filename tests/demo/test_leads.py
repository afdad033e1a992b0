from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference
from pandas.testing import assert_frame_equal
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

from governance.demo import leads as lead_data
from governance.demo.leads import (
    DRIFTED_FEATURES,
    LEGITIMATE_FEATURES,
    PII_COLUMNS,
    SENSITIVE_FEATURES,
    TARGET,
    TIMESTAMP,
    generate_leads,
    read_delta,
    split_leads,
    write_monthly_delta,
)
from governance.demo.training import decision_threshold
from governance.errors import InvalidInputError, NotFoundError
from governance.policy import Policy
from tests.demo.conftest import END, SEED

EXPECTED_DTYPES = {
    "lead_id": "object",
    "created_at": "datetime64[ns, UTC]",
    "full_name": "object",
    "email": "object",
    "phone": "object",
    "lead_source": "object",
    "business_activity": "object",
    "licence_type": "object",
    "company_size": "object",
    "gender": "object",
    "nationality_region": "object",
    "age_band": "object",
    "budget_aed": "float64",
    "visas_requested": "int64",
    "website_visits": "int64",
    "emails_opened": "int64",
    "meetings_attended": "int64",
    "converted": "int64",
}


def population_stability_index(
    reference: pd.Series, current: pd.Series, *, bins: int
) -> float:
    """PSI over categories, or over reference-quantile bins for numbers."""
    if reference.dtype == object:
        labels = sorted(set(reference) | set(current))
        expected = reference.value_counts(normalize=True).reindex(labels, fill_value=0)
        actual = current.value_counts(normalize=True).reindex(labels, fill_value=0)
        expected, actual = expected.to_numpy(), actual.to_numpy()
    else:
        reference, current = reference.dropna(), current.dropna()
        edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        expected = np.histogram(reference, edges)[0] / len(reference)
        actual = np.histogram(current, edges)[0] / len(current)
    expected, actual = np.clip(expected, 1e-4, None), np.clip(actual, 1e-4, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def test_psi_helper_matches_a_hand_computed_case() -> None:
    reference = pd.Series(["a", "b"] * 50, dtype=object)
    current = pd.Series(["a"] * 25 + ["b"] * 75, dtype=object)

    psi = population_stability_index(reference, current, bins=10)

    assert psi == pytest.approx(0.25 * np.log(2) + 0.25 * np.log(1.5))


def test_same_seed_and_end_give_the_same_frame(leads: pd.DataFrame) -> None:
    again = generate_leads(seed=SEED, end=END)

    assert_frame_equal(leads, again)


def test_another_seed_gives_other_leads(leads: pd.DataFrame) -> None:
    other = generate_leads(seed=SEED + 1, end=END)

    assert len(other) == len(leads)
    assert not other[list(LEGITIMATE_FEATURES)].equals(leads[list(LEGITIMATE_FEATURES)])
    assert (other[TARGET] != leads[TARGET]).mean() > 0.1


def test_columns_and_dtypes(leads: pd.DataFrame) -> None:
    assert {c: str(t) for c, t in leads.dtypes.items()} == EXPECTED_DTYPES
    assert leads["lead_id"].is_unique
    assert leads["lead_id"].iloc[0] == "L000001"
    assert leads[TIMESTAMP].is_monotonic_increasing


def test_volume_months_and_conversion_rate(leads: pd.DataFrame, policy: Policy) -> None:
    months = leads[TIMESTAMP].dt.strftime("%Y-%m")
    per_month = months.value_counts().sort_index()

    assert len(leads) >= 20_000
    assert len(leads) >= policy.data_standards.min_training_rows
    assert list(per_month.index[[0, -1]]) == ["2023-12", "2025-05"]
    assert len(per_month) == 18
    assert per_month.iloc[-1] > 1.3 * per_month.iloc[0]
    assert 0.17 <= leads[TARGET].mean() <= 0.23
    assert set(leads[TARGET].unique()) == {0, 1}


def test_pii_is_present_and_never_a_feature(leads: pd.DataFrame) -> None:
    assert set(PII_COLUMNS) <= set(leads.columns)
    assert leads["email"].str.fullmatch(r"[a-z.]+\d*@[a-z.]+").all()
    assert leads["phone"].dropna().str.fullmatch(r"\+\d{1,3} \d{2} \d{3} \d{4}").all()
    assert not set(PII_COLUMNS) & set(LEGITIMATE_FEATURES)
    assert not set(SENSITIVE_FEATURES) & set(LEGITIMATE_FEATURES)


def test_blemishes_stay_within_the_quality_standard(
    leads: pd.DataFrame, policy: Policy
) -> None:
    missing_share = leads.isna().to_numpy().mean()

    assert 0 < leads["budget_aed"].isna().mean() < 0.05
    assert missing_share < 1 - policy.data_standards.min_quality_score


def _fit_and_select(
    train: pd.DataFrame, test: pd.DataFrame, features: list[str]
) -> np.ndarray:
    categorical = [f for f in features if train[f].dtype == object]
    preprocess = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            )
        ],
        remainder="passthrough",
    )
    model = Pipeline(
        [
            ("preprocess", preprocess),
            ("classifier", HistGradientBoostingClassifier(random_state=0)),
        ]
    )
    fit_part, validation = train_test_split(
        train, test_size=0.25, random_state=0, stratify=train[TARGET]
    )
    with threadpool_limits(limits=1):
        model.fit(fit_part[features], fit_part[TARGET])
        scores = model.predict_proba(validation[features])[:, 1]
        threshold = decision_threshold(validation[TARGET].to_numpy(), scores)
        return (model.predict_proba(test[features])[:, 1] >= threshold).astype(int)


@pytest.fixture(scope="module")
def selections(lead_splits) -> dict[str, np.ndarray]:
    train, test, _ = lead_splits
    legitimate = list(LEGITIMATE_FEATURES)
    return {
        "without_sensitive": _fit_and_select(train, test, legitimate),
        "with_sensitive": _fit_and_select(
            train, test, legitimate + ["nationality_region", "gender"]
        ),
    }


@pytest.mark.parametrize("feature", SENSITIVE_FEATURES)
def test_model_without_sensitive_features_stays_within_disparity_bound(
    lead_splits, selections, feature: str, policy: Policy
) -> None:
    _, test, _ = lead_splits

    difference = demographic_parity_difference(
        test[TARGET], selections["without_sensitive"], sensitive_features=test[feature]
    )

    assert difference < policy.fairness.max_demographic_parity_difference


def test_model_with_sensitive_features_learns_the_disparity(
    lead_splits, selections, policy: Policy
) -> None:
    _, test, _ = lead_splits
    by_region = pd.Series(selections["with_sensitive"]).groupby(
        test["nationality_region"].to_numpy()
    )

    difference = demographic_parity_difference(
        test[TARGET],
        selections["with_sensitive"],
        sensitive_features=test["nationality_region"],
    )

    assert difference > policy.fairness.max_demographic_parity_difference
    assert difference == pytest.approx(by_region.mean().max() - by_region.mean().min())
    assert by_region.mean().idxmin() == lead_data.UNDER_FOLLOWED_REGION


def test_legitimate_features_are_alike_across_regions(leads: pd.DataFrame) -> None:
    africa = leads["nationality_region"] == lead_data.UNDER_FOLLOWED_REGION

    for feature in LEGITIMATE_FEATURES:
        psi = population_stability_index(
            leads.loc[~africa, feature], leads.loc[africa, feature], bins=10
        )
        assert psi < 0.02, feature


def test_drift_in_the_latest_months(lead_splits, policy: Policy) -> None:
    train, test, current = lead_splits
    reference = pd.concat([train, test])
    features = LEGITIMATE_FEATURES + SENSITIVE_FEATURES

    psi = {
        f: population_stability_index(
            reference[f], current[f], bins=policy.drift.psi_bins
        )
        for f in features
    }

    assert set(DRIFTED_FEATURES) < set(LEGITIMATE_FEATURES)
    assert all(psi[f] > policy.drift.psi_retrain for f in DRIFTED_FEATURES)
    assert all(
        psi[f] < policy.drift.psi_warn for f in features if f not in DRIFTED_FEATURES
    )


def test_split_keeps_the_latest_months_whole(leads: pd.DataFrame, lead_splits) -> None:
    train, test, current = lead_splits
    current_months = current[TIMESTAMP].dt.strftime("%Y-%m").unique()

    assert sorted(current_months) == ["2025-03", "2025-04", "2025-05"]
    assert len(train) + len(test) + len(current) == len(leads)
    assert set(train["lead_id"]).isdisjoint(test["lead_id"])
    assert train[TIMESTAMP].max() < current[TIMESTAMP].min()
    assert len(test) / (len(train) + len(test)) == pytest.approx(0.2, abs=0.001)
    assert test[TARGET].mean() == pytest.approx(train[TARGET].mean(), abs=0.002)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"test_fraction": 0.0}, "test_fraction", id="no-test"),
        pytest.param({"test_fraction": 1.5}, "test_fraction", id="test-too-big"),
        pytest.param({"current_months": 0}, "current_months", id="no-current"),
        pytest.param({"current_months": 18}, "current_months", id="no-reference"),
    ],
)
def test_split_rejects_bad_input(
    leads: pd.DataFrame, kwargs: dict, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        split_leads(leads, seed=SEED, **kwargs)


def test_split_rejects_a_frame_without_target(leads: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="converted"):
        split_leads(leads.drop(columns=[TARGET]), seed=SEED)


@pytest.mark.parametrize(
    ("n_leads", "months"),
    [
        pytest.param(24_000, 3, id="months-within-drift"),
        pytest.param(50, 18, id="too-few"),
    ],
)
def test_generate_rejects_bad_shape(n_leads: int, months: int) -> None:
    with pytest.raises(InvalidInputError):
        generate_leads(seed=SEED, end=END, n_leads=n_leads, months=months)


@pytest.fixture(scope="module")
def small_leads() -> pd.DataFrame:
    return generate_leads(seed=3, end=datetime.date(2024, 1, 31), n_leads=900, months=6)


def test_delta_table_has_one_version_per_month(
    small_leads: pd.DataFrame, tmp_path
) -> None:
    from deltalake import DeltaTable

    last = write_monthly_delta(small_leads, tmp_path / "leads")

    assert last == 5
    assert len(DeltaTable(str(tmp_path / "leads")).history()) == 6
    assert_frame_equal(read_delta(tmp_path / "leads"), small_leads)
    first_month = read_delta(tmp_path / "leads", version=0)
    assert set(first_month[TIMESTAMP].dt.strftime("%Y-%m")) == {"2023-07"}
    assert (
        len(read_delta(tmp_path / "leads", version=2))
        == (small_leads[TIMESTAMP] < pd.Timestamp("2023-10-01", tz="UTC")).sum()
    )


def test_delta_write_refuses_an_existing_table(
    small_leads: pd.DataFrame, tmp_path
) -> None:
    write_monthly_delta(small_leads, tmp_path / "leads")

    with pytest.raises(InvalidInputError, match="already holds"):
        write_monthly_delta(small_leads, tmp_path / "leads")


def test_read_delta_reports_missing_table_and_version(
    small_leads: pd.DataFrame, tmp_path
) -> None:
    with pytest.raises(NotFoundError, match="No Delta table"):
        read_delta(tmp_path / "nothing")

    write_monthly_delta(small_leads, tmp_path / "leads")
    with pytest.raises(NotFoundError, match="no version 99"):
        read_delta(tmp_path / "leads", version=99)
