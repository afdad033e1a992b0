"""``python -m governance monitor`` and ``retraining``: output and exit codes."""

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlmodel import select

from governance.access import grant_role
from governance.cli import main
from governance.errors import PermissionDeniedError
from governance.operations.monitoring import log_location
from governance.operations_tables import MonitoringWindow, RetrainingRequest
from governance.store import read_session
from tests.operations.monitoring_support import (
    month_of_predictions,
    version_in_production,
    write_log,
)
from tests.workflow.conftest import register

FEB, MAR = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def cli_store(settings, engine, people, policy, tmp_path, monkeypatch):
    """The store under test as the CLI's environment, with a version in production."""
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("GOVERNANCE_USER", raising=False)
    version_in_production(engine, people, policy, tmp_path)
    return engine


def _log(tmp_path, *, drifted: bool):
    rng = np.random.default_rng(5)
    return write_log(
        tmp_path / "log.csv",
        month_of_predictions(rng, FEB, 500),
        month_of_predictions(rng, MAR, 500, visits_mean=9.0 if drifted else 5.0),
    )


def test_monitor_sets_the_log_and_exits_1_when_a_trigger_fires(
    cli_store, tmp_path, capsys
):
    log = _log(tmp_path, drifted=True)

    code = main(
        ["monitor", "--model", "lead-scoring", "--log", log, "--as", "engineer"]
    )

    out = capsys.readouterr().out
    assert code == 1
    assert log_location(cli_store, "lead-scoring") == log
    assert "2 window(s) scored (2026-02, 2026-03)" in out
    assert "TRIGGER 2026-03: PSI of visits" in out
    again = main(["monitor"])
    assert "0 window(s) scored (none new), 2 already stored" in capsys.readouterr().out
    assert again == 0


def test_monitor_as_the_scheduler_needs_no_user(cli_store, people, tmp_path, capsys):
    from governance.operations.monitoring import set_log_location

    set_log_location(
        cli_store,
        actor_id=people["engineer"],
        model_name="lead-scoring",
        location=_log(tmp_path, drifted=False),
    )

    main(["monitor", "--model", "lead-scoring"])

    with read_session(cli_store) as session:
        scorers = set(session.exec(select(MonitoringWindow.scored_by)).all())
    assert scorers == {"system"}
    assert "window(s) scored" in capsys.readouterr().out


def test_monitor_exits_1_while_a_security_finding_stands(
    cli_store, people, policy, tmp_path, capsys
):
    from governance.operations.monitoring import set_log_location

    set_log_location(
        cli_store,
        actor_id=people["engineer"],
        model_name="lead-scoring",
        location=_log(tmp_path, drifted=False),
    )
    for _ in range(policy.monitoring.denied_burst_count):
        with pytest.raises(PermissionDeniedError):
            grant_role(
                cli_store,
                actor_id=people["owner"],
                user_id=people["owner"],
                role="admin",
            )

    first, again = main(["monitor"]), main(["monitor"])

    out = capsys.readouterr().out
    assert (first, again) == (1, 1)
    assert f"SECURITY Burst of refused actions by user {people['owner']}" in out
    assert "raised earlier" in out


def test_setting_the_log_needs_an_ml_engineer(cli_store, tmp_path, capsys):
    code = main(
        ["monitor", "--model", "lead-scoring", "--log", "x.csv", "--as", "owner"]
    )

    assert code == 2
    assert "needs the role ML engineer" in capsys.readouterr().err
    assert log_location(cli_store, "lead-scoring") is None


def test_an_unreadable_log_exits_2_with_the_reason(cli_store, tmp_path, capsys):
    missing = str(tmp_path / "nowhere.csv")

    code = main(
        ["monitor", "--model", "lead-scoring", "--log", missing, "--as", "engineer"]
    )

    assert code == 2
    assert (
        f"Not monitored: lead-scoring: No dataset at {missing}"
        in capsys.readouterr().out
    )


def test_log_without_model_and_unknown_model_are_refused(cli_store, capsys):
    assert main(["monitor", "--log", "x.csv", "--as", "engineer"]) == 2
    assert "name it with --model" in capsys.readouterr().err
    assert main(["monitor", "--model", "nope"]) == 2
    assert "No governed model named 'nope'" in capsys.readouterr().err


def test_retraining_commands_list_link_and_decline(
    cli_store, people, policy, tmp_path, capsys
):
    main(
        [
            "monitor",
            "--model",
            "lead-scoring",
            "--log",
            _log(tmp_path, drifted=True),
            "--as",
            "engineer",
        ]
    )
    register(
        cli_store, people, policy, version="2", train={"rows": 1, "sha256": "b" * 64}
    )
    capsys.readouterr()

    listed = main(["retraining", "list", "--model", "lead-scoring"])
    listing = capsys.readouterr().out
    linked = main(
        ["retraining", "link", "--request", "1", "--version", "2", "--as", "scientist"]
    )
    declined = main(
        [
            "retraining",
            "decline",
            "--request",
            "1",
            "--reason",
            "Not now.",
            "--as",
            "owner",
        ]
    )

    with read_session(cli_store) as session:
        request = session.exec(select(RetrainingRequest)).one()
    assert (listed, linked, declined) == (0, 0, 0)
    assert "Request 1  open" in listing
    assert (request.status, request.close_reason) == ("declined", "Not now.")
