"""Teach it: train a classifier of your own on a few clips, in seconds (Streamlit-free).

What Teachable Machine does for images, for music: the user gives a few clips
per class, a pretrained tagger turns every 3 s patch of every clip into an
embedding, and a logistic regression (:func:`genre_core.training.transfer.fit_logistic_head`)
learns the classes from those embeddings.  The page then shows the prediction
on the current clip, patch by patch and for the whole clip, and a 2-D map of
all embeddings.

The map is a PCA of the standardised embeddings (sklearn): deterministic, fast,
and the current clip's patches are projected onto the axes the examples
define, so adding a clip to look at never moves the examples.  t-SNE
(``method="tsne"``) is offered for when there are enough points to show
clusters (it needs at least :data:`MIN_TSNE_POINTS`); it refits on all points
each time, so its axes carry no meaning across refits.

Examples
--------
>>> head = train_head({"calm": [emb_a1, emb_a2], "loud": [emb_b1]})     # doctest: +SKIP
>>> predict_embeddings(head, embed_clip(tagger, samples, 22050)).track   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError

#: Fewest clips per class and classes a head needs.
MIN_CLIPS_PER_CLASS: int = 1
MIN_CLASSES: int = 2
#: Longest class name accepted (it becomes a plot label).
MAX_CLASS_NAME: int = 60
#: Map projections.
MAP_METHODS: tuple[str, ...] = ("pca", "tsne")
#: t-SNE's perplexity must stay below the number of points; below this many it is meaningless.
MIN_TSNE_POINTS: int = 6
#: Strengths tried when there are enough clips to cross-validate (grouped by clip).
TEACH_C_GRID: tuple[float, ...] = (0.01, 0.1, 1.0)


@dataclass(frozen=True)
class ClipEmbeddings:
    """One clip's per-patch embeddings.

    Attributes
    ----------
    name : str
        The clip's display name.
    windows : list of (start_s, end_s)
    vectors : np.ndarray, shape (n_patches, embedding_size)
    """

    name: str
    windows: list[tuple[float, float]]
    vectors: np.ndarray


@dataclass
class TeachHead:
    """A head trained on the user's clips.

    Attributes
    ----------
    labels : list of str
        Class names, in the user's order.
    head : FittedHead
        The fitted StandardScaler → LogisticRegression (and its Keras form).
    n_clips, n_patches : dict of str to int
        Per class, what it was trained on.
    """

    labels: list[str]
    head: Any
    n_clips: dict[str, int]
    n_patches: dict[str, int]


@dataclass
class ClipPrediction:
    """The head's verdict on one clip.

    Attributes
    ----------
    labels : list of str
    windows : list of (start_s, end_s)
    patch_probabilities : np.ndarray, shape (n_patches, n_labels)
    track_probabilities : np.ndarray, shape (n_labels,)
        Mean over patches (the same vote as the rest of the app).
    """

    labels: list[str]
    windows: list[tuple[float, float]]
    patch_probabilities: np.ndarray
    track_probabilities: np.ndarray

    @property
    def top_label(self) -> str:
        """The most probable class for the whole clip."""
        return self.labels[int(np.argmax(self.track_probabilities))]


def embed_clip(tagger: Any, samples: np.ndarray, sample_rate: int, layer: str | None = None,
               name: str = "clip") -> ClipEmbeddings:
    """Per-patch embeddings of a clip (3 s patches; a shorter clip is zero-padded to one).

    Parameters
    ----------
    tagger : TaggerPredictor
    samples : np.ndarray, shape (n_samples,)
    sample_rate : int
    layer : str, optional
        Embedding layer; default the tagger's first.
    name : str

    Returns
    -------
    ClipEmbeddings
    """
    windows, patches = tagger.prepare(samples, sample_rate)
    return ClipEmbeddings(name, list(windows), np.asarray(tagger.embed(patches, layer), dtype=np.float32))


def clean_class_names(names: Sequence[str]) -> list[str]:
    """Stripped class names, checked: at least two, none empty, none repeated, none too long.

    Raises
    ------
    UsageError
        Naming the problem.
    """
    cleaned = [str(n).strip() for n in names]
    if len(cleaned) < MIN_CLASSES:
        raise UsageError(f"name at least {MIN_CLASSES} classes to teach (you have {len(cleaned)})")
    if any(not n for n in cleaned):
        raise UsageError("every class needs a name")
    too_long = [n for n in cleaned if len(n) > MAX_CLASS_NAME]
    if too_long:
        raise UsageError(f"class name {too_long[0][:20]!r}… is longer than {MAX_CLASS_NAME} characters")
    repeated = sorted({n for n in cleaned if cleaned.count(n) > 1})
    if repeated:
        raise UsageError(f"class name(s) {', '.join(map(repr, repeated))} are used twice; give each class its own name")
    return cleaned


def validate_examples(examples: Mapping[str, Sequence[ClipEmbeddings]]) -> None:
    """Check the training clips: ≥ 2 named classes, each with ≥ 1 clip with ≥ 1 patch, one embedding size.

    Raises
    ------
    UsageError
        Naming the class that needs more clips, or what else is wrong.
    """
    clean_class_names(list(examples))
    empty = [label for label, clips in examples.items() if len(clips) < MIN_CLIPS_PER_CLASS]
    if empty:
        raise UsageError(f"add at least {MIN_CLIPS_PER_CLASS} clip to class {', '.join(map(repr, empty))} "
                         "before training")
    sizes = {clip.vectors.shape[1] for clips in examples.values() for clip in clips if clip.vectors.ndim == 2}
    if any(clip.vectors.ndim != 2 or len(clip.vectors) == 0 for clips in examples.values() for clip in clips):
        raise UsageError("a clip has no embeddings; add it again")
    if len(sizes) != 1:
        raise UsageError(f"the clips were embedded by different layers (sizes {sorted(sizes)}); "
                         "add them again with one tagger")


def training_arrays(examples: Mapping[str, Sequence[ClipEmbeddings]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack every patch of every clip.

    Returns
    -------
    X : np.ndarray, shape (n_patches, embedding_size)
    y : np.ndarray of str, shape (n_patches,)
        The class of each patch.
    groups : np.ndarray of str, shape (n_patches,)
        A clip id per patch (``<class>/<index>``), so folds keep a clip together.
    """
    X, y, groups = [], [], []
    for label, clips in examples.items():
        for i, clip in enumerate(clips):
            X.append(clip.vectors)
            y += [label] * len(clip.vectors)
            groups += [f"{label}/{i}"] * len(clip.vectors)
    return np.concatenate(X), np.asarray(y, dtype=object), np.asarray(groups, dtype=object)


