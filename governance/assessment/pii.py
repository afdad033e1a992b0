"""Detection of columns that hold personal data (PII).

A column is reported when its *name* says it holds personal data, or when enough of
its *values* have the shape of personal data. Value checks run on the non-null
string values among a deterministic random sample of ``2 * sample_rows`` rows, at
most ``sample_rows`` of them per column; numeric,
boolean and datetime columns are never flagged by value, only by name.

Each sampled value is given at most one kind, tried in this order (the first
pattern that matches the whole stripped value wins):

1. ``email``: ``local@domain.tld``.
2. ``national_id``: Emirates ID ``784-YYYY-NNNNNNN-N`` (separators optional) or a
   US-style social security number ``NNN-NN-NNNN``.
3. ``phone``: a leading ``+`` or ``00`` country prefix followed by 8 to 15 digits
   with optional spaces, dots, dashes or brackets (``+971 50 123 4567``,
   ``00971501234567``); a bracketed area code (``(555) 123-4567``); the
   ``NNN-NNN-NNNN`` shape; or a trunk-prefixed local number (``050 123 4567``).
4. ``national_id`` (generic): 9 to 15 digits in two to five groups separated by
   spaces or dashes.
5. ``passport``: one or two letters followed by 6 to 9 digits (``A1234567``).
6. ``ip_address``: an IPv4 or IPv6 address.

A passport-shaped value in a column whose name ends in ``id``, ``key``, ``ref``,
``number`` or ``no`` is reported as an ``identifier`` (a pseudonymous record key,
still personal data) rather than a passport number.
7. ``person_name``: two or three words, each a capital letter followed by
   lower-case letters (an inner apostrophe or hyphen is allowed: ``O'Brien``,
   ``Al-Mansouri``).

A column is flagged for the kind with the largest share of matching sampled values
when that share is at least `VALUE_SHARE` (0.5). Person names are held to a
stricter rule: at least `NAME_SHARE` (0.8) of the sample must match, and the
sample must not look like a categorical, i.e. at least `NAME_MIN_DISTINCT`
distinct values making up at least `NAME_MIN_DISTINCT_RATIO` of the sample.

Limits of the heuristics, by design conservative: names written in lower case,
in one word, with initials or in a non-Latin script are not recognised by value;
a categorical with many capitalised two-word labels (e.g. city names) can still
look like names; local phone formats without a trunk prefix and identifiers
written without separators are not recognised; postal addresses and dates of birth
are recognised by column name only. A column that holds one e-mail in free text is
not flagged. Declare PII columns explicitly when registering a model; detection
is a safety net, not a substitute.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import pandas as pd

from governance.errors import InvalidInputError

logger = logging.getLogger(__name__)

VALUE_SHARE = 0.5
"""Share of sampled values that must match a pattern for a column to be flagged."""

NAME_SHARE = 0.8
"""Stricter share for person names, which are easy to mistake for labels."""

NAME_MIN_DISTINCT = 5
"""Fewest distinct sampled values a person-name column may have."""

NAME_MIN_DISTINCT_RATIO = 0.5
"""Smallest ratio of distinct to sampled values a person-name column may have."""

_SAMPLE_POOL = 2

PiiKind = Literal[
    "person_name",
    "email",
    "phone",
    "passport",
    "national_id",
    "address",
    "date_of_birth",
    "ip_address",
    "identifier",
]

_IDENTIFIER_NAME = re.compile(r"(^|_)(id|key|ref|number|no)$", re.IGNORECASE)


@dataclass(frozen=True)
class PiiFinding:
    """A column that appears to hold personal data.

    Attributes
    ----------
    column
        Column name, as text.
    kind
        Kind of personal data, e.g. ``"email"`` or ``"national_id"``.
    reason
        ``"name"`` when the column name gave it away, ``"values"`` when the sampled
        values did.
    share
        Share of sampled values matching the kind's pattern; ``None`` when no
        values were checked (non-text column, or a kind recognised by name only).
    """

    column: str
    kind: PiiKind
    reason: Literal["name", "values"]
    share: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as plain JSON-serialisable values."""
        return asdict(self)


# -- column names ---------------------------------------------------------------

