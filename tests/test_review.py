"""Domain helpers of the review pages, against statsmodels, fairlearn and hand cases."""

import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    demographic_parity_difference as fairlearn_dpd,
)
from fairlearn.metrics import (
    equalized_odds_difference as fairlearn_eod,
)
from statsmodels.stats.proportion import proportion_confint

from governance.errors import InvalidInputError, NotFoundError
from governance.review import (
    MASK,
    FairnessExplorer,
    below_maximum,
    compare_metrics,
    compare_standards,
    difference_verdict,
    fairness_summary,
    find_feature,
    group_rows,
    group_table,
    latest_by_version,
    mask_pii,
    model_output,
    risk_factor_rows,
    search_rows,
    shown_difference,
    widest_disparity,
    wilson_interval,
    with_intervals,
)

# -- Wilson intervals -------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "trials"),
    [(0, 10), (10, 10), (3, 10), (1, 1), (57, 514), (400, 923)],
    ids=["none", "all", "some", "group-of-one", "africa-like", "large"],
)
def test_wilson_interval_matches_statsmodels(successes, trials):
    low, high = wilson_interval([successes], [trials])

    expected = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    assert low[0] == pytest.approx(expected[0], abs=1e-12)
    assert high[0] == pytest.approx(expected[1], abs=1e-12)


def test_wilson_interval_at_another_confidence_matches_statsmodels():
    low, high = wilson_interval([7], [40], confidence=0.9)

    expected = proportion_confint(7, 40, alpha=0.1, method="wilson")
    assert (low[0], high[0]) == pytest.approx(expected, abs=1e-12)


def test_wilson_interval_of_an_empty_group_is_undefined():
    low, high = wilson_interval([0, 2], [0, 4])

    assert math.isnan(low[0])
    assert math.isnan(high[0])
    assert 0 < low[1] < 0.5 < high[1] < 1


@pytest.mark.parametrize(
    ("successes", "trials", "confidence"),
    [([5], [4], 0.95), ([-1], [4], 0.95), ([1], [4], 1.0), ([1], [4], 0.0)],
    ids=["more-than-trials", "negative", "confidence-one", "confidence-zero"],
)
def test_wilson_interval_rejects_bad_input(successes, trials, confidence):
    with pytest.raises(InvalidInputError):
        wilson_interval(successes, trials, confidence=confidence)


def test_with_intervals_counts_each_rate_out_of_its_own_rows():
    table = pd.DataFrame(
        {
            "count": [50, 1],
            "positives": [20, 1],
            "selection_rate": [0.3, 1.0],
            "true_positive_rate": [0.5, 1.0],
            "false_positive_rate": [5 / 30, 0.0],
            "is_too_small": [False, True],
        },
        index=["a", "b"],
    )

    out = with_intervals(table)

    assert out.loc["a", "selection_rate_low"] == pytest.approx(
        proportion_confint(15, 50, method="wilson")[0]
    )
    assert out.loc["a", "true_positive_rate_high"] == pytest.approx(
        proportion_confint(10, 20, method="wilson")[1]
    )
    assert out.loc["a", "false_positive_rate_low"] == pytest.approx(
        proportion_confint(5, 30, method="wilson")[0]
    )
    assert math.isnan(out.loc["b", "false_positive_rate_low"])  # no actual negative
    assert "selection_rate_low" not in table.columns  # input left unchanged


# -- fairness at any threshold ----------------------------------------------------


@pytest.fixture
def predictions():
    rng = np.random.default_rng(3)
    rows = 600
    region = rng.choice(["Africa", "Europe", "GCC"], size=rows, p=[0.3, 0.5, 0.2])
    gender = rng.choice(["Female", "Male"], size=rows)
    y_true = rng.integers(0, 2, size=rows)
    shift = np.where(region == "Europe", 0.15, 0.0)
    y_score = np.clip(0.35 * y_true + 0.3 * rng.random(rows) + shift, 0, 1)
    return pd.DataFrame(
        {
            "row_id": [f"L{i:05d}" for i in range(rows)],
            "nationality_region": region,
            "gender": gender,
            "y_true": pd.array(y_true, dtype="Int8"),
            "y_score": y_score,
        }
    )