def train_head(examples: Mapping[str, Sequence[ClipEmbeddings]], seed: int = 0) -> TeachHead:
    """Fit a logistic regression on the clips' patches; seconds, even on a CPU.

    ``C`` is picked by cross-validation grouped by clip when every class has
    at least two clips, else ``C = 1``.

    Parameters
    ----------
    examples : mapping of class name → sequence of ClipEmbeddings
        In display order.
    seed : int

    Raises
    ------
    UsageError
        See :func:`validate_examples`.
    """
    from ..training.transfer import fit_logistic_head

    validate_examples(examples)
    examples = {str(k).strip(): v for k, v in examples.items()}
    X, y, groups = training_arrays(examples)
    labels = list(examples)
    head = fit_logistic_head(X, y, groups, labels, c_grid=TEACH_C_GRID, cv_folds=3, default_c=1.0, seed=seed)
    return TeachHead(labels, head, {k: len(v) for k, v in examples.items()},
                     {k: int(sum(len(c.vectors) for c in v)) for k, v in examples.items()})


def predict_embeddings(model: TeachHead, clip: ClipEmbeddings) -> ClipPrediction:
    """Per-patch and whole-clip probabilities of a clip's embeddings.

    Raises
    ------
    UsageError
        If the clip was embedded by another layer than the training clips.
    """
    expected = int(model.head.pipeline[0].n_features_in_)
    if clip.vectors.ndim != 2 or clip.vectors.shape[1] != expected:
        raise UsageError(f"{clip.name} was embedded with {clip.vectors.shape[-1]} values per patch, the model "
                         f"expects {expected}; train again with the same tagger and layer")
    patch = model.head.predict_proba(clip.vectors)
    return ClipPrediction(model.labels, list(clip.windows), patch, patch.mean(axis=0))


