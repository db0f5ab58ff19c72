"""Figure builders return figures with the expected traces, shapes and values."""

from __future__ import annotations

import numpy as np
import pytest

from genre_core import plots


def test_probability_bars_orders_and_highlights_top_k():
    labels = ["blues", "jazz", "rock", "pop", "metal"]
    probs = [0.1, 0.4, 0.05, 0.3, 0.15]
    fig = plots.probability_bars(labels, probs, top_k=3, title="m")
    (bar,) = fig.data
    assert list(bar.y) == ["rock", "blues", "metal", "pop", "jazz"]  # ascending: top at the top
    np.testing.assert_allclose(bar.x, sorted(probs))
    colours = list(bar.marker.color)
    assert colours.count(plots.TOP_COLOUR) == 3
    assert colours[-1] == plots.TOP_COLOUR and colours[0] == plots.OTHER_COLOUR
    assert bar.text[-1].startswith("#1")


def test_probability_bars_rejects_mismatch():
    with pytest.raises(ValueError):
        plots.probability_bars(["a", "b"], [1.0])


def test_timeline_heatmap_shape():
    windows = [(0.0, 30.0), (15.0, 45.0), (30.0, 60.0)]
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=3)
    fig = plots.timeline_heatmap(windows, probs, ["a", "b", "c", "d"])
    (heat,) = fig.data
    assert np.asarray(heat.z).shape == (4, 3)
    assert list(heat.x) == [15.0, 30.0, 45.0]
    with pytest.raises(ValueError):
        plots.timeline_heatmap(windows, probs[:2], ["a", "b", "c", "d"])


def test_minmax_envelope_bounds_every_sample():
    rng = np.random.default_rng(1)
    y = rng.uniform(-1, 1, 10_007).astype(np.float32)
    times, lows, highs = plots.minmax_envelope(y, 1000, n_bins=100)
    assert lows.size == highs.size == times.size
    assert lows.size <= 101
    assert lows.min() == y.min() and highs.max() == y.max()
    assert np.all(lows <= highs)
    per_bin = int(np.ceil(y.size / 100))
    assert highs[3] == y[3 * per_bin:4 * per_bin].max()


def test_waveform_figure_two_traces():
    y = np.sin(np.linspace(0, 100, 50_000)).astype(np.float32)
    fig = plots.waveform_figure(y, 22050, n_bins=500)
    assert len(fig.data) == 2
    assert len(fig.data[0].x) <= 501
    assert fig.data[1].fill == "tonexty"


def test_spectrogram_figure_reduces_large_arrays():
    S = np.random.default_rng(2).normal(size=(1025, 2000)).astype(np.float32)
    freqs = np.linspace(0, 11025, 1025)
    fig = plots.spectrogram_figure(S, 22050, 512, y_values=freqs)
    z = np.asarray(fig.data[0].z)
    assert z.shape[0] <= plots.MAX_HEATMAP_ROWS and z.shape[1] <= plots.MAX_HEATMAP_COLS
    assert len(fig.data[0].y) == z.shape[0] and len(fig.data[0].x) == z.shape[1]
    # block means keep the global mean (up to the trimmed edge)
    assert abs(float(z.mean()) - float(S.mean())) < 0.05


def test_spectrogram_figure_small_is_exact_and_log_axis():
    S = np.arange(12, dtype=float).reshape(3, 4)
    fig = plots.spectrogram_figure(S, 100, 10, y_values=[0.0, 100.0, 200.0], log_y=True)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), S[1:])
    assert fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(fig.data[0].x, [0.0, 0.1, 0.2, 0.3], atol=1e-6)


def test_filterbank_one_trace_per_filter_on_support():
    freqs = np.linspace(0, 11025, 1025)
    fb = np.zeros((3, 1025))
    fb[0, 10:20] = 1.0
    fb[1, 15:40] = 0.5
    fb[2, 500:600] = 0.2
    fig = plots.filterbank_figure(fb, freqs)
    assert len(fig.data) == 2  # even and odd filters
    even, odd = fig.data
    # filter 0: 10 non-zero bins plus one neighbour each side, then a gap; filter 2 likewise
    assert int(np.flatnonzero(np.isnan(np.asarray(even.x)))[0]) == 12
    assert sorted({int(i) for i in even.customdata if np.isfinite(i)}) == [0, 2]
    assert sorted({int(i) for i in odd.customdata if np.isfinite(i)}) == [1]
    assert even.connectgaps is False


def test_feature_map_figure_1d_and_2d():
    fig1 = plots.feature_map_figure(np.random.rand(100, 8))
    assert len(fig1.data) == 1 and np.asarray(fig1.data[0].z).shape == (8, 100)
    fig2 = plots.feature_map_figure(np.random.rand(20, 30, 12), max_filters=6, columns=3)
    (heat,) = fig2.data
    # 2 rows × 3 columns of (30 mels × 20 frames) panels with 2-cell gaps (time on x)
    assert np.asarray(heat.z).shape == (2 * 30 + 2, 3 * 20 + 4)
    assert np.nanmax(np.asarray(heat.customdata, dtype=float)) == 5