@pytest.mark.parametrize("threshold", [0.2, 0.45, 0.6], ids=["low", "mid", "high"])
@pytest.mark.parametrize(
    "features",
    [["nationality_region"], ["nationality_region", "gender"]],
    ids=["one-feature", "intersection"],
)
def test_explorer_matches_fairlearn_at_any_threshold(predictions, features, threshold):
    explorer = FairnessExplorer(predictions, features, min_group_size=0)

    view = explorer.at(threshold)
    swept = explorer.disparities(threshold)

    y_true = predictions["y_true"].to_numpy(dtype=int)
    y_pred = (predictions["y_score"].to_numpy() >= threshold).astype(int)
    sensitive = predictions[features]
    expected_dpd = fairlearn_dpd(y_true, y_pred, sensitive_features=sensitive)
    expected_eod = fairlearn_eod(y_true, y_pred, sensitive_features=sensitive)
    assert view.demographic_parity.value == pytest.approx(expected_dpd, abs=1e-12)
    assert view.equalized_odds.value == pytest.approx(expected_eod, abs=1e-12)
    assert swept.demographic_parity_difference[0] == pytest.approx(expected_dpd)
    assert swept.equalized_odds_difference[0] == pytest.approx(expected_eod)


def test_explorer_flags_a_group_of_one_and_leaves_it_out(predictions):
    lonely = predictions.copy()
    lonely.loc[0, "nationality_region"] = "Oceania"
    lonely.loc[0, "y_score"] = 1.0

    explorer = FairnessExplorer(lonely, ["nationality_region"], min_group_size=10)
    view = explorer.at(0.5)

    assert bool(view.groups.loc["Oceania", "is_too_small"])
    assert view.groups.loc["Oceania", "count"] == 1
    assert view.demographic_parity.excluded_groups == ["Oceania"]
    rest = lonely[lonely["nationality_region"] != "Oceania"]
    expected = fairlearn_dpd(
        rest["y_true"].to_numpy(dtype=int),
        (rest["y_score"] >= 0.5).astype(int),
        sensitive_features=rest["nationality_region"],
    )
    assert view.demographic_parity.value == pytest.approx(expected)
    assert explorer.disparities(0.5).demographic_parity_difference[0] == pytest.approx(
        expected
    )


def test_explorer_rejects_predictions_without_the_feature(predictions):
    with pytest.raises(InvalidInputError, match="age_band"):
        FairnessExplorer(predictions, ["age_band"], min_group_size=0)


def test_explorer_rejects_rows_without_an_outcome(predictions):
    unlabelled = predictions.copy()
    unlabelled.loc[3, "y_true"] = pd.NA

    with pytest.raises(InvalidInputError, match="no outcome"):
        FairnessExplorer(unlabelled, ["gender"], min_group_size=0)


@pytest.fixture
def evidence():
    def feature(name, dpd, eod, passed, low, high):
        return {
            "name": name,
            "sensitive_features": name.split(" & "),
            "groups": [
                {
                    "group": low,
                    "count": 40,
                    "positives": 10,
                    "selection_rate": 0.25,
                    "true_positive_rate": 0.5,
                    "false_positive_rate": 1 / 6,
                    "is_too_small": False,
                },
                {
                    "group": high,
                    "count": 1,
                    "positives": 0,
                    "selection_rate": 1.0,
                    "true_positive_rate": 0.0,
                    "false_positive_rate": 1.0,
                    "is_too_small": True,
                },
            ],
            "demographic_parity": {
                "value": dpd,
                "lowest_group": low if dpd is not None else None,
                "highest_group": high if dpd is not None else None,
            },
            "equalized_odds": {"value": eod},
            "standards": [
                {
                    "name": f"dpd ({name})",
                    "value": dpd,
                    "threshold": 0.1,
                    "passed": passed,
                }
            ],
        }

    return {
        "standards": [
            {"name": "auc", "value": 0.9, "threshold": 0.75, "passed": True},
            {"name": "recall", "value": 0.65, "threshold": 0.7, "passed": False},
        ],
        "performance": {"metrics": {"auc": 0.9, "recall": 0.65}},
        "fairness": {
            "features": [
                feature("gender", 0.02, 0.03, True, "Male", "Female"),
                feature("region", 0.23, 0.78, False, "Africa", "Europe"),
                feature("gender & region", None, None, None, None, None),
            ]
        },
        "risk": {
            "factors": {"data_quality": 0.2, "bias": 1.0, "security": 1.0},
            "drivers": {"data_quality": "rows", "bias": "dpd 0.23 above 0.10"},
            "unassessed": ["security"],
            "score": 0.75,
        },
    }


