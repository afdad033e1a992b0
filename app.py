"""ML governance console: the Streamlit entry point and navigation."""

import streamlit as st

from ui.context import configure_logging, identity_sidebar, store

configure_logging()
st.set_page_config(page_title="ML governance console", page_icon="⚖️", layout="wide")

pages = {
    "Models": [
        st.Page("pages/inventory.py", title="Inventory", icon="🗂️", default=True),
        st.Page("pages/model.py", title="Model", icon="📦", url_path="model"),
    ],
    "Governance": [
        st.Page(
            "pages/people.py", title="People and roles", icon="👥", url_path="people"
        ),
        st.Page("pages/audit.py", title="Audit trail", icon="🔗", url_path="audit"),
    ],
}
navigation = st.navigation(pages)
store()
identity_sidebar()
navigation.run()