def test_mosaic_places_panels_top_left_first():
    panels = [np.full((2, 3), float(i)) + np.eye(2, 3) for i in range(3)]
    image, index = plots.mosaic(panels, columns=2, gap=1)
    assert image.shape == (5, 7)
    # panel 0 in the top row (highest rows, plotly draws row 0 at the bottom), panel 2 bottom-left
    assert np.all(index[3:, :3] == 0) and np.all(index[:2, :3] == 2)
    assert np.isnan(index[2]).all() and np.isnan(index[:, 3]).all()
    assert np.nanmin(image) == 0 and np.nanmax(image) == 1  # each panel scaled to [0, 1]


def test_pattern_figure_raw_and_images():
    raw = plots.pattern_figure(np.random.rand(4, 5000, 1) - 0.5, max_points=1024)
    assert len(raw.data) == 1 and np.asarray(raw.data[0].z).shape == (4, 1024)
    img = plots.pattern_figure(np.random.rand(5, 16, 16, 3), columns=3)
    assert len(img.data) == 1 and np.asarray(img.data[0].z).shape == (2 * 16 + 2, 3 * 16 + 4)
    mel = plots.pattern_figure(np.random.rand(3, 40, 8), columns=3)  # (n, frames, mels) → mels up
    assert np.asarray(mel.data[0].z).shape == (8, 3 * 40 + 4)


def test_resize_map_and_gradcam_overlay():
    cam_1d = np.array([0.0, 1.0])
    resized = plots.resize_map(cam_1d, 3, 4)
    np.testing.assert_array_equal(resized, [[0, 0, 1, 1]] * 3)
    mel = np.random.rand(128, 130)
    fig = plots.gradcam_figure(mel, np.random.rand(13), 22050, 512)
    assert len(fig.data) == 2
    assert np.asarray(fig.data[1].z).shape == (128, 130)
    assert fig.data[1].colorscale[0][1].endswith(",0)")  # transparent where the CAM is 0


def test_mfcc_figure_range_ignores_c0():
    rng = np.random.default_rng(3)
    mfcc = np.vstack([-400.0 + rng.normal(0, 30, 50), 120 + rng.normal(0, 20, 50), rng.normal(0, 10, (12, 50))])
    fig = plots.mfcc_figure(mfcc, 22050, 512, per_coefficient=False)
    assert fig.data[0].zmin == -fig.data[0].zmax
    assert 10 < fig.data[0].zmax < 50
    # per coefficient (the default): every row standardised, so coefficient 0 no longer saturates
    z = np.asarray(plots.mfcc_figure(mfcc, 22050, 512).data[0].z)
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=1), 1, atol=1e-3)


def test_confusion_matrix_row_normalised():
    cm = np.array([[8, 2], [1, 9]])
    fig = plots.confusion_matrix_figure(cm, ["a", "b"])
    np.testing.assert_allclose(np.asarray(fig.data[0].z), [[0.8, 0.2], [0.1, 0.9]])
    np.testing.assert_array_equal(np.asarray(fig.data[0].text), cm)
    with pytest.raises(ValueError):
        plots.confusion_matrix_figure(cm, ["a"])


def test_per_class_and_training_curves():
    per_class = {"a": {"precision": 1, "recall": 0.5, "f1": 0.67, "support": 4},
                 "b": {"precision": 0.5, "recall": 1, "f1": 0.67, "support": 2}}
    fig = plots.per_class_f1_figure(per_class)
    assert list(fig.data[0].x) == ["a", "b"]
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8],
               "val_accuracy": [0.4, 0.7], "lr": [1e-3, 1e-3]}
    curves = plots.training_curves_figure(history)
    assert sorted(t.name for t in curves.data) == ["training accuracy", "training loss", "validation accuracy",
                                                   "validation loss"]


def test_probability_matrix_marks_top_label():
    fig = plots.probability_matrix_figure(["m1", "m2"], ["a", "b", "c"],
                                          np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]]))
    assert np.asarray(fig.data[0].text).tolist() == [["10%", "★ 70%", "20%"], ["★ 60%", "30%", "10%"]]


def test_leaderboard_figure_axis_scale_follows_spread():
    narrow = plots.leaderboard_figure(["a", "b"], [0.7, 0.8], [400.0, 560.0])
    assert narrow.layout.xaxis.type != "log"
    wide = plots.leaderboard_figure(["a", "b"], [0.7, 0.8], [45.0, 1100.0])
    assert wide.layout.xaxis.type == "log" and 100 in wide.layout.xaxis.tickvals


