"""The clip sidebar (issue 9, item 6): it always shows the current clip, never a stale file.

Driven with ``streamlit.testing.v1.AppTest`` through ``app.py``: after an example is
picked, after a recording, or after a rejected upload, the uploader is empty (no old
file name), the recorder likewise, and the success box names the clip every page uses.
The error for a bad file lists the accepted formats once, from
``genre_core.audio.SUPPORTED_EXTENSIONS``.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from streamlit.testing.v1 import AppTest

from genre_core.audio import SUPPORTED_EXTENSIONS
from genre_core.config import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")
LAB = "pages/spectrogram_lab.py"
FORMATS = ", ".join(e.lstrip(".") for e in SUPPORTED_EXTENSIONS)


def _encode(seconds: float = 4.0, fmt: str = "WAV") -> bytes:
    t = np.arange(int(seconds * 22050)) / 22050
    buffer = io.BytesIO()
    sf.write(buffer, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 22050, format=fmt, subtype="PCM_16")
    return buffer.getvalue()


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(LAB).run()  # a cheap page: the sidebar is what is tested
    assert not at.exception, [e.value for e in at.exception]
    return at


def _uploader(at: AppTest):
    (widget,) = at.get("file_uploader")
    return widget


def _recorder(at: AppTest):
    (widget,) = at.get("audio_input")
    return widget


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    _uploader(at).set_value((name, data, "audio/wav")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _file_names(widget) -> list[str]:
    """The file names a file widget shows (none when it is empty)."""
    value = widget.value
    if value is None:
        return []
    return [f.name for f in (value if isinstance(value, list) else [value])]


def _success(at: AppTest) -> str:
    return " ".join(str(e.value) for e in at.sidebar.get("success"))


def _errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.get("error")]


def test_example_after_upload_empties_the_uploader():
    at = _upload(_app(), "tone.wav", _encode())
    assert _file_names(_uploader(at)) == ["tone.wav"]
    assert "tone.wav" in _success(at)
    at.selectbox(key="example").select("Example song: waltz").run()
    assert not at.exception
    assert at.session_state["clip"].name == "waltz"
    assert _file_names(_uploader(at)) == [], "the uploader still shows the old file"
    assert "waltz" in _success(at) and "tone.wav" not in _success(at)


def test_rejected_upload_empties_the_uploader_and_keeps_the_clip():
    at = _upload(_app(), "tone.wav", _encode())
    _upload(at, "broken.wav", b"not audio at all" * 100)
    assert at.session_state["clip"].name == "tone.wav"
    assert _file_names(_uploader(at)) == [], "the rejected file's name is still shown"
    (error,) = _errors(at)
    assert "broken.wav" in error and "still loaded" in error
    assert "tone.wav" in _success(at)


def test_error_lists_the_supported_formats_once():
    at = _upload(_app(), "broken.wav", b"not audio at all" * 100)
    (error,) = _errors(at)
    assert error.count(FORMATS) == 1, error
    assert error.count("mp3") == 1, error  # no second, different list
    assert "aiff" in error


def test_upload_after_rejection_clears_the_error():
    at = _upload(_app(), "broken.wav", b"not audio at all" * 100)
    assert _errors(at)
    _upload(at, "tone.wav", _encode())
    assert not _errors(at)
    assert at.session_state["clip"].name == "tone.wav"


@pytest.mark.parametrize(("name", "fmt"), [("song.aiff", "AIFF"), ("song.aif", "AIFF"), ("upload", "WAV")])
def test_aiff_and_extension_less_uploads_are_decoded(name, fmt):
    at = _upload(_app(), name, _encode(fmt=fmt))
    assert not _errors(at)
    assert at.session_state["clip"].name == name


def test_uploader_offers_exactly_the_supported_extensions():
    at = _app()
    offered = set(_uploader(at).proto.type)
    assert {e.lower() for e in SUPPORTED_EXTENSIONS} <= offered
    assert FORMATS in " ".join(str(c.value) for c in at.sidebar.get("caption"))


def test_recording_empties_the_uploader_and_upload_empties_the_recorder():
    at = _upload(_app(), "tone.wav", _encode())
    _recorder(at).set_value(("recording.wav", _encode(), "audio/wav")).run()
    assert not at.exception
    assert at.session_state["clip"].origin == "recording"
    assert _file_names(_uploader(at)) == []
    _upload(at, "second.wav", _encode(5.0))
    assert at.session_state["clip"].name == "second.wav"
    assert _recorder(at).value is None
    assert at.selectbox(key="example").value is None


def test_example_then_example_again_after_upload():
    at = _app()
    at.selectbox(key="example").select("Example song: waltz").run()
    _upload(at, "tone.wav", _encode())
    assert at.selectbox(key="example").value is None  # the picker does not claim the old example
    at.selectbox(key="example").select("Example song: waltz").run()
    assert at.session_state["clip"].name == "waltz"
    assert _file_names(_uploader(at)) == []
