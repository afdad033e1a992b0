"""People and roles: who holds which of the framework's roles."""

import streamlit as st

from governance.access import ROLE_TITLES, ROLES, list_people
from ui.context import store

_, engine, _ = store()
st.title("People and roles")
st.caption(
    "Roles are stored in the console's database and read again on every action. "
    "One person may hold several roles; the requester of an approval never approves it."
)
people = list_people(engine)
st.dataframe(
    {
        "Name": [person.display_name for person in people],
        "Username": [person.username for person in people],
        "User id": [person.id for person in people],
        **{
            ROLE_TITLES[role]: [role in person.roles for person in people]
            for role in ROLES
        },
    },
    hide_index=True,
    key="people_table",
)
