"""Streamlit-free helpers for the app's pages: what a page shows, computed from genre_core's results.

Nothing here imports Streamlit, so every helper is unit-tested without a server.
"""
