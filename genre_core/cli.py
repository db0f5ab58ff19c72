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
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .audio import MAX_DURATION

#: Protocols that rank models for the default choice: the headline 10-fold CV
#: accuracy first, then held-out test sets (cards of deep models have only those).
_RANKING_PROTOCOLS: tuple[str, ...] = ("cv10", "fault_filtered_test", "test_track")


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
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
    predict.add_argument("--max-duration", type=_positive_float, default=MAX_DURATION,
                         help=f"analyse at most this many seconds of each file (default {MAX_DURATION:g})")

    features = sub.add_parser("features", help="print a file's feature vector")
    features.add_argument("file", metavar="FILE")
    features.add_argument("--set", dest="feature_set", default="gtzan57", help="feature set (default gtzan57)")
    features.add_argument("--json", action="store_true", help="one JSON object on stdout")
    features.add_argument("--max-duration", type=_positive_float, default=MAX_DURATION,
                          help=f"analyse at most this many seconds (default {MAX_DURATION:g})")

    models = sub.add_parser("models", help="list the trained models and their scores")
    models.add_argument("--models-dir", type=Path, help="extra folder of trained models (searched first)")
    models.add_argument("--json", action="store_true", help="one JSON object per model")
    return parser


def _registry(models_dir: Path | None) -> Any:
    from .constants import MODELS_DIR
    from .registry import ModelRegistry, default_registry

    if models_dir is None:
        return default_registry()
    if not models_dir.is_dir():
        raise ValueError(f"--models-dir {models_dir}: no such folder")
    return ModelRegistry((models_dir, MODELS_DIR))


def _best_accuracy(card: dict[str, Any]) -> float:
    metrics = card.get("metrics") or {}
    for protocol in _RANKING_PROTOCOLS:
        if isinstance(metrics.get(protocol), dict) and "accuracy" in metrics[protocol]:
            return float(metrics[protocol]["accuracy"])
    return 0.0


def default_model_name(registry: Any) -> str:
    """The real-data model with the best accuracy by its card (any model if none is real).

    Accuracy is read from the first of :data:`_RANKING_PROTOCOLS` the card has.
    """
    entries = registry.entries(real_only=True) or registry.entries()
    if not entries:
        raise ValueError("no trained models found; train some with `python -m train classic` (see the README)")
    return max(entries, key=lambda e: (_best_accuracy(e.card), e.name)).name


def _model_names(registry: Any, choice: str | None) -> list[str]:
    if choice is None:
        return [default_model_name(registry)]
    if choice.strip() == "all":
        names = registry.names()
        if not names:
            raise ValueError("no trained models found; train some with `python -m train classic`")
        return names
    names = [n.strip() for n in choice.split(",") if n.strip()]
    for name in names:
        registry.get(name)  # raises with the list of known names
    return names


def _error_line(path: str, exc: Exception) -> str:
    reason = str(exc)
    # AudioError messages start with the file's base name; the line names the path given instead.
    prefix = f"{Path(path).name}: "
    return f"error: {path}: {reason[len(prefix):] if reason.startswith(prefix) else reason}"


def _print_table(path: str, predictions: Sequence[Any], out: TextIO) -> None:
    print(path, file=out)
    width = max(len(p.model) for p in predictions)
    for p in predictions:
        top = ", ".join(f"{label} {prob:.0%}" for label, prob in p.top_k(3))
        print(f"  {p.model:<{width}}  {p.genre:<12}  ({top}; {len(p.windows)} window(s))", file=out)


def cmd_predict(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Classify each file with the chosen models; 1 if any file failed."""
    from tqdm.auto import tqdm

    from .audio import AudioError, load_audio
    from .predict import predict_clip

    registry = _registry(args.models_dir)
    names = _model_names(registry, args.model)
    predictors = [registry.load(name) for name in names]
    failed = 0
    # disable=None: a bar on an interactive terminal only, never in pipes.
    for path in tqdm(args.files, desc="classifying", unit="file", disable=None, file=err):
        try:
            clip = load_audio(path, name=Path(path).name, max_duration=args.max_duration)
            predictions = predict_clip(clip, predictors)
        except (AudioError, ValueError) as exc:
            failed += 1
            tqdm.write(_error_line(path, exc), file=err)
            continue
        if args.json:
            for prediction in predictions:
                print(json.dumps({"file": path, **prediction.to_dict()}), file=out, flush=True)
        else:
            _print_table(path, predictions, out)
    return 1 if failed else 0


def cmd_features(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print the feature vector of one file."""
    from .audio import AudioError, load_audio
    from .features import feature_vector

    try:
        clip = load_audio(args.file, name=Path(args.file).name, max_duration=args.max_duration)
        values = feature_vector(clip.samples, clip.sample_rate, args.feature_set)
    except (AudioError, ValueError) as exc:
        print(_error_line(args.file, exc), file=err)
        return 1
    if args.json:
        print(json.dumps({"file": args.file, "feature_set": args.feature_set, "seconds": round(clip.duration, 3),
                          "features": values}), file=out)
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
        scores = "; ".join(f"{p} acc {m['accuracy']:.3f} F1 {m['macro_f1']:.3f}"
                           for p, m in s["metrics"].items() if m["accuracy"] is not None)
        print(f"{s['name']:<{width}}  {s['kind']:<9}  {s['dataset']} ({s['source']}, {s['label_set']})  "
              f"{scores or 'no metrics'}", file=out)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 some file failed, 2 usage or model error)."""
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
        except (ValueError, FileNotFoundError, RuntimeError, KeyError) as exc:
            print(f"error: {exc}", file=err)
            return 2
