import pytest

from governance.access import get_person, grant_role, list_people, revoke_role, roles_of
from governance.audit import verify_chain
from governance.errors import ConflictError, InvalidInputError, PermissionDeniedError
from governance.store import read_session


def test_administrator_grants_and_revokes_with_audit(engine, people):
    grant_role(
        engine,
        actor_id=people["admin"],
        user_id=people["scientist"],
        role="ml_engineer",
    )
    assert get_person(engine, people["scientist"]).roles == (
        "data_scientist",
        "ml_engineer",
    )

    revoke_role(
        engine,
        actor_id=people["admin"],
        user_id=people["scientist"],
        role="data_scientist",
    )
    with read_session(engine) as session:
        assert roles_of(session, people["scientist"]) == {"ml_engineer"}
    assert verify_chain(engine).is_intact


@pytest.mark.parametrize(
    "actor", ["owner", "scientist", "engineer", "compliance", "security"]
)
def test_only_an_administrator_grants_roles(engine, people, actor):
    with pytest.raises(PermissionDeniedError, match="Administrator"):
        grant_role(engine, actor_id=people[actor], user_id=people[actor], role="admin")
    assert "admin" not in get_person(engine, people[actor]).roles


def test_granting_twice_or_an_unknown_role_is_refused(engine, people):
    with pytest.raises(ConflictError, match="already holds"):
        grant_role(
            engine,
            actor_id=people["admin"],
            user_id=people["owner"],
            role="model_owner",
        )
    with pytest.raises(InvalidInputError, match="Unknown role 'chief'"):
        grant_role(
            engine, actor_id=people["admin"], user_id=people["owner"], role="chief"
        )


def test_people_are_listed_with_roles_in_framework_order(engine, people):
    listed = {person.username: person for person in list_people(engine)}

    assert set(listed) == set(people)
    assert listed["owner"].role_titles == "Model owner"
    assert "system" not in listed