_NAME_TOKENS: dict[PiiKind, tuple[frozenset[str], ...]] = {
    # Each entry is a set of token combinations; a column matches when its tokens
    # contain every token of one combination.
    "email": (frozenset({"email"}), frozenset({"e", "mail"})),
    "ip_address": (frozenset({"ip"}), frozenset({"ipv4"}), frozenset({"ipv6"})),
    "date_of_birth": (
        frozenset({"dob"}),
        frozenset({"birth", "date"}),
        frozenset({"birthdate"}),
        frozenset({"birthday"}),
    ),
    "national_id": (
        frozenset({"national", "id"}),
        frozenset({"nationalid"}),
        frozenset({"emirates", "id"}),
        frozenset({"emiratesid"}),
        frozenset({"ssn"}),
        frozenset({"social", "security"}),
    ),
    "passport": (frozenset({"passport"}),),
    "phone": (
        frozenset({"phone"}),
        frozenset({"telephone"}),
        frozenset({"cellphone"}),
        frozenset({"msisdn"}),
    ),
    "address": (frozenset({"address"}), frozenset({"street"})),
    "person_name": (
        frozenset({"surname"}),
        frozenset({"forename"}),
        frozenset({"fullname"}),
        frozenset({"firstname"}),
        frozenset({"lastname"}),
        *(
            frozenset({qualifier, "name"})
            for qualifier in ("full", "first", "last", "middle", "given", "family")
        ),
    ),
}

# Words that name personal data only when they are the whole column name, or are
# followed by a number word: "mobile" or "tel" alone, but not "mobile_app_visits".
_STANDALONE_TOKENS: dict[str, PiiKind] = {
    "name": "person_name",
    "mobile": "phone",
    "tel": "phone",
    "cell": "phone",
}
_NUMBER_WORDS = frozenset({"number", "no", "num", "nr"})


