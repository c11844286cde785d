"""LSTM Lab: the frame of the app (a placeholder until the pages arrive)."""

import streamlit as st

st.set_page_config(page_title="LSTM Lab", page_icon=":material/memory:", layout="wide")
st.title("LSTM Lab")
st.write(
    "An LSTM written in NumPy, run step by step so you can see it think. "
    "The engine (`lstm_core`) is here; the pages come next."
)
