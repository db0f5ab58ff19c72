"""``python -m genre_core``: classify files, evaluate models on labelled clips, show features, list models.

Examples
--------
::

    python -m genre_core predict song.mp3 other.wav --json
    python -m genre_core predict song.mp3 --model all --label-set fma8
    python -m genre_core evaluate my_music/            # one sub-folder per label
    python -m genre_core evaluate clips.csv --json     # file,label
    python -m genre_core evidence                      # re-measure the headline's evidence
    python -m genre_core features song.mp3 --json
    python -m genre_core models
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .audio import MAX_DURATION, MIN_DURATION
from .errors import GenreLabError, UsageError
from .labelled import VOCABULARIES

#: Words that turn the duration limit off.
_NO_LIMIT: tuple[str, ...] = ("off", "none", "inf", "infinity")


def _duration_limit(text: str) -> float | None:
    """``--max-duration``: seconds (at least the 3 s a clip needs), or off/none/inf for no limit."""
    if text.strip().lower() in _NO_LIMIT:
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds or 'off', got {text!r}") from None
    if value == float("inf"):
        return None
    if not value >= MIN_DURATION:  # also refuses NaN
        raise argparse.ArgumentTypeError(
            f"expected at least {MIN_DURATION:g} s (the shortest clip that can be analysed) or 'off', got {text}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m genre_core`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m genre_core",
                                     description="Music genre classification from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{predict,evaluate,evidence,serve,features,models}")

    predict = sub.add_parser("predict", help="classify audio files",
                             description="Classify audio files. Each file's headline genre comes first, chosen by "
                                         "the evaluation policy (genre_core.evaluation); with --json, one object "
                                         "per file with the headline and every model's prediction.")
    predict.add_argument("files", nargs="+", metavar="FILE", help="audio files (wav, mp3, ogg, flac, au, aiff)")
    predict.add_argument("--model", default=None,
                         help="model name, comma-separated names, or 'all' (default: the models the app's "
                              "Classify page runs, the headline's model among them)")
    predict.add_argument("--label-set", default="gtzan10", choices=VOCABULARIES,
                         help="the headline's vocabulary: GTZAN's 10 genres (default), FMA's 8, or a tagger's "
                              "own genre tags (msd50, mtt50)")
    predict.add_argument("--models-dir", type=Path, help="extra folder of trained models (searched first)")
    predict.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    predict.add_argument("--max-duration", type=_duration_limit, default=MAX_DURATION, metavar="SECONDS|off",
                         help=f"analyse at most this many seconds of each file (default {MAX_DURATION:g}; "
                              "'off' analyses all of it, in flat memory)")

    evaluate = sub.add_parser(
        "evaluate", help="score every model on the same labelled clips",
        description="Score models on labelled clips: a folder with one sub-folder per label, a folder with "
                    "labels.csv, GTZAN-named files, or a CSV of file,label. Each clip is analysed once for all "
                    "models. Per model and vocabulary: accuracy (95 %% Wilson interval), macro-F1 (95 %% bootstrap "
                    "interval), the confusion matrix and the clips it got wrong. Labels are normalised (Hip-Hop = "
                    "hiphop) and mapped into each vocabulary through the crosswalk; clips with no counterpart in a "
                    "vocabulary, or from a model's own training set, are left out and counted.")
    evaluate.add_argument("path", type=Path, metavar="PATH", help="labelled folder or CSV")
    evaluate.add_argument("--labels", type=Path, help="CSV of file,label for the files under PATH "
                                                      "(e.g. for FMA's NNN/NNNNNN.mp3 layout)")
    evaluate.add_argument("--dataset", default=None,
                          help="the training set these clips come from (gtzan, fma, ...): models trained on it are "
                               "not scored on them (guessed for GTZAN names and the FMA layout)")
    evaluate.add_argument("--model", default=None,
                          help="model name, comma-separated names, or 'all' (default: every real-data model)")
    evaluate.add_argument("--label-set", action="append", choices=VOCABULARIES, dest="label_sets",
                          help="only this vocabulary (repeatable; default: every one a model answers in)")
    evaluate.add_argument("--models-dir", type=Path, help="extra folder of trained models (searched first)")
    evaluate.add_argument("--json", action="store_true", help="one JSON object per model and vocabulary")
    evaluate.add_argument("--details", action="store_true", help="also print each confusion matrix")
    evaluate.add_argument("--max-duration", type=_duration_limit, default=MAX_DURATION, metavar="SECONDS|off",
                          help=f"analyse at most this many seconds of each clip (default {MAX_DURATION:g})")

    evidence = sub.add_parser(
        "evidence", help="measure the shipped models on real music outside their training data",
        description="Run `evaluate` on the real clips beside the checkout (real_songs with its labels.csv, "
                    "fma_small with the labels shipped in models/evidence, the GTZAN clips for models not trained "
                    "on GTZAN) and store each model's evidence, which the headline rule reads.")
    evidence.add_argument("--data", type=Path, default=None, help="the shared data folder (default ../shared/data)")
    evidence.add_argument("--out", type=Path, default=None, help="where to write it (default models/evidence/"
                                                                  "out_of_domain.json)")

    serve = sub.add_parser(
        "serve", help="serve the app to a class: K app processes behind nginx",
        description="Start K app processes (each as `make run` starts one, models warm) and, for K > 1, Debian's "
                    "nginx in front of them with sticky sessions and WebSocket upgrade. A worker that dies loses "
                    "only its own sessions, whose pages ask for their clip again. Ctrl-C stops everything.")
    serve.add_argument("--workers", type=int, default=1, help="app processes (default 1: no proxy)")
    serve.add_argument("--port", type=int, default=8501, help="the port students open (default 8501)")
    serve.add_argument("--address", default="0.0.0.0",
                       help="the address to listen on (default 0.0.0.0: every interface, for a classroom)")
    serve.add_argument("--run-dir", type=Path, default=Path("logs") / "classroom",
                       help="logs and nginx's files (default logs/classroom)")

    features = sub.add_parser("features", help="print a file's feature vector")
    features.add_argument("file", metavar="FILE")
    features.add_argument("--set", dest="feature_set", default="gtzan57", help="feature set (default gtzan57)")
    features.add_argument("--json", action="store_true", help="one JSON object on stdout")
    features.add_argument("--max-duration", type=_duration_limit, default=MAX_DURATION, metavar="SECONDS|off",
                          help=f"analyse at most this many seconds (default {MAX_DURATION:g}; 'off' for all; "
                               "the whole stretch is held in memory)")

    models = sub.add_parser("models", help="list the trained models and their scores")
    models.add_argument("--models-dir", type=Path, help="extra folder of trained models (searched first)")
    models.add_argument("--json", action="store_true", help="one JSON object per model")
    return parser


def _registry(models_dir: Path | None) -> Any:
    from .config import MODELS_DIR
    from .registry import ModelRegistry, default_registry

    if models_dir is None:
        return default_registry()
    if not models_dir.is_dir():
        raise UsageError(f"--models-dir {models_dir}: no such folder")
    return ModelRegistry((models_dir, MODELS_DIR))


def _evidence(registry: Any) -> dict[tuple[str, str], Any]:
    from .evaluation import read_evidence_dirs

    return read_evidence_dirs(registry.dirs)


def _load_models(registry: Any, choice: str | None, label_set: str, err: TextIO) -> tuple[list[Any], int]:
    """The chosen models that load, and how many failed (each reported on ``err``).

    The default is what Classify runs (:func:`genre_core.evaluation.default_model_names`):
    a model of those that does not load is reported and left out.
    """
    if choice is None:
        from .evaluation import default_model_names

        names = default_model_names(registry.entries(), label_set, _evidence(registry))
        if not names:
            names = [e.name for e in registry.entries()][:1]
        if not names:
            raise UsageError("no trained models found; train some with `python -m train classic` (see the README)")
        predictors, failures = registry.load_many(names)
        for name, reason in failures.items():
            print(f"warning: skipping model {name!r}: {reason}", file=err)
        if not predictors:
            raise UsageError("none of the default models could be loaded (see the warnings above)")
        return predictors, 0
    if choice.strip() == "all":
        names = registry.names()
        if not names:
            raise UsageError("no trained models found; train some with `python -m train classic`")
    else:
        names = list(dict.fromkeys(n.strip() for n in choice.split(",") if n.strip()))
        for name in names:
            registry.get(name)  # raises with the list of known names
    predictors, failures = registry.load_many(names)
    for name, reason in failures.items():
        print(f"error: model {name!r}: {reason}", file=err)
    if not predictors:
        raise UsageError("none of the chosen models could be loaded")
    return predictors, len(failures)


def _error_line(path: str, exc: BaseException) -> str:
    reason = str(exc)
    # AudioError messages start with the file's base name; the line names the path given instead.
    prefix = f"{Path(path).name}: "
    return f"error: {path}: {reason[len(prefix):] if reason.startswith(prefix) else reason}"


def _bug_line(path: str, exc: BaseException) -> str:
    return (f"error: {path}: internal error, this is a bug in genre lab, please report it with the "
            f"traceback above ({type(exc).__name__}: {exc})")


def _print_table(path: str, headline: Any, predictions: Sequence[Any], out: TextIO) -> None:
    print(path, file=out)
    if headline.genre is None:
        print(f"  headline: none. {headline.rule}", file=out)
    else:
        print(f"  headline: {headline.genre}  ({headline.label_set}, from {headline.model}; {headline.sure}: "
              f"{headline.sure_because})", file=out)
    width = max(len(p.model) for p in predictions)
    for p in predictions:
        top = ", ".join(f"{label} {prob:.0%}" for label, prob in p.top_k(3))
        print(f"  {p.model:<{width}}  {p.genre:<12}  ({top}; {len(p.windows)} window(s))", file=out)


def cmd_predict(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Classify each file with the chosen models, streaming it in flat memory; the headline first.

    Returns 0 when everything worked, 1 when a file or model failed, 3 on a bug.
    Every file is attempted whatever happened to the one before.
    """
    from tqdm.auto import tqdm

    from .evaluation import choose_headline
    from .stream import predict_file

    registry = _registry(args.models_dir)
    predictors, model_failures = _load_models(registry, args.model, args.label_set, err)
    evidence = _evidence(registry)
    cards = {e.name: e.card for e in registry.entries()}
    failed, bugs = bool(model_failures), False
    # disable=None: a bar on an interactive terminal only, never in pipes.
    for path in tqdm(args.files, desc="classifying", unit="file", disable=None, file=err):
        try:
            result = predict_file(path, predictors, name=Path(path).name, max_duration=args.max_duration)
        except GenreLabError as exc:
            failed = True
            tqdm.write(_error_line(path, exc), file=err)
            continue
        except Exception as exc:  # not an input problem: show it as the bug it is, then go on
            bugs = True
            traceback.print_exc(file=err)
            tqdm.write(_bug_line(path, exc), file=err)
            continue
        for note in result.notes:
            tqdm.write(f"note: {path}: {note}", file=err)
        for model, exc in result.failures.items():
            failed = True
            tqdm.write(f"error: {path}: model {model!r} failed: {exc}", file=err)
        if not result.predictions:
            continue
        headline = choose_headline(result.predictions, args.label_set, evidence, cards)
        if args.json:
            print(json.dumps({"file": path, "headline": headline.to_dict(),
                              "predictions": [p.to_dict() for p in result.predictions],
                              "notes": list(result.notes), "seconds_analysed": round(result.seconds_analysed, 3),
                              "truncated": result.truncated}), file=out, flush=True)
        else:
            _print_table(path, headline, result.predictions, out)
    return 3 if bugs else 1 if failed else 0


