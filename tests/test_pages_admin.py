"""The admin page for people and roles, and what planted session state is worth."""

import pytest

from governance.access import get_person, grant_role
from governance.errors import PermissionDeniedError
from governance.identity import sign_in_local
from tests.app_support import open_page, person

PEOPLE_PAGE = "views/people.py"
PASSWORD = "a long enough pass phrase"


def test_model_owner_with_planted_admin_role_gets_no_admin_tools(app_store):
    engine, _ = app_store

    app = open_page(
        "layla",
        PEOPLE_PAGE,
        roles=["admin"],
        is_admin=True,
        role_titles="Administrator",
    )

    assert app.title[0].value == "People and roles"
    assert [box.key for box in app.text_input] == []
    assert [button.key for button in app.button] == []
    assert (
        app.main.caption[-1].value
        == "An administrator manages accounts and roles here."
    )
    with pytest.raises(PermissionDeniedError, match="Administrator"):
        grant_role(
            engine, actor_id=person("layla"), user_id=person("layla"), role="admin"
        )
    assert get_person(engine, person("layla")).roles == ("model_owner",)


def test_administrator_creates_a_local_account_that_can_sign_in(app_store):
    engine, _ = app_store
    app = open_page("admin", PEOPLE_PAGE)

    app.text_input(key="people_username").input("Karim")
    app.text_input(key="people_display_name").input("Karim Aziz")
    app.text_input(key="people_password").input(PASSWORD)
    app.multiselect(key="people_roles").select("ml_engineer").select("data_scientist")
    app.button[0].click().run()

    assert not app.exception
    assert app.success[0].value == "Account karim created."
    table = app.dataframe[0].value
    row = table[table["Username"] == "karim"].iloc[0]
    assert (bool(row["ML engineer"]), bool(row["Data scientist"])) == (True, True)
    assert bool(row["Password sign-in"])
    signed = sign_in_local(engine, "karim", PASSWORD)
    assert get_person(engine, signed.user_id).roles == ("data_scientist", "ml_engineer")


def test_short_password_is_refused_with_the_rule(app_store):
    app = open_page("admin", PEOPLE_PAGE)

    app.text_input(key="people_username").input("karim")
    app.text_input(key="people_password").input("short")
    app.button[0].click().run()

    assert app.error[0].value.startswith("A password needs 15 to 256 characters")


def test_granted_and_revoked_roles_take_effect_at_once(app_store):
    engine, _ = app_store
    app = open_page("admin", PEOPLE_PAGE)

    app.selectbox(key="people_user").select(person("layla"))
    app.selectbox(key="people_role").select("ml_engineer")
    app.button(key="people_grant").click().run()
    assert app.success[0].value == "ML engineer granted."
    assert get_person(engine, person("layla")).roles == ("model_owner", "ml_engineer")
    layla = open_page("layla", "views/inbox.py")
    assert "Model owner, ML engineer" in layla.main.caption[0].value

    app.button(key="people_revoke").click().run()
    assert app.success[0].value == "ML engineer revoked."
    layla = open_page("layla", "views/inbox.py")
    assert "(Model owner)" in layla.main.caption[0].value


def test_deactivated_person_can_no_longer_act(app_store):
    app = open_page("admin", PEOPLE_PAGE)

    app.selectbox(key="people_user").select(person("omar"))
    app.text_input(key="people_reason").input("Left the company.")
    app.button(key="people_toggle_active").click().run()

    assert app.success[0].value == "Account deactivated."
    table = app.dataframe[0].value
    assert not bool(table[table["Username"] == "omar"].iloc[0]["Active"])
    omar = open_page("omar", "views/request.py")
    assert omar.info[0].value.startswith("Choose a demo person under **Acting as**")


def test_administrator_cannot_deactivate_themself(app_store):
    app = open_page("admin", PEOPLE_PAGE)

    app.selectbox(key="people_user").select(person("admin"))
    app.text_input(key="people_reason").input("Testing.")
    app.button(key="people_toggle_active").click().run()

    assert app.error[0].value.startswith("You cannot deactivate your own account")