def test_widest_disparity_names_the_feature_with_the_largest_gap(evidence):
    assert widest_disparity(evidence) == "region"


def test_widest_disparity_without_fairness_evidence_says_so():
    with pytest.raises(NotFoundError, match="no fairness result"):
        widest_disparity({"fairness": {"features": []}})


def test_find_feature_of_an_unknown_name_says_what_to_choose(evidence):
    assert find_feature(evidence, "region")["equalized_odds"]["value"] == 0.78
    with pytest.raises(NotFoundError, match="age_band"):
        find_feature(evidence, "age_band")


def test_fairness_summary_lists_each_feature_with_its_verdict(evidence):
    summary = fairness_summary(evidence)

    assert list(summary["Sensitive feature"]) == ["gender", "region", "gender & region"]
    assert list(summary["Result"]) == ["pass", "fail", "not assessable"]
    assert list(summary["Demographic parity difference"]) == [
        "0.0200",
        "0.2300",
        "not assessable",
    ]
    assert list(summary["Widest gap between"]) == [
        "Male and Female",
        "Africa and Europe",
        "—",
    ]


def test_group_rows_show_intervals_and_flag_small_groups(evidence):
    groups = with_intervals(group_table(find_feature(evidence, "region")["groups"]))

    rows = group_rows(groups)

    assert list(rows["Group"]) == ["Africa", "Europe"]
    assert list(rows["Too small to judge"]) == [False, True]
    low, high = proportion_confint(10, 40, method="wilson")
    assert rows["Selection rate 95 % interval"][0] == f"{low:.3f} to {high:.3f}"
    assert rows["False positive rate 95 % interval"][1] == "0.207 to 1.000"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.05, True), (0.1, False), (0.2, False), (None, None), (math.nan, None)],
    ids=["below", "at-maximum", "above", "none", "nan"],
)
def test_below_maximum_is_strict_and_undefined_without_a_value(value, expected):
    assert below_maximum(value, 0.1) is expected


def test_shown_difference_of_an_undefined_value():
    assert shown_difference(math.nan) == "not assessable"
    assert shown_difference(0.123456) == "0.1235"


# -- versions ---------------------------------------------------------------------


def test_compare_standards_puts_versions_side_by_side(evidence):
    newer = {
        "standards": [
            {"name": "auc", "value": 0.95, "threshold": 0.75, "passed": True},
            {"name": "brier_score", "value": 0.05, "threshold": 0.2, "passed": True},
        ]
    }

    table = compare_standards(evidence, newer, labels=("v2", "v3"))

    assert list(table["Standard"]) == ["auc", "recall", "brier_score"]
    assert list(table["v2 value"]) == ["0.9000", "0.6500", "—"]
    assert list(table["v3 value"]) == ["0.9500", "—", "0.0500"]
    assert list(table["v2 result"]) == ["pass", "fail", "—"]
    assert list(table["Threshold"]) == ["0.75", "0.7", "0.2"]


def test_compare_metrics_gives_the_change(evidence):
    newer = {"performance": {"metrics": {"auc": 0.95, "recall": 0.75}}}

    table = compare_metrics(evidence, newer, labels=("v2", "v3")).set_index("Measure")

    assert table.loc["auc", "Change"] == pytest.approx(0.05)
    assert table.loc["recall", "Change"] == pytest.approx(0.10)
    assert table.loc["risk_score", "v2"] == 0.75
    assert math.isnan(table.loc["risk_score", "v3"])
    assert table.loc["demographic_parity_difference (region)", "v2"] == 0.23


