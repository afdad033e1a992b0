import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from governance.assessment.data_standards import assess_data_standards
from governance.errors import InvalidInputError
from governance.policy import load_policy

AS_OF = datetime(2024, 6, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def _with_data_standards(policy, **changes):
    section = policy.data_standards.model_copy(update=changes)
    return policy.model_copy(update={"data_standards": section})


@pytest.fixture
def leads():
    """Eight rows with one of each defect, counted by hand in the tests."""
    return pd.DataFrame(
        {
            "age": [30, 41, None, 25, 38, 52, 30, 1000],
            "channel": [
                "Web Form",
                "Web Form",
                "web form ",
                "Referral",
                "Referral",
                "",
                "Web Form",
                "Referral",
            ],
            "converted": [1, 0, 1, 0, 1, 0, 1, 0],
            "created_at": [
                "2024-01-01",
                "2024-02-01",
                "2024-03-01",
                "2024-04-01",
                "2024-05-01",
                "2025-01-01",
                "2024-06-01",
                "2024-06-15",
            ],
        }
    )


def _assess(frame, policy, **overrides):
    arguments = {
        "features": ["age", "channel"],
        "target": "converted",
        "timestamp": "created_at",
        "pii_columns": [],
        "policy": policy,
        "as_of": AS_OF,
    }
    arguments.update(overrides)
    return assess_data_standards(frame, **arguments)


def _standard(result, name):
    return next(row for row in result.standards if row.name == name)


def test_quality_parts_match_hand_count(leads, policy):
    result = _assess(leads, policy)

    # 24 cells, 1 missing (age, row 2).
    assert result.completeness == pytest.approx(23 / 24)
    # 23 present cells, 1 blank channel (row 5).
    assert result.validity == pytest.approx(22 / 23)
    # Row 6 repeats row 0 over age, channel and converted.
    assert result.uniqueness == pytest.approx(7 / 8)
    # Row 2 spells "Web Form" differently, row 5 is dated after as_of and
    # row 7 has age 1000 > Q3 + 10 * IQR = 46.5 + 10 * 16.5.
    assert result.consistency == pytest.approx(5 / 8)
    expected = (23 / 24 + 22 / 23 + 7 / 8 + 5 / 8) / 4
    assert result.quality_score == pytest.approx(expected)


def test_evidence_behind_the_parts(leads, policy):
    result = _assess(leads, policy)

    assert result.missing_share == {"age": 0.125, "channel": 0.0, "converted": 0.0}
    assert result.invalid_cells == {"age": 0, "channel": 1, "converted": 0}
    assert result.column_types == {
        "age": "non_negative",
        "channel": "categorical",
        "converted": "binary",
    }
    assert result.duplicate_rows == 1
    assert result.inconsistent_rows == 3
    assert result.inconsistencies == {
        "future_timestamp": 1,
        "out_of_range": 1,
        "inconsistent_spelling": 1,
    }


def test_standards_rows(leads, policy):
    result = _assess(leads, policy)

    rows = {
        row.name: (row.value, row.threshold, row.passed) for row in result.standards
    }
    assert rows == {
        "data_quality_score": (result.quality_score, 0.95, False),
        "training_rows": (8, 10000, False),
        "training_data_age_days": (15.0, 183, True),
        "pii_in_features": ("none", "none", True),
    }
    assert not result.passed
    assert result.newest_timestamp == "2024-06-15T00:00:00+00:00"


@pytest.mark.parametrize(
    ("min_rows", "passed"),
    [(7, True), (8, True), (9, False)],
    ids=["above", "equal", "below"],
)
def test_volume_against_policy(leads, policy, min_rows, passed):
    changed = _with_data_standards(policy, min_training_rows=min_rows)

    result = _assess(leads, changed)

    assert _standard(result, "training_rows").passed is passed


@pytest.mark.parametrize(
    ("as_of", "age_days", "passed"),
    [
        (datetime(2024, 12, 15, tzinfo=UTC), 183.0, True),
        (datetime(2024, 12, 16, tzinfo=UTC), 184.0, False),
        (datetime(2024, 6, 15, 12), 0.5, True),
    ],
    ids=["at-limit", "one-day-over", "naive-as-of-read-as-utc"],
)
def test_freshness_against_policy(leads, policy, as_of, age_days, passed):
    frame = leads.assign(created_at=leads["created_at"].replace("2025-01-01", None))

    result = _assess(frame, policy, as_of=as_of)

    row = _standard(result, "training_data_age_days")
    assert (row.value, row.passed) == (pytest.approx(age_days), passed)
    assert result.training_age_days == pytest.approx(age_days)


def test_freshness_without_timestamp_is_not_assessable(leads, policy):
    result = _assess(leads, policy, timestamp=None)

    row = _standard(result, "training_data_age_days")
    assert (row.value, row.threshold, row.passed) == ("not assessable", 183, False)
    assert "--timestamp" in row.detail
    assert result.training_age_days is None
    assert result.inconsistencies["future_timestamp"] == 0


def test_freshness_with_only_future_timestamps_is_not_assessable(leads, policy):
    result = _assess(leads, policy, as_of=datetime(2023, 1, 1, tzinfo=UTC))

    row = _standard(result, "training_data_age_days")
    assert (row.value, row.passed) == ("not assessable", False)
    assert result.inconsistencies["future_timestamp"] == 8


def test_timezone_aware_timestamps(leads, policy):
    frame = leads.assign(
        created_at=pd.to_datetime(leads["created_at"]).dt.tz_localize("Asia/Dubai")
    )

    result = _assess(frame, policy)

    # 2024-06-15 00:00 in Dubai is 2024-06-14 20:00 UTC.
    assert result.training_age_days == pytest.approx(15 + 4 / 24)


def test_pii_feature_fails_and_pii_elsewhere_is_listed(leads, policy):
    frame = leads.assign(
        email=[f"lead{i}@example.com" for i in range(8)],
        customer_ref=[f"C{i}" for i in range(8)],
    )

    result = _assess(
        frame,
        policy,
        features=["age", "channel", "email"],
        pii_columns=["customer_ref"],
    )

    row = _standard(result, "pii_in_features")
    assert (row.value, row.threshold, row.passed) == ("email", "none", False)
    assert "customer_ref" in row.detail
    assert result.pii_in_features == ("email",)
    assert result.pii_elsewhere == ("customer_ref",)
    assert [f.column for f in result.pii_findings] == ["email"]


def test_pii_outside_features_passes(leads, policy):
    frame = leads.assign(full_name=["Aisha Khan"] * 8)

    result = _assess(frame, policy)

    row = _standard(result, "pii_in_features")
    assert row.passed is True
    assert result.pii_elsewhere == ("full_name",)


def test_pii_feature_passes_when_policy_allows(leads, policy):
    changed = _with_data_standards(policy, pii_in_features_allowed=True)
    frame = leads.assign(phone=["+971 50 123 4567"] * 8)

    result = _assess(frame, changed, features=["age", "channel", "phone"])

    row = _standard(result, "pii_in_features")
    assert (row.value, row.threshold, row.passed) == ("phone", "allowed", True)


def test_all_missing_feature_is_reported_not_rejected(leads, policy):
    frame = leads.assign(score=np.nan)

    result = _assess(frame, policy, features=["age", "channel", "score"])

    assert result.all_missing_columns == ("score",)
    assert result.missing_share["score"] == 1.0
    assert result.completeness == pytest.approx(23 / 32)


def test_duplicates_agree_with_pandas(policy):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "a": rng.integers(0, 3, 400),
            "b": rng.choice(["x", "y"], 400),
            "c": rng.choice([0.5, np.nan], 400),
            "converted": rng.integers(0, 2, 400),
        }
    )
    columns = ["a", "b", "c", "converted"]

    result = _assess(frame, policy, features=["a", "b", "c"], timestamp=None)

    expected = int(frame.duplicated(subset=columns).sum())
    assert result.duplicate_rows == expected
    assert result.uniqueness == pytest.approx(1 - expected / 400)


