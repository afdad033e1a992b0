"""The demo keeps a compliance report, a risk assessment and a signed checkpoint."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from governance.access import stable_user_id
from governance.audit import chain_head
from governance.bootstrap import prepare_store
from governance.demo.records import _last_quarter, seed_audit_records
from governance.demo.world import seed_people
from governance.records.checkpoints import read_checkpoints, verify_audit_trail
from governance.records.stored import list_reports

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 3), "2026-09"),
        (date(2026, 10, 1), "2026-09"),
        (date(2026, 9, 30), "2026-06"),
        (date(2026, 1, 15), "2025-12"),
        (date(2026, 3, 31), "2025-12"),
    ],
    ids=["december", "first-day-of-q4", "last-day-of-q3", "january", "end-of-q1"],
)
def test_last_quarter_is_named_by_its_last_month(today, expected):
    assert _last_quarter(today) == expected


def _kept(engine):
    return {
        report.kind: (report.period_start, report.period_end, report.created_by)
        for report in list_reports(engine)
    }


def test_the_reports_and_a_checkpoint_are_kept_once(settings, engine, policy):
    seed_people(engine)

    story = seed_audit_records(settings, engine, policy, now=NOW)
    again = seed_audit_records(settings, engine, policy, now=NOW)

    daniel = stable_user_id("daniel")
    assert _kept(engine) == {
        "monthly_compliance": (date(2026, 12, 1), date(2026, 12, 31), daniel),
        "quarterly_risk": (date(2026, 7, 1), date(2026, 9, 30), daniel),
    }
    (checkpoint,) = read_checkpoints(settings.audit_checkpoint_dir)
    assert (checkpoint.seq, checkpoint.hash) == chain_head(engine)
    assert f"audit checkpoint signed at event #{checkpoint.seq}" in story
    assert again == ""
    result = verify_audit_trail(settings, engine)
    assert result.is_intact
    assert result.checkpoints_checked == 1


@pytest.mark.slow
@pytest.mark.xdist_group("demo")
def test_the_built_demo_has_both_reports_and_a_verified_checkpoint(demo_world):
    engine, _ = prepare_store(demo_world)
    today = datetime.now(UTC).date()
    try:
        kept = _kept(engine)
        checkpoints = read_checkpoints(demo_world.audit_checkpoint_dir)
        result = verify_audit_trail(demo_world, engine)
    finally:
        engine.dispose()

    assert kept["monthly_compliance"][0] == today.replace(day=1)
    assert kept["quarterly_risk"][1].isoformat()[:7] == _last_quarter(today)
    assert len(checkpoints) == 1
    assert result.is_intact, result.describe()
    assert result.checkpoints_checked == 1
