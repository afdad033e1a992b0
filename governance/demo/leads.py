"""Synthetic leads of a free-zone business-setup authority.

Each row is one enquiry about setting up a company licence in the free zone, with
where it came from, what the company would do, how engaged the lead was, who the
contact is (PII) and whether it converted into a licence. The generator builds in
the three things the console exists to show:

* Conversion follows the legitimate features (source, activity, licence, size,
  budget, visas, engagement) closely, so a good model meets the performance
  standards.
* The recorded outcome is depressed for leads from one nationality region beyond
  what the legitimate features explain (those leads were historically followed up
  less), so a model given the sensitive features learns a disparity that a model
  without them does not.
* In the latest `DRIFT_MONTHS` months a social-media campaign shifts the
  lead-source mix and brings smaller budgets, so the population stability index
  of `DRIFTED_FEATURES` crosses the retraining trigger.

Everything is computed from one seeded random generator, so a (seed, end) pair
always yields the same frame.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from governance.demo._sampling import choose, intercept_for_rate
from governance.errors import InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

TARGET = "converted"
TIMESTAMP = "created_at"
ID_COLUMN = "lead_id"
PII_COLUMNS = ("full_name", "email", "phone")
SENSITIVE_FEATURES = ("gender", "nationality_region", "age_band")
CATEGORICAL_FEATURES = (
    "lead_source",
    "business_activity",
    "licence_type",
    "company_size",
)
NUMERIC_FEATURES = (
    "budget_aed",
    "visas_requested",
    "website_visits",
    "emails_opened",
    "meetings_attended",
)
LEGITIMATE_FEATURES = CATEGORICAL_FEATURES + NUMERIC_FEATURES
DRIFTED_FEATURES = ("lead_source", "budget_aed")
DRIFT_MONTHS = 3
COLUMNS = (
    (ID_COLUMN, TIMESTAMP)
    + PII_COLUMNS
    + CATEGORICAL_FEATURES
    + SENSITIVE_FEATURES
    + NUMERIC_FEATURES
    + (TARGET,)
)

# The region whose recorded conversions are depressed, and the share of its real
# conversions that were never recorded because the lead was not followed up.
UNDER_FOLLOWED_REGION = "Africa"
UNRECORDED_SHARE = 0.6
TARGET_CONVERSION_RATE = 0.20
MISSING_BUDGET_SHARE = 0.02
MISSING_PHONE_SHARE = 0.01

# Category -> (share before the drift, share in the drift months, effect on the
# conversion log-odds).
LEAD_SOURCES = {
    "Web form": (0.32, 0.22, 0.0),
    "Partner agent": (0.20, 0.13, 0.6),
    "Event": (0.14, 0.09, 0.3),
    "Referral": (0.14, 0.09, 0.9),
    "Social media": (0.10, 0.40, -0.7),
    "Walk-in": (0.10, 0.07, 0.6),
}
# Activity -> (share, effect, usual licence type).
BUSINESS_ACTIVITIES = {
    "Trading": (0.24, 0.1, "Commercial"),
    "Consultancy": (0.17, 0.2, "Professional"),
    "E-commerce": (0.15, -0.2, "E-commerce"),
    "Technology": (0.12, 0.3, "Professional"),
    "Media": (0.09, -0.1, "Media"),
    "Manufacturing": (0.08, 0.4, "Industrial"),
    "Logistics": (0.08, 0.1, "Commercial"),
    "Education": (0.07, 0.0, "Educational"),
}
LICENCE_TYPES = {
    "Commercial": 0.0,
    "Professional": 0.1,
    "E-commerce": -0.1,
    "Industrial": 0.2,
    "Media": 0.0,
    "Educational": 0.0,
}
LICENCE_MISMATCH_SHARE = 0.1
# Size band -> (share, effect, median budget in AED, mean visas requested).
COMPANY_SIZES = {
    "Solo": (0.34, -0.3, 14_000, 0.8),
    "2-10": (0.34, 0.0, 22_000, 2.5),
    "11-50": (0.19, 0.3, 40_000, 6.0),
    "51-200": (0.09, 0.5, 75_000, 12.0),
    "200+": (0.04, 0.6, 140_000, 22.0),
}
NATIONALITY_REGIONS = {
    "GCC": 0.14,
    "MENA other": 0.14,
    "South Asia": 0.24,
    "Europe": 0.14,
    "Africa": 0.14,
    "East Asia": 0.10,
    "Americas": 0.10,
}
GENDERS = {"Male": 0.66, "Female": 0.34}
AGE_BANDS = {"18-24": 0.10, "25-34": 0.32, "35-44": 0.30, "45-54": 0.18, "55+": 0.10}

# Effects on the conversion log-odds of the numeric features, and the overall
# steepness: engagement is deliberately very informative.
BUDGET_EFFECT = 0.6
VISAS_EFFECT = 0.25
VISITS_EFFECT = 0.5
EMAILS_EFFECT = 0.2
FIRST_MEETING_EFFECT = 2.0
MEETINGS_EFFECT = 0.3
UNDERFUNDED_PENALTY = 3.0
BUDGET_PER_VISA = 5_000.0
STEEPNESS = 3.0
# Budgets in the drift months: social-media leads bring smaller budgets and the
# campaign advertised a cheaper package to everyone.
SOCIAL_MEDIA_BUDGET_FACTOR = 0.55
DRIFT_BUDGET_FACTOR = 0.75

# Small, ASCII-only name lists per region: (male first names, female first names,
# family names, phone country codes).
NAMES = {
    "GCC": (
        ("Khalid", "Saeed", "Rashid", "Hamad", "Sultan", "Majid"),
        ("Mariam", "Aisha", "Noura", "Hessa", "Latifa", "Shamma"),
        ("Al Mansoori", "Al Nuaimi", "Al Qasimi", "Al Shamsi", "Al Harthy"),
        ("+971", "+966", "+974", "+968"),
    ),
    "MENA other": (
        ("Omar", "Karim", "Youssef", "Tarek", "Hassan", "Nabil"),
        ("Layla", "Rania", "Dina", "Salma", "Yasmin", "Nour"),
        ("Haddad", "Khoury", "Mansour", "Saleh", "Nasser", "Farah"),
        ("+20", "+962", "+961", "+212"),
    ),
    "South Asia": (
        ("Arjun", "Rahul", "Imran", "Vikram", "Faisal", "Sanjay"),
        ("Priya", "Ananya", "Ayesha", "Sana", "Kavya", "Nisha"),
        ("Sharma", "Khan", "Patel", "Iyer", "Chaudhry", "Menon"),
        ("+91", "+92", "+880", "+94"),
    ),
    "Europe": (
        ("James", "Lukas", "Pierre", "Marco", "Henrik", "Daniel"),
        ("Emma", "Sophie", "Giulia", "Anna", "Clara", "Ingrid"),
        ("Smith", "Muller", "Dubois", "Rossi", "Jensen", "Novak"),
        ("+44", "+49", "+33", "+39"),
    ),
    "Africa": (
        ("Chinedu", "Kwame", "Tendai", "Abebe", "Moussa", "Sipho"),
        ("Amara", "Wanjiru", "Zanele", "Fatou", "Ngozi", "Abena"),
        ("Okafor", "Mensah", "Kamau", "Diallo", "Ndlovu", "Tesfaye"),
        ("+234", "+254", "+27", "+233"),
    ),
    "East Asia": (
        ("Wei", "Hiroshi", "Min-jun", "Jian", "Takumi", "Hao"),
        ("Mei", "Yuki", "Ji-woo", "Lin", "Sakura", "Xiu"),
        ("Wang", "Tanaka", "Kim", "Chen", "Sato", "Park"),
        ("+86", "+81", "+82", "+852"),
    ),
    "Americas": (
        ("Michael", "Carlos", "David", "Lucas", "Mateo", "Ryan"),
        ("Jessica", "Camila", "Sarah", "Isabela", "Emily", "Valeria"),
        ("Johnson", "Garcia", "Silva", "Brown", "Martinez", "Wilson"),
        ("+1", "+55", "+52", "+57"),
    ),
}
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me")


def generate_leads(
    *, seed: int, end: datetime.date, n_leads: int = 24_000, months: int = 18
) -> pd.DataFrame:
    """Generate the demo's leads, one row per enquiry, ordered by creation time.

    Parameters
    ----------
    seed : int
        Seed of the random generator; the same ``seed`` and ``end`` give the same
        frame.
    end : datetime.date
        The leads span the ``months`` calendar months that end with the month
        before ``end``'s month.
    n_leads : int, default 24_000
        Number of rows. Monthly volume grows by about half over the period.
    months : int, default 18
        Number of calendar months; must exceed `DRIFT_MONTHS`.

    Returns
    -------
    pandas.DataFrame
        The columns of `COLUMNS`: identifiers, UTC ``created_at``, PII, the
        legitimate and sensitive features and the 0/1 ``converted`` target.

    Raises
    ------
    InvalidInputError
        If ``n_leads`` is too small to fill every month or ``months`` is too
        short to hold the drift window.
    """
    _validate_shape(n_leads=n_leads, months=months)
    rng = np.random.default_rng(seed)

    created_at, month_index = _creation_times(rng, end=end, n=n_leads, months=months)
    is_drift = month_index >= months - DRIFT_MONTHS
    frame = pd.DataFrame({ID_COLUMN: _lead_ids(n_leads), TIMESTAMP: created_at})
    profile = _business_profile(rng, is_drift)
    people = _people(rng, n_leads)
    engagement = _engagement(rng, n_leads)
    frame = pd.concat([frame, profile, people, engagement], axis=1)

    frame[TARGET] = _recorded_conversions(rng, frame)
    _add_blemishes(rng, frame)
    logger.debug("Generated %s leads over %s months (seed %s)", n_leads, months, seed)
    return frame[list(COLUMNS)]


def split_leads(
    leads: pd.DataFrame,
    *,
    seed: int,
    current_months: int = DRIFT_MONTHS,
    test_fraction: float = 0.2,
    target: str = TARGET,
    timestamp: str = TIMESTAMP,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split leads into reference train and test sets and a current window.

    Parameters
    ----------
    leads : pandas.DataFrame
        Frame from `generate_leads` (needs ``created_at`` and ``converted``).
    seed : int
        Seed of the stratified random split.
    current_months : int, default `DRIFT_MONTHS`
        The latest calendar months, kept whole as the current window.
    test_fraction : float, default 0.2
        Share of the earlier (reference) months held out as the test set,
        stratified on the target.
    target, timestamp : str
        Names of the 0/1 target and the UTC timestamp columns, so other demo
        datasets can be split the same way.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(train, test, current)``; train and test come from the reference months.

    Raises
    ------
    InvalidInputError
        If a column is missing, ``test_fraction`` is not strictly between 0 and 1
        or ``current_months`` leaves no reference month.
    """
    from sklearn.model_selection import train_test_split

    _require_columns(leads, (timestamp, target))
    if not 0.0 < test_fraction < 1.0:
        raise InvalidInputError(
            f"test_fraction must be between 0 and 1, got {test_fraction}; "
            "pass a share such as 0.2."
        )
    month_number = _month_number(leads[timestamp])
    distinct_months = np.sort(month_number.unique())
    if not 0 < current_months < len(distinct_months):
        raise InvalidInputError(
            f"current_months={current_months} must be at least 1 and leave at least "
            f"one reference month; the leads span {len(distinct_months)} months."
        )

    is_current = month_number >= distinct_months[-current_months]
    reference, current = leads[~is_current], leads[is_current]
    train, test = train_test_split(
        reference,
        test_size=test_fraction,
        random_state=seed,
        stratify=reference[target],
    )
    return (
        train.sort_index().reset_index(drop=True),
        test.sort_index().reset_index(drop=True),
        current.reset_index(drop=True),
    )


