import pytest

from governance.errors import InvalidInputError
from governance.store import read_session, write_session
from governance.tables import ModelVersion
from governance.workflow import classify_change, record_change_class
from governance.workflow_tables import ChangeRecord
from tests.workflow.conftest import SPEC, register

CASES = [
    (
        {"params": {**SPEC["params"], "learning_rate": "0.1"}},
        "minor",
        [("params.learning_rate", "hyperparameter tuning")],
    ),
    (
        {"features": [*SPEC["features"], "last_visit_days"]},
        "major",
        [("features", "features added")],
    ),
    ({"features": ["visits", "region"]}, "major", [("features", "features removed")]),
    (
        {"algorithm": "logistic_regression"},
        "critical",
        [("algorithm", "algorithm change")],
    ),
    ({"data_source": "web.forms"}, "critical", [("data_source", "data source change")]),
    (
        {"algorithm": "xgboost", "params": {"max_depth": "6"}},
        "critical",
        [
            ("algorithm", "algorithm change"),
            ("params.learning_rate", "hyperparameter tuning"),
            ("params.max_depth", "hyperparameter tuning"),
            ("params.n_estimators", "hyperparameter tuning"),
        ],
    ),
    ({}, "minor", []),
]


@pytest.mark.parametrize(
    ("changes", "expected", "differences"),
    CASES,
    ids=["params", "added", "removed", "algorithm", "source", "mixed", "none"],
)
def test_change_class_from_two_registered_versions(
    engine, people, policy, changes, expected, differences
):
    first = register(engine, people, policy, version="1")
    second = register(engine, people, policy, version="2", **changes)

    with read_session(engine) as session:
        result = classify_change(
            session.get(ModelVersion, first), session.get(ModelVersion, second)
        )

    assert result.change_class == expected
    assert [(d.field, d.description) for d in result.differences] == differences


def _in_production(engine, version_id):
    with write_session(engine) as session:
        session.get(ModelVersion, version_id).stage = "production"


def test_requester_may_raise_the_class_never_lower_it(engine, people, policy):
    first = register(engine, people, policy, version="1")
    _in_production(engine, first)
    second = register(
        engine, people, policy, version="2", features=[*SPEC["features"], "x"]
    )

    with pytest.raises(InvalidInputError, match="never lower it to minor"):
        record_change_class(
            engine,
            actor_id=people["scientist"],
            version_id=second,
            requested_class="minor",
        )
    record_id = record_change_class(
        engine,
        actor_id=people["scientist"],
        version_id=second,
        requested_class="critical",
    )

    with read_session(engine) as session:
        row = session.get(ChangeRecord, record_id)
    assert (row.computed_class, row.change_class, row.baseline_version_id) == (
        "major",
        "critical",
        first,
    )


def test_a_new_model_takes_the_full_workflow(engine, people, policy):
    version_id = register(engine, people, policy)

    record_id = record_change_class(
        engine, actor_id=people["engineer"], version_id=version_id
    )

    with read_session(engine) as session:
        assert session.get(ChangeRecord, record_id).change_class == "critical"


def test_minor_change_is_routed_to_the_ml_engineer(engine, people, policy, artifacts):
    from governance.workflow import get_request, request_approval
    from tests.workflow.conftest import REQUEST, walk_to_approval

    first = register(engine, people, policy, version="1")
    _in_production(engine, first)
    second = register(
        engine,
        people,
        policy,
        version="2",
        params={**SPEC["params"], "n_estimators": "300"},
    )
    record_change_class(engine, actor_id=people["scientist"], version_id=second)
    walk_to_approval(engine, people, policy, second, artifacts, level="high")

    request_id = request_approval(
        engine,
        actor_id=people["scientist"],
        policy=policy,
        version_id=second,
        **REQUEST,
    )

    view = get_request(engine, request_id)
    assert (view.change_class, view.required_roles) == ("minor", ("ml_engineer",))
