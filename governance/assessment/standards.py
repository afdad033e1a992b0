"""One row of evidence checked against the policy.

Every assessment reports its checks as `Standard` rows: what was measured, the
policy threshold it was compared with, and whether it passed. The rows are stored
as JSON with the evidence and shown as a table in the console.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Standard:
    """A measured value compared with one policy threshold.

    Attributes
    ----------
    name
        Stable identifier of the check, e.g. ``"data_quality_score"``.
    value
        The measured value, or a short text such as ``"not assessable"``.
    threshold
        The policy threshold the value was compared with.
    passed
        Whether the value meets the threshold; ``None`` when the check was not run.
    detail
        One sentence for the reader: why it failed or how to make it assessable.
    """

    name: str
    value: float | str | None
    threshold: float | str
    passed: bool | None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the row as plain JSON-serialisable values."""
        return asdict(self)