def write_monthly_delta(
    leads: pd.DataFrame, path: Path | str, *, timestamp: str = TIMESTAMP
) -> int:
    """Write leads to a new Delta Lake table, one append per calendar month.

    Parameters
    ----------
    leads : pandas.DataFrame
        Frame from `generate_leads`.
    path : pathlib.Path or str
        Folder of the table; it must not hold a Delta table yet.
    timestamp : str, default `TIMESTAMP`
        The UTC timestamp column whose calendar month groups the appends.

    Returns
    -------
    int
        The table's last version: the number of months minus one.

    Raises
    ------
    InvalidInputError
        If ``path`` already holds a Delta table or the timestamp column is missing.
    """
    from deltalake import DeltaTable, write_deltalake

    _require_columns(leads, (timestamp,))
    path = Path(path)
    if DeltaTable.is_deltatable(str(path)):
        raise InvalidInputError(
            f"{path} already holds a Delta table; pass an empty folder or remove it."
        )

    path.mkdir(parents=True, exist_ok=True)
    month_number = _month_number(leads[timestamp])
    for month in np.sort(month_number.unique()):
        batch = _to_arrow(leads[month_number == month], timestamp)
        write_deltalake(str(path), batch, mode="append")
    version = DeltaTable(str(path)).version()
    logger.info(
        "Wrote %s leads to Delta table %s, version %s", len(leads), path, version
    )
    return version


