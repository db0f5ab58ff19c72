"""Teach it: train a genre head of your own on a pretrained tagger's embeddings."""

from __future__ import annotations

import streamlit as st

from pages._shared import ensure_app_frame

ensure_app_frame()

st.title("Teach it")
st.info("Coming next: give a few clips per class and train your own classifier in seconds.")
