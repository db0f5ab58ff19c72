"""Compare models: the leaderboard from the model cards, per-model diagnostics, agreement on the clip."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._shared import ensure_app_frame
from pages._shared import (
    UPLOADER_TYPES,
    current_clip,
    data_badge,
    formats_text,
    get_predictor,
    headline_block,
    headline_for,
    headline_label_set,
    headline_models,
    loadable,
    model_entries,
    predictions_or_stop,
    training_flag,
    training_overlap_or_none,
    upload_limit_mb,
)
from genre_core import plots
from genre_core.app import labelled_views
from genre_core.app.labelled_views import (
    UploadEvaluation,
    by_vocabulary,
    collections_text,
    confusion,
    evaluate_uploads,
    files_key,
    label_rows,
    model_vocabularies,
    score_table,
    stored_summary,
    unlabelled,
    uploads_key,
    vocabulary_title,
    wrong_clips_table,
)
from genre_core.app.honesty import (
    chartable_latency,
    curves_note,
    honest_caption,
    label_set_title,
    leaderboard_view,
    protocol_options,
    protocol_phrase,
    readable_notes,
)
from genre_core.app.tagger_views import (
    GENRE_SET_TITLES,
    MAPPING_NOTE,
    agreement_rows,
    agreement_sentence,
    default_taggers,
    is_tagger,
    mapped_matrix,
    tagger_table,
    trained_on,
)
from genre_core.evaluation import EvidenceError, stored_scores
from genre_core.session import (
    agreement_summary,
    display_name,
    evaluation_protocols,
    group_by_labels,
    probability_matrix,
)

ensure_app_frame()

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
st.header("Leaderboard")
st.caption("Sorted by the **honest** figure: GTZAN models by the artist-filtered (fault-filtered) test split, where "
           "no artist is on both sides; the deep demos by their held-out test tracks. Random-fold cross-validation "
           "puts songs by one artist in training and test, so it is shown only for reference, and it is higher.")
for index, (heading, phrase, shown) in enumerate(leaderboard_view({n: c for n, c in cards.items()
                                                                   if not is_tagger(c)})):
    st.subheader(heading)
    data_badge(cards[shown["model key"].iloc[0]])
    st.caption(f"Accuracy and macro-F1 on {phrase}.")
    config = {
        "accuracy": st.column_config.NumberColumn("accuracy", format="percent", help=f"On {phrase}."),
        "macro-F1": st.column_config.NumberColumn("macro-F1", format="%.3f", help=f"On {phrase}."),
        "random-fold CV accuracy": st.column_config.NumberColumn(
            "random-fold CV", format="percent", help="10-fold cross-validation with random folds: optimistic, "
            "because songs by one artist land in both training and test folds."),
        "latency ms/30 s": st.column_config.NumberColumn("latency ms/30 s", format="%.0f",
                                                         help="Time to classify 30 s of audio, features included."),
        "size MB": st.column_config.NumberColumn("size MB", format="%.2f"),
    }
    st.dataframe(shown.drop(columns=["model key"]), hide_index=True, column_config=config,
                 key=f"leaderboard_{index}", width="stretch")
    latency = chartable_latency(shown)
    if latency is not None:
        st.plotly_chart(plots.leaderboard_figure(list(shown["model"]), shown["accuracy"], latency,
                                                 title=f"Accuracy on {phrase} against latency"),
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
                    format_func=lambda n: f"{display_name(cards[n], n)} · {honest_caption(cards[n])}")
card = cards[name]
data_badge(card)
st.caption(f"Architecture: {card.get('architecture', '?')}")
for note in readable_notes(card):
    st.caption(note)
protocols = protocol_options(card, evaluation_protocols(card))
metrics: dict = {}
labels: list = []
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
                                    format_func=lambda k: protocol_phrase(k)[:1].upper() + protocol_phrase(k)[1:],
                                    help="The first is the honest protocol (no artist or track on both sides).") \
        or protocols[0]
    metrics = card["metrics"][protocol]
    m1, m2 = st.columns(2)
    if metrics.get("accuracy") is not None:
        m1.metric("Accuracy", f"{metrics['accuracy']:.1%}")
    if metrics.get("macro_f1") is not None:
        m2.metric("Macro-F1", f"{metrics['macro_f1']:.3f}")
    labels = metrics.get("labels") or card.get("labels") or []
else:
    st.info("This model's card has no per-class evaluation.")
history = card.get("history") or {}
# One diagnostic at a time, drawn only when its tab is chosen (a rerun): three full-width charts
# cost the browser about a third of a second on every visit.
diagnostics = [title for title, shown in (
    ("Confusion matrix", bool("confusion_matrix" in metrics and labels)),
    ("F1 per class", bool(metrics.get("per_class"))),
    ("Training curves", bool(history)),
) if shown]
if diagnostics:
    for title, tab in zip(diagnostics, st.tabs(diagnostics, key=f"compare_diagnostic_{name}", on_change="rerun")):
        if not tab.open:
            continue
        with tab:
            if title == "Confusion matrix":
                st.plotly_chart(plots.confusion_matrix_figure(np.asarray(metrics["confusion_matrix"]), labels,
                                                              title="Confusion matrix (row-normalised, counts shown)"),
                                key="compare_confusion")
            elif title == "F1 per class":
                st.plotly_chart(plots.per_class_f1_figure(metrics["per_class"], title="F1 per class"),
                                key="compare_f1")
            else:
                st.plotly_chart(plots.training_curves_figure(history, title="Training curves"),
                                key="compare_history")
                st.caption(curves_note(card, history))

# --- on labelled clips: measured, not the cards' own test sets -----------------------------------------

#: Session key of the upload set and labels last evaluated (their content hash).
EVALUATED_KEY = "labelled_evaluated"
SCORE_COLUMNS = {
    "right": st.column_config.TextColumn("right", help="Clips answered right, of the clips that counted."),
    "accuracy": st.column_config.NumberColumn("accuracy", format="percent", help="Right / counted, on these clips."),
    "accuracy 95 % interval": st.column_config.TextColumn(
        "95 % interval", help="Wilson score interval of the accuracy: honest for a handful of clips."),
    "macro-F1": st.column_config.NumberColumn("macro-F1", format="%.3f",
                                              help="Mean F1 over the answers that occur, on these clips."),
    "macro-F1 95 % interval": st.column_config.TextColumn(
        "macro-F1 95 % interval", help="Percentile bootstrap over clips."),
    "left out": st.column_config.TextColumn(
        "clips left out", help="Clips that did not count for this model here, and why."),
    "card: accuracy": st.column_config.NumberColumn(
        "card: accuracy", format="percent", help="From the model's card: measured on its own test set, so it "
        "ranks models of one family only. Not measured on these clips."),
    "card: measured on": st.column_config.TextColumn("card: measured on",
                                                     help="The protocol of the card's figure."),
}


def _title(vocabulary: str) -> str:
    text = vocabulary_title(vocabulary)
    return text[:1].upper() + text[1:]


def _scores_view(records: list, prefix: str) -> None:
    """Per vocabulary, every model's table; then one model's confusion matrix and wrong clips."""
    for vocabulary, group in by_vocabulary(records).items():
        st.subheader(_title(vocabulary))
        st.dataframe(score_table(group, cards).drop(columns=["model key"]), hide_index=True, width="stretch",
                     column_config=SCORE_COLUMNS, key=f"{prefix}_scores_{vocabulary}")
    st.caption("Measured on these clips: from **right** to **clips left out**. Set apart, the **card:** columns "
               "give the figure on each model's own card, measured on its own test set (taggers have none): "
               "they rank models of one family only and were not measured on these clips. Rows: the highest lower "
               "95 % bound first, the order the headline rule uses.")
    vocabularies_of_model = model_vocabularies(records)
    pick = st.selectbox("One model on these clips", list(vocabularies_of_model), key=f"{prefix}_model",
                        format_func=lambda n: display_name(cards.get(n, {}), n))
    choices = vocabularies_of_model[pick]
    vocabulary = choices[0]
    if len(choices) > 1:
        vocabulary = st.segmented_control("Answering in", choices, default=choices[0],
                                          key=f"{prefix}_vocabulary_{pick}", format_func=_title) or choices[0]
    record = next(r for r in records if r["model"] == pick and r["vocabulary"] == vocabulary)
    answer_labels, counts = confusion(record)
    if not answer_labels:
        st.info(f"No clip counted for this model in {vocabulary_title(vocabulary)}.")
        return
    st.plotly_chart(plots.confusion_matrix_figure(counts, answer_labels,
                                                  title=f"Confusion matrix in {vocabulary_title(vocabulary)} "
                                                        f"(row-normalised, counts shown)"),
                    key=f"{prefix}_confusion")
    wrong = wrong_clips_table(record)
    if wrong.empty:
        st.caption("Every clip that counted was answered right.")
    else:
        st.markdown(f"**Answered wrong: {len(wrong)} of {record['n']} clips**")
        st.dataframe(wrong, hide_index=True, key=f"{prefix}_wrong", width="stretch")


def _stored_tab() -> None:
    try:
        records, summary = stored_scores(), stored_summary()
    except EvidenceError as exc:
        st.error(f"The stored evaluation could not be read: {exc}", icon=":material/error:")
        return
    if not records:
        st.info("No stored evaluation yet. With the shared data folder beside the checkout (../shared/data), run "
                "`genre-lab evidence` (or `python -m genre_core evidence`): it scores every model on the labelled "
                "real clips and writes models/evidence/out_of_domain.json, which this tab and the headline read.",
                icon=":material/info:")
        return
    collections = summary.get("collections") or []
    what = collections_text(collections) if collections else "labelled real clips"
    st.caption(f"Measured by `{summary.get('command') or 'genre-lab evidence'}` on {what}. Each model is scored "
               "only on clips outside its training data: the GTZAN clips are left out for the GTZAN-trained models "
               "(and FMA's for a model trained on FMA). A clip counts in a vocabulary when its label has a right "
               "answer there; taggers answer in GTZAN's and FMA's genres through the hand-written crosswalk.")
    _scores_view(records, "stored")


@st.cache_data(max_entries=4, show_spinner="Scoring every model on your clips…")
def _evaluate(key: str, models: tuple[str, ...], limit_mb: int, _files: list, _labels: list) -> UploadEvaluation:
    """Every model scored on the uploads; cached by ``key``, the content hash of the files and labels."""
    return evaluate_uploads(_files, _labels, [get_predictor(n) for n in models], {n: cards[n] for n in models},
                            limit_mb=limit_mb, n_resamples=labelled_views.UPLOAD_RESAMPLES)


def _your_clips_tab() -> None:
    limit = upload_limit_mb()
    st.caption("Upload clips whose genre you know, type each one's genre, then **Evaluate**: every real-data model "
               "is scored on them in each vocabulary it answers in, in the same table as the measured one.")
    uploads = st.file_uploader(
        "Labelled clips", type=list(UPLOADER_TYPES), accept_multiple_files=True, key="labelled_uploads",
        max_upload_size=limit, help=f"{formats_text()}, up to {limit} MB each.")
    if not uploads:
        st.info("Upload a few clips you know the genre of (several at once). GTZAN-style names such as "
                "blues.00000.wav fill in their label.", icon=":material/upload:")
        return
    files = [(u.name, u.getvalue()) for u in uploads]
    edited = st.data_editor(
        label_rows([name for name, _ in files]), key=f"labelled_labels_{files_key(files)[:16]}", hide_index=True,
        disabled=["file"], num_rows="fixed", width="stretch", column_config={
            "file": st.column_config.TextColumn("file"),
            "label": st.column_config.TextColumn(
                "label", help="The genre in your words (hip hop, heavy metal, classical): it is mapped to each "
                "vocabulary's answers, and a clip whose label has none there is left out of that vocabulary."),
        })
    labels = [str(label) for label in edited["label"].fillna("")]
    names = list(edited["file"])
    missing = unlabelled(names, labels)
    if missing:
        st.info(f"{len(missing)} of {len(names)} clips have no label and will be left out: {', '.join(missing)}. "
                "Type each one's genre in the label column.", icon=":material/edit:")
    key = uploads_key(files, labels)
    if st.button("Evaluate", key="labelled_evaluate", type="primary", disabled=len(missing) == len(names)):
        st.session_state[EVALUATED_KEY] = key
    if st.session_state.get(EVALUATED_KEY) != key:
        if st.session_state.get(EVALUATED_KEY):
            st.caption("The clips or their labels changed since the last evaluation: press **Evaluate** again.")
        return
    models = loadable([e.name for e in model_entries(include_synthetic=False)])
    if not models:
        st.error("No real-data model could be loaded (see the warnings above), so there is nothing to score.")
        return
    result = _evaluate(key, tuple(models), limit, files, labels)
    for name, reason in result.failed:
        st.warning(f"**{name}** was not scored: {reason}", icon=":material/warning:")
    if result.unmatched:
        st.info("No vocabulary of these models has an answer for "
                + ", ".join(f"**{label}**" for label in result.unmatched)
                + ": those clips count nowhere. Try a broader genre name (rock, jazz, electronic…).")
    if not result.n_scored or not any(r["n"] for r in result.records):
        st.info("None of your clips could be scored (see above).")
        return
    st.caption(f"{result.n_scored} of your clips, one pass each, scored by {len(models)} real-data models. The app "
               "cannot tell whether an upload is in a model's training data (a GTZAN track is in the GTZAN "
               "models'), so these figures are yours alone: the headline's evidence is the measured tab's.")
    _scores_view(result.records, "yours")


st.header("On labelled clips")
st.caption("Every model asked about clips whose genre is known, in each vocabulary it can answer in: GTZAN's 10 "
           "genres, FMA's 8, and the taggers' own genre tags. Unlike the cards above, every model is measured on "
           "the same clips, so these figures compare across families.")
stored_tab, yours_tab = st.tabs(["Real songs (measured)", "Your clips"])
with stored_tab:
    _stored_tab()
with yours_tab:
    _your_clips_tab()

st.header("On the current clip")
current = current_clip()
if current is None:
    st.info("Load a clip in the sidebar to see where the models agree on it.", icon=":material/arrow_back:")
    st.stop()
training_flag(current)
# The headline comes first, as on Classify; it is filled in once the models below have run.
headline_slot = st.container()
with headline_slot:
    label_set = headline_label_set("compare_headline_set")
all_taggers = [e for e in entries if is_tagger(e.card)]
# Default: the taggers Classify shows, whose predictions are then already cached; running every
# tagger over a 5-minute song would take several seconds, so the others are the user's choice.
clip_taggers = st.multiselect(
    "Pretrained taggers on this clip", [e.name for e in all_taggers], default=default_taggers(all_taggers),
    key="compare_clip_taggers", format_func=lambda n: display_name(cards[n], n),
    help="The genre models are always compared; add taggers to see their tags mapped to genres.",
) if all_taggers else []
include_synthetic = st.toggle("Include the synthetic demo models", key="compare_show_synthetic")
chosen = [e for e in entries if (e.is_real_data and not is_tagger(e.card)) or e.name in clip_taggers
          or (include_synthetic and not e.is_real_data)]
if not chosen:
    st.info("Only synthetic demo models are installed: switch on the toggle above to compare them on this clip.")
    st.stop()
# The headline's model runs too, even when it is a tagger not picked above (as on Classify).
run_names = loadable(list(dict.fromkeys([e.name for e in chosen] + headline_models(label_set))))
if not run_names:
    st.error("None of the models could be loaded (see the warnings above).")
    st.stop()
predictions, _ = predictions_or_stop(current, run_names)
overlap = training_overlap_or_none(current)
with headline_slot:
    headline_block(headline_for(predictions, label_set, overlap.novelty if overlap is not None else None))
genre_predictions = [p for p in predictions if not p.multi_label]
tagger_predictions = [p for p in predictions if p.multi_label]
for index, (labels, group) in enumerate(group_by_labels(genre_predictions).items()):
    summary = agreement_summary(group)
    first_card = cards[group[0].model]
    st.subheader(f"{(first_card.get('data') or {}).get('dataset', '?')} · "
                 f"{label_set_title((first_card.get('data') or {}).get('label_set', ''), len(labels))}")
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
