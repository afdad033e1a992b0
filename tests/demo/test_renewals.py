from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from governance.demo.renewals import (
    LEGITIMATE_FEATURES,
    PII_COLUMNS,
    SENSITIVE_FEATURES,
    TARGET,
    TIMESTAMP,
    generate_renewals,
)
from governance.errors import InvalidInputError
from governance.policy import Policy
from tests.demo.conftest import END, SEED


@pytest.fixture(scope="module")
def renewals() -> pd.DataFrame:
    return generate_renewals(seed=SEED, end=END)


def test_same_seed_gives_the_same_frame(renewals: pd.DataFrame) -> None:
    assert_frame_equal(renewals, generate_renewals(seed=SEED, end=END))
    assert not renewals.equals(generate_renewals(seed=SEED + 1, end=END))


def test_shape_rate_and_columns(renewals: pd.DataFrame, policy: Policy) -> None:
    months = renewals[TIMESTAMP].dt.strftime("%Y-%m").unique()

    assert len(renewals) >= policy.data_standards.min_training_rows
    assert sorted(months)[0] == "2024-06"
    assert sorted(months)[-1] == "2025-05"
    assert len(months) == 12
    assert renewals[TARGET].mean() == pytest.approx(0.72, abs=0.02)
    assert (renewals["visas_used"] <= renewals["visa_quota"]).all()
    assert not set(PII_COLUMNS + SENSITIVE_FEATURES) & set(LEGITIMATE_FEATURES)


def test_rejects_too_few_licences() -> None:
    with pytest.raises(InvalidInputError, match="too few"):
        generate_renewals(seed=SEED, end=END, n_licences=50)