def read_delta(
    path: Path | str, *, version: int | None = None, timestamp: str = TIMESTAMP
) -> pd.DataFrame:
    """Read a Delta table of leads, optionally as of an earlier version.

    Parameters
    ----------
    path : pathlib.Path or str
        Folder of the table.
    version : int, optional
        Table version to read; the latest when omitted.
    timestamp : str, default `TIMESTAMP`
        The UTC timestamp column.

    Returns
    -------
    pandas.DataFrame
        The rows ordered by the timestamp and then the first column (the
        identifier), with nanosecond UTC timestamps like `generate_leads` returns.

    Raises
    ------
    NotFoundError
        If ``path`` holds no Delta table or the version does not exist.
    """
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    if not DeltaTable.is_deltatable(str(path)):
        raise NotFoundError(
            f"No Delta table at {path}; write one with write_monthly_delta first."
        )
    try:
        table = DeltaTable(str(path), version=version)
    except DeltaError as error:
        raise NotFoundError(
            f"Delta table {path} has no version {version}: {error}; "
            "pick a version from its history."
        ) from error

    frame = table.to_pandas()
    _require_columns(frame, (timestamp,))
    frame[timestamp] = frame[timestamp].astype("datetime64[ns, UTC]")
    order = list(dict.fromkeys([timestamp, frame.columns[0]]))
    return frame.sort_values(order, kind="stable").reset_index(drop=True)


