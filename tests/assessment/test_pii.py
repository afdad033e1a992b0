import numpy as np
import pandas as pd
import pytest

from governance.assessment.pii import PiiFinding, detect_pii
from governance.errors import InvalidInputError

ROWS = 200

FIRST = ["Aisha", "Omar", "John", "Maria", "Chen", "Priya", "Lucas", "Fatima"]
LAST = ["Khan", "Smith", "Al-Mansouri", "O'Brien", "Garcia", "Nguyen", "Haddad"]


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _column(values):
    return pd.DataFrame({"field": values})


def _emails(rng):
    return [f"user{i}.{rng.integers(1000)}@example.ae" for i in range(ROWS)]


def _uae_phones(rng):
    return [
        f"+971 5{rng.integers(10)} {rng.integers(100, 999)} {rng.integers(1000, 9999)}"
        for _ in range(ROWS)
    ]


def _double_zero_phones(rng):
    return [f"00971{rng.integers(500000000, 599999999)}" for _ in range(ROWS)]


def _us_phones(rng):
    return [
        f"({area}) {rng.integers(200, 999)}-{rng.integers(1000, 9999)}"
        for area in rng.integers(200, 999, ROWS)
    ]


def _passports(rng):
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return [
        f"{letters[rng.integers(len(letters))]}{rng.integers(1_000_000, 99_999_999)}"
        for _ in range(ROWS)
    ]


def _emirates_ids(rng):
    return [
        f"784-{rng.integers(1950, 2010)}-{rng.integers(1_000_000, 9_999_999)}-"
        f"{rng.integers(10)}"
        for _ in range(ROWS)
    ]


def _generic_ids(rng):
    return [
        f"{rng.integers(100, 999)} {rng.integers(1000, 9999)} {rng.integers(10, 99)}"
        for _ in range(ROWS)
    ]


def _person_names(rng):
    return [
        f"{FIRST[rng.integers(len(FIRST))]} {LAST[rng.integers(len(LAST))]}"
        + ("" if i % 3 else f" {LAST[rng.integers(len(LAST))]}")
        for i in range(ROWS)
    ]


def _ip_addresses(rng):
    return [
        f"10.{rng.integers(256)}.{rng.integers(256)}.{rng.integers(256)}"
        for _ in range(ROWS)
    ]


@pytest.mark.parametrize(
    ("make_values", "kind"),
    [
        (_emails, "email"),
        (_uae_phones, "phone"),
        (_double_zero_phones, "phone"),
        (_us_phones, "phone"),
        (_passports, "passport"),
        (_emirates_ids, "national_id"),
        (_generic_ids, "national_id"),
        (_person_names, "person_name"),
        (_ip_addresses, "ip_address"),
    ],
    ids=[
        "email",
        "phone-uae-spaced",
        "phone-00-prefix",
        "phone-us-brackets",
        "passport",
        "emirates-id",
        "generic-id",
        "person-name",
        "ipv4",
    ],
)
def test_detects_pii_by_values(rng, make_values, kind):
    frame = _column(make_values(rng))

    findings = detect_pii(frame)

    assert findings == [PiiFinding("field", kind, "values", 1.0)]


