"""Review calendar."""

import streamlit as st

st.title("Review calendar")
st.info("This page is being built.")
