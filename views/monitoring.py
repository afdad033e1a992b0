"""Monitoring."""

import streamlit as st

st.title("Monitoring")
st.info("This page is being built.")