def _interval(pair: Sequence[float] | None, percent: bool = True) -> str:
    if not pair:
        return "n/a"
    return f"{pair[0] * 100:.0f}–{pair[1] * 100:.0f} %" if percent else f"{pair[0]:.2f}–{pair[1]:.2f}"


def _print_scores(scores: Sequence[Any], n_clips: int, details: bool, out: TextIO) -> None:
    from .evaluation import VOCABULARY_TITLES

    by_vocabulary: dict[str, list[Any]] = {}
    # GTZAN's genres first, as the app shows them; a model's own labels last.
    for score in sorted(scores, key=lambda s: VOCABULARIES.index(s.vocabulary) if s.vocabulary in VOCABULARIES
                        else len(VOCABULARIES)):
        by_vocabulary.setdefault(score.vocabulary, []).append(score)
    for vocabulary, group in by_vocabulary.items():
        print(f"\n{VOCABULARY_TITLES.get(vocabulary, vocabulary)} ({vocabulary})", file=out)
        width = max(len(s.model) for s in group)
        print(f"  {'model':<{width}}  {'right':>7}  {'accuracy':>8}  {'95 % interval':>13}  {'macro-F1':>8}  "
              f"{'95 % interval':>13}  left out", file=out)
        for s in sorted(group, key=lambda s: (-(s.interval[0] if s.n else -1), s.model)):
            left = ", ".join(f"{count} {reason}" for reason, count in s.left_out.items()) or "none"
            if not s.n:
                print(f"  {s.model:<{width}}  {'0/0':>7}  {'n/a':>8}  {'':>13}  {'n/a':>8}  {'':>13}  {left}",
                      file=out)
                continue
            print(f"  {s.model:<{width}}  {f'{s.k}/{s.n}':>7}  {s.accuracy:>8.0%}  {_interval(s.interval):>13}  "
                  f"{s.macro_f1:>8.2f}  {_interval(s.macro_f1_interval(), percent=False):>13}  {left}", file=out)
        for s in group:
            if s.wrong:
                wrong = ", ".join(f"{a.clip} ({a.label} → {a.answer})" for a in s.wrong)
                print(f"  wrong, {s.model}: {wrong}", file=out)
            if details and s.n:
                labels, matrix = s.confusion()
                cell = max(len(label) for label in labels)
                print(f"  confusion, {s.model} (rows: true, columns: answered)", file=out)
                print("    " + " " * cell + "  " + " ".join(f"{label[:cell]:>{cell}}" for label in labels), file=out)
                for label, row in zip(labels, matrix):
                    print(f"    {label:<{cell}}  " + " ".join(f"{v:>{cell}}" for v in row), file=out)
    print(f"\n{n_clips} clip(s). Accuracy intervals: Wilson score; macro-F1 intervals: percentile bootstrap over "
          "clips. A clip left out of a vocabulary has no right answer there or is from the model's training set.",
          file=out)


