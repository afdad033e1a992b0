"""ML governance console: the Streamlit entry point and navigation."""

import streamlit as st

from ui.context import configure_logging, identity_sidebar, store

configure_logging()
st.set_page_config(
    page_title="ML governance console", page_icon=":material/balance:", layout="wide"
)

pages = {
    "Models": [
        st.Page(
            "views/inventory.py",
            title="Inventory",
            icon=":material/inventory_2:",
            default=True,
        ),
        st.Page(
            "views/model.py",
            title="Model overview",
            icon=":material/dashboard:",
            url_path="model",
        ),
    ],
    "Review": [
        st.Page(
            "views/explanations.py",
            title="Explanations",
            icon=":material/insights:",
            url_path="explanations",
        ),
        st.Page(
            "views/fairness.py",
            title="Fairness",
            icon=":material/balance:",
            url_path="fairness",
        ),
        st.Page(
            "views/drift.py", title="Drift", icon=":material/waves:", url_path="drift"
        ),
        st.Page(
            "views/data_quality.py",
            title="Data quality",
            icon=":material/fact_check:",
            url_path="data-quality",
        ),
        st.Page(
            "views/model_card.py",
            title="Model card",
            icon=":material/description:",
            url_path="model-card",
        ),
    ],
    "Sign-off": [
        st.Page(
            "views/inbox.py", title="My work", icon=":material/inbox:", url_path="inbox"
        ),
        st.Page(
            "views/request.py",
            title="Request approval",
            icon=":material/send:",
            url_path="request",
        ),
        st.Page(
            "views/review.py",
            title="Review and decide",
            icon=":material/task_alt:",
            url_path="review",
        ),
        st.Page(
            "views/deployment.py",
            title="Deployment",
            icon=":material/rocket_launch:",
            url_path="deployment",
        ),
    ],
    "Operations": [
        st.Page(
            "views/monitoring.py",
            title="Monitoring",
            icon=":material/monitor_heart:",
            url_path="monitoring",
        ),
        st.Page(
            "views/serving.py",
            title="Shadow and canary",
            icon=":material/call_split:",
            url_path="shadow-canary",
        ),
        st.Page(
            "views/incidents.py",
            title="Incidents",
            icon=":material/emergency:",
            url_path="incidents",
        ),
        st.Page(
            "views/calendar.py",
            title="Review calendar",
            icon=":material/event:",
            url_path="calendar",
        ),
    ],
    "Governance": [
        st.Page(
            "views/people.py",
            title="People and roles",
            icon=":material/group:",
            url_path="people",
        ),
        st.Page(
            "views/audit.py",
            title="Audit trail",
            icon=":material/link:",
            url_path="audit",
        ),
        st.Page(
            "views/reports.py",
            title="Compliance reports",
            icon=":material/summarize:",
            url_path="reports",
        ),
        st.Page(
            "views/kpis.py",
            title="Governance KPIs",
            icon=":material/trending_up:",
            url_path="kpis",
        ),
        st.Page(
            "views/training.py",
            title="Training",
            icon=":material/school:",
            url_path="training",
        ),
        st.Page(
            "views/records.py",
            title="Retention and backup",
            icon=":material/inventory:",
            url_path="records",
        ),
    ],
}
navigation = st.navigation(pages)
store()
identity_sidebar()
navigation.run()
