"""People and roles: who holds which role, and the administrator's account tools."""

from functools import partial

import streamlit as st

from governance.access import ROLE_TITLES, ROLES, grant_role, list_people, revoke_role
from governance.identity import (
    MIN_PASSWORD_LENGTH,
    account_statuses,
    create_local_account,
    set_active,
    set_password,
)
from governance.records.erasure import erase_person
from ui.context import acting_person, store
from ui.signoff import act, show_flash

_, engine, _ = store()
st.title("People and roles")
show_flash()
st.caption(
    "Roles are stored in the console's database and read again on every action. "
    "One person may hold several roles; the requester of an approval never approves it."
)
people = list_people(engine)
status = account_statuses(engine)
st.dataframe(
    {
        "Name": [person.display_name for person in people],
        "Username": [person.username for person in people],
        "User id": [person.id for person in people],
        **{
            ROLE_TITLES[role]: [role in person.roles for person in people]
            for role in ROLES
        },
        "Active": [status[person.id].is_active for person in people],
        "Password sign-in": [status[person.id].has_password for person in people],
        "Linked to identity provider": [status[p.id].is_linked for p in people],
    },
    hide_index=True,
    key="people_table",
)

admin = acting_person()
if admin is None or "admin" not in admin.roles:
    st.caption("An administrator manages accounts and roles here.")
    st.stop()

ids = [person.id for person in people]
label = {person.id: f"{person.display_name} ({person.username})" for person in people}

st.subheader("Create a local account")
with st.form("people_create", clear_on_submit=True):
    username = st.text_input("Username", key="people_username")
    display_name = st.text_input("Full name", key="people_display_name")
    email = st.text_input("E-mail (links a sign-in with the identity provider)")
    password = st.text_input(
        f"Initial password (at least {MIN_PASSWORD_LENGTH} characters)",
        type="password",
        key="people_password",
    )
    roles = st.multiselect(
        "Roles", ROLES, format_func=ROLE_TITLES.__getitem__, key="people_roles"
    )
    if st.form_submit_button("Create the account", type="primary"):
        act(
            partial(
                create_local_account,
                engine,
                actor_id=admin.id,
                username=username,
                display_name=display_name,
                email=email,
                password=password,
                roles=tuple(roles),
            ),
            f"Account {username.strip().lower()} created.",
        )

st.subheader("Change an account")
user_id = st.selectbox("Person", ids, format_func=label.__getitem__, key="people_user")
role = st.selectbox(
    "Role", ROLES, format_func=ROLE_TITLES.__getitem__, key="people_role"
)
grant, revoke = st.columns(2)
change = {"actor_id": admin.id, "user_id": user_id, "role": role}
if grant.button("Grant the role", key="people_grant"):
    act(partial(grant_role, engine, **change), f"{ROLE_TITLES[role]} granted.")
if revoke.button("Revoke the role", key="people_revoke"):
    act(partial(revoke_role, engine, **change), f"{ROLE_TITLES[role]} revoked.")

new_password = st.text_input("New password", type="password", key="people_new_password")
if st.button("Set the password", key="people_set_password"):
    act(
        partial(
            set_password,
            engine,
            actor_id=admin.id,
            user_id=user_id,
            password=new_password,
        ),
        "Password set.",
    )

reason = st.text_input("Reason for (de)activating", key="people_reason")
is_active = status[user_id].is_active
if st.button(
    "Deactivate the account" if is_active else "Reactivate the account",
    key="people_toggle_active",
):
    act(
        partial(
            set_active,
            engine,
            actor_id=admin.id,
            user_id=user_id,
            is_active=not is_active,
            reason=reason,
        ),
        "Account deactivated." if is_active else "Account reactivated.",
    )

st.subheader("Erase personal data (GDPR)")
st.caption(
    "Removes the chosen person's name, e-mail and sign-in data and deactivates the "
    "account; the stable user id stays, so the audit trail still verifies."
)
erase_reason = st.text_input("Request it answers", key="people_erase_reason")
sure = st.checkbox(
    "I confirm erasing the person chosen above; this cannot be undone.",
    key="people_erase_confirm",
)
if st.button("Erase personal data", disabled=not sure, key="people_erase"):
    act(
        partial(
            erase_person,
            engine,
            actor_id=admin.id,
            user_id=user_id,
            reason=erase_reason,
        ),
        "Personal data erased; the account is deactivated.",
    )
