"""Retention and backup."""

import streamlit as st

st.title("Retention and backup")
st.info("This page is being built.")
