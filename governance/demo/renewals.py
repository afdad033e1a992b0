"""Synthetic licence renewals of companies licensed in the free zone.

A second, smaller demo dataset so the console governs more than one model. One
row per licence coming up for renewal, with the company's use of its licence
(visas, office, payments, support, portal activity), the owner's sensitive
attributes, contact PII and whether the licence was renewed. Unlike the leads,
it carries no built-in disparity or drift: it is the well-behaved neighbour.
"""

from __future__ import annotations

import datetime
import logging

import numpy as np
import pandas as pd

from governance.demo._sampling import choose, intercept_for_rate
from governance.demo.leads import (
    BUSINESS_ACTIVITIES,
    COMPANY_SIZES,
    NATIONALITY_REGIONS,
)
from governance.errors import InvalidInputError

logger = logging.getLogger(__name__)

TARGET = "renewed"
TIMESTAMP = "renewal_due_at"
ID_COLUMN = "licence_id"
PII_COLUMNS = ("company_name", "contact_email")
SENSITIVE_FEATURES = ("owner_gender", "owner_nationality_region")
CATEGORICAL_FEATURES = ("business_activity", "company_size", "office_type")
NUMERIC_FEATURES = (
    "years_licensed",
    "visa_quota",
    "visas_used",
    "late_payments",
    "support_tickets",
    "portal_logins_90d",
    "annual_fee_aed",
)
LEGITIMATE_FEATURES = CATEGORICAL_FEATURES + NUMERIC_FEATURES
COLUMNS = (
    (ID_COLUMN, TIMESTAMP)
    + PII_COLUMNS
    + CATEGORICAL_FEATURES
    + SENSITIVE_FEATURES
    + NUMERIC_FEATURES
    + (TARGET,)
)

TARGET_RENEWAL_RATE = 0.72
STEEPNESS = 2.0
# Office -> (share, effect on the renewal log-odds, annual fee in AED).
OFFICE_TYPES = {
    "Flexi desk": (0.45, -0.4, 12_500),
    "Shared office": (0.25, 0.0, 22_000),
    "Private office": (0.22, 0.4, 48_000),
    "Warehouse": (0.08, 0.6, 95_000),
}
NAME_WORDS = (
    "Al Noor",
    "Blue Dune",
    "Falcon",
    "Oasis",
    "Pearl Coast",
    "Summit",
    "Crescent",
    "Sapphire",
    "Horizon",
    "Atlas",
    "Palm Gate",
    "Silver Sail",
)
LEGAL_FORMS = ("FZ-LLC", "FZE", "FZCO")


def generate_renewals(
    *, seed: int, end: datetime.date, n_licences: int = 20_000, months: int = 12
) -> pd.DataFrame:
    """Generate licences due for renewal over the months before ``end``.

    Parameters
    ----------
    seed : int
        Seed of the random generator; the same ``seed`` and ``end`` give the same
        frame.
    end : datetime.date
        Renewals fall due in the ``months`` calendar months that end with the
        month before ``end``'s month.
    n_licences : int, default 20_000
        Number of rows, spread evenly over the months.
    months : int, default 12
        Number of calendar months.

    Returns
    -------
    pandas.DataFrame
        The columns of `COLUMNS`, ordered by ``renewal_due_at``.

    Raises
    ------
    InvalidInputError
        If there are fewer than ten licences per month.
    """
    if months < 1 or n_licences < 10 * months:
        raise InvalidInputError(
            f"n_licences={n_licences} over months={months} is too few; pass at "
            "least ten licences per month and at least one month."
        )
    rng = np.random.default_rng(seed)

    frame = pd.DataFrame(
        {
            ID_COLUMN: [f"C{i:06d}" for i in range(1, n_licences + 1)],
            TIMESTAMP: _due_dates(rng, end=end, n=n_licences, months=months),
        }
    )
    frame = pd.concat([frame, _companies(rng, n_licences)], axis=1)
    frame[TARGET] = _renewals(rng, frame)
    logger.debug("Generated %s licence renewals (seed %s)", n_licences, seed)
    return frame[list(COLUMNS)]


def _due_dates(
    rng: np.random.Generator, *, end: datetime.date, n: int, months: int
) -> pd.Series:
    first = pd.Timestamp(year=end.year, month=end.month, day=1, tz="UTC")
    starts = pd.date_range(end=first, periods=months + 1, freq="MS")
    month_index = np.sort(rng.integers(0, months, n))
    days = (starts[1:] - starts[:-1]).days.to_numpy()[month_index]
    offsets = pd.to_timedelta(np.floor(rng.random(n) * days), unit="D")
    due = starts[:-1][month_index] + offsets
    return pd.Series(np.sort(due.to_numpy()), dtype="datetime64[ns, UTC]")


def _companies(rng: np.random.Generator, n: int) -> pd.DataFrame:
    activity = choose(rng, {k: v[0] for k, v in BUSINESS_ACTIVITIES.items()}, n)
    size = choose(rng, {k: v[0] for k, v in COMPANY_SIZES.items()}, n)
    office = choose(rng, {k: v[0] for k, v in OFFICE_TYPES.items()}, n)
    quota = np.array([1, 3, 8, 20, 40])[pd.Index(list(COMPANY_SIZES)).get_indexer(size)]
    fee = np.array([OFFICE_TYPES[o][2] for o in office], dtype=float)

    word = rng.choice(np.array(NAME_WORDS, dtype=object), size=n)
    form = rng.choice(np.array(LEGAL_FORMS, dtype=object), size=n)
    name = [f"{w} {a} {f}" for w, a, f in zip(word, activity, form, strict=True)]
    email = [
        f"info@{w.lower().replace(' ', '')}{i % 97}.ae" for i, w in enumerate(word)
    ]
    return pd.DataFrame(
        {
            "company_name": name,
            "contact_email": email,
            "business_activity": activity,
            "company_size": size,
            "office_type": office,
            "owner_gender": choose(rng, {"Male": 0.66, "Female": 0.34}, n),
            "owner_nationality_region": choose(rng, NATIONALITY_REGIONS, n),
            "years_licensed": rng.integers(1, 11, n).astype(np.int64),
            "visa_quota": quota.astype(np.int64),
            "visas_used": rng.binomial(quota, rng.beta(2.0, 2.0, n)).astype(np.int64),
            "late_payments": rng.poisson(0.6, n).astype(np.int64),
            "support_tickets": rng.poisson(1.5, n).astype(np.int64),
            "portal_logins_90d": rng.poisson(rng.gamma(2.0, 6.0, n)).astype(np.int64),
            "annual_fee_aed": np.round(fee * np.exp(rng.normal(0.0, 0.1, n)), -1),
        }
    )


def _renewals(rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
    usage = frame["visas_used"] / frame["visa_quota"]
    score = STEEPNESS * (
        frame["office_type"].map(lambda o: OFFICE_TYPES[o][1]).to_numpy(float)
        + 0.35 * np.log1p(frame["years_licensed"].to_numpy(float))
        + 2.0 * usage.to_numpy(float)
        - 0.9 * frame["late_payments"].to_numpy(float)
        - 0.25 * frame["support_tickets"].to_numpy(float)
        + 0.08 * frame["portal_logins_90d"].to_numpy(float)
    )
    intercept = intercept_for_rate(score, rate=TARGET_RENEWAL_RATE)
    probability = 1.0 / (1.0 + np.exp(-(score + intercept)))
    return (rng.random(len(frame)) < probability).astype(np.int64)
