"""``python -m genre_core``: classify files, show features, list models.

Examples
--------
::

    python -m genre_core predict song.mp3 other.wav --json
    python -m genre_core predict song.mp3 --model all
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

#: Protocols that rank models for the default choice: the headline 10-fold CV
#: accuracy first, then held-out test sets (cards of deep models have only those).
_RANKING_PROTOCOLS: tuple[str, ...] = ("cv10", "fault_filtered_test", "test_track")
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="{predict,features,models}")

    predict = sub.add_parser("predict", help="classify audio files",
                             description="Classify audio files; one JSON object per file and model with --json.")
    predict.add_argument("files", nargs="+", metavar="FILE", help="audio files (wav, mp3, ogg, flac, au, aiff)")
    predict.add_argument("--model", default=None,
                         help="model name, comma-separated names, or 'all' "
                              "(default: the best real-data model by its card)")
    predict.add_argument("--models-dir", type=Path, help="extra folder of trained models (searched first)")
    predict.add_argument("--json", action="store_true", help="JSON lines on stdout")
    predict.add_argument("--max-duration", type=_duration_limit, default=MAX_DURATION, metavar="SECONDS|off",
                         help=f"analyse at most this many seconds of each file (default {MAX_DURATION:g}; "
                              "'off' analyses all of it, in flat memory)")

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


def _best_accuracy(card: dict[str, Any]) -> float:
    metrics = card.get("metrics") or {}
    for protocol in _RANKING_PROTOCOLS:
        result = metrics.get(protocol)
        if isinstance(result, dict) and isinstance(result.get("accuracy"), (int, float)):
            return float(result["accuracy"])
    return 0.0


def ranked_model_names(registry: Any) -> list[str]:
    """Real-data models (all models if none is real), best accuracy by their cards first."""
    entries = registry.entries(real_only=True) or registry.entries()
    return [e.name for e in sorted(entries, key=lambda e: (_best_accuracy(e.card), e.name), reverse=True)]


def default_model_name(registry: Any) -> str:
    """The real-data model with the best accuracy by its card (any model if none is real).

    Accuracy is read from the first of :data:`_RANKING_PROTOCOLS` the card has.
    """
    names = ranked_model_names(registry)
    if not names:
        raise UsageError("no trained models found; train some with `python -m train classic` (see the README)")
    return names[0]


def _load_models(registry: Any, choice: str | None, err: TextIO) -> tuple[list[Any], int]:
    """The chosen models that load, and how many failed (each reported on ``err``).

    The default is the best model that loads: a broken best model is reported
    and the next one is used.
    """
    if choice is None:
        names = ranked_model_names(registry)
        if not names:
            raise UsageError("no trained models found; train some with `python -m train classic` (see the README)")
        for name in names:
            predictors, failures = registry.load_many([name])
            if predictors:
                return predictors, 0
            print(f"warning: skipping model {name!r}: {failures[name]}", file=err)
        raise UsageError("none of the trained models could be loaded (see the warnings above)")
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


def _print_table(path: str, predictions: Sequence[Any], out: TextIO) -> None:
    print(path, file=out)
    width = max(len(p.model) for p in predictions)
    for p in predictions:
        top = ", ".join(f"{label} {prob:.0%}" for label, prob in p.top_k(3))
        print(f"  {p.model:<{width}}  {p.genre:<12}  ({top}; {len(p.windows)} window(s))", file=out)


def cmd_predict(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Classify each file with the chosen models, streaming it in flat memory.

    Returns 0 when everything worked, 1 when a file or model failed, 3 on a bug.
    Every file is attempted whatever happened to the one before.
    """
    from tqdm.auto import tqdm

    from .stream import predict_file

    registry = _registry(args.models_dir)
    predictors, model_failures = _load_models(registry, args.model, err)
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
        if args.json:
            for prediction in result.predictions:
                print(json.dumps({"file": path, **prediction.to_dict(), "notes": list(result.notes),
                                  "seconds_analysed": round(result.seconds_analysed, 3),
                                  "truncated": result.truncated}), file=out, flush=True)
        else:
            _print_table(path, result.predictions, out)
    return 3 if bugs else 1 if failed else 0


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
    commands = {"predict": cmd_predict, "features": cmd_features, "models": cmd_models}
    with warnings.catch_warnings():
        # A skipped broken card is reported once, briefly, not as a traceback-like warning.
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *a, **k: print(f"warning: {message}", file=err)
        try:
            return commands[args.command](args, out, err)
        except GenreLabError as exc:
            print(f"error: {exc}", file=err)
            return 2