def _evaluate_models(registry: Any, choice: str | None, err: TextIO) -> tuple[list[Any], int]:
    if choice is None:
        names = [e.name for e in registry.entries(real_only=True)] or registry.names()
        if not names:
            raise UsageError("no trained models found; train some with `python -m train classic` (see the README)")
        choice = ",".join(names)
    return _load_models(registry, choice, "gtzan10", err)


def cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Score every chosen model on the same labelled clips (each clip analysed once)."""
    from tqdm.auto import tqdm

    from .labelled import read_labelled
    from .scoring import analyse_labelled, score_results

    labelled = read_labelled(args.path, labels=args.labels, dataset=args.dataset)
    registry = _registry(args.models_dir)
    predictors, model_failures = _evaluate_models(registry, args.model, err)
    results = analyse_labelled([labelled], predictors, max_duration=args.max_duration,
                               progress=lambda jobs: tqdm(jobs, desc="analysing", unit="clip", disable=None, file=err))
    for result in results:
        if result.error:
            print(f"error: {result.clip.name}: {result.error}", file=err)
        for model, reason in result.failures.items():
            print(f"error: {result.clip.name}: model {model!r} failed: {reason}", file=err)
    cards = {p.name: registry.get(p.name).card for p in predictors}
    scores = score_results(results, cards, args.label_sets)
    if args.json:
        for score in scores:
            print(json.dumps({"collection": labelled.name, **score.to_dict()}), file=out)
    else:
        print(f"{labelled.name}: {len(labelled.clips)} clip(s) ({labelled.layout}"
              + (f"; from {labelled.dataset}" if labelled.dataset else "") + ")", file=out)
        _print_scores(scores, len(labelled.clips), args.details, out)
    analysed_none = all(r.error for r in results)
    return 1 if model_failures or any(r.error or r.failures for r in results) or analysed_none else 0


def cmd_evidence(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Measure every shipped real-data model on the shared real clips and store the evidence."""
    from tqdm.auto import tqdm

    from .config import SHARED_DATA_DIR
    from .evaluation import EVIDENCE_FILE, evidence_sets, write_evidence
    from .registry import default_registry
    from .scoring import analyse_labelled, score_results

    data_dir = args.data or SHARED_DATA_DIR
    sets = evidence_sets(data_dir)
    if not sets:
        raise UsageError(f"{data_dir}: none of the labelled collections (real_songs, fma_small, gtzan/audio) is there")
    registry = default_registry()
    predictors, failures = _evaluate_models(registry, None, err)
    results = analyse_labelled(sets, predictors,
                               progress=lambda jobs: tqdm(jobs, desc="analysing", unit="clip", disable=None, file=err))
    for result in results:
        if result.error:
            print(f"error: {result.clip.name}: {result.error}", file=err)
    scores = score_results(results, {p.name: registry.get(p.name).card for p in predictors})
    out_path = args.out or EVIDENCE_FILE
    data = write_evidence(out_path, scores, sets, "genre-lab evidence" + (f" --data {args.data}" if args.data else ""))
    _print_scores(scores, sum(len(s.clips) for s in sets), False, out)
    for vocabulary, loo in data["rule_leave_one_out"].items():
        print(f"headline rule, leave-one-out, {vocabulary}: right on {loo['k']} of {loo['n']}", file=out)
    print(f"wrote {out_path}", file=out)
    return 1 if failures or any(r.error for r in results) else 0


