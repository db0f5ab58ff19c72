"""One headline everywhere: ``genre-lab predict``, Classify and Compare name the same genre and model.

The CLI and the pages call the same evaluation policy (:mod:`genre_core.evaluation`)
on the same default models; these tests run all three on several clips (real
clips from ../shared/data when present, and a synthetic example song that is
always there) and compare what a user reads.
"""

from __future__ import annotations

import io
import json

import pytest
from streamlit.testing.v1 import AppTest

from genre_core.cli import main
from genre_core.config import PROJECT_ROOT, SHARED_DATA_DIR
from genre_core.evaluation import EVIDENCE_FILE

APP = str(PROJECT_ROOT / "app.py")
TIMEOUT = 300
#: Real clips of three collections (skipped one by one when absent).
REAL_CLIPS = (
    SHARED_DATA_DIR / "fma_small" / "001" / "001040.mp3",
    SHARED_DATA_DIR / "real_songs" / "heavy_metal.mp3",
    SHARED_DATA_DIR / "real_songs" / "disco.mp3",
    SHARED_DATA_DIR / "gtzan" / "audio" / "disco.00000.wav",
)

pytestmark = pytest.mark.slow


def _cli_headline(path, label_set: str = "gtzan10") -> dict:
    out, err = io.StringIO(), io.StringIO()
    code = main(["predict", "--json", "--label-set", label_set, str(path)], out=out, err=err)
    assert code == 0, err.getvalue()
    (line,) = out.getvalue().splitlines()
    return json.loads(line)["headline"]


def _page_headline(at: AppTest, page: str) -> tuple[str, str]:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    (metric,) = [m for m in at.metric if m.label == "Headline answer"]
    source = next(str(m.value) for m in at.markdown if str(m.value).startswith("from **"))
    return str(metric.value), source


def _clips(tmp_path) -> list:
    from genre_core.audio import write_wav_bytes
    from genre_core.session import example_clip

    example = example_clip("Example song: swing")
    synthetic = tmp_path / "swing.wav"
    synthetic.write_bytes(write_wav_bytes(example.samples, example.sample_rate))
    return [synthetic] + [p for p in REAL_CLIPS if p.exists()]


def test_cli_classify_and_compare_name_the_same_headline(tmp_path):
    if not EVIDENCE_FILE.exists():
        pytest.skip(f"{EVIDENCE_FILE} is absent: the headline needs the stored evidence (`genre-lab evidence`)")
    from genre_core.registry import default_registry
    from genre_core.session import clip_from_bytes, display_name

    cards = {e.name: e.card for e in default_registry().entries()}
    clips = _clips(tmp_path)
    seen = set()
    for path in clips:
        cli = _cli_headline(path)
        assert cli["genre"] is not None and cli["model"] in cards, cli
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        at.session_state["clip"] = clip_from_bytes(path.read_bytes(), path.name)
        for page in ("pages/classify.py", "pages/compare_models.py"):
            genre, source = _page_headline(at, page)
            assert genre == cli["genre"], (path.name, page, genre, cli)
            assert f"from **{display_name(cards[cli['model']], cli['model'])}**" in source, \
                (path.name, page, source)
        seen.add(cli["genre"])
    if len(clips) > 2:
        # Several real clips: the headline is not one constant answer (the test could not tell).
        assert len(seen) > 1, seen


def test_the_headline_vocabulary_choice_is_the_same_in_the_cli_and_the_app(tmp_path):
    """FMA's genres: the picker on Classify and ``--label-set fma8`` give the same answer."""
    if not EVIDENCE_FILE.exists():
        pytest.skip(f"{EVIDENCE_FILE} is absent: the headline needs the stored evidence (`genre-lab evidence`)")
    from genre_core.session import clip_from_bytes

    path = _clips(tmp_path)[-1]
    cli = _cli_headline(path, "fma8")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.session_state["clip"] = clip_from_bytes(path.read_bytes(), path.name)
    at.session_state["headline_label_set"] = "fma8"
    genre, _ = _page_headline(at, "pages/classify.py")
    assert cli["label_set"] == "fma8" and genre == cli["genre"], (genre, cli)
    gtzan = _cli_headline(path)
    assert gtzan["label_set"] == "gtzan10" and gtzan["genre"] in gtzan["probabilities"]
    assert cli["genre"] in cli["probabilities"] and set(cli["probabilities"]) != set(gtzan["probabilities"])
