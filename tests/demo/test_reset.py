"""Resetting the demo keeps the dropped trail's checkpoints, out of the new trail's way."""

from governance.access import SYSTEM_USER_ID
from governance.audit import unit_of_work
from governance.bootstrap import prepare_store
from governance.demo.world import _reset
from governance.records.checkpoints import (
    read_checkpoints,
    verify_audit_trail,
    write_checkpoint,
)
from governance.settings import load_settings


def _event(engine, number: int) -> None:
    with unit_of_work(engine) as work:
        work.record(
            actor_id=SYSTEM_USER_ID,
            action="test.event",
            entity_type="test",
            entity_id=str(number),
        )


def test_a_reset_sets_the_old_checkpoints_aside(tmp_path):
    settings = load_settings({"GOVERNANCE_HOME": str(tmp_path / "home")})
    engine, _ = prepare_store(settings)
    for number in range(5):
        _event(engine, number)
    old = write_checkpoint(settings, engine)
    engine.dispose()

    _reset(settings)
    engine, _ = prepare_store(settings)
    _event(engine, 0)
    write_checkpoint(settings, engine)

    verification = verify_audit_trail(settings, engine)
    assert verification.is_intact, verification.describe()
    folder = settings.audit_checkpoint_dir
    (aside,) = folder.parent.glob(f"{folder.name}.before-reset-*")
    assert [(c.seq, c.hash) for c in read_checkpoints(aside)] == [(old.seq, old.hash)]
    assert [c.seq for c in read_checkpoints(folder)] != [old.seq]
    engine.dispose()