def _validate_shape(*, n_leads: int, months: int) -> None:
    if months <= DRIFT_MONTHS:
        raise InvalidInputError(
            f"months={months} leaves no reference period before the "
            f"{DRIFT_MONTHS} drift months; pass at least {DRIFT_MONTHS + 1}."
        )
    if n_leads < 10 * months:
        raise InvalidInputError(
            f"n_leads={n_leads} is too few for {months} months; "
            f"pass at least {10 * months}."
        )


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"The leads lack column(s) {missing}; pass a frame from generate_leads."
        )


def _month_number(timestamps: pd.Series) -> pd.Series:
    """Calendar month of each timestamp as year * 12 + month."""
    return timestamps.dt.year * 12 + timestamps.dt.month


def _creation_times(
    rng: np.random.Generator, *, end: datetime.date, n: int, months: int
) -> tuple[pd.Series, np.ndarray]:
    """Sorted UTC creation times, with monthly volume growing over the period."""
    first = pd.Timestamp(year=end.year, month=end.month, day=1, tz="UTC")
    starts = pd.date_range(end=first, periods=months + 1, freq="MS")
    weights = np.linspace(1.0, 1.5, months)
    counts = np.floor(n * weights / weights.sum()).astype(int)
    counts[-1] += n - counts.sum()

    month_index = np.repeat(np.arange(months), counts)
    month_start = starts[:-1].asi8[month_index]
    month_length = (starts[1:].asi8 - starts[:-1].asi8)[month_index]
    offsets = (rng.random(n) * month_length // 1_000_000_000) * 1_000_000_000
    order = np.lexsort((offsets, month_index))
    instants = (month_start + offsets.astype(np.int64))[order]
    created_at = pd.Series(pd.to_datetime(instants, utc=True), name=TIMESTAMP)
    return created_at, month_index


def _lead_ids(n: int) -> list[str]:
    width = max(6, len(str(n)))
    return [f"L{i:0{width}d}" for i in range(1, n + 1)]


def _shares(table: dict[str, tuple]) -> dict[str, float]:
    """The share column (first element) of a category table."""
    return {label: row[0] for label, row in table.items()}


def _business_profile(rng: np.random.Generator, is_drift: np.ndarray) -> pd.DataFrame:
    """Source, activity, licence, size, budget and visas of each lead."""
    n = len(is_drift)
    sources = np.array(list(LEAD_SOURCES), dtype=object)
    before = np.array([v[0] for v in LEAD_SOURCES.values()])
    during = np.array([v[1] for v in LEAD_SOURCES.values()])
    lead_source = np.where(
        is_drift,
        rng.choice(sources, size=n, p=during / during.sum()),
        rng.choice(sources, size=n, p=before / before.sum()),
    )

    activity = choose(rng, _shares(BUSINESS_ACTIVITIES), n)
    usual_licence = np.array(
        [BUSINESS_ACTIVITIES[a][2] for a in activity], dtype=object
    )
    other_licence = rng.choice(np.array(list(LICENCE_TYPES), dtype=object), size=n)
    is_mismatch = rng.random(n) < LICENCE_MISMATCH_SHARE
    licence = np.where(is_mismatch, other_licence, usual_licence)

    size = choose(rng, _shares(COMPANY_SIZES), n)
    median_budget = np.array([COMPANY_SIZES[s][2] for s in size], dtype=float)
    budget = median_budget * np.exp(rng.normal(0.0, 0.55, n))
    drift_factor = np.where(
        lead_source == "Social media", SOCIAL_MEDIA_BUDGET_FACTOR, 1.0
    )
    budget = np.where(is_drift, budget * drift_factor * DRIFT_BUDGET_FACTOR, budget)
    visas = rng.poisson([COMPANY_SIZES[s][3] for s in size])

    return pd.DataFrame(
        {
            "lead_source": lead_source,
            "business_activity": activity,
            "licence_type": licence,
            "company_size": size,
            "budget_aed": np.round(budget / 500.0) * 500.0,
            "visas_requested": visas.astype(np.int64),
        }
    )


def _people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Sensitive attributes and contact details (PII) of each lead."""
    region = choose(rng, NATIONALITY_REGIONS, n)
    gender = choose(rng, GENDERS, n)
    age_band = choose(rng, AGE_BANDS, n)

    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    code = np.empty(n, dtype=object)
    for name, (male, female, family, codes) in NAMES.items():
        rows = np.flatnonzero(region == name)
        is_female = gender[rows] == "Female"
        first[rows] = np.where(
            is_female,
            rng.choice(np.array(female, dtype=object), size=len(rows)),
            rng.choice(np.array(male, dtype=object), size=len(rows)),
        )
        last[rows] = rng.choice(np.array(family, dtype=object), size=len(rows))
        code[rows] = rng.choice(np.array(codes, dtype=object), size=len(rows))

    suffix = rng.integers(1, 100, n)
    has_suffix = rng.random(n) < 0.6
    domain = rng.choice(np.array(EMAIL_DOMAINS, dtype=object), size=n)
    digits = rng.integers(0, 10, (n, 9))
    full_name = [f"{f} {s}" for f, s in zip(first, last, strict=True)]
    email = [
        _email(f, s, k if has else None, d)
        for f, s, k, has, d in zip(first, last, suffix, has_suffix, domain, strict=True)
    ]
    phone = [_phone(c, d) for c, d in zip(code, digits, strict=True)]
    return pd.DataFrame(
        {
            "full_name": full_name,
            "email": email,
            "phone": phone,
            "nationality_region": region,
            "gender": gender,
            "age_band": age_band,
        }
    )


def _email(first: str, last: str, suffix: int | None, domain: str) -> str:
    local = f"{first}.{last}".lower().replace(" ", "").replace("-", "")
    return f"{local}{suffix if suffix is not None else ''}@{domain}"


def _phone(code: str, digits: np.ndarray) -> str:
    text = "".join(str(d) for d in digits)
    return f"{code} {text[:2]} {text[2:5]} {text[5:]}"


def _engagement(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Website visits, emails opened and meetings, driven by a hidden intent."""
    intent = rng.normal(0.0, 1.0, n)
    return pd.DataFrame(
        {
            "website_visits": rng.poisson(np.exp(1.3 + 0.45 * intent)),
            "emails_opened": rng.poisson(np.exp(0.9 + 0.5 * intent)),
            "meetings_attended": rng.poisson(np.exp(-1.0 + 0.8 * intent)),
        }
    ).astype(np.int64)


def _conversion_score(frame: pd.DataFrame) -> np.ndarray:
    """Log-odds of a real conversion, up to the intercept, from legitimate features.

    Some effects are deliberately not linear (the first meeting counts most,
    engagement saturates, a budget too small for the visas asked for sinks the
    lead), so a flexible model has something to gain over a linear baseline.
    """
    budget = frame["budget_aed"].to_numpy(float)
    visas = frame["visas_requested"].to_numpy(float)
    meetings = frame["meetings_attended"].to_numpy(float)
    is_underfunded = budget < BUDGET_PER_VISA * (visas + 1.0)
    return (
        _effect(frame["lead_source"], LEAD_SOURCES, 2)
        + _effect(frame["business_activity"], BUSINESS_ACTIVITIES, 1)
        + frame["licence_type"].map(LICENCE_TYPES).to_numpy(float)
        + _effect(frame["company_size"], COMPANY_SIZES, 1)
        + BUDGET_EFFECT * np.log(budget / 25_000.0)
        + VISAS_EFFECT * np.log1p(visas)
        + VISITS_EFFECT * np.log1p(frame["website_visits"].to_numpy(float))
        + EMAILS_EFFECT * np.minimum(frame["emails_opened"].to_numpy(float), 5.0)
        + FIRST_MEETING_EFFECT * (meetings >= 1.0)
        + MEETINGS_EFFECT * np.minimum(meetings, 4.0)
        - UNDERFUNDED_PENALTY * is_underfunded
    )


def _effect(values: pd.Series, table: dict[str, tuple], position: int) -> np.ndarray:
    """The log-odds effect stored at ``position`` of each value's table row."""
    return values.map({label: row[position] for label, row in table.items()}).to_numpy(
        float
    )


def _recorded_conversions(rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
    """Real conversions, less those never recorded for the under-followed region.

    The intercept is solved so the recorded rate lands on
    `TARGET_CONVERSION_RATE` whatever the mix of features.
    """
    score = STEEPNESS * _conversion_score(frame)
    recorded_share = np.where(
        frame["nationality_region"] == UNDER_FOLLOWED_REGION,
        1.0 - UNRECORDED_SHARE,
        1.0,
    )
    intercept = intercept_for_rate(
        score, rate=TARGET_CONVERSION_RATE, weight=recorded_share
    )
    probability = recorded_share / (1.0 + np.exp(-(score + intercept)))
    return (rng.random(len(frame)) < probability).astype(np.int64)


def _add_blemishes(rng: np.random.Generator, frame: pd.DataFrame) -> None:
    """Blank a few budgets and phone numbers, as forms left them."""
    n = len(frame)
    frame.loc[rng.random(n) < MISSING_BUDGET_SHARE, "budget_aed"] = np.nan
    frame.loc[rng.random(n) < MISSING_PHONE_SHARE, "phone"] = None


def _to_arrow(frame: pd.DataFrame, timestamp: str) -> pa.Table:
    """Arrow table with microsecond timestamps, the resolution Delta stores."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    index = table.schema.get_field_index(timestamp)
    as_micros = table.column(timestamp).cast(pa.timestamp("us", tz="UTC"))
    return table.set_column(index, timestamp, as_micros)