def test_repeated_identifier_counts_as_duplicate(policy):
    frame = pd.DataFrame(
        {
            "lead_id": [*range(39), 0],
            "x": np.arange(40.0),
            "converted": [0, 1] * 20,
        }
    )

    result = _assess(frame, policy, features=["x"], timestamp=None)

    assert result.id_column == "lead_id"
    assert result.duplicate_rows == 1


def test_grouping_key_is_not_a_row_identifier(policy):
    frame = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(20), 2),
            "x": np.arange(40.0),
            "converted": [0, 1] * 20,
        }
    )

    result = _assess(frame, policy, features=["x"], timestamp=None)

    assert result.id_column is None
    assert result.duplicate_rows == 0


@pytest.mark.parametrize(
    ("values", "declared", "kind", "invalid"),
    [
        ([1.0, 2.0, np.inf, 4.0], None, "non_negative", 1),
        ([1.0, -2.0, 3.0, 4.0], None, "numeric", 0),
        ([*range(1, 200), -5], None, "non_negative", 1),
        (["1", "2.5", "3", "N/A", *map(str, range(4, 40))], None, "numeric", 1),
        ([1.0, 2.5, 3.0, 4.0], "integer", "integer", 1),
        ([1.0, -2.0, 3.0, 4.0], "non_negative", "non_negative", 1),
        (["2024-01-01", "soon", "2024-03-01", "2024-04-01"], "datetime", "datetime", 1),
        ([True, False, 1, 2], "boolean", "boolean", 1),
        ([0, 1, 2, 1], "binary", "binary", 1),
        (["a", " ", "b", "c"], None, "categorical", 1),
    ],
    ids=[
        "infinite",
        "signed-numbers",
        "mostly-non-negative",
        "placeholder-in-numeric-text",
        "declared-integer",
        "declared-non-negative",
        "declared-datetime",
        "declared-boolean",
        "declared-binary",
        "blank-category",
    ],
)
def test_validity_by_type(policy, values, declared, kind, invalid):
    rows = len(values)
    frame = pd.DataFrame({"x": values, "converted": [i % 2 for i in range(rows)]})
    schema = {"x": declared} if declared else None

    result = _assess(frame, policy, features=["x"], timestamp=None, schema=schema)

    assert result.column_types["x"] == kind
    assert result.invalid_cells["x"] == invalid
    assert result.validity == pytest.approx(1 - invalid / (2 * rows))


