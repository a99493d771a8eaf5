"""Development sessions.

``nox`` runs the default sessions (tests with the docs' code blocks, mypy, lint);
``nox -s docs`` builds the documentation site strictly; ``nox -s release`` builds the
sdist and the wheel and checks the wheel as a user gets it; ``nox -s bench`` runs the
benchmarks.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
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

# tests include the docs' code blocks; docs and release take about 30 s and 60 s.
nox.options.sessions = ["tests", "mypy", "lint", "docs", "release"]
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
    session.run("ruff", "check", "src", "tests", "benchmarks", "tools", "noxfile.py")
    session.run(
        "ruff", "format", "--check", "src", "tests", "benchmarks", "tools", "noxfile.py"
    )


@nox.session(python=PYTHONS[0])
def docs(session: nox.Session) -> None:
    """Build the site with ``mkdocs build --strict``, then run every code block.

    Strict: a page missing from ``nav``, a broken link or anchor, an unresolved
    cross-reference or a docstring that does not match its signature fails the
    build. Nothing is fetched while building (no inventories, no web fonts).
    The code blocks of README.md and docs/ and the docstrings' examples run in
    tests/test_docs.py and tests/test_docstrings.py.
    """
    session.install(EXTRAS, *_group("tests"), *_group("docs"))
    session.env["NO_MKDOCS_2_WARNING"] = "1"  # Material's notice about MkDocs 2.0
    site = Path(session.create_tmp()).resolve() / "site"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site))
    session.log(f"site built in {site}")
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        "tests/test_docs.py",
        "tests/test_docstrings.py",
        *session.posargs,
    )


def _readme_command(number: int) -> str:
    """The command of the README's ``<!-- command N`` block, as .ci/run reads it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        rf"<!-- command {number}\b.*?^\$ (?P<cmd>[^\n]+)$",
        text,
        re.MULTILINE | re.DOTALL,
    )
    if found is None:
        msg = f"README.md has no '<!-- command {number}' block"
        raise RuntimeError(msg)
    return found.group("cmd").strip()


def _package_files() -> list[str]:
    """Files of src/cancelflow that the wheel must hold (git's list when there is one)."""
    package = ROOT / "src" / "cancelflow"
    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        import subprocess

        listed = subprocess.run(  # noqa: S603 (git, with fixed arguments)
            [git, "ls-files", "-z", "--", "."],
            cwd=package,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return sorted(name for name in listed.split("\0") if name)
    return sorted(
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


@nox.session(python=PYTHONS[0])
def release(session: nox.Session) -> None:
    """Build the sdist and the wheel, check them, and use the wheel as a user would.

    ``python -m build`` makes the sdist, then the wheel from the sdist (so a file
    missing from the sdist fails too); ``twine check --strict`` checks their
    metadata. The wheel is installed into a fresh virtual environment (not this
    session's, and without the source tree on the path), where the README's first
    command runs (``cancelflow demo``), tests/installed/check_wheel.py checks that
    every package-data file, the pytest plugin and ``py.typed`` arrived, and
    ``mypy --strict`` checks tests/typing/api.py against the installed package.
    The built files are left in ``dist/``.
    """
    session.install(*_group("release"))
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    build = ["python", "-m", "build", "--outdir", str(dist)]
    if shutil.which("uv"):
        build += ["--installer", "uv"]
    session.run(*build, str(ROOT))
    (wheel,) = dist.glob("cancelflow-*.whl")
    (sdist,) = dist.glob("cancelflow-*.tar.gz")
    session.run("twine", "check", "--strict", str(sdist), str(wheel))
    for built in (sdist, wheel):
        session.log(f"{built.name}: {built.stat().st_size / 1024:.1f} KiB")

    tmp = Path(session.create_tmp()).resolve()
    venv = tmp / "wheel-venv"
    shutil.rmtree(venv, ignore_errors=True)
    session.run("python", "-m", "venv", "--without-pip", str(venv))
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = str(bindir / "python")
    extras = f"{wheel}[testing,async,postgres]"
    typing_deps = [d for d in _group("typing") if not d.startswith(("pytest", "hyp"))]
    if shutil.which("uv"):
        install = ["uv", "pip", "install", "--quiet", "--python", python]
    else:
        session.run(python, "-m", "ensurepip", "--upgrade", external=True)
        install = [python, "-m", "pip", "install", "--quiet"]
    session.run(*install, extras, *typing_deps, external=True)

    work = tmp / "wheel-cwd"  # nothing of the source tree next to the commands
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    shutil.copy(ROOT / "tests" / "typing" / "api.py", work / "api.py")
    shutil.copy(
        ROOT / "tests" / "installed" / "check_wheel.py", work / "check_wheel.py"
    )
    env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "CANCELFLOW_SOURCE": str(ROOT / "src" / "cancelflow"),
        "PYTHONPATH": "",
    }
    (work / "expected-files.txt").write_text(
        "\n".join(_package_files()), encoding="utf-8"
    )
    with session.chdir(work):
        first = _readme_command(1).split("&&")[-1].strip()  # after the install
        session.log(f"README command 1: {first}")
        # nox looks programs up on its own session's path, not on env's PATH:
        # name the wheel venv's script by its path.
        program, *args = shlex.split(first)
        if (bindir / program).exists():
            program = str(bindir / program)
        session.run(program, *args, env=env, external=True)
        session.run(
            python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "check_wheel.py",
            env=env, external=True,
        )  # fmt: skip
        session.run(
            python, "-m", "mypy", "--strict", "--no-incremental",
            "--config-file", str(ROOT / "pyproject.toml"), "api.py",
            env=env, external=True,
        )  # fmt: skip


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Every benchmarks/bench_*.py script; each prints `name: value` lines."""
    session.install(EXTRAS)
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.log(f"== {script.name}")
        session.run("python", str(script), *session.posargs)
