"""Classify: every model's genre prediction for the current clip, side by side."""

from __future__ import annotations

import streamlit as st

from pages._shared import ensure_app_frame
from pages._shared import (
    SHOW_SYNTH_KEY,
    clip_header,
    data_badge,
    model_entries,
    predictions_or_stop,
    require_clip,
)
from genre_core import plots
from genre_core.session import card_dataset, display_name, group_by_labels, spans_time, top_k_text

ensure_app_frame()

COLUMNS = 3

st.title("Classify")
st.caption("Every trained model listens to the clip; their probabilities are shown side by side, "
           "with a soft-vote ensemble and a timeline of how the genre changes across the song.")
current = require_clip("classify")
clip_header(current)

entries = model_entries(include_synthetic=True)
if not entries:
    st.warning("No trained models were found in `models/`. Train one with `python -m train classic` "
               "(see the README), then reload this page.")
    st.stop()

real = [e for e in entries if e.is_real_data]
synthetic = [e for e in entries if not e.is_real_data]
show_synthetic = st.toggle(
    f"Also show the {len(synthetic)} synthetic demo models", key=SHOW_SYNTH_KEY, disabled=not synthetic,
    help="Demo CNNs trained on the project's synthetic styles (not genres). They are shown in their own "
         "section and never compared with the real-data models.",
)
chosen = real + (synthetic if show_synthetic else [])
if not chosen:
    st.info("Only synthetic demo models are installed: switch on the toggle above to see them.")
    st.stop()

predictions, seconds = predictions_or_stop(current, [e.name for e in chosen])

entry_of = {e.name: e for e in chosen}
n_windows = max((len(p.windows) for p in predictions), default=0)
metrics = st.columns(3)
metrics[0].metric("Models", len(predictions))
metrics[1].metric("Analysis windows", n_windows, help="30 s windows with 15 s hop for the classical "
                  "models; deep models use their own segment length.")
metrics[2].metric("Time taken", f"{seconds:.2f} s", help="Feature computation is shared between models "
                  "that read the same input; repeated views of the same clip come from the cache.")


def _section(title: str, items: list, prefix: str) -> None:
    from genre_core.predict import soft_vote

    for index, (labels, group) in enumerate(group_by_labels(items).items()):
        key = f"{prefix}{index}"
        first = entry_of[group[0].model]
        st.subheader(f"{title} · {card_dataset(first.card)} ({len(labels)} labels)")
        data_badge(first)
        ensemble = soft_vote(group) if len(group) > 1 else None
        if ensemble is not None:
            left, right = st.columns([1, 2])
            left.metric("Ensemble (soft vote)", ensemble.genre,
                        help="Mean of the models' probabilities; only models sharing this label set vote.")
            left.caption(top_k_text(ensemble.labels, ensemble.probabilities))
            with right:
                st.plotly_chart(
                    plots.probability_bars(ensemble.labels, ensemble.probabilities, title="Soft-vote ensemble",
                                           height=280),
                    key=f"ensemble_{key}",
                )
        for start in range(0, len(group), COLUMNS):
            columns = st.columns(COLUMNS)
            for column, prediction in zip(columns, group[start:start + COLUMNS]):
                entry = entry_of[prediction.model]
                with column:
                    st.markdown(f"**{display_name(entry.card, entry.name, short=True)}**")
                    st.caption(top_k_text(prediction.labels, prediction.probabilities))
                    st.plotly_chart(
                        plots.probability_bars(prediction.labels, prediction.probabilities, height=300),
                        key=f"bars_{prediction.model}",
                    )
        over_time = [p for p in ([ensemble] if ensemble is not None else []) + group if spans_time(p)]
        if not over_time:
            st.caption("The clip is about one analysis window long, so there is no timeline.")
            continue
        names = [p.model for p in over_time]

        def _label(name: str) -> str:
            return "Soft-vote ensemble" if name not in entry_of else display_name(entry_of[name].card, name,
                                                                                    short=True)

        pick = st.selectbox("Timeline of", names, key=f"timeline_{key}", format_func=_label)
        shown = over_time[names.index(pick)]
        st.plotly_chart(
            plots.timeline_heatmap(shown.windows, shown.window_probabilities, shown.labels,
                                   title=f"{_label(pick)}: probability per analysis window"),
            key=f"timeline_fig_{key}",
        )


real_predictions = [p for p in predictions if entry_of[p.model].is_real_data]
synthetic_predictions = [p for p in predictions if not entry_of[p.model].is_real_data]
if real_predictions:
    _section("Real-data models", real_predictions, "real")
if synthetic_predictions:
    st.divider()
    st.warning("The models below are **demos trained on synthetic styles** (e.g. *swing*, *waltz*), not on "
               "real songs. Their labels are styles, not genres, so they are not compared with the "
               "real-data models above.", icon=":material/science:")
    _section("Synthetic demo models", synthetic_predictions, "synth")