def embedding_map(examples: Mapping[str, Sequence[ClipEmbeddings]], current: ClipEmbeddings | None = None,
                  method: str = "pca", seed: int = 0) -> pd.DataFrame:
    """2-D coordinates of every patch embedding, for a scatter plot.

    PCA is fitted on the training clips only and the current clip is
    projected onto it; t-SNE embeds all points together.

    Returns
    -------
    pandas.DataFrame
        One row per patch: ``x``, ``y``, ``label`` (class, or ``"current clip"``),
        ``clip`` (clip name), ``start_s``, ``role`` (``"example"`` or ``"current"``).
        The projection is in ``frame.attrs["method"]`` and, for PCA, the
        explained-variance ratios in ``frame.attrs["explained_variance"]``.

    Raises
    ------
    UsageError
        For an unknown method, or t-SNE with too few points.
    """
    from sklearn.preprocessing import StandardScaler

    if method not in MAP_METHODS:
        raise UsageError(f"unknown map method {method!r}; choose one of {', '.join(MAP_METHODS)}")
    rows, vectors = [], []
    for label, clips in examples.items():
        for clip in clips:
            for (start, _), v in zip(clip.windows, clip.vectors):
                rows.append({"label": label, "clip": clip.name, "start_s": start, "role": "example"})
                vectors.append(v)
    n_examples = len(vectors)
    if current is not None:
        for (start, _), v in zip(current.windows, current.vectors):
            rows.append({"label": "current clip", "clip": current.name, "start_s": start, "role": "current"})
            vectors.append(v)
    if n_examples < 2:
        raise UsageError("the map needs at least two example patches; add clips first")
    points = np.asarray(vectors, dtype=np.float64)
    scaler = StandardScaler().fit(points[:n_examples])
    scaled = scaler.transform(points)
    frame = pd.DataFrame(rows)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=min(2, n_examples, points.shape[1]), random_state=seed).fit(scaled[:n_examples])
        xy = pca.transform(scaled)
        frame.attrs["explained_variance"] = [float(v) for v in pca.explained_variance_ratio_]
    else:
        from sklearn.manifold import TSNE

        if len(points) < MIN_TSNE_POINTS:
            raise UsageError(f"t-SNE needs at least {MIN_TSNE_POINTS} patches; use PCA or add clips")
        perplexity = float(min(30, (len(points) - 1) / 3))
        xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(scaled)
    if xy.shape[1] == 1:  # one component only (e.g. two example patches): put them on a line
        xy = np.hstack([xy, np.zeros((len(xy), 1))])
    frame["x"], frame["y"] = xy[:, 0], xy[:, 1]
    frame.attrs["method"] = method
    return frame


def embedding_map_figure(frame: pd.DataFrame, title: str = "Embedding map") -> Any:
    """Plotly scatter of :func:`embedding_map`: one colour per class, the current clip as stars."""
    import plotly.graph_objects as go

    method = frame.attrs.get("method", "pca")
    figure = go.Figure()
    for (label, role), part in frame.groupby(["label", "role"], sort=False):
        figure.add_trace(go.Scatter(
            x=part["x"], y=part["y"], mode="markers", name=str(label),
            marker={"size": 14 if role == "current" else 9, "symbol": "star" if role == "current" else "circle",
                    "line": {"width": 1, "color": "black"} if role == "current" else None},
            text=[f"{c} @ {s:.0f} s" for c, s in zip(part["clip"], part["start_s"])],
            hovertemplate="%{text}<extra>" + str(label) + "</extra>",
        ))
    if method == "pca":
        ratios = frame.attrs.get("explained_variance", [])
        axes = [f"PC{i + 1}" + (f" ({ratios[i]:.0%} of variance)" if i < len(ratios) else "") for i in range(2)]
    else:
        axes = ["t-SNE 1", "t-SNE 2"]
    figure.update_layout(title=title, xaxis_title=axes[0], yaxis_title=axes[1], height=460,
                         legend_title_text="class", margin={"t": 50, "l": 10, "r": 10, "b": 10})
    return figure


def prediction_figure(prediction: ClipPrediction, title: str = "Your model on the current clip") -> Any:
    """Plotly heat map of per-patch probabilities (classes × time), with the whole-clip vote in the title."""
    import plotly.graph_objects as go

    centres = [0.5 * (a + b) for a, b in prediction.windows]
    figure = go.Figure(go.Heatmap(z=prediction.patch_probabilities.T, x=centres, y=prediction.labels,
                                  zmin=0, zmax=1, colorscale="Viridis", colorbar={"title": "p"}))
    figure.update_layout(title=f"{title}: {prediction.top_label} "
                               f"({float(prediction.track_probabilities.max()):.0%})",
                         xaxis_title="time (s), 3 s patches", height=120 + 40 * len(prediction.labels),
                         margin={"t": 50, "l": 10, "r": 10, "b": 10})
    return figure
