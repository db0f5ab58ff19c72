"""Classify: every model's genre prediction for the current clip, side by side."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._shared import ensure_app_frame
from pages._shared import (
    SHOW_SYNTH_KEY,
    clip_header,
    clip_hint,
    current_clip,
    data_badge,
    headline_block,
    headline_for,
    headline_label_set,
    headline_models,
    loadable,
    model_entries,
    playhead,
    predictions_or_stop,
    training_overlap_or_none,
)
from genre_core import plots
from genre_core.app.honesty import (
    chartable_latency,
    family_metrics,
    honest_caption,
    label_set_title,
    leaderboard_view,
    name_with_accuracy,
    reliability_warnings,
)
from genre_core.app.tagger_views import (
    GENRE_SET_TITLES,
    INDEPENDENT_NOTE,
    MAPPING_NOTE,
    agreement_rows,
    agreement_sentence,
    can_map,
    default_taggers,
    is_tagger,
    mapped_genres,
    split_entries,
    tag_groups,
    tags_text,
    top_tags_over_time,
)
from genre_core.session import card_dataset, display_name, group_by_labels, spans_time, top_k_text

ensure_app_frame()

COLUMNS = 3
#: The player's container, and the time-axis charts its playhead follows and a click seeks on.
PLAYER = "classify_player"
TIMELINES: list[str] = []

st.title("Classify")
st.caption("Every trained model listens to the clip. One headline answer comes first, from the model with the best "
           "evidence on real music outside its training data, with how sure it is in words. Then each label set's "
           "models × genres heatmap in a fixed genre order, each model's bars as detail, and a timeline of how the "
           "genre changes across the song. Every model's name carries its honest accuracy: the one measured on "
           "tracks (and, for GTZAN, artists) it never saw. Pretrained taggers add their tags.")


def _models_at_a_glance() -> None:
    """Before a clip is loaded: the real-data genre models that will listen, honest accuracy against speed."""
    cards = {e.name: e.card for e in model_entries(include_synthetic=False) if not is_tagger(e.card)}
    for heading, phrase, shown in leaderboard_view(cards)[:1]:
        latency = chartable_latency(shown)
        if latency is None:
            return
        st.subheader(f"The models that will listen · {heading}")
        left, right = st.columns([3, 2])
        left.plotly_chart(plots.leaderboard_figure(list(shown["model"]), shown["accuracy"], latency,
                                                   title=f"Accuracy on {phrase} against latency"),
                          key="classify_models")
        right.dataframe(shown[["model", "accuracy", "latency ms/30 s"]], hide_index=True, key="classify_models_table",
                        column_config={"accuracy": st.column_config.NumberColumn(format="percent",
                                                                                 help=f"On {phrase}."),
                                       "latency ms/30 s": st.column_config.NumberColumn(format="%.0f")})
        right.caption("Compare models has the full leaderboard, each model's confusion matrix and its training "
                      "curves.")


def _choose_models() -> list:
    """The model pickers (shown with or without a clip); the chosen registry entries.

    Ends the run (``st.stop``) with a message when there is nothing to show.
    """
    entries = model_entries(include_synthetic=True)
    if not entries:
        st.warning("No trained models were found in `models/`. Train one with `python -m train classic` "
                   "(see the README), then reload this page.")
        st.stop()
    real, taggers, synthetic = split_entries(entries)
    chosen_taggers = st.multiselect(
        "Pretrained taggers", [e.name for e in taggers], default=default_taggers(taggers), key="classify_taggers",
        format_func=lambda n: display_name(next(e.card for e in taggers if e.name == n), n),
        help="Music taggers pretrained by Pons & Serra (musicnn, VGG) on the Million Song Dataset or "
             "MagnaTagATune. They predict 50 tags (genres, decades, moods, instruments), not one genre, so they "
             "never join the soft vote; they are compared with the genre models through a hand-written crosswalk.",
    ) if taggers else []
    show_synthetic = st.toggle(
        f"Also show the {len(synthetic)} synthetic demo models", key=SHOW_SYNTH_KEY, disabled=not synthetic,
        help="Demo CNNs trained on the project's synthetic styles (not genres). They are shown in their own "
             "section and never compared with the real-data models.",
    )
    chosen = real + [e for e in taggers if e.name in chosen_taggers] + (synthetic if show_synthetic else [])
    if not chosen:
        st.info("No model is selected: add a tagger above, or switch on the synthetic demo models.")
        st.stop()
    return chosen


def _predict(chosen: list, label_set: str) -> tuple[list, float]:
    """Every loadable chosen model's prediction on the clip (the headline's model always among them)."""
    names = loadable(list(dict.fromkeys([e.name for e in chosen] + headline_models(label_set))))
    if not names:
        st.error("None of the selected models could be loaded (see the warnings above).")
        st.stop()
    return predictions_or_stop(current, names)


current = current_clip()
# The clip's player and training-track flag go first on the page but are filled in after the
# predictions: the flag reads the GTZAN-57 features that the models' one pass captures.  Without a
# clip the same place says where to load one, and the page shows the models and their pickers
# (which also gets the browser to load their code before the first upload).
header = st.container(key=PLAYER)
if current is None:
    with header:
        clip_hint("classify")
    _models_at_a_glance()
    _choose_models()
    st.stop()
try:
    chosen = _choose_models()
    label_set = headline_label_set("classify_headline_set")
    predictions, seconds = _predict(chosen, label_set)
finally:  # also when the run stops early: the clip's player and notes are always shown
    with header:
        clip_header(current)

entry_of = {e.name: e for e in model_entries(include_synthetic=True)}
cards = {name: entry.card for name, entry in entry_of.items()}
overlap = training_overlap_or_none(current)
headline = headline_for(predictions, label_set, overlap.novelty if overlap is not None else None)
headline_block(headline)


def _name_with_accuracy(name: str) -> str:
    return name_with_accuracy(cards[name], name)


def _family_metrics(title: str, group: list) -> None:
    figures = family_metrics(title, group, cards)
    window = f"{figures.window_seconds:g} s windows" if figures.window_seconds else "windows"
    columns = st.columns(3)
    columns[0].metric("Models", figures.n_models)
    columns[1].metric("Analysis windows", figures.n_windows,
                      help=f"{window} with half-window hop, as these models were trained; the count is for this "
                           "family only.")
    columns[2].metric("Time taken", f"{figures.seconds:.2f} s", help="Features and prediction for this family's "
                      "models only; repeated views of the same clip come from the cache.")


def _bars(container, group: list) -> None:
    """Each model's probabilities as bars, three to a row, in the label set's own order."""
    with container:
        for start in range(0, len(group), COLUMNS):
            columns = st.columns(COLUMNS)
            for column, prediction in zip(columns, group[start:start + COLUMNS]):
                with column:
                    st.markdown(f"**{display_name(cards[prediction.model], prediction.model, short=True)}**")
                    st.caption(f"{honest_caption(cards[prediction.model])} · "
                               + top_k_text(prediction.labels, prediction.probabilities))
                    st.plotly_chart(
                        plots.probability_bars(prediction.labels, prediction.probabilities, height=320, sort=False),
                        key=f"bars_{prediction.model}",
                    )


def _section(title: str, items: list, prefix: str, novelty=None) -> None:
    for index, (labels, group) in enumerate(group_by_labels(items).items()):
        key = f"{prefix}{index}"
        first = entry_of[group[0].model]
        st.subheader(f"{title} · {card_dataset(first.card)} · {label_set_title(first.label_set, len(labels))}")
        data_badge(first)
        # The novelty check compares with a training fingerprint: only for the groups with a model that has one
        # (a per-group value: one group without a fingerprint must not silence the warning of the next).
        checked = overlap is not None and any(p.model in overlap.checked for p in group)
        group_novelty = novelty if checked else None
        _family_metrics(title, group)
        for message in reliability_warnings(None, group_novelty, cards):
            st.warning(message, icon=":material/report:")
        models = [p.model for p in group]
        st.plotly_chart(
            plots.probability_matrix_figure(
                [_name_with_accuracy(m) for m in models], list(labels),
                np.vstack([p.probabilities for p in group]),
                title="Every model × genre (★ = the model's top answer; % after a name = its honest accuracy)"),
            key=f"matrix_{key}",
        )
        # Drawn only while open (a rerun on toggle): six hidden charts cost the browser ~0.3 s per view.
        bars = st.expander("Each model's probabilities as bars (same genre order in every chart)",
                           key=f"bars_open_{key}", on_change="rerun")
        if bars.open:
            _bars(bars, group)
        over_time = [p for p in group if spans_time(p)]
        if not over_time:
            st.caption("The clip is about one analysis window long, so there is no timeline.")
            continue
        names = [p.model for p in over_time]
        default = names.index(headline.model) if headline.model in names else 0
        pick = st.selectbox("Timeline of", names, index=default, key=f"timeline_{key}",
                            format_func=_name_with_accuracy)
        shown = over_time[names.index(pick)]
        st.plotly_chart(
            plots.timeline_heatmap(shown.windows, shown.window_probabilities, shown.labels,
                                   title=f"{_name_with_accuracy(pick)}: probability per analysis window"),
            key=f"timeline_fig_{key}",
        )
        TIMELINES.append(f"timeline_fig_{key}")


def _tagger_section(prediction) -> None:
    """One tagger: genre tags, the other tags apart, a tag timeline and the mapped genre view."""
    entry = entry_of[prediction.model]
    st.subheader(display_name(entry.card, entry.name))
    data_badge(entry)
    groups = tag_groups(prediction.labels, prediction.probabilities)
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Top genre tags**")
        if groups.genre:
            st.plotly_chart(plots.probability_bars([t for t, _ in groups.genre], [p for _, p in groups.genre],
                                                   height=300), key=f"tags_{prediction.model}")
        st.caption(INDEPENDENT_NOTE)
    with right:
        st.markdown("**Other tags** (not genres)")
        for category, items in groups.other.items():
            st.markdown(f"*{category}:* {tags_text(items)}")
    if spans_time(prediction, min_span=2.0):
        tags, matrix = top_tags_over_time(prediction.labels, prediction.window_probabilities, top=10)
        st.plotly_chart(
            plots.timeline_heatmap(prediction.windows, matrix, tags, height=120 + 22 * len(tags),
                                   title="Top 10 tags per 3 s patch"),
            key=f"tag_timeline_{prediction.model}",
        )
        TIMELINES.append(f"tag_timeline_{prediction.model}")
    else:
        st.caption("The clip is one 3 s patch long, so there is no tag timeline.")
    if can_map(prediction):
        mapped = st.expander("Genre view: this tagger's tags mapped to GTZAN and FMA genres",
                             key=f"mapped_open_{prediction.model}", on_change="rerun")
        if not mapped.open:
            return
        with mapped:
            st.caption(MAPPING_NOTE)
            columns = st.columns(len(GENRE_SET_TITLES))
            for column, (genre_set, set_title) in zip(columns, GENRE_SET_TITLES.items()):
                genres, scores = mapped_genres(prediction, genre_set)
                with column:
                    st.plotly_chart(plots.probability_bars(genres, scores, height=300,
                                                           title=f"{set_title}, mapped"),
                                    key=f"mapped_{genre_set}_{prediction.model}")


def _agreement(genre_predictions: list, tagger_predictions: list) -> None:
    """Which genre each genre model and each (mapped) tagger picks for this clip."""
    st.subheader("Agreement: genre models and taggers on this clip")
    st.caption(MAPPING_NOTE + " The genre models' scores are their own probabilities.")
    label_of = {p.model: display_name(entry_of[p.model].card, p.model, short=True) for p in predictions}
    for genre_set, set_title in GENRE_SET_TITLES.items():
        rows = agreement_rows(genre_predictions, tagger_predictions, genre_set, names=label_of)
        if rows.empty or not (rows["how"] == "trained genre classifier").any():
            continue
        st.markdown(f"**{set_title}:** " + agreement_sentence(rows))
        st.dataframe(rows, hide_index=True, key=f"agreement_{genre_set}", column_config={
            "score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0, format="percent"),
            "how": st.column_config.TextColumn("how the genre was found"),
        })


# A tagger the user did not pick may still have run for the headline: its own section only when picked.
tagger_predictions = [p for p in predictions if p.multi_label and p.model in {e.name for e in chosen}]
real_predictions = [p for p in predictions if entry_of[p.model].is_real_data and not p.multi_label]
synthetic_predictions = [p for p in predictions if not entry_of[p.model].is_real_data]
if real_predictions:
    _section("Real-data models", real_predictions, "real", novelty=overlap.novelty if overlap is not None else None)
if tagger_predictions:
    st.divider()
    st.header("Pretrained taggers")
    st.caption("Tags, not genres: each tagger was trained by its authors to predict 50 tags. Genre tags are shown "
               "first; decades, moods, vocals and instruments apart.")
    for tagger_prediction in tagger_predictions:
        _tagger_section(tagger_prediction)
    if real_predictions:
        st.divider()
        _agreement(real_predictions, tagger_predictions)
if synthetic_predictions:
    st.divider()
    st.warning("The models below are **demos trained on synthetic styles** (e.g. *swing*, *waltz*), not on "
               "real songs. Their labels are styles, not genres, so they are not compared with the "
               "real-data models above.", icon=":material/science:")
    _section("Synthetic demo models", synthetic_predictions, "synth")
if TIMELINES:
    playhead([{"player": PLAYER, "charts": TIMELINES}], key="classify_playhead")
