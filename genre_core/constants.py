"""Re-export of :mod:`genre_core.config` for the Streamlit pages and session helpers that still import it."""

from .config import (FMA_SMALL_GENRES, GTZAN_GENRES, MODELS_DIR, PROJECT_ROOT, SAMPLE_RATE,  # noqa: F401
                     SHARED_DATA_DIR)
