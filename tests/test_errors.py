"""The error hierarchy: one root, the old names and bases kept, the CLI catching the root."""

from __future__ import annotations

import io

import pytest

from genre_core import errors

ALL_ERRORS = [getattr(errors, name) for name in errors.__all__ if name != "GenreLabError"]


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_derives_from_the_root(cls):
    assert issubclass(cls, errors.GenreLabError)
    assert cls is not errors.GenreLabError


@pytest.mark.parametrize(
    ("module", "name", "second_base"),
    [
        ("genre_core.audio", "AudioError", ValueError),
        ("genre_core.cards", "CardError", ValueError),
        ("genre_core.registry", "ModelNotFoundError", KeyError),
        ("genre_core.registry", "ModelLoadError", ValueError),
        ("genre_core.models.persistence", "UntrustedModelError", ValueError),
    ],
)
def test_old_names_are_the_same_classes_with_their_old_bases(module, name, second_base):
    import importlib

    cls = getattr(importlib.import_module(module), name)
    assert cls is getattr(errors, name)
    assert issubclass(cls, second_base) and issubclass(cls, errors.GenreLabError)


def test_a_missing_artifact_is_still_a_file_not_found_error():
    assert issubclass(errors.ArtifactMissingError, FileNotFoundError)
    assert issubclass(errors.ArtifactMissingError, errors.ModelLoadError)


def test_model_not_found_message_is_not_quoted():
    assert str(errors.ModelNotFoundError("no model named 'x'")) == "no model named 'x'"


def test_cli_turns_a_library_error_into_one_line(tmp_path):
    from genre_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(["models", "--models-dir", str(tmp_path / "absent")], out=out, err=err)
    assert code == 2 and out.getvalue() == ""
    assert err.getvalue() == f"error: --models-dir {tmp_path / 'absent'}: no such folder\n"


def test_cli_does_not_swallow_bugs_as_user_errors(monkeypatch, tmp_path):
    """Only the root is caught at the top: anything else is a bug and surfaces as one."""
    from genre_core import cli

    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "cmd_models", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main(["models"], out=io.StringIO(), err=io.StringIO())
