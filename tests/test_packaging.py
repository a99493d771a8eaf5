"""Packaging facts: the version, py.typed, the console script."""

from __future__ import annotations

import re
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


ROOT = Path(__file__).resolve().parent.parent


def test_version_is_written_in_pyproject_only():
    """The version is static in pyproject (no dynamic version) and PEP 440 shaped."""
    project = PYPROJECT["project"]
    assert "version" not in project.get("dynamic", [])
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|(a|b|rc)\d+)?", project["version"])


def test_a_release_version_has_its_changelog_section():
    """A version that is not a .devN has a `## [X.Y.Z] - date` section in CHANGELOG.md."""
    release = PYPROJECT["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    if ".dev" not in release:
        assert re.search(
            rf"^## \[{re.escape(release)}\] - \d{{4}}-\d\d-\d\d$",
            changelog,
            re.MULTILINE,
        ), f"CHANGELOG.md has no section for {release}"


def test_metadata_is_complete():
    """URLs, the licence file and the classifiers that PyPI shows are declared."""
    project = PYPROJECT["project"]
    assert set(project["urls"]) >= {
        "Homepage",
        "Documentation",
        "Repository",
        "Issues",
        "Changelog",
    }
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert "Programming Language :: Python :: 3 :: Only" in project["classifiers"]
    backend = PYPROJECT["build-system"]["requires"]
    assert backend == ["hatchling>=1.27"]  # PEP 639 licence metadata


def test_sdist_carries_what_the_checks_need():
    """The sdist holds the tests, docs, site config and licence, so it can be checked."""
    include = PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    for needed in (
        "src",
        "tests",
        "docs",
        "tools",
        "mkdocs.yml",
        "LICENSE",
        "noxfile.py",
    ):
        assert needed in include


def test_the_fake_servers_pages_are_package_data():
    """The cancel page's templates and style sheet sit inside the package the wheel ships."""
    import re as _re

    pages = files("cancelflow.testing._server")
    used = set(
        _re.findall(
            r'template\("([\w.]+)"\)', (pages / "pages.py").read_text(encoding="utf-8")
        )
    )
    assert {"page.html", "cancel.html", "reason.html"} <= used
    for name in {*used, "portal.css"}:
        assert (pages / "assets" / name).is_file(), name
    assert PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/cancelflow"
    ]