@pytest.mark.parametrize(
    "values",
    [
        ["Web Form", "Trade Show", "Cold Call", "Partner Referral"] * (ROWS // 4),
        ["Dubai", "Abu Dhabi", "Sharjah", "Ras Al Khaimah"] * (ROWS // 4),
        [f"Please call me about offer {i}, or write to a@b.com" for i in range(ROWS)],
        ["contact: sales@example.com"] + ["no contact given"] * (ROWS - 1),
        [f"2024-01-{1 + i % 28:02d}" for i in range(ROWS)],
        [f"INV-{i:06d}" for i in range(ROWS)],
        [f"{1000 + i}" for i in range(ROWS)],
        [f"v1.{i % 9}.{i % 7}" for i in range(ROWS)],
        ["john smith", "mary jones", "ali khan", "wei chen", "ana lima"] * (ROWS // 5),
    ],
    ids=[
        "lead-source-labels",
        "city-labels",
        "free-text-with-emails-inside",
        "free-text-one-email",
        "iso-dates",
        "invoice-codes",
        "numbers-as-text",
        "version-strings",
        "lower-case-names",
    ],
)
def test_does_not_flag_lookalike_values(values):
    assert detect_pii(_column(values)) == []


def test_email_share_below_threshold_is_not_flagged(rng):
    emails = _emails(rng)
    values = emails[: ROWS * 2 // 5] + ["unknown"] * (ROWS - ROWS * 2 // 5)

    assert detect_pii(_column(values)) == []


def test_email_share_at_threshold_is_flagged(rng):
    emails = _emails(rng)
    values = emails[: ROWS // 2] + ["unknown"] * (ROWS // 2)

    assert detect_pii(_column(values)) == [PiiFinding("field", "email", "values", 0.5)]


def test_person_names_need_a_high_share(rng):
    names = _person_names(rng)
    values = names[: ROWS * 7 // 10] + ["n/a"] * (ROWS - ROWS * 7 // 10)

    assert detect_pii(_column(values)) == []


def test_numeric_columns_are_never_flagged_by_value():
    frame = pd.DataFrame(
        {
            "amount": np.arange(ROWS, dtype=float) * 1e9,
            "code": np.arange(971_500_000_000, 971_500_000_000 + ROWS),
        }
    )

    assert detect_pii(frame) == []


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("name", "person_name"),
        ("full_name", "person_name"),
        ("FirstName", "person_name"),
        ("surname", "person_name"),
        ("email", "email"),
        ("e_mail", "email"),
        ("contact_email_address", "email"),
        ("phone", "phone"),
        ("mobile", "phone"),
        ("mobile_number", "phone"),
        ("tel", "phone"),
        ("passport_no", "passport"),
        ("national_id", "national_id"),
        ("EmiratesID", "national_id"),
        ("ssn", "national_id"),
        ("home_address", "address"),
        ("dob", "date_of_birth"),
        ("date_of_birth", "date_of_birth"),
        ("ip", "ip_address"),
        ("client_ip_address", "ip_address"),
    ],
)
def test_detects_pii_by_column_name(column, kind):
    frame = pd.DataFrame({column: np.zeros(5)})

    assert detect_pii(frame) == [PiiFinding(column, kind, "name", None)]


@pytest.mark.parametrize(
    "column",
    [
        "company_name",
        "campaign_name",
        "is_mobile",
        "mobile_app_visits",
        "hotel_nights",
        "zip_share",
        "tip_amount",
        "lead_id",
        "paid",
    ],
)
def test_does_not_flag_lookalike_column_names(column):
    frame = pd.DataFrame({column: np.zeros(5)})

    assert detect_pii(frame) == []


def test_name_finding_reports_the_value_share(rng):
    values = _emails(rng)[: ROWS // 4] + ["unknown"] * (ROWS - ROWS // 4)

    findings = detect_pii(pd.DataFrame({"email": values}))

    assert findings == [PiiFinding("email", "email", "name", 0.25)]


def test_sample_is_deterministic_and_bounded(rng):
    values = _emails(rng)[:70] + ["unknown"] * 30
    frame = _column(values * 20)

    first = detect_pii(frame, sample_rows=100, seed=3)
    second = detect_pii(frame, sample_rows=100, seed=3)

    assert first == second
    assert first[0].kind == "email"
    share_in_hundredths = first[0].share * 100
    assert share_in_hundredths == pytest.approx(round(share_in_hundredths))
    assert first[0].share == pytest.approx(0.7, abs=0.15)


def test_missing_values_are_left_out_of_the_sample(rng):
    values = _emails(rng)[:60] + [None] * 140

    assert detect_pii(_column(values)) == [PiiFinding("field", "email", "values", 1.0)]


def test_finding_to_dict_is_plain():
    finding = PiiFinding("field", "email", "values", 0.75)

    assert finding.to_dict() == {
        "column": "field",
        "kind": "email",
        "reason": "values",
        "share": 0.75,
    }


@pytest.mark.parametrize(
    ("frame", "sample_rows"),
    [([["a"]], 10), (pd.DataFrame({"a": ["x"]}), 0)],
    ids=["not-a-frame", "zero-sample"],
)
def test_rejects_bad_input(frame, sample_rows):
    with pytest.raises(InvalidInputError):
        detect_pii(frame, sample_rows=sample_rows)


def test_passport_shaped_record_key_is_reported_as_an_identifier():
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:06d}" for i in range(200)],
            "document": [f"P{i:07d}" for i in range(200)],
        }
    )

    found = {finding.column: finding.kind for finding in detect_pii(frame)}

    assert found == {"lead_id": "identifier", "document": "passport"}
