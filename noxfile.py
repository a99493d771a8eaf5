"""Development sessions: ``nox`` runs tests, mypy, lint and docs; ``nox -s bench``
runs the benchmarks."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PYTHONS = [
    c.rsplit(" ", 1)[-1]
    for c in PYPROJECT["project"]["classifiers"]
    if c.startswith("Programming Language :: Python :: 3.")
]
EXTRAS = ".[testing,async,postgres]"

nox.options.sessions = ["tests", "mypy", "lint"]  # tests include the docs
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = not os.environ.get("CI")
nox.options.default_venv_backend = "uv|virtualenv"  # uv when installed: much faster


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole suite on every Python found (in parallel with pytest-xdist).

    On the first supported Python it runs under coverage, with branches, and fails
    under 90 %; on the others it runs plainly (coverage's tracer would double the
    time of a suite that must stay well under five minutes in CI) and, in CI, with
    the lighter ``ci-light`` Hypothesis profile (see tests/conftest.py).
    """
    session.install(EXTRAS, *_group("tests"))
    pytest = ["pytest", "-p", "no:cacheprovider", "-n", "auto", *session.posargs]
    if session.python != PYTHONS[0]:
        if os.environ.get("CI") and "HYPOTHESIS_PROFILE" not in os.environ:
            # fewer Hypothesis examples where the first Python already ran them all
            session.env["HYPOTHESIS_PROFILE"] = "ci-light"
        session.run("python", "-m", *pytest)
        return
    session.env["COVERAGE_FILE"] = str(ROOT / f".coverage.{session.python}")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", *pytest)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")


@nox.session(python=PYTHONS[0])
def mypy(session: nox.Session) -> None:
    """mypy --strict on src/ and on the typing test of the public API."""
    session.install(EXTRAS, *_group("typing"))
    session.run("mypy", "--strict", "src", "tests/typing")


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*_group("lint"))
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session(python=PYTHONS[0])
def docs(session: nox.Session) -> None:
    """Run every code block of README.md and docs/*.md."""
    session.install(EXTRAS, *_group("tests"))
    session.run(
        "pytest", "-p", "no:cacheprovider", "tests/test_docs.py", *session.posargs
    )


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Every benchmarks/bench_*.py script; each prints `name: value` lines."""
    session.install(EXTRAS)
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.log(f"== {script.name}")
        session.run("python", str(script), *session.posargs)
