"""Packaging facts: the version, py.typed, the console script."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points, version
from importlib.resources import files
from pathlib import Path

import pytest

import cancelflow

PYPROJECT = tomllib.loads(
    (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(
        encoding="utf-8"
    )
)


def test_version_matches_metadata_and_pyproject():
    """__version__ is the installed distribution's version, from pyproject."""
    assert cancelflow.__version__ == version("cancelflow")
    assert cancelflow.__version__ == PYPROJECT["project"]["version"]


def test_unknown_attribute_raises_attribute_error():
    """An unknown name raises AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cancelflow.nope  # noqa: B018


def test_py_typed_is_shipped():
    """py.typed sits in the package, which the wheel target ships whole."""
    assert (files("cancelflow") / "py.typed").is_file()
    assert PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/cancelflow"
    ]
    assert "Typing :: Typed" in PYPROJECT["project"]["classifiers"]


def test_console_script_points_at_main():
    """The `cancelflow` console script is cancelflow._cli.main:main."""
    (script,) = entry_points(group="console_scripts", name="cancelflow")
    assert script.value == "cancelflow._cli.main:main"
    from cancelflow._cli.main import main

    assert script.load() is main
