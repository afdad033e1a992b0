"""The clock the demo dates its seeded sign-off history with.

The demo writes weeks of sign-off in one build. Its records (registrations,
reviews, assessments, requests, decisions, rollout steps) are dated where the
story puts them, a number of days before the build; the audit events of the same
actions keep the time they were written (see `governance.tables.utc_now`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class DemoClock:
    """Dates records ``days`` before the build, in the order they are written.

    Call it for the time; `at` moves it. Between two moves it runs at the
    real pace, so records written one after another keep their order.
    """

    def __init__(self, build: datetime | None = None) -> None:
        self.build = build or datetime.now(UTC)
        self.first: datetime | None = None
        self._moment = self.build
        self._since = time.perf_counter()

    def at(self, days_before: float) -> None:
        """Date what follows ``days_before`` days before the build."""
        self.to(self.build - timedelta(days=days_before))

    def to(self, moment: datetime) -> None:
        """Date what follows at ``moment``."""
        self._moment = moment
        self._since = time.perf_counter()
        self.first = min(self.first or moment, moment)

    def __call__(self) -> datetime:
        return self._moment + timedelta(seconds=time.perf_counter() - self._since)
