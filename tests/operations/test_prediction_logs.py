"""Reading the serving platform's prediction logs: columns, values, windows."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from governance.errors import InvalidInputError
from governance.operations.prediction_logs import read_prediction_log

ROWS = {
    "model_version": [2, 2, 3],
    "timestamp": [
        "2026-05-01T10:00:00Z",
        "2026-05-31 23:59:59",
        "2026-06-01T02:00:00+04:00",
    ],
    "score": [0.1, 0.8, 0.5],
    "outcome": [1, None, 0],
    "budget": [10.0, 20.0, 30.0],
}


def _write(tmp_path, rows, suffix=".csv"):
    path = tmp_path / f"log{suffix}"
    frame = pd.DataFrame(rows)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return str(path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_log_is_read_with_utc_times_and_defaults(tmp_path, suffix):
    log = read_prediction_log(_write(tmp_path, ROWS, suffix))

    frame = log.frame
    assert list(frame["model_version"]) == ["2", "2", "3"]
    assert list(frame["timestamp"]) == [
        pd.Timestamp("2026-05-01T10:00:00Z"),
        pd.Timestamp("2026-05-31T23:59:59Z"),
        pd.Timestamp("2026-05-31T22:00:00Z"),
    ]
    assert list(frame["traffic"]) == ["production"] * 3
    assert log.feature_columns == ["budget"]
    assert log.has_outcomes
    assert log.source.rows == 3


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 5, 31, 22), datetime(2026, 6, 1)),
        (datetime(2026, 5, 31, 22, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)),
    ],
    ids=["naive-is-utc", "aware"],
)
def test_a_window_keeps_start_inclusive_end_exclusive(tmp_path, start, end):
    log = read_prediction_log(_write(tmp_path, ROWS), start=start, end=end)

    assert list(log.frame["score"]) == [0.8, 0.5]


def test_rows_of_other_models_are_dropped(tmp_path):
    rows = {**ROWS, "model_name": ["leads", "churn", "leads"]}

    log = read_prediction_log(_write(tmp_path, rows), model_name="leads")

    assert list(log.frame["score"]) == [0.1, 0.5]
    assert "model_name" not in log.feature_columns


def test_a_log_without_outcomes_says_so(tmp_path):
    rows = {key: value for key, value in ROWS.items() if key != "outcome"}

    log = read_prediction_log(_write(tmp_path, rows))

    assert not log.has_outcomes
    assert log.frame["outcome"].isna().all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"score": [0.1, 1.2, 0.5]},
            "score '1.2' in row 1; it must be a number from 0",
        ),
        ({"score": [0.1, None, 0.5]}, "score 'nan' in row 1"),
        ({"outcome": [1, 2, 0]}, "outcome '2' in row 1; it must be 0, 1 or empty"),
        (
            {"timestamp": ["2026-05-01", "yesterday", "2026-05-02"]},
            "unreadable timestamp 'yesterday' in row 1",
        ),
        ({"traffic": ["production", "dark", "shadow"]}, "traffic 'dark' in row 1"),
    ],
    ids=["score-range", "score-missing", "outcome", "timestamp", "traffic"],
)
def test_bad_values_name_the_column_and_row(tmp_path, change, message):
    with pytest.raises(InvalidInputError, match=message):
        read_prediction_log(_write(tmp_path, {**ROWS, **change}))


def test_a_missing_required_column_is_named(tmp_path):
    rows = {key: value for key, value in ROWS.items() if key != "timestamp"}

    with pytest.raises(InvalidInputError, match="has no timestamp column"):
        read_prediction_log(_write(tmp_path, rows))


def test_an_unreadable_or_missing_file_is_an_input_error(tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")

    with pytest.raises(InvalidInputError, match="Cannot read"):
        read_prediction_log(str(broken))
    with pytest.raises(InvalidInputError, match="No dataset at"):
        read_prediction_log(str(tmp_path / "absent.csv"))
