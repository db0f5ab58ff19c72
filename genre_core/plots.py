"""Plotly figure builders for the app: pure functions from arrays to figures.

Every builder takes plain arrays (or dicts from a model card) and returns a
``plotly.graph_objects.Figure``; none computes audio features itself.  Large
arrays are reduced for display (min/max envelopes for waveforms, block means
for spectrograms) because the browser, not the server, is the bottleneck for
figures with millions of points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

#: Colours: top-k bars stand out, the rest stay grey.
TOP_COLOUR = "#e4572e"
OTHER_COLOUR = "#9aa5b1"
REAL_COLOUR = "#2a9d8f"
SYNTH_COLOUR = "#8e6bbf"
#: Rank and percentage text beside the bars: dark, not the faint default grey.
RANK_TEXT_COLOUR = "#1f2933"
#: Display limits: beyond these, figures are block-averaged.
MAX_HEATMAP_ROWS = 384
MAX_HEATMAP_COLS = 600
#: Height (px) of a figure's title, margins and time axis: the plot area is the rest.
PLOT_AREA_MARGIN_PX = 100
WAVEFORM_BINS = 2000
#: Grad-CAM overlay: transparent where the map is 0, so the spectrogram shows through.
CAM_COLORSCALE = [
    [0.0, "rgba(255,60,0,0)"],
    [0.3, "rgba(255,60,0,0.25)"],
    [0.7, "rgba(255,160,0,0.7)"],
    [1.0, "rgba(255,255,60,0.95)"],
]


def colorscale(name: str) -> list[list]:
    """A named plotly colorscale as explicit ``rgb(...)`` stops.

    Streamlit's chart theme uses colours ``#000001``–``#000040`` as placeholders
    that its frontend swaps for theme colours; named scales starting at such a
    colour (Magma and Inferno start at ``#000004``) would have their darkest
    stop painted pink.  ``rgb()`` strings are never substituted.
    """
    import plotly.colors as pc

    stops = pc.get_colorscale(name)
    return [[float(pos), pc.convert_colors_to_same_type(colour, "rgb")[0][0]] for pos, colour in stops]


def _layout(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    fig.update_layout(
        title=title,
        height=height,
        margin=dict(l=10, r=10, t=50 if title else 20, b=10),
    )
    return fig


# --- predictions ------------------------------------------------------------------------


def ranks_with_ties(probabilities: Sequence[float]) -> np.ndarray:
    """Competition ranks, 1 = most probable; equal probabilities (to 0.1 %) share a rank.

    Ties must not be broken by position: two labels at 30 % are equally likely,
    so they get the same rank and the same colour.
    """
    probs = np.round(np.asarray(probabilities, dtype=float), 3)
    return np.array([1 + int(np.sum(probs > p)) for p in probs], dtype=int)


def probability_bars(
    labels: Sequence[str],
    probabilities: Sequence[float],
    *,
    top_k: int = 3,
    title: str | None = None,
    height: int = 320,
    sort: bool = True,
) -> go.Figure:
    """Horizontal bar chart of class probabilities, top-k highlighted with a readable rank.

    Parameters
    ----------
    labels : sequence of str
    probabilities : sequence of float
        One per label.
    top_k : int
        Labels ranked ``top_k`` or better (ties included) get the highlight colour and a rank.
    title : str, optional
    height : int
    sort : bool
        True (default): most likely on top.  False: labels keep the given order, top
        to bottom, so the charts of models sharing a label set line up.

    Returns
    -------
    go.Figure
        One ``Bar`` trace; its ``y`` runs bottom to top (the axis is reversed
        when ``sort`` is False so the first label is at the top).
    """
    probs = np.asarray(probabilities, dtype=float)
    if len(labels) != len(probs):
        raise ValueError(f"{len(labels)} labels but {len(probs)} probabilities")
    rank = ranks_with_ties(probs)
    order = np.argsort(probs, kind="stable") if sort else np.arange(len(probs))
    shared = {r for r in rank if np.sum(rank == r) > 1}
    colours = [TOP_COLOUR if rank[i] <= top_k else OTHER_COLOUR for i in order]
    text = [
        (f"#{rank[i]}{'=' if rank[i] in shared else ''}  {probs[i]:.0%}" if rank[i] <= top_k else f"{probs[i]:.0%}")
        for i in order
    ]
    fig = go.Figure(
        go.Bar(
            x=probs[order],
            y=[labels[i] for i in order],
            orientation="h",
            marker_color=colours,
            text=text,
            textposition="outside",
            textfont=dict(size=13, color=RANK_TEXT_COLOUR),
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 1.25], tickformat=".0%", title="probability")
    fig.update_yaxes(tickfont=dict(size=13), autorange="reversed" if not sort else True)
    return _layout(fig, title, height)


def timeline_heatmap(
    windows: Sequence[tuple[float, float]],
    window_probabilities: np.ndarray,
    labels: Sequence[str],
    *,
    title: str | None = None,
    height: int = 320,
) -> go.Figure:
    """Genre probabilities per analysis window across the song.

    Parameters
    ----------
    windows : sequence of (start_s, end_s)
    window_probabilities : np.ndarray, shape (n_windows, n_labels)
    labels : sequence of str

    Returns
    -------
    go.Figure
        One ``Heatmap`` with labels on y and window centres (s) on x.
    """
    probs = np.asarray(window_probabilities, dtype=float)
    if probs.shape != (len(windows), len(labels)):
        raise ValueError(f"expected shape {(len(windows), len(labels))}, got {probs.shape}")
    centres = [(s + e) / 2 for s, e in windows]
    spans = [f"{s:.0f}–{e:.0f} s" for s, e in windows]
    fig = go.Figure(
        go.Heatmap(
            z=probs.T,
            x=centres,
            y=list(labels),
            customdata=np.tile(np.array(spans, dtype=object), (len(labels), 1)),
            zmin=0.0,
            zmax=1.0,
            colorscale=colorscale("Viridis"),
            colorbar=dict(title="p", tickformat=".0%"),
            hovertemplate="%{y} · %{customdata}: %{z:.1%}<extra></extra>",
        )
    )
    fig.update_xaxes(title="time (s, window centre)")
    return _layout(fig, title, height)


def probability_matrix_figure(
    models: Sequence[str],
    labels: Sequence[str],
    probabilities: np.ndarray,
    *,
    title: str | None = None,
) -> go.Figure:
    """Models × labels heatmap with each model's top label marked: where models agree."""
    probs = np.asarray(probabilities, dtype=float)
    if probs.shape != (len(models), len(labels)):
        raise ValueError(f"expected shape {(len(models), len(labels))}, got {probs.shape}")
    # Every label tied for a model's top probability gets the star: ties are not broken by position.
    top = [set(np.flatnonzero(np.isclose(row, row.max(), atol=5e-4))) if row.size else set() for row in probs]
    text = [[f"★ {probs[i, j]:.0%}" if j in top[i] else f"{probs[i, j]:.0%}" for j in range(len(labels))]
            for i in range(len(models))]
    fig = go.Figure(
        go.Heatmap(
            z=probs,
            x=list(labels),
            y=list(models),
            text=text,
            texttemplate="%{text}",
            zmin=0.0,
            zmax=1.0,
            colorscale=colorscale("Blues"),
            colorbar=dict(title="p", tickformat=".0%"),
            hovertemplate="%{y} → %{x}: %{z:.1%}<extra></extra>",
        )
    )
    fig.update_traces(textfont=dict(size=12))
    fig.update_xaxes(automargin=True, tickfont=dict(size=13))
    fig.update_yaxes(autorange="reversed", automargin=True, tickfont=dict(size=13))
    return _layout(fig, title, 150 + 40 * max(1, len(models)))


# --- signals and spectrograms ---------------------------------------------------------------


def minmax_envelope(
    samples: np.ndarray, sample_rate: int, n_bins: int = WAVEFORM_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin minimum and maximum of a signal, for drawing long waveforms quickly.

    Returns
    -------
    times : np.ndarray
        Start time of each bin in seconds.
    lows, highs : np.ndarray
        Minimum and maximum sample of each bin (each sample is its own bin when
        the signal is shorter than ``n_bins``).
    """
    y = np.asarray(samples, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("expected a non-empty 1-D signal")
    per_bin = max(1, math.ceil(y.size / n_bins))
    n_full = y.size // per_bin
    body = y[: n_full * per_bin].reshape(n_full, per_bin)
    lows, highs = body.min(axis=1), body.max(axis=1)
    if y.size > n_full * per_bin:
        tail = y[n_full * per_bin:]
        lows, highs = np.append(lows, tail.min()), np.append(highs, tail.max())
    times = np.arange(lows.size) * per_bin / float(sample_rate)
    return times, lows, highs


def waveform_figure(
    samples: np.ndarray,
    sample_rate: int,
    *,
    n_bins: int = WAVEFORM_BINS,
    highlight: tuple[float, float] | None = None,
    title: str | None = "Waveform",
    height: int = 220,
    playhead: float | None = None,
) -> go.Figure:
    """Min/max envelope of a waveform: two traces (max, then min filled to it).

    ``highlight`` (start, end) in seconds shades a region, e.g. the excerpt analysed below;
    ``playhead`` (seconds) draws a vertical line there (see :func:`add_playhead`).
    """
    times, lows, highs = minmax_envelope(samples, sample_rate, n_bins)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=times, y=highs, mode="lines", line=dict(width=0.8, color="#3a6ea5"),
                             name="max", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=times, y=lows, mode="lines", line=dict(width=0.8, color="#3a6ea5"),
                             fill="tonexty", fillcolor="rgba(58,110,165,0.5)", name="min",
                             hovertemplate="%{x:.2f} s<extra></extra>"))
    fig.update_xaxes(title="time (s)")
    fig.update_yaxes(title="amplitude", range=[-1.05, 1.05])
    fig.update_layout(showlegend=False)
    if highlight is not None:
        fig.add_vrect(x0=highlight[0], x1=highlight[1], fillcolor=TOP_COLOUR, opacity=0.12, line_width=0)
    add_playhead(fig, playhead)
    return _layout(fig, title, height)


#: Name of the playhead shape: the lab's player script finds figures by it.
PLAYHEAD_NAME = "playhead"


def add_playhead(fig: go.Figure, seconds: float | None, **where: Any) -> go.Figure:
    """A vertical line at ``seconds`` on the x (time) axis, spanning the plot's height.

    Parameters
    ----------
    fig : go.Figure
        A figure whose x axis is time in seconds.
    seconds : float or None
        Where to draw the line; nothing is drawn for None.
    **where
        ``row``/``col`` for subplots (passed to ``add_vline``).
    """
    if seconds is not None:
        fig.add_vline(x=float(seconds), line=dict(color="#111111", width=1.5, dash="dot"), name=PLAYHEAD_NAME,
                      **where)
    return fig


#: Candidate ticks (Hz) for frequency axes: 1-2-5 steps, labelled in Hz or kHz.
HZ_TICK_CANDIDATES: tuple[float, ...] = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)


def hz_label(hz: float) -> str:
    """``500 Hz``, ``1 kHz``, ``2.5 kHz``."""
    return f"{hz / 1000:g} kHz" if hz >= 1000 else f"{hz:g} Hz"


def log_hz_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Tick values and labels for a logarithmic frequency axis from ``low`` to ``high`` Hz.

    Plotly's own log ticks read ``10k, 5, 2, 1000, 5, 2, 100``; these read
    ``100 Hz, 200 Hz, 500 Hz, 1 kHz…``.
    """
    values = [hz for hz in HZ_TICK_CANDIDATES if low <= hz <= high]
    return values, [hz_label(hz) for hz in values]


def band_hz_ticks(band_hz: Sequence[float], candidates: Sequence[float] = HZ_TICK_CANDIDATES,
                  min_gap_fraction: float = 0.07) -> tuple[list[float], list[str]]:
    """Ticks for an axis drawn in band numbers (0 … n-1), placed where the bands' centre frequencies
    (``band_hz``, increasing) cross round frequencies, and labelled in Hz.  A tick closer than
    ``min_gap_fraction`` of the axis to the one above it is left out (labels would overlap).

    Examples
    --------
    >>> band_hz_ticks([50.0, 100.0, 150.0, 200.0])
    ([0.0, 1.0, 3.0], ['50 Hz', '100 Hz', '200 Hz'])
    >>> band_hz_ticks(np.geomspace(40.0, 1000.0, 64))[1]
    ['50 Hz', '100 Hz', '200 Hz', '500 Hz', '1 kHz']
    """
    centres = np.asarray(band_hz, dtype=float)
    min_gap = min_gap_fraction * max(1, centres.size - 1)
    values: list[float] = []
    labels: list[str] = []
    for hz in sorted(candidates, reverse=True):  # from the top: low ticks crowd, so they give way
        if centres[0] <= hz <= centres[-1]:
            band = round(float(np.interp(hz, centres, np.arange(centres.size))), 3)
            if not values or values[0] - band >= min_gap:
                values.insert(0, band)
                labels.insert(0, hz_label(hz))
    return values, labels


def _block_reduce(z: np.ndarray, max_rows: int, max_cols: int) -> tuple[np.ndarray, int, int]:
    """Mean over blocks so z fits max_rows × max_cols; returns (z, row step, col step)."""
    row_step = max(1, math.ceil(z.shape[0] / max_rows))
    col_step = max(1, math.ceil(z.shape[1] / max_cols))
    if row_step == col_step == 1:
        return z, 1, 1
    rows = z.shape[0] // row_step * row_step or z.shape[0]
    cols = z.shape[1] // col_step * col_step or z.shape[1]
    row_step = min(row_step, rows)
    col_step = min(col_step, cols)
    trimmed = z[:rows, :cols]
    reduced = trimmed.reshape(rows // row_step, row_step, cols // col_step, col_step).mean(axis=(1, 3))
    return reduced, row_step, col_step


def spectrogram_figure(
    S: np.ndarray,
    sample_rate: int,
    hop_length: int,
    *,
    y_values: Sequence[float] | None = None,
    y_title: str = "frequency (Hz)",
    colorbar_title: str = "dB",
    title: str | None = None,
    log_y: bool = False,
    colorscale_name: str = "Magma",
    height: int = 320,
    zmin: float | None = None,
    zmax: float | None = None,
    t0: float = 0.0,
    y_ticks: tuple[Sequence[float], Sequence[str]] | None = None,
    hover_y: str = "%{y:.0f}",
    playhead: float | None = None,
) -> go.Figure:
    """Heatmap of a (rows, frames) time–frequency array with time in seconds on x.

    Parameters
    ----------
    S : np.ndarray, shape (rows, frames)
        An STFT in dB, a mel spectrogram, MFCCs...
    sample_rate, hop_length : int
        Convert frame indices to seconds.
    y_values : sequence of float, optional
        Value of each row (e.g. FFT bin frequencies); row indices when None.
    log_y : bool
        Logarithmic y axis (row 0 is dropped when it is 0 Hz), ticked in Hz/kHz.
    colorscale_name : str
        A plotly colorscale name.
    t0 : float
        Time of frame 0 in seconds: an excerpt starting 15 s into a song passes 15, so the axis
        reads song time.
    y_ticks : (values, labels), optional
        Explicit y ticks, e.g. Hz labels on an axis drawn in mel-band numbers.
    hover_y : str
        How the hover text shows a row's y value.
    playhead : float, optional
        Song time (s) of a vertical line (see :func:`add_playhead`).

    Returns
    -------
    go.Figure
        One ``Heatmap``; arrays larger than the display limits (at most ``height`` rows and
        ``MAX_HEATMAP_COLS`` columns) are block-averaged.
    """
    z = np.asarray(S, dtype=np.float32)
    if z.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {z.shape}")
    y = np.arange(z.shape[0], dtype=float) if y_values is None else np.asarray(y_values, dtype=float)
    if len(y) != z.shape[0]:
        raise ValueError(f"{len(y)} y values for {z.shape[0]} rows")
    if log_y and y[0] <= 0:
        z, y = z[1:], y[1:]
    # No more rows than the plot area has pixels in height (the figure less about 100 px of title
    # and time axis): finer rows cannot be seen, and each costs payload and drawing time in the
    # browser (a 2048-point STFT has 1025 rows).
    max_rows = min(MAX_HEATMAP_ROWS, max(64, int(height) - PLOT_AREA_MARGIN_PX))
    z, row_step, col_step = _block_reduce(z, max_rows, MAX_HEATMAP_COLS)
    y = y[: z.shape[0] * row_step].reshape(z.shape[0], row_step).mean(axis=1)
    times = t0 + (np.arange(z.shape[1]) * col_step + (col_step - 1) / 2) * hop_length / float(sample_rate)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=times.astype(np.float32),
            y=y.astype(np.float32),
            colorscale=colorscale(colorscale_name),
            zmin=zmin,
            zmax=zmax,
            colorbar=dict(title=colorbar_title),
            hovertemplate=f"%{{x:.2f}} s · {hover_y}: %{{z:.1f}} {colorbar_title}<extra></extra>",
        )
    )
    fig.update_xaxes(title="time (s)")
    fig.update_yaxes(title=y_title, type="log" if log_y else "linear")
    if y_ticks is None and log_y and y.size:
        y_ticks = log_hz_ticks(float(y.min()), float(y.max()))
    if y_ticks is not None:
        values, labels = y_ticks  # in data units, log axis too (plotly converts them)
        fig.update_yaxes(tickmode="array", tickvals=list(values), ticktext=list(labels))
    add_playhead(fig, playhead)
    return _layout(fig, title, height)


def mfcc_figure(
    coefficients: np.ndarray,
    sample_rate: int,
    hop_length: int,
    *,
    title: str | None = None,
    height: int = 280,
    per_coefficient: bool = True,
    t0: float = 0.0,
    playhead: float | None = None,
) -> go.Figure:
    """MFCCs over time, each coefficient on a colour scale of its own by default.

    Coefficient 0 (overall log energy) is an order of magnitude larger than the
    rest and coefficient 1 (the spectral tilt) is next; on one shared scale they
    saturate it and the others look flat.  With ``per_coefficient`` each row is
    standardised over the excerpt (minus its mean, over its standard deviation),
    so colour shows how a coefficient moves in time.  Without it, all rows share
    one symmetric range set by coefficients 2 and up (0 and 1 then saturate).

    Parameters
    ----------
    coefficients : np.ndarray, shape (n_mfcc, frames)
    per_coefficient : bool
        Standardise each coefficient (colour bar in standard deviations).
    t0, playhead : float
        As in :func:`spectrogram_figure`.
    """
    mfcc = np.asarray(coefficients, dtype=np.float32)
    if mfcc.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {mfcc.shape}")
    common = dict(y_title="coefficient", title=title, colorscale_name="RdBu_r", height=height, t0=t0,
                  hover_y="coefficient %{y:.0f}", playhead=playhead)
    if per_coefficient:
        spread = mfcc.std(axis=1, keepdims=True)
        scaled = (mfcc - mfcc.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)
        return spectrogram_figure(scaled, sample_rate, hop_length, colorbar_title="std dev", zmin=-3.0, zmax=3.0,
                                  **common)
    rest = mfcc[2:] if mfcc.shape[0] > 2 else mfcc
    limit = float(np.percentile(np.abs(rest), 99)) or 1.0
    return spectrogram_figure(mfcc, sample_rate, hop_length, colorbar_title="value", zmin=-limit, zmax=limit,
                              **common)


def filterbank_figure(
    filterbank: np.ndarray,
    fft_frequencies: np.ndarray,
    *,
    title: str | None = "Mel filterbank",
    height: int = 280,
) -> go.Figure:
    """The triangular mel filters over FFT frequency.

    Even and odd filters are two line traces in alternating colours (gaps
    between filters), so neighbours stay distinguishable and a 128-filter bank
    costs two traces, not 128.  Each filter covers only its non-zero support.
    """
    fb = np.asarray(filterbank, dtype=float)
    freqs = np.asarray(fft_frequencies, dtype=float)
    if fb.ndim != 2 or fb.shape[1] != freqs.size:
        raise ValueError(f"filterbank shape {fb.shape} does not match {freqs.size} FFT bins")
    fig = go.Figure()
    for parity, colour in ((0, "#3a6ea5"), (1, TOP_COLOUR)):
        # One float32 array per trace, NaN between filters (a gap in the line): plotly validates
        # and serialises arrays at once, where lists of floats and None went value by value.
        xs, ys, ids = [], [], []
        for index in range(parity, fb.shape[0], 2):
            support = np.flatnonzero(fb[index] > 0)
            if support.size == 0:
                continue
            lo, hi = max(0, support[0] - 1), min(freqs.size - 1, support[-1] + 1)
            xs += [freqs[lo:hi + 1], [np.nan]]
            ys += [fb[index, lo:hi + 1], [np.nan]]
            ids += [np.full(hi + 1 - lo, index), [np.nan]]
        x, y, ids_ = (np.concatenate(v).astype(np.float32) if v else np.zeros(0, np.float32) for v in (xs, ys, ids))
        fig.add_trace(go.Scatter(x=x, y=y, customdata=ids_, mode="lines", line=dict(width=1, color=colour),
                                 name="even filters" if parity == 0 else "odd filters", showlegend=False,
                                 connectgaps=False,
                                 hovertemplate="filter %{customdata}<br>%{x:.0f} Hz: %{y:.4f}<extra></extra>"))
    fig.update_xaxes(title="frequency (Hz)")
    fig.update_yaxes(title="weight")
    return _layout(fig, title, height)


def _grid_shape(n: int, columns: int) -> tuple[int, int]:
    columns = max(1, min(columns, n))
    return math.ceil(n / columns), columns


def _unit(image: np.ndarray, clip_percent: float = 1.0) -> np.ndarray:
    """Scale one panel to [0, 1] between its 1st and 99th percentiles (a flat panel becomes 0.5).

    Percentiles rather than min/max, so a few extreme cells (often at the
    borders of optimised inputs) do not wash out the rest of the panel.
    """
    low, high = (float(v) for v in np.percentile(image, [clip_percent, 100 - clip_percent]))
    if high - low < 1e-12:
        return np.full_like(image, 0.5)
    return np.clip((image - low) / (high - low), 0.0, 1.0)


def mosaic(
    panels: Sequence[np.ndarray], columns: int, gap: int = 2, max_side: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Tile 2-D panels into one image, panel 0 top-left, NaN between panels.

    One heatmap of a mosaic draws far faster than a grid of subplots (plotly
    spends ~5 ms per subplot).  Each panel is block-averaged to at most
    ``max_side`` cells a side and scaled to [0, 1] on its own.

    Returns
    -------
    image : np.ndarray
        With row 0 at the bottom, as plotly draws heatmaps.
    index : np.ndarray
        Same shape: the panel number of each cell (NaN in the gaps), for hover text.
    """
    reduced = [_unit(_block_reduce(np.asarray(p, dtype=np.float32), max_side, max_side)[0]) for p in panels]
    height = max(p.shape[0] for p in reduced)
    width = max(p.shape[1] for p in reduced)
    rows, columns = _grid_shape(len(reduced), columns)
    shape = (rows * (height + gap) - gap, columns * (width + gap) - gap)
    image = np.full(shape, np.nan, dtype=np.float32)
    index = np.full(shape, np.nan, dtype=np.float32)
    for i, panel in enumerate(reduced):
        row, column = divmod(i, columns)
        top = (rows - 1 - row) * (height + gap)  # first panel in the top row
        left = column * (width + gap)
        image[top:top + panel.shape[0], left:left + panel.shape[1]] = panel
        index[top:top + panel.shape[0], left:left + panel.shape[1]] = i
    return image, index


def _mosaic_figure(
    panels: Sequence[np.ndarray], *, columns: int, scale: list, title: str | None, what: str
) -> go.Figure:
    image, index = mosaic(panels, columns)
    rows, _ = _grid_shape(len(panels), columns)
    fig = go.Figure(go.Heatmap(z=image, customdata=index, colorscale=scale, zmin=0, zmax=1, showscale=False,
                               hoverongaps=False,
                               hovertemplate=f"{what} %{{customdata}}: %{{z:.2f}}<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return _layout(fig, title, 60 + 110 * rows)


def feature_map_figure(
    maps: np.ndarray,
    *,
    max_filters: int = 16,
    columns: int = 4,
    time_first: bool = True,
    title: str | None = None,
) -> go.Figure:
    """Feature maps of one conv layer.

    Parameters
    ----------
    maps : np.ndarray
        ``(T, C)`` for a 1-D conv layer: one heatmap, filters × time.
        ``(H, W, C)`` for a 2-D conv layer: a mosaic of the first
        ``max_filters`` maps, panel 0 top-left, each scaled to its own range.
    time_first : bool
        For 2-D maps, whether axis 0 is time (``mel`` inputs) so it goes on x.

    Returns
    -------
    go.Figure
        One ``Heatmap`` trace.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 2:
        z, row_step, col_step = _block_reduce(maps.T, MAX_HEATMAP_ROWS, MAX_HEATMAP_COLS)
        # Label block-averaged cells with the original step and filter indices.
        steps = np.arange(z.shape[1]) * col_step
        filters = np.arange(z.shape[0]) * row_step
        fig = go.Figure(go.Heatmap(z=z, x=steps, y=filters, colorscale=colorscale("Viridis"),
                                   colorbar=dict(title="activation"),
                                   hovertemplate="filter %{y} · step %{x}: %{z:.2f}<extra></extra>"))
        fig.update_xaxes(title="time step")
        fig.update_yaxes(title="filter")
        return _layout(fig, title, 160 + min(360, 3 * maps.shape[1]))
    if maps.ndim != 3:
        raise ValueError(f"expected (T, C) or (H, W, C) feature maps, got shape {maps.shape}")
    n = min(max_filters, maps.shape[2])
    panels = [maps[:, :, i].T if time_first else maps[:, :, i] for i in range(n)]
    return _mosaic_figure(panels, columns=columns, scale=colorscale("Viridis"), title=title, what="filter")


def pattern_figure(
    patterns: np.ndarray,
    *,
    columns: int = 6,
    time_first: bool = True,
    title: str | None = None,
    max_points: int = 1024,
) -> go.Figure:
    """Activation-maximisation inputs, one panel per filter.

    Parameters
    ----------
    patterns : np.ndarray, shape (n_filters, *input_shape)
        ``(n, T, 1)`` raw audio → one heatmap, filters × samples (the first
        ``max_points``); ``(n, T, F)`` → a mosaic of F × T panels;
        ``(n, H, W, C)`` → a mosaic of the channel means.
    time_first : bool
        For ``(n, H, W, C)`` inputs, whether H is time.
    max_points : int
        Samples shown of raw-audio patterns: enough to see the waveform a
        first-layer filter prefers.

    Returns
    -------
    go.Figure
        One ``Heatmap`` trace.
    """
    patterns = np.asarray(patterns, dtype=np.float32)
    if patterns.ndim not in (3, 4):
        raise ValueError(f"expected (n, T, C) or (n, H, W, C) patterns, got shape {patterns.shape}")
    n = patterns.shape[0]
    if patterns.ndim == 3 and patterns.shape[2] == 1:
        waves = patterns[:, :max_points, 0]
        fig = go.Figure(go.Heatmap(z=waves, colorscale=colorscale("RdBu_r"), zmid=0.0,
                                   colorbar=dict(title="sample"),
                                   hovertemplate="filter %{y} · sample %{x}: %{z:.2f}<extra></extra>"))
        fig.update_xaxes(title=f"sample (first {waves.shape[1]})")
        fig.update_yaxes(title="filter")
        return _layout(fig, title, 140 + min(500, 4 * n))
    if patterns.ndim == 3:
        panels = [p.T for p in patterns]
    else:
        panels = [p.mean(axis=2).T if time_first else p.mean(axis=2) for p in patterns]
    # Spectrogram-like inputs (non-negative) look like spectrograms; signed ones get a diverging scale.
    scale = colorscale("Magma" if float(patterns.min()) >= 0 else "RdBu_r")
    return _mosaic_figure(panels, columns=columns, scale=scale, title=title, what="filter")


def resize_map(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Nearest-neighbour resize of a 1-D (time) or 2-D (rows, time) map to (rows, cols)."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D map, got shape {values.shape}")
    r = np.minimum((np.arange(rows) * values.shape[0] / rows).astype(int), values.shape[0] - 1)
    c = np.minimum((np.arange(cols) * values.shape[1] / cols).astype(int), values.shape[1] - 1)
    return values[np.ix_(r, c)]


def gradcam_figure(
    mel_db: np.ndarray,
    heatmap: np.ndarray,
    sample_rate: int,
    hop_length: int,
    *,
    opacity: float = 1.0,
    title: str | None = None,
    height: int = 340,
) -> go.Figure:
    """Grad-CAM heatmap overlaid on a mel spectrogram.

    Parameters
    ----------
    mel_db : np.ndarray, shape (n_mels, frames)
        The background, low bands in row 0.
    heatmap : np.ndarray
        Values in [0, 1], either over time (1-D) or over (mel rows, time) (2-D);
        it is stretched to the spectrogram's grid.

    Returns
    -------
    go.Figure
        Two ``Heatmap`` traces: the grey spectrogram, then the CAM, transparent where it is 0.
    """
    background = np.asarray(mel_db, dtype=np.float32)
    cam = resize_map(np.clip(heatmap, 0.0, 1.0), *background.shape)
    background, _, col_step = _block_reduce(background, MAX_HEATMAP_ROWS, MAX_HEATMAP_COLS)
    cam, _, _ = _block_reduce(cam, MAX_HEATMAP_ROWS, MAX_HEATMAP_COLS)
    times = (np.arange(background.shape[1]) * col_step) * hop_length / float(sample_rate)
    fig = go.Figure()
    fig.add_trace(go.Heatmap(z=background, x=times, colorscale=colorscale("Greys_r"), showscale=False,
                             hovertemplate="%{x:.2f} s · mel %{y}: %{z:.1f}<extra></extra>"))
    fig.add_trace(go.Heatmap(z=cam, x=times, colorscale=CAM_COLORSCALE, zmin=0, zmax=1, opacity=opacity,
                             colorbar=dict(title="importance"),
                             hovertemplate="%{x:.2f} s · mel %{y}: %{z:.2f}<extra></extra>"))
    fig.update_xaxes(title="time (s)")
    fig.update_yaxes(title="mel band")
    return _layout(fig, title, height)


# --- model cards ------------------------------------------------------------------------------


def confusion_matrix_figure(
    matrix: np.ndarray,
    labels: Sequence[str],
    *,
    normalize: bool = True,
    title: str | None = None,
) -> go.Figure:
    """Confusion matrix heatmap (rows true, columns predicted), row-normalised by default."""
    cm = np.asarray(matrix, dtype=float)
    if cm.shape != (len(labels), len(labels)):
        raise ValueError(f"confusion matrix shape {cm.shape} does not match {len(labels)} labels")
    counts = cm.astype(int)
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        cm = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)
    fig = go.Figure(
        go.Heatmap(
            z=cm, x=list(labels), y=list(labels), colorscale=colorscale("Blues"),
            zmin=0, zmax=1 if normalize else None,
            text=counts, texttemplate="%{text}",
            colorbar=dict(title="share of row" if normalize else "count"),
            hovertemplate="true %{y} → predicted %{x}: %{text}<extra></extra>",
        )
    )
    # Square cells and margins sized by the tick labels: long genre names must not overlap the
    # axis titles or each other when the figure sits in half a page.
    fig.update_xaxes(title=dict(text="predicted", standoff=8), tickangle=-45, automargin=True,
                     tickfont=dict(size=12), constrain="domain")
    fig.update_yaxes(title=dict(text="true", standoff=8), autorange="reversed", automargin=True,
                     tickfont=dict(size=12), scaleanchor="x", constrain="domain")
    fig.update_traces(textfont=dict(size=11))
    return _layout(fig, title, 200 + 36 * len(labels))


def per_class_f1_figure(per_class: Mapping[str, Mapping[str, float]], *, title: str | None = None) -> go.Figure:
    """Bar chart of per-class F1 (precision and recall in the hover)."""
    labels = list(per_class)
    f1 = [float(per_class[k].get("f1", 0.0)) for k in labels]
    hover = [
        f"precision {per_class[k].get('precision', float('nan')):.2f} · "
        f"recall {per_class[k].get('recall', float('nan')):.2f} · support {per_class[k].get('support', '?')}"
        for k in labels
    ]
    fig = go.Figure(go.Bar(x=labels, y=f1, customdata=hover, marker_color=REAL_COLOUR,
                           text=[f"{v:.2f}" for v in f1], textposition="outside", cliponaxis=False,
                           hovertemplate="%{x}: F1 %{y:.2f}<br>%{customdata}<extra></extra>"))
    fig.update_yaxes(range=[0, 1.1], title="F1")
    fig.update_xaxes(tickangle=-45)
    return _layout(fig, title, 320)


#: Human names of Keras history keys.
HISTORY_NAMES: dict[str, str] = {"loss": "training loss", "val_loss": "validation loss",
                                 "accuracy": "training accuracy", "val_accuracy": "validation accuracy"}


def has_validation(history: Mapping[str, Sequence[float]]) -> bool:
    """Whether a training history holds validation curves (``val_*`` keys with values)."""
    return any(key.startswith("val_") and len(list(values)) for key, values in history.items())


def training_curves_figure(history: Mapping[str, Sequence[float]], *, title: str | None = None) -> go.Figure:
    """Loss and accuracy per epoch (training solid, validation dashed) in two panels.

    Keys named ``loss``/``val_loss`` go left, anything with ``acc`` in its name
    goes right; other keys (``epoch``, ``lr``) are ignored.  Traces carry human
    names (``validation accuracy``), and a panel's training and validation
    curves share a colour so they read as a pair.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    for key, values in history.items():
        values = list(values)
        if not values:
            continue
        column = 1 if "loss" in key else 2 if "acc" in key else None
        if column is None:
            continue
        validation = key.startswith("val_")
        epochs = np.arange(1, len(values) + 1)
        fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines", name=HISTORY_NAMES.get(key, key.replace("_", " ")),
                                 line=dict(dash="dash" if validation else "solid",
                                           color=TOP_COLOUR if validation else REAL_COLOUR)),
                      row=1, col=column)
    fig.update_xaxes(title="epoch")
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    return _layout(fig, title, 360)


def leaderboard_figure(models: Sequence[str], accuracy: Sequence[float], latency_ms: Sequence[float],
                       *, title: str | None = None) -> go.Figure:
    """Accuracy against latency per 30 s: the speed/quality trade-off at a glance."""
    fig = go.Figure(go.Scatter(x=list(latency_ms), y=list(accuracy), mode="markers+text", text=list(models),
                               textposition="top center", textfont=dict(size=10),
                               marker=dict(size=11, color=REAL_COLOUR),
                               hovertemplate="%{text}: %{y:.1%} at %{x:.0f} ms<extra></extra>"))
    latency = [float(v) for v in latency_ms if v and v > 0]
    if latency and max(latency) / min(latency) >= 10:
        # Spans a decade or more: a log axis with round ticks.
        ticks = [v for v in (1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000)
                 if min(latency) / 3 <= v <= max(latency) * 3]
        fig.update_xaxes(title="latency per 30 s of audio (ms, log scale)", type="log", tickvals=ticks)
    else:
        fig.update_xaxes(title="latency per 30 s of audio (ms)")
    fig.update_yaxes(title="accuracy", tickformat=".0%")
    return _layout(fig, title, 320)


def live_probability_figure(labels: Sequence[str], probabilities: Sequence[float], *,
                            title: str | None = None) -> Any:
    """Probability bars for the Live page (same as :func:`probability_bars`, shorter)."""
    return probability_bars(labels, probabilities, title=title, height=260)


# --- pretrained taggers: axes in seconds and Hz ------------------------------------------------------

#: Mel-band centre frequencies (Hz) worth a tick on a tagger's frequency axis.
HZ_TICKS: tuple[float, ...] = (100, 250, 500, 1000, 2000, 4000, 8000)


def _hz_axis(fig: go.Figure, bands: np.ndarray, band_hz: np.ndarray, **where: Any) -> None:
    """Label a y axis drawn in (fractional) mel-band coordinates with Hz ticks.

    Drawing by band keeps the mel spectrogram's even look (a linear Hz axis
    would squash everything below 1 kHz into a sliver); the ticks say Hz.
    """
    bands = np.asarray(bands, dtype=float)
    centres = np.asarray(band_hz, dtype=float)
    low, high = float(bands.min()), float(bands.max())
    values, text = [], []
    for hz in HZ_TICKS:
        band = float(np.interp(hz, centres, np.arange(len(centres))))
        if low - 0.5 <= band <= high + 0.5 and hz <= centres[-1] * 1.05:
            values.append(min(band, high))
            text.append(f"{hz / 1000:g} kHz" if hz >= 1000 else f"{hz:g} Hz")
    fig.update_yaxes(tickvals=values, ticktext=text, title="frequency", **where)


def band_heatmap_figure(
    values: np.ndarray,
    times_s: Sequence[float],
    bands: Sequence[float],
    band_hz: Sequence[float],
    *,
    title: str | None = None,
    colorbar_title: str = "value",
    colorscale_name: str = "Magma",
    height: int = 300,
) -> go.Figure:
    """A (time, band) array as a heatmap: time in seconds across, frequency (Hz ticks) up.

    Parameters
    ----------
    values : np.ndarray, shape (n_times, n_bands)
        Time first, as the taggers' inputs and feature maps are.
    times_s : sequence of float
        Centre time of each row of ``values``.
    bands : sequence of float
        Centre mel band (fractional index into the input's bands) of each column.
    band_hz : sequence of float
        Centre frequency of each input band, to label the axis.
    """
    z = np.asarray(values, dtype=np.float32)
    if z.ndim != 2 or z.shape != (len(times_s), len(bands)):
        raise ValueError(f"expected shape {(len(times_s), len(bands))}, got {z.shape}")
    hz = np.interp(np.asarray(bands, dtype=float), np.arange(len(band_hz)), np.asarray(band_hz, dtype=float))
    fig = go.Figure(go.Heatmap(
        z=z.T, x=np.asarray(times_s, dtype=np.float32), y=np.asarray(bands, dtype=np.float32),
        customdata=np.repeat(hz[:, None], z.shape[0], axis=1).astype(np.float32),
        colorscale=colorscale(colorscale_name), colorbar=dict(title=colorbar_title),
        hovertemplate="%{x:.2f} s · %{customdata:.0f} Hz: %{z:.2f}<extra></extra>",
    ))
    fig.update_xaxes(title="time (s)")
    _hz_axis(fig, np.asarray(bands), np.asarray(band_hz))
    return _layout(fig, title, height)


def feature_map_grid(
    maps: np.ndarray,
    filters: Sequence[int],
    times_s: Sequence[float],
    bands: Sequence[float] | None,
    band_hz: Sequence[float],
    *,
    columns: int = 4,
    title: str | None = None,
) -> go.Figure:
    """Chosen channels of one layer with real axes.

    Parameters
    ----------
    maps : np.ndarray
        ``(T, F, C)`` (one panel per chosen filter: time in s across,
        frequency up) or ``(T, C)`` (one heatmap, chosen filters × time in s).
    filters : sequence of int
        Channels to show, in order.
    bands : sequence of float or None
        Centre mel band of each step on axis 1 of a ``(T, F, C)`` map.
    """
    maps = np.asarray(maps, dtype=np.float32)
    times = np.asarray(times_s, dtype=np.float32)
    filters = [int(f) for f in filters]
    if maps.ndim == 2:
        z = maps[:, filters].T
        fig = go.Figure(go.Heatmap(z=z, x=times, y=[f"filter {f}" for f in filters],
                                   colorscale=colorscale("Viridis"), colorbar=dict(title="activation"),
                                   hovertemplate="%{y} · %{x:.2f} s: %{z:.2f}<extra></extra>"))
        fig.update_xaxes(title="time (s)")
        fig.update_yaxes(autorange="reversed")
        return _layout(fig, title, 120 + 22 * len(filters))
    if maps.ndim != 3 or bands is None:
        raise ValueError(f"expected (T, C) maps, or (T, F, C) maps with bands; got shape {maps.shape}")
    rows, columns = _grid_shape(len(filters), columns)
    fig = make_subplots(rows=rows, cols=columns, shared_xaxes=True, shared_yaxes=True,
                        subplot_titles=[f"filter {f}" for f in filters],
                        horizontal_spacing=0.02, vertical_spacing=0.12 / max(1, rows - 1) if rows > 1 else 0.1)
    bands = np.asarray(bands, dtype=np.float32)
    for i, f in enumerate(filters):
        row, column = divmod(i, columns)
        # Each panel is scaled to [0, 1] on its own and hovers without its value, so 256 levels
        # (uint8) draw it exactly as float32 would, at a quarter of the payload.
        levels = np.rint(_unit(maps[:, :, f]).T * 255).astype(np.uint8)
        fig.add_trace(go.Heatmap(z=levels, x=times, y=bands, colorscale=colorscale("Viridis"),
                                 zmin=0, zmax=255, showscale=False,
                                 hovertemplate=f"filter {f} · " + "%{x:.2f} s · band %{y:.0f}<extra></extra>"),
                      row=row + 1, col=column + 1)
    _label_grid(fig, rows, columns, "time (s)", bands, band_hz)
    return _layout(fig, title, 60 + 190 * rows)


def _label_grid(fig: go.Figure, rows: int, columns: int, x_title: str, bands: Any, band_hz: Any) -> None:
    """A grid of band heatmaps: the x title under the bottom row, Hz ticks left of the first column."""
    for column in range(1, columns + 1):
        fig.update_xaxes(title=x_title, row=rows, col=column)
    for row in range(1, rows + 1):
        _hz_axis(fig, bands, np.asarray(band_hz), row=row, col=1)


def saliency_figure(
    logmel: np.ndarray,
    cam: np.ndarray,
    times_s: Sequence[float],
    band_hz: Sequence[float],
    *,
    title: str | None = None,
) -> go.Figure:
    """Grad-CAM of a tagger over its input patch, with time in s and frequency in Hz.

    A 2-D map (time, band) is overlaid on the grey log-mel spectrogram; a 1-D
    map (time only) is drawn as a curve under it, sharing the time axis.
    """
    background = np.asarray(logmel, dtype=np.float32)
    cam = np.clip(np.asarray(cam, dtype=np.float32), 0.0, 1.0)
    times = np.asarray(times_s, dtype=np.float32)
    bands = np.arange(background.shape[1], dtype=np.float32)
    if background.shape[0] != len(times) or cam.shape[0] != len(times):
        raise ValueError(f"{len(times)} times for a {background.shape} patch and a {cam.shape} map")
    grey = go.Heatmap(z=background.T, x=times, y=bands, colorscale=colorscale("Greys_r"), showscale=False,
                      hovertemplate="%{x:.2f} s · band %{y}: %{z:.2f}<extra></extra>")
    if cam.ndim == 2:
        fig = go.Figure([grey, go.Heatmap(z=cam.T, x=times, y=bands, colorscale=CAM_COLORSCALE, zmin=0, zmax=1,
                                          colorbar=dict(title="importance"),
                                          hovertemplate="%{x:.2f} s · band %{y}: %{z:.2f}<extra></extra>")])
        fig.update_xaxes(title="time (s)")
        _hz_axis(fig, bands, np.asarray(band_hz))
        return _layout(fig, title, 360)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06)
    fig.add_trace(grey, row=1, col=1)
    fig.add_trace(go.Scatter(x=times, y=cam, mode="lines", fill="tozeroy", line=dict(color=TOP_COLOUR),
                             name="importance", showlegend=False,
                             hovertemplate="%{x:.2f} s: %{y:.2f}<extra></extra>"), row=2, col=1)
    _hz_axis(fig, bands, np.asarray(band_hz), row=1, col=1)
    fig.update_yaxes(title="importance", range=[0, 1.05], row=2, col=1)
    fig.update_xaxes(title="time (s)", row=2, col=1)
    return _layout(fig, title, 420)


def kernel_images_figure(
    kernels: np.ndarray,
    indices: Sequence[int],
    first_band: float,
    band_hz: Sequence[float],
    *,
    columns: int = 6,
    title: str | None = None,
) -> go.Figure:
    """Learned 2-D kernels (frames × bands), one small panel each, blue negative and red positive.

    ``first_band`` places the kernel's lowest band on the frequency axis; a
    timbral filter slides over all bands, so this is only an example position
    (band 0) that keeps the Hz ticks honest about the kernel's height.
    """
    kernels = np.asarray(kernels, dtype=np.float32)
    if kernels.ndim != 3 or len(kernels) != len(indices):
        raise ValueError(f"expected (n, frames, bands) kernels for {len(indices)} filters, got {kernels.shape}")
    rows, columns = _grid_shape(len(kernels), columns)
    fig = make_subplots(rows=rows, cols=columns, shared_yaxes=True,
                        subplot_titles=[f"filter {i}" for i in indices], horizontal_spacing=0.02,
                        vertical_spacing=0.15 / max(1, rows - 1) if rows > 1 else 0.1)
    frames_ms = np.arange(kernels.shape[1]) * 16.0
    bands = first_band + np.arange(kernels.shape[2], dtype=np.float32)
    for i, kernel in enumerate(kernels):
        limit = float(np.max(np.abs(kernel))) or 1.0
        row, column = divmod(i, columns)
        fig.add_trace(go.Heatmap(z=kernel.T, x=frames_ms, y=bands, colorscale=colorscale("RdBu_r"),
                                 zmin=-limit, zmax=limit, showscale=False,
                                 hovertemplate="%{x:.0f} ms · band %{y}: %{z:.3f}<extra></extra>"),
                      row=row + 1, col=column + 1)
    _label_grid(fig, rows, columns, "ms", bands, band_hz)
    return _layout(fig, title, 60 + 200 * rows)


def kernel_curves_figure(
    curves: np.ndarray, indices: Sequence[int], frame_ms: float = 16.0, *, title: str | None = None
) -> go.Figure:
    """Learned 1-D (time-only) kernels as curves over their span in ms."""
    curves = np.asarray(curves, dtype=np.float32)
    if curves.ndim != 2 or len(curves) != len(indices):
        raise ValueError(f"expected (n, frames) kernels for {len(indices)} filters, got {curves.shape}")
    ms = np.arange(curves.shape[1]) * frame_ms
    fig = go.Figure([go.Scatter(x=ms, y=curve, mode="lines", name=f"filter {i}",
                                hovertemplate=f"filter {i} · " + "%{x:.0f} ms: %{y:.3f}<extra></extra>")
                     for i, curve in zip(indices, curves)])
    fig.update_xaxes(title=f"time within the kernel (ms; {curves.shape[1]} frames)")
    fig.update_yaxes(title="weight")
    return _layout(fig, title, 300)
