"""Streamlit-free helpers for the Spectrogram lab: song-time excerpts, one dB convention,
mel-band frequencies for axis ticks, and click-to-seek.

The lab's figures come from :mod:`genre_core.plots`; the spectra from
:func:`genre_core.session.spectral_views` (librosa).  What is here decides what
the axes say: time in seconds of the song (not of the excerpt), frequency in
Hz on every frequency axis, and decibels relative to each picture's loudest
cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: The lab's one dB convention: 0 dB is the loudest cell of each picture, and the colour
#: scale stops 80 dB below it (what ``librosa.amplitude_to_db(ref=np.max)`` gives the STFT).
DB_FLOOR = -80.0
DB_CONVENTION = (
    "Both spectrograms are in **dB relative to their loudest cell** (0 dB = the loudest "
    "time–frequency cell of that picture; the colour scale stops at −80 dB). dB values compare "
    "cells within one picture: they are not an absolute loudness."
)
MFCC_SCALING = (
    "Each coefficient has a colour scale of its own (minus its mean over the excerpt, divided by "
    "its spread): coefficient 0 is the overall loudness and coefficient 1 the spectral tilt, ten "
    "times larger than the rest, so on one shared scale they would saturate it and every other "
    "row would look flat. Colours therefore compare a coefficient with itself over time, not "
    "one coefficient with another."
)


def excerpt_start(n_samples: int, sample_rate: int, start_seconds: float, seconds: float) -> float:
    """Song time (s) of the first sample of :func:`genre_core.session.excerpt`'s excerpt.

    Mirrors its clamping: a start too close to the end moves back so the excerpt
    keeps its length.

    Examples
    --------
    >>> excerpt_start(22050 * 30, 22050, 15.0, 10.0)
    15.0
    >>> excerpt_start(22050 * 30, 22050, 25.0, 10.0)
    20.0
    """
    length = min(n_samples, max(1, int(round(seconds * sample_rate))))
    start = int(round(max(0.0, start_seconds) * sample_rate))
    return min(start, n_samples - length) / float(sample_rate)


def relative_db(db: np.ndarray, floor: float = DB_FLOOR) -> np.ndarray:
    """dB re-referenced to the array's maximum (0 dB) and clipped at ``floor``.

    The STFT comes in dB relative to its peak and the mel spectrogram in dB
    relative to 1.0 (what the models read); shifting by a constant changes no
    pattern, only the numbers, and gives both pictures the same convention.
    """
    values = np.asarray(db, dtype=np.float32)
    if values.size == 0:
        return values
    return np.maximum(values - float(np.max(values)), floor)


def mel_figure(mel_db: np.ndarray, sample_rate: int, hop_length: int, fmax: float, *, title: str,
               t0: float = 0.0, height: int = 320) -> Any:
    """A mel spectrogram (``(n_mels, frames)`` dB) in the lab's convention: dB re its loudest cell,
    rows ticked with their centre frequency in Hz, time in song seconds from ``t0``.

    Examples
    --------
    >>> fig = mel_figure(np.zeros((64, 10)), 22050, 512, 11025.0, title="mel")
    >>> fig.layout.yaxis.ticktext[:3]
    ('200 Hz', '500 Hz', '1 kHz')
    """
    from genre_core import plots

    centres = mel_band_centres(mel_db.shape[0], fmax)
    return plots.spectrogram_figure(relative_db(mel_db), sample_rate, hop_length, y_title="frequency (mel scale)",
                                    title=title, height=height, zmin=DB_FLOOR, zmax=0, colorbar_title="dB re max",
                                    y_ticks=plots.band_hz_ticks(centres), hover_y="mel band %{y:.0f}", t0=t0)


def mel_band_centres(n_mels: int, fmax: float, fmin: float = 0.0) -> np.ndarray:
    """Centre frequency (Hz) of each of ``n_mels`` Slaney mel filters from ``fmin`` to ``fmax``.

    The same filters as ``librosa.filters.mel`` with its defaults (peaks of the
    triangles; the ``n_mels + 2`` edge frequencies without the first and last).
    """
    import librosa

    return librosa.mel_frequencies(n_mels=n_mels + 2, fmin=fmin, fmax=fmax)[1:-1]


def seek_time(event: Any, low: float, high: float) -> float | None:
    """The song time a click on a time-axis chart asks to play from, or None.

    Parameters
    ----------
    event : mapping
        What ``st.plotly_chart(..., on_select="rerun")`` returns (or the chart's
        session state): ``{"selection": {"points": [{"x": …}, …]}}``.
    low, high : float
        The clip's time range; the result is clamped into it.

    Examples
    --------
    >>> seek_time({"selection": {"points": [{"x": 12.5, "y": 300}]}}, 0.0, 30.0)
    12.5
    >>> seek_time({"selection": {"points": []}}, 0.0, 30.0) is None
    True
    """
    selection = event.get("selection") if isinstance(event, Mapping) else getattr(event, "selection", None)
    points = (selection.get("points") if isinstance(selection, Mapping)
              else getattr(selection, "points", None)) or []
    xs = []
    for point in points:
        x = point.get("x") if isinstance(point, Mapping) else None
        if isinstance(x, (int, float)) and np.isfinite(x):
            xs.append(float(x))
    if not xs:
        return None
    return float(min(max(min(xs), low), high))


#: Browser side of the lab's player (a ``st.components.v2`` component; Streamlit's own
#: ``st.audio`` reports no playback position, and plotly heatmaps cannot be point-selected,
#: so neither a following playhead nor click-to-seek on a spectrogram exists built in).
#: ``data`` is ``{"groups": [{"player": container key, "charts": [chart keys]}]}``: each
#: group's charts get a line at the player's current time, and a click on one of them
#: moves the player there.  Charts' x axes must be song time in seconds.
PLAYHEAD_JS = r"""
export default function (component) {
  const groups = ((component.data || {}).groups) || [];
  const charts = new WeakSet();
  const players = new WeakSet();
  let frame = 0;
  const audioOf = (g) => document.querySelector(`.st-key-${g.player} audio`);
  const chartsOf = (g) => g.charts.flatMap(
    (k) => Array.from(document.querySelectorAll(`.st-key-${k} .js-plotly-plot`)));
  const lineOf = (gd) => {
    let el = gd.querySelector(":scope > .genre-lab-playhead");
    if (!el) {
      el = document.createElement("div");
      el.className = "genre-lab-playhead";
      el.style.cssText = "position:absolute;width:2px;margin-left:-1px;background:#e4572e;" +
        "pointer-events:none;z-index:5;display:none";
      if (getComputedStyle(gd).position === "static") gd.style.position = "relative";
      gd.appendChild(el);
    }
    return el;
  };
  const bindChart = (gd, g) => {
    if (charts.has(gd)) return;
    charts.add(gd);
    let down = null;
    gd.addEventListener("mousedown", (e) => { down = [e.clientX, e.clientY]; }, true);
    gd.addEventListener("click", (e) => {
      const fl = gd._fullLayout;
      if (!fl || !fl.xaxis || !down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
      const xa = fl.xaxis, ya = fl.yaxis, box = gd.getBoundingClientRect();
      const px = e.clientX - box.left - xa._offset, py = e.clientY - box.top - ya._offset;
      if (px < 0 || px > xa._length || py < 0 || py > ya._length) return;
      const player = audioOf(g);
      if (!player) return;
      const t = xa.p2l(px);
      player.currentTime = Math.max(0, Math.min(t, player.duration || t));
      gd.dataset.seekedTo = player.currentTime.toFixed(2);
      draw();
    }, true);
  };
  // Styles are written only when they change: a write per frame would restyle the page 60 times a second.
  const set = (el, key, value) => { if (el.style[key] !== value) el.style[key] = value; };
  const draw = () => {
    for (const g of groups) {
      const player = audioOf(g);
      for (const gd of chartsOf(g)) {
        const fl = gd._fullLayout;
        if (!fl || !fl.xaxis || !fl.yaxis || !player) continue;
        const xa = fl.xaxis, ya = fl.yaxis, t = player.currentTime, el = lineOf(gd);
        const lo = Math.min(xa.range[0], xa.range[1]), hi = Math.max(xa.range[0], xa.range[1]);
        const show = (t > 0 || !player.paused) && t >= lo && t <= hi;
        set(el, "display", show ? "block" : "none");
        if (show) {
          set(el, "left", `${xa._offset + xa.l2p(t)}px`);
          set(el, "top", `${ya._offset}px`);
          set(el, "height", `${ya._length}px`);
          el.dataset.time = t.toFixed(2);
        }
      }
    }
  };
  // Animate only while a player plays; otherwise draw on its events.
  const playing = () => groups.some((g) => { const p = audioOf(g); return p && !p.paused && !p.ended; });
  const loop = () => { draw(); frame = playing() ? requestAnimationFrame(loop) : 0; };
  const start = () => { if (!frame) frame = requestAnimationFrame(loop); };
  // Reruns replace the charts and players: look for new ones twice a second.
  const bindAll = () => {
    for (const g of groups) {
      const player = audioOf(g);
      if (player && !players.has(player)) {
        players.add(player);
        player.addEventListener("play", start);
        for (const name of ["pause", "ended", "seeked", "loadedmetadata"]) player.addEventListener(name, draw);
        if (!player.paused) start();
      }
      for (const gd of chartsOf(g)) bindChart(gd, g);
    }
    draw();
  };
  bindAll();
  const poll = setInterval(bindAll, 500);
  return () => { clearInterval(poll); cancelAnimationFrame(frame); };
}
"""