def cmd_serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Serve the app to a class (:mod:`genre_core.app.serve`) until interrupted."""
    from .app.serve import serve

    return serve(args.workers, args.port, args.address, args.run_dir)


def cmd_features(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print the feature vector of one file."""
    from .audio import load_audio
    from .features import feature_vector

    try:
        clip = load_audio(args.file, name=Path(args.file).name, max_duration=args.max_duration)
        values = feature_vector(clip.samples, clip.sample_rate, args.feature_set)
    except GenreLabError as exc:
        print(_error_line(args.file, exc), file=err)
        return 1
    except ValueError as exc:  # feature_vector names an unknown feature set this way
        print(_error_line(args.file, exc), file=err)
        return 1
    for note in clip.notes:
        print(f"note: {args.file}: {note}", file=err)
    if args.json:
        print(json.dumps({"file": args.file, "feature_set": args.feature_set, "seconds": round(clip.duration, 3),
                          "features": values, "notes": list(clip.notes)}), file=out)
    else:
        width = max(len(name) for name in values)
        for name, value in values.items():
            print(f"{name:<{width}}  {value:.6g}", file=out)
    return 0


def _model_summary(entry: Any) -> dict[str, Any]:
    card = entry.card
    data = card.get("data") or {}
    return {
        "name": entry.name,
        "display_name": card.get("display_name", entry.name),
        "kind": entry.kind,
        "dataset": data.get("dataset"),
        "source": data.get("source"),
        "label_set": entry.label_set,
        "labels": card["labels"],
        "metrics": {
            protocol: {"accuracy": result.get("accuracy"), "macro_f1": result.get("macro_f1")}
            for protocol, result in (card.get("metrics") or {}).items() if isinstance(result, dict)
        },
        "directory": str(entry.directory),
    }


