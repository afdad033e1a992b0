"""Incidents."""

import streamlit as st

st.title("Incidents")
st.info("This page is being built.")
