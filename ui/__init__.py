"""Streamlit-side helpers: cached resources, the acting identity, shared widgets."""