def test_latest_by_version_keeps_the_newest_assessment():
    class Stored:
        def __init__(self, version, assessment_id):
            self.version, self.assessment_id = version, assessment_id

    history = [Stored("2", 1), Stored("3", 2), Stored("2", 3)]

    latest = latest_by_version(history)

    assert {version: s.assessment_id for version, s in latest.items()} == {
        "2": 3,
        "3": 2,
    }


def test_risk_factor_rows_name_the_driver_and_the_unassessed(evidence):
    rows = risk_factor_rows(evidence["risk"])

    assert list(rows["Factor"]) == ["Data quality", "Bias", "Security"]
    assert list(rows["Score"]) == [0.2, 1.0, 1.0]
    assert list(rows["What drove it"]) == ["rows", "dpd 0.23 above 0.10", ""]
    assert list(rows["Assessed"]) == [True, True, False]


# -- explanations -----------------------------------------------------------------


@pytest.fixture
def feature_values():
    return pd.DataFrame(
        {
            "lead_source": ["Web form", "Event", "Referral"],
            "email": ["a@x.org", "b@y.org", "web@z.org"],
            "budget_aed": [13000.0, 5000.0, 250000.0],
        },
        index=pd.Index(["L001", "L002", "L003"], name="row_id"),
    )


def test_mask_pii_hides_pii_columns_and_nothing_else(feature_values):
    masked = mask_pii(feature_values, ["email", "phone"])

    assert list(masked["email"]) == [MASK] * 3
    assert masked["lead_source"].equals(feature_values["lead_source"])
    assert feature_values.loc["L001", "email"] == "a@x.org"  # input unchanged


def test_mask_pii_on_one_row(feature_values):
    row = feature_values.loc["L002"]

    masked = mask_pii(row, ["email"])

    assert masked["email"] == MASK
    assert masked["budget_aed"] == 5000.0
    assert row["email"] == "b@y.org"


def test_mask_pii_without_pii_returns_an_equal_copy(feature_values):
    masked = mask_pii(feature_values, [])

    assert masked.equals(feature_values)
    assert masked is not feature_values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l002", ["L002"]),
        ("web", ["L001"]),
        ("250000", ["L003"]),
        ("", ["L001", "L002"]),
        ("nowhere", []),
    ],
    ids=["row-id", "value-any-case", "number", "empty-lists-first", "no-match"],
)
def test_search_rows(feature_values, text, expected):
    masked = mask_pii(feature_values, ["email"])

    assert search_rows(masked, text, limit=2) == expected


def test_search_rows_cannot_find_masked_pii(feature_values):
    masked = mask_pii(feature_values, ["email"])

    assert search_rows(masked, "b@y.org", limit=10) == []


def test_search_rows_rejects_a_limit_below_one(feature_values):
    with pytest.raises(InvalidInputError, match="limit"):
        search_rows(feature_values, "x", limit=0)


@pytest.mark.parametrize(
    ("space", "expected_probability"),
    [("log_odds", 1 / (1 + math.exp(-0.5))), ("probability", 0.5)],
    ids=["log-odds", "probability"],
)
def test_model_output_rebuilds_the_prediction(space, expected_probability):
    raw, probability = model_output(-1.0, np.array([1.0, 0.25, 0.25]), space)

    assert raw == pytest.approx(0.5)
    assert probability == pytest.approx(expected_probability)


def test_model_output_of_an_unknown_space_says_which_exist():
    with pytest.raises(InvalidInputError, match="log_odds or probability"):
        model_output(0.0, [0.1], "margin")


@pytest.mark.parametrize(
    ("value", "is_standard", "expected"),
    [
        (0.05, True, "pass"),
        (0.2, True, "fail"),
        (0.05, False, "below"),
        (0.78, False, "above"),
        (None, True, "not assessable"),
        (math.nan, False, "not assessable"),
    ],
    ids=[
        "standard-pass",
        "standard-fail",
        "indicator-below",
        "indicator-above",
        "standard-undefined",
        "indicator-undefined",
    ],
)
def test_difference_verdict_words_a_standard_and_an_indicator_apart(
    value, is_standard, expected
):
    assert difference_verdict(value, 0.1, is_standard=is_standard) == expected
