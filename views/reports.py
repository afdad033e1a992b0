"""Compliance reports."""

import streamlit as st

st.title("Compliance reports")
st.info("This page is being built.")