def _score(value: Any) -> str:
    # Cards are schema-checked (scores are numbers in [0, 1] or null); print defensively all the same.
    return f"{value:.3f}" if isinstance(value, (int, float)) else "n/a"


def cmd_models(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """List the registry with each model's data and metrics."""
    registry = _registry(args.models_dir)
    summaries = [_model_summary(e) for e in registry.entries()]
    if args.json:
        for summary in summaries:
            print(json.dumps(summary), file=out)
        return 0
    if not summaries:
        print("no trained models found; train some with `python -m train classic`", file=out)
        return 0
    width = max(len(s["name"]) for s in summaries)
    for s in summaries:
        scores = "; ".join(f"{p} acc {_score(m['accuracy'])} F1 {_score(m['macro_f1'])}"
                           for p, m in s["metrics"].items() if m["accuracy"] is not None)
        print(f"{s['name']:<{width}}  {s['kind']:<9}  {s['dataset']} ({s['source']}, {s['label_set']})  "
              f"{scores or 'no metrics'}", file=out)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the CLI; returns the exit status.

    0 ok, 1 some file or model failed, 2 usage error or no usable model,
    3 an internal error (a bug, shown with its traceback).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    args = build_parser().parse_args(argv)
    commands = {"predict": cmd_predict, "evaluate": cmd_evaluate, "evidence": cmd_evidence, "serve": cmd_serve,
                "features": cmd_features, "models": cmd_models}
    with warnings.catch_warnings():
        # A skipped broken card is reported once, briefly, not as a traceback-like warning.
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *a, **k: print(f"warning: {message}", file=err)
        try:
            return commands[args.command](args, out, err)
        except GenreLabError as exc:
            print(f"error: {exc}", file=err)
            return 2