@pytest.mark.parametrize(
    ("values", "flagged"),
    [
        ([0.0] * 190 + [1.0] * 9 + [50.0], 1),
        ([0.0] * 199 + [50.0], 0),
        (list(np.linspace(0, 100, 199)) + [-1500.0], 1),
    ],
    ids=["zero-iqr-uses-p1-p99", "constant-is-not-range-checked", "far-below-q1"],
)
def test_out_of_range(policy, values, flagged):
    frame = pd.DataFrame({"x": values, "converted": [i % 2 for i in range(200)]})

    result = _assess(frame, policy, features=["x"], timestamp=None)

    assert result.inconsistencies["out_of_range"] == flagged


def test_to_dict_is_json_with_plain_types(leads, policy):
    result = _assess(leads, policy)

    as_dict = result.to_dict()

    assert json.loads(json.dumps(as_dict)) == as_dict
    assert type(as_dict["quality_score"]) is float
    assert type(as_dict["rows"]) is int
    assert all(type(v) is float for v in as_dict["missing_share"].values())
    assert all(type(v) is int for v in as_dict["inconsistencies"].values())
    assert as_dict["passed"] is False


@pytest.mark.parametrize(
    ("frame", "overrides", "message"),
    [
        (pd.DataFrame(), {}, "empty"),
        (pd.DataFrame({"age": [1, 2]}), {"features": ["age"]}, "'converted'"),
        (
            pd.DataFrame({"age": [1, 2, 3], "converted": [0, 1, 2]}),
            {"features": ["age"], "timestamp": None},
            "0/1",
        ),
        (
            pd.DataFrame({"age": [1, 2], "converted": ["yes", "no"]}),
            {"features": ["age"], "timestamp": None},
            "0/1",
        ),
        (
            pd.DataFrame({"age": [1, 2], "converted": [1, 1]}),
            {"features": ["age"], "timestamp": None},
            "both 0 and 1",
        ),
        (
            pd.DataFrame({"age": [1, 2], "converted": [np.nan, np.nan]}),
            {"features": ["age"], "timestamp": None},
            "no values",
        ),
        (
            pd.DataFrame({"age": [1, 2], "converted": [0, 1]}),
            {"features": ["age", "income"], "timestamp": None},
            "income",
        ),
        (
            pd.DataFrame({"age": [1, 2], "converted": [0, 1]}),
            {"features": [], "timestamp": None},
            "No features",
        ),
        (
            pd.DataFrame({"age": [1, 2], "converted": [0, 1]}),
            {"features": ["age", "converted"], "timestamp": None},
            "also listed as a feature",
        ),
        (
            pd.DataFrame({"age": [1, 2], "converted": [0, 1]}),
            {"features": ["age"]},
            "timestamp column 'created_at'",
        ),
        (
            pd.DataFrame({"age": [1, 2], "converted": [0, 1], "created_at": [1, 2]}),
            {"features": ["age"]},
            "holds numbers",
        ),
        (
            pd.DataFrame(
                {"age": [1, 2], "converted": [0, 1], "created_at": ["x", "y"]}
            ),
            {"features": ["age"]},
            "reads as a date",
        ),
        (
            pd.DataFrame({"age": [1, 2], "converted": [0, 1]}),
            {"features": ["age"], "timestamp": None, "schema": {"age": "float"}},
            "Unknown column types",
        ),
        (
            pd.DataFrame([[1, 2, 0]], columns=["age", "age", "converted"]),
            {"features": ["age"], "timestamp": None},
            "repeated column names",
        ),
    ],
    ids=[
        "empty-frame",
        "missing-target",
        "target-three-values",
        "target-text",
        "target-one-class",
        "target-all-missing",
        "missing-feature",
        "no-features",
        "target-as-feature",
        "missing-timestamp-column",
        "numeric-timestamp",
        "unreadable-timestamp",
        "unknown-schema-type",
        "duplicate-column-names",
    ],
)
def test_rejects_input_that_cannot_be_assessed(policy, frame, overrides, message):
    with pytest.raises(InvalidInputError, match=message):
        _assess(frame, policy, **overrides)