def _name_tokens(column: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", column)
    return [token for token in re.split(r"[^a-z0-9]+", spaced.lower()) if token]


def _kind_from_name(column: str) -> PiiKind | None:
    tokens = _name_tokens(column)
    present = set(tokens)
    for kind, combinations in _NAME_TOKENS.items():
        if any(combination <= present for combination in combinations):
            return kind

    rest = present - _NUMBER_WORDS
    if len(rest) == 1 and tokens and tokens[0] in _STANDALONE_TOKENS:
        return _STANDALONE_TOKENS[tokens[0]]
    return None


# -- values ---------------------------------------------------------------------

_EMAIL = re.compile(
    r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_EMIRATES_ID = re.compile(r"784[- ]?\d{4}[- ]?\d{7}[- ]?\d")
_SSN = re.compile(r"\d{3}-\d{2}-\d{4}")
_PHONE_INTERNATIONAL = re.compile(r"(?:\+|00)\d[\d\s().-]*\d")
_PHONE_AREA_CODE = re.compile(r"\(\d{2,4}\)\s?\d{3}[\s.-]?\d{4}")
_PHONE_NORTH_AMERICAN = re.compile(r"\d{3}[\s.-]\d{3}[\s.-]\d{4}")
_PHONE_TRUNK = re.compile(r"0\d{1,3}[\s.-]?\d{3}[\s.-]?\d{3,4}")
_GENERIC_ID = re.compile(r"\d{2,8}(?:[\s-]\d{2,8}){1,4}")
_PASSPORT = re.compile(r"[A-Za-z]{1,2}\d{6,9}")
_NAME_WORD = re.compile(r"[A-Z](?:'[A-Z])?[a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z]?[a-z]+)*")


def _digit_count(value: str) -> int:
    return sum(char.isdigit() for char in value)


def _is_phone(value: str) -> bool:
    if _PHONE_INTERNATIONAL.fullmatch(value):
        return 8 <= _digit_count(value) <= 15
    return bool(
        _PHONE_AREA_CODE.fullmatch(value)
        or _PHONE_NORTH_AMERICAN.fullmatch(value)
        or _PHONE_TRUNK.fullmatch(value)
    )


def _is_generic_id(value: str) -> bool:
    return bool(_GENERIC_ID.fullmatch(value)) and 9 <= _digit_count(value) <= 15


def _is_ip_address(value: str) -> bool:
    if "." not in value and ":" not in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_person_name(value: str) -> bool:
    words = value.split(" ")
    return 2 <= len(words) <= 3 and all(_NAME_WORD.fullmatch(word) for word in words)


_VALUE_CHECKS: tuple[tuple[PiiKind, Callable[[str], bool]], ...] = (
    ("email", lambda value: bool(_EMAIL.fullmatch(value))),
    (
        "national_id",
        lambda value: bool(_EMIRATES_ID.fullmatch(value) or _SSN.fullmatch(value)),
    ),
    ("phone", _is_phone),
    ("national_id", _is_generic_id),
    ("passport", lambda value: bool(_PASSPORT.fullmatch(value))),
    ("ip_address", _is_ip_address),
    ("person_name", _is_person_name),
)


_VALUE_KINDS = frozenset(kind for kind, _ in _VALUE_CHECKS)


def _classify(value: str) -> PiiKind | None:
    for kind, check in _VALUE_CHECKS:
        if check(value):
            return kind
    return None


def _sample_strings(values: pd.Series, *, sample_rows: int, seed: int) -> pd.Series:
    if not (
        pd.api.types.is_object_dtype(values)
        or pd.api.types.is_string_dtype(values)
        or isinstance(values.dtype, pd.CategoricalDtype)
    ):
        return pd.Series([], dtype=object)
    # Rows are drawn uniformly and their missing values dropped, which is a uniform
    # sample of the present values without scanning the whole column for missing.
    pool = values
    if len(values) > _SAMPLE_POOL * sample_rows:
        pool = values.sample(n=_SAMPLE_POOL * sample_rows, random_state=seed)
    present = pool.dropna().head(sample_rows)
    present = present[present.map(lambda value: isinstance(value, str))]
    return present.astype(str).str.strip()


def _value_shares(sample: pd.Series) -> dict[PiiKind, float]:
    if sample.empty:
        return {}
    matches: dict[PiiKind, int] = {}
    for value, count in sample.value_counts().items():
        kind = _classify(value)
        if kind is not None:
            matches[kind] = matches.get(kind, 0) + int(count)
    return {kind: count / len(sample) for kind, count in matches.items()}


def _looks_categorical(sample: pd.Series) -> bool:
    distinct = sample.nunique()
    return (
        distinct < NAME_MIN_DISTINCT or distinct / len(sample) < NAME_MIN_DISTINCT_RATIO
    )


def _kind_from_values(sample: pd.Series) -> tuple[PiiKind, float] | None:
    shares = _value_shares(sample)
    if not shares:
        return None
    kind, share = max(shares.items(), key=lambda item: item[1])
    if kind == "person_name":
        if share >= NAME_SHARE and not _looks_categorical(sample):
            return kind, share
        return None
    return (kind, share) if share >= VALUE_SHARE else None


def detect_pii(
    frame: pd.DataFrame, *, sample_rows: int = 1000, seed: int = 0
) -> list[PiiFinding]:
    """Find the columns of a frame that appear to hold personal data.

    Parameters
    ----------
    frame
        The data to inspect.
    sample_rows
        Most non-null string values checked per column.
    seed
        Seed of the sample, so the same frame always gives the same findings.

    Returns
    -------
    list[PiiFinding]
        One finding per flagged column, in column order. A column recognised by
        name is reported with ``reason="name"`` even when its values also match.

    Raises
    ------
    InvalidInputError
        When `frame` is not a DataFrame or `sample_rows` is not positive.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"detect_pii expects a pandas DataFrame, got {type(frame).__name__}."
        )
    if sample_rows <= 0:
        raise InvalidInputError(
            f"sample_rows must be a positive number of rows, got {sample_rows}."
        )

    findings = []
    for position, column in enumerate(frame.columns):
        finding = _inspect(str(column), frame.iloc[:, position], sample_rows, seed)
        if finding is not None:
            findings.append(finding)
    logger.debug(
        "PII detection flagged %s of %s columns", len(findings), frame.shape[1]
    )
    return findings


def _inspect(
    column: str, values: pd.Series, sample_rows: int, seed: int
) -> PiiFinding | None:
    sample = _sample_strings(values, sample_rows=sample_rows, seed=seed)
    by_name = _kind_from_name(column)
    if by_name is not None:
        share = None
        if not sample.empty and by_name in _VALUE_KINDS:
            share = float(_value_shares(sample).get(by_name, 0.0))
        return PiiFinding(column, by_name, "name", share)

    by_values = _kind_from_values(sample)
    if by_values is None:
        return None
    kind, share = by_values
    if kind == "passport" and _IDENTIFIER_NAME.search(column):
        # "L000123" in a column named lead_id is a record key, not a passport
        # number; it is still pseudonymous personal data, so it stays reported.
        kind = "identifier"
    return PiiFinding(column, kind, "values", float(share))
