"""Home: what an LSTM is, why it remembers where a plain RNN forgets, and a map of the pages."""

import streamlit as st

from ui.frame import PAGES
from ui.i18n import t

st.title(t("home.title"))
st.markdown(t("home.lead"))

left, right = st.columns([3, 2])
with left:
    st.subheader(t("home.what_title"))
    st.markdown(t("home.what"))
    st.subheader(t("home.why_title"))
    st.markdown(t("home.why"))
with right:
    st.subheader(t("home.equations_title"))
    st.latex(
        r"\begin{aligned}"
        r"f_t &= \sigma(W_f[h_{t-1}, x_t] + b_f) \\"
        r"i_t &= \sigma(W_i[h_{t-1}, x_t] + b_i) \\"
        r"\tilde{c}_t &= \tanh(W_c[h_{t-1}, x_t] + b_c) \\"
        r"o_t &= \sigma(W_o[h_{t-1}, x_t] + b_o) \\"
        r"c_t &= f_t \odot c_{t-1} + i_t \odot \tilde{c}_t \\"
        r"h_t &= o_t \odot \tanh(c_t)"
        r"\end{aligned}"
    )
    st.caption(t("home.equations_caption"))

st.subheader(t("home.map_title"))
for spec in PAGES:
    if spec.default:
        continue
    with st.container(border=True):
        st.page_link(spec.file, label=t(f"nav.{spec.id}"), icon=spec.icon)
        st.markdown(t(f"home.promise_{spec.id}"))

st.caption(t("home.sources"))
