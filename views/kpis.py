"""Governance KPIs."""

import streamlit as st

st.title("Governance KPIs")
st.info("This page is being built.")
