"""Genre Lab: the Streamlit app.

Run with ``streamlit run app.py``.  This script sets up the navigation and the
sidebar shared by every page (the current clip); the pages live in ``pages/``.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Genre Lab", page_icon="🎵", layout="wide")

from pages._shared import clip_sidebar, error_banner  # noqa: E402  (after set_page_config)

PAGES = [
    st.Page("pages/classify.py", title="Classify", icon=":material/graphic_eq:", default=True),
    st.Page("pages/spectrogram_lab.py", title="Spectrogram lab", icon=":material/science:"),
    st.Page("pages/inside_cnn.py", title="Inside the CNN", icon=":material/neurology:"),
    st.Page("pages/compare_models.py", title="Compare models", icon=":material/leaderboard:"),
    st.Page("pages/live.py", title="Live", icon=":material/mic:"),
]

navigation = st.navigation(PAGES)
clip_sidebar()
error_banner()
navigation.run()
