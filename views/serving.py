"""Shadow and canary."""

import streamlit as st

st.title("Shadow and canary")
st.info("This page is being built.")