# --- tagger views: axes in seconds and Hz ---------------------------------------------------------------

BAND_HZ = np.geomspace(30.0, 7750.0, 96)  # stands in for the taggers' mel band centres


def _tick_text(fig, axis="yaxis"):
    return list(getattr(fig.layout, axis).ticktext or ())


def test_band_heatmap_has_seconds_across_and_hz_ticks():
    values = np.random.default_rng(0).random((187, 96))
    times = 6.0 + np.arange(187) * 0.016
    fig = plots.band_heatmap_figure(values, times, np.arange(96), BAND_HZ)
    (heat,) = fig.data
    assert np.asarray(heat.z).shape == (96, 187)  # bands up, time across
    np.testing.assert_allclose(np.asarray(heat.x)[[0, -1]], [6.0, times[-1]], rtol=1e-6)
    assert fig.layout.xaxis.title.text == "time (s)"
    assert "1 kHz" in _tick_text(fig) and "100 Hz" in _tick_text(fig)
    with pytest.raises(ValueError):
        plots.band_heatmap_figure(values[:, :10], times, np.arange(96), BAND_HZ)


def test_feature_map_grid_panels_and_time_only_maps():
    maps = np.random.default_rng(1).random((23, 12, 128)).astype(np.float32)
    bands = 3 + 8 * np.arange(12.0)
    fig = plots.feature_map_grid(maps, [5, 9, 1], np.arange(23) * 0.128, bands, BAND_HZ, columns=2)
    assert len(fig.data) == 3
    np.testing.assert_allclose(np.asarray(fig.data[0].y), bands)
    # each panel on its own 256-level scale: filter 5's map, frequency up, time across
    panel = np.asarray(fig.data[0].z)
    assert panel.dtype == np.uint8 and panel.shape == (12, 23) and panel.min() == 0 and panel.max() == 255
    expected = plots._unit(maps[:, :, 5]).T * 255
    assert np.abs(panel.astype(float) - expected).max() <= 0.5 + 1e-4
    assert any("kHz" in t for t in _tick_text(fig))
    flat = plots.feature_map_grid(maps[:, 0, :], [3, 4], np.arange(23) * 0.016, None, BAND_HZ)
    (heat,) = flat.data
    assert list(heat.y) == ["filter 3", "filter 4"]
    np.testing.assert_allclose(np.asarray(heat.z)[1], maps[:, 0, 4])
    with pytest.raises(ValueError):
        plots.feature_map_grid(maps, [0], np.arange(23), None, BAND_HZ)


def test_saliency_figure_2d_overlay_and_1d_curve():
    patch = np.random.default_rng(2).random((187, 96))
    times = np.arange(187) * 0.016
    overlay = plots.saliency_figure(patch, np.random.default_rng(3).random((187, 96)), times, BAND_HZ)
    assert [t.type for t in overlay.data] == ["heatmap", "heatmap"]
    curve = plots.saliency_figure(patch, np.linspace(0, 1, 187), times, BAND_HZ)
    assert [t.type for t in curve.data] == ["heatmap", "scatter"]
    np.testing.assert_allclose(np.asarray(curve.data[1].y), np.linspace(0, 1, 187), rtol=1e-6)
    with pytest.raises(ValueError):
        plots.saliency_figure(patch, np.ones(10), times, BAND_HZ)


def test_kernel_figures_keep_the_weights_and_their_sign():
    kernels = np.random.default_rng(4).standard_normal((4, 7, 38))
    fig = plots.kernel_images_figure(kernels, [10, 3, 7, 0], 0.0, BAND_HZ, columns=2)
    assert len(fig.data) == 4
    np.testing.assert_allclose(np.asarray(fig.data[1].z), kernels[1].T, rtol=1e-6)
    assert fig.data[1].zmin == -fig.data[1].zmax  # symmetric: white is zero weight
    curves = plots.kernel_curves_figure(kernels[:, :, 0], [10, 3, 7, 0])
    assert [t.name for t in curves.data] == ["filter 10", "filter 3", "filter 7", "filter 0"]
    np.testing.assert_allclose(np.asarray(curves.data[0].x)[-1], 6 * 16.0)


def test_spectrogram_figure_rows_at_most_its_plot_area():
    """A 1025-row STFT in a 320 px figure keeps at most the plot area's 220 rows (block means of whole bins)."""
    S = np.arange(1025 * 40, dtype=np.float32).reshape(1025, 40)
    fig = plots.spectrogram_figure(S, 22050, 512, y_values=np.linspace(0, 11025, 1025), height=320)
    z = np.asarray(fig.data[0].z)
    assert 150 <= z.shape[0] <= 320 - plots.PLOT_AREA_MARGIN_PX and z.shape[1] == 40
    step = -(-1025 // z.shape[0])  # whole bins per row
    np.testing.assert_allclose(z[0], S[:step].mean(axis=0))
