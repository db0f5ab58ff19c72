"""Compare models: the leaderboard from the model cards, per-model diagnostics, agreement on the clip."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._shared import ensure_app_frame
from pages._shared import current_clip, data_badge, loadable, model_entries, predictions_or_stop
from genre_core import plots
from genre_core.app.tagger_views import (
    GENRE_SET_TITLES,
    MAPPING_NOTE,
    agreement_rows,
    agreement_sentence,
    is_tagger,
    mapped_matrix,
    tagger_table,
    trained_on,
)
from genre_core.session import (
    agreement_summary,
    card_notes,
    display_name,
    evaluation_protocols,
    group_by_labels,
    leaderboard,
    leaderboard_groups,
    probability_matrix,
    protocol_title,
)

ensure_app_frame()

HIDDEN = ["model", "dataset", "label_set", "source"]

st.title("Compare models")
st.caption("Scores from each model's card, grouped by data set and label set: numbers are only comparable "
           "within a group (same data, same labels, same protocol).")

entries = model_entries(include_synthetic=True)
if not entries:
    st.warning("No trained models were found in `models/`. Train some with `python -m train classic` and "
               "`python -m train.deep` (see the README), then reload this page.")
    st.stop()
cards = {e.name: e.card for e in entries}
# Taggers have the authors' ROC-AUC / PR-AUC, not an accuracy: they get their own table below.
table = leaderboard({n: c for n, c in cards.items() if not is_tagger(c)})

st.header("Leaderboard")
for index, (dataset, label_set, rows) in enumerate(leaderboard_groups(table)):
    st.subheader(f"{dataset} · {label_set}")
    data_badge(cards[rows["model"].iloc[0]])
    shown = rows.drop(columns=[c for c in HIDDEN if c in rows]).rename(columns={"display_name": "model"})
    shown["model"] = [name.split(" · ")[0] for name in shown["model"]]
    # Scores first, descriptions last: the architecture strings are long.
    described = [c for c in ("kind", "architecture") if c in shown]
    shown = shown[[c for c in shown.columns if c not in described] + described]
    config = {
        column: st.column_config.NumberColumn(column, format="percent")
        for column in shown.columns if column.endswith("accuracy") or column.endswith("macro-F1")
    }
    config.update({
        "latency ms/30 s": st.column_config.NumberColumn("latency ms/30 s", format="%.0f",
                                                         help="Time to classify 30 s of audio, features included."),
        "size MB": st.column_config.NumberColumn("size MB", format="%.2f"),
        "training s": st.column_config.NumberColumn("training s", format="%.0f"),
    })
    st.dataframe(shown, hide_index=True, column_config=config, key=f"leaderboard_{index}")
    accuracy_columns = [c for c in rows.columns if c.endswith("accuracy")]
    latency = rows.get("latency ms/30 s")
    if len(rows) > 1 and accuracy_columns and latency is not None and latency.notna().all():
        best = rows[accuracy_columns].max(axis=1)
        st.plotly_chart(plots.leaderboard_figure([n.split(" · ")[0] for n in rows["display_name"]], best, latency,
                                                 title="Best accuracy against latency"),
                        key=f"leaderboard_fig_{index}")

taggers = tagger_table(cards)
if not taggers.empty:
    st.subheader("Pretrained taggers · 50 tags each")
    data_badge(cards[taggers["model"].iloc[0]])
    st.caption("ROC-AUC and PR-AUC are **the authors' figures** on the MSD / MagnaTagATune test sets, as published "
               "with musicnn (Pons & Serra, 2019); they were not measured here. They average over all 50 tags, "
               "so they are not comparable with the genre accuracies above.")
    st.dataframe(taggers.drop(columns=["model"]), hide_index=True, key="leaderboard_taggers", column_config={
        "authors' ROC-AUC": st.column_config.NumberColumn("authors' ROC-AUC", format="%.3f"),
        "authors' PR-AUC": st.column_config.NumberColumn("authors' PR-AUC", format="%.3f"),
    })

st.header("One model in detail")
name = st.selectbox("Model", list(cards), key="compare_model",
                    format_func=lambda n: display_name(cards[n], n))
card = cards[name]
data_badge(card)
for note in card_notes(card):
    st.caption(note)
protocols = evaluation_protocols(card)
if is_tagger(card):
    authors = (card.get("metrics") or {}).get("authors_test") or {}
    source = card.get("source") or {}
    m1, m2 = st.columns(2)
    if authors.get("roc_auc") is not None:
        m1.metric("ROC-AUC (authors' test set)", f"{authors['roc_auc']:.3f}",
                  help=f"Published by the authors for the {trained_on(card)} test set; not measured here.")
    if authors.get("pr_auc") is not None:
        m2.metric("PR-AUC (authors' test set)", f"{authors['pr_auc']:.3f}",
                  help=f"Published by the authors for the {trained_on(card)} test set; not measured here.")
    st.caption(f"Weights: {source.get('citation', '?')} {source.get('copyright', '')} "
               f"Licence: {source.get('licence', '?')}.")
elif protocols:
    protocol = st.segmented_control("Evaluation", protocols, default=protocols[0], key=f"compare_protocol_{name}",
                                    format_func=protocol_title) or protocols[0]
    metrics = card["metrics"][protocol]
    m1, m2 = st.columns(2)
    if metrics.get("accuracy") is not None:
        m1.metric("Accuracy", f"{metrics['accuracy']:.1%}")
    if metrics.get("macro_f1") is not None:
        m2.metric("Macro-F1", f"{metrics['macro_f1']:.3f}")
    left, right = st.columns(2)
    labels = metrics.get("labels") or card.get("labels") or []
    if "confusion_matrix" in metrics and labels:
        with left:
            st.plotly_chart(plots.confusion_matrix_figure(np.asarray(metrics["confusion_matrix"]), labels,
                                                          title="Confusion matrix (row-normalised, counts shown)"),
                            key="compare_confusion")
    if metrics.get("per_class"):
        with right:
            st.plotly_chart(plots.per_class_f1_figure(metrics["per_class"], title="F1 per class"),
                            key="compare_f1")
else:
    st.info("This model's card has no per-class evaluation.")
history = card.get("history") or {}
if history:
    st.plotly_chart(plots.training_curves_figure(history, title="Training curves"), key="compare_history")

st.header("On the current clip")
current = current_clip()
if current is None:
    st.info("Load a clip in the sidebar to see where the models agree on it.", icon=":material/arrow_back:")
    st.stop()
include_synthetic = st.toggle("Include the synthetic demo models", key="compare_show_synthetic")
chosen = [e for e in entries if e.is_real_data or include_synthetic]
if not chosen:
    st.info("Only synthetic demo models are installed: switch on the toggle above to compare them on this clip.")
    st.stop()
predictions, _ = predictions_or_stop(current, loadable([e.name for e in chosen]))
genre_predictions = [p for p in predictions if not p.multi_label]
tagger_predictions = [p for p in predictions if p.multi_label]
for index, (labels, group) in enumerate(group_by_labels(genre_predictions).items()):
    summary = agreement_summary(group)
    first_card = cards[group[0].model]
    st.subheader(f"{(first_card.get('data') or {}).get('dataset', '?')} · {len(labels)} labels")
    data_badge(first_card)
    if summary["unanimous"] and summary["n_models"] > 1:
        st.success(f"All {summary['n_models']} models agree: **{summary['majority']}**.")
    elif summary["n_models"] > 1:
        voters = {label: [display_name(cards[m], m, short=True) for m, t in summary["top"].items() if t == label]
                  for label in summary["votes"]}
        lead = "The models are split." if summary["tie"] else \
            f"{summary['n_agree']} of {summary['n_models']} models say **{summary['majority']}**."
        st.info(lead + " Votes: " + "; ".join(f"**{label}**: {', '.join(names)}"
                                              for label, names in voters.items()) + ".")
    models, label_list, matrix = probability_matrix(group)
    st.plotly_chart(plots.probability_matrix_figure([display_name(cards[m], m, short=True) for m in models],
                                                    label_list, matrix,
                                                    title="Probability per model (★ = the model's top label)"),
                    key=f"compare_clip_{index}")

if tagger_predictions:
    st.subheader("Genre models and taggers, through the crosswalk")
    st.caption(MAPPING_NOTE)
    names = {p.model: display_name(cards[p.model], p.model, short=True) for p in predictions}
    for genre_set, set_title in GENRE_SET_TITLES.items():
        rows = agreement_rows(genre_predictions, tagger_predictions, genre_set, names=names)
        if rows.empty:
            continue
        st.markdown(f"**{set_title}:** " + agreement_sentence(rows))
        models, genres, matrix = mapped_matrix(tagger_predictions, genre_set)
        st.plotly_chart(plots.probability_matrix_figure(
            [f"{names[m]} (mapped)" for m in models], genres, matrix,
            title=f"Taggers' {set_title} genres, mapped from tags (★ = top mapped genre)"),
            key=f"compare_mapped_{genre_set}")
