"""ML governance console: the Streamlit entry point and navigation."""

import streamlit as st

from ui.context import configure_logging, identity_sidebar, store

configure_logging()
st.set_page_config(page_title="ML governance console", page_icon="⚖️", layout="wide")

pages = {
    "Models": [
        st.Page("pages/inventory.py", title="Inventory", icon="🗂️", default=True),
        st.Page("pages/model.py", title="Model overview", icon="📦", url_path="model"),
    ],
    "Review": [
        st.Page(
            "pages/explanations.py",
            title="Explanations",
            icon="🔍",
            url_path="explanations",
        ),
        st.Page("pages/fairness.py", title="Fairness", icon="⚖️", url_path="fairness"),
        st.Page("pages/drift.py", title="Drift", icon="🌊", url_path="drift"),
        st.Page(
            "pages/data_quality.py",
            title="Data quality",
            icon="🧹",
            url_path="data-quality",
        ),
        st.Page(
            "pages/model_card.py", title="Model card", icon="📝", url_path="model-card"
        ),
    ],
    "Sign-off": [
        st.Page("pages/inbox.py", title="My work", icon="📥", url_path="inbox"),
        st.Page(
            "pages/request.py", title="Request approval", icon="✉️", url_path="request"
        ),
        st.Page(
            "pages/review.py", title="Review and decide", icon="✅", url_path="review"
        ),
        st.Page(
            "pages/deployment.py", title="Deployment", icon="🚀", url_path="deployment"
        ),
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
