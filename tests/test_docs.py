"""Every code block of README.md and docs/**/*.md runs.

Rules (also in CONTRIBUTING.md):

* ``python`` blocks of one file run in order, in one namespace, in a fresh
  temporary directory, as a reader would paste them.
* ``console``/``bash``/``shell``/``sh`` blocks: each command (a ``$ `` prompt
  line, or every line when there is no prompt; ``&&`` splits commands) that
  starts with ``cancelflow`` runs as a subprocess and must exit 0. Installing
  commands (``pip``, ``python -m pip``, ``nox``, ``git``, ``cd``) are what CI
  itself runs, so they are not run again here.
* A block preceded by ``<!-- file: NAME -->`` is written to NAME in the
  temporary directory instead (for TOML policies, JSONL histories, …), so
  that later blocks can use it.
* Any other language (``text``, ``json``, ``toml`` without a file marker, …) is
  output shown to the reader and is not run.
"""

from __future__ import annotations

import gc
import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(
    r"(?:<!--\s*file:\s*(?P<file>\S+)\s*-->\s*\n)?^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```",
    re.MULTILINE | re.DOTALL,
)
SHELL = {"console", "bash", "shell", "sh"}
NOT_RUN = (
    "pip ",
    "python -m pip",
    "python3 -m pip",
    "nox",
    "git ",
    "cd ",
    "export ",
    "uv ",
)


def blocks(path: Path):
    text = path.read_text(encoding="utf-8")
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start("body")) + 1
        yield m.group("file"), m.group("lang").lower(), m.group("body"), line


def shell_commands(body: str):
    lines = body.splitlines()
    prompted = any(ln.startswith("$ ") for ln in lines)
    for raw in lines:
        if prompted and not raw.startswith("$ "):
            continue
        command = raw.removeprefix("$ ").strip()
        if not command or command.startswith("#"):
            continue
        for part in command.split("&&"):
            yield part.strip()


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Each runnable block of the page succeeds, in order."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    try:
        run_page(path, tmp_path, namespace)
    finally:
        # Pages written as an app's module keep objects for the process's lifetime
        # (a ledger with an open connection): the page ends here, so release them.
        namespace.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def run_page(path: Path, tmp_path: Path, namespace: dict[str, object]) -> None:
    for filename, lang, body, line in blocks(path):
        where = f"{path.relative_to(ROOT)}:{line}"
        if filename:
            (tmp_path / filename).write_text(body, encoding="utf-8")
        elif lang in {"python", "py", "pycon"}:
            code = compile(body, where, "exec")
            exec(code, namespace)
        elif lang in SHELL:
            for cmd in shell_commands(body):
                if cmd.startswith(NOT_RUN) or not cmd.startswith("cancelflow"):
                    continue
                argv = shlex.split(cmd)
                env = {**os.environ, "PYTHONUTF8": "1"}
                env.pop("STRIPE_API_KEY", None)
                proc = subprocess.run(
                    [sys.executable, "-m", "cancelflow", *argv[1:]],
                    cwd=tmp_path,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                assert proc.returncode == 0, (
                    f"{where}: `{cmd}` failed:\n{proc.stdout}\n{proc.stderr}"
                )


API_PAGES = sorted((ROOT / "docs" / "api").glob("*.md"))
DIRECTIVE = re.compile(r"^::: (?P<target>[\w.]+)\s*$", re.MULTILINE)
#: Modules whose page documents every name of their __all__ with one directive.
WHOLE_MODULES = ("cancelflow.exceptions", "cancelflow.testing.strategies")


def directives() -> dict[str, str]:
    """`::: target` of every API page → the page's name."""
    found = {}
    for page in API_PAGES:
        for m in DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
            found[m.group("target")] = page.name
    return found


@pytest.mark.parametrize("module", ["cancelflow", "cancelflow.testing"])
def test_api_reference_renders_every_public_name(module: str):
    """Each name of the module's __all__ has its `::: module.Name` on a docs/api page."""
    import importlib

    targets = directives()
    names = importlib.import_module(module).__all__
    missing = [
        f"::: {module}.{name}"
        for name in names
        if name != "exceptions"
        and f"{module}.{name}" not in targets
        and not (name == "CancelflowError" and "cancelflow.exceptions" in targets)
    ]
    assert missing == [], (
        "add these lines to the docs/api/*.md page of their topic "
        f"(the reference is generated from them): {missing}"
    )


def test_api_reference_names_only_what_exists():
    """Every `::: target` on a docs/api page is a public name or a whole public module."""
    import importlib

    wrong = []
    for target, page in directives().items():
        module, _, name = target.rpartition(".")
        if target in WHOLE_MODULES or target == "cancelflow.testing._pytest_plugin":
            importlib.import_module(target)
            continue
        public = getattr(importlib.import_module(module), "__all__", [])
        if name not in public:
            wrong.append(f"{page}: ::: {target}")
    assert wrong == [], f"not public names: {wrong}"
    assert set(WHOLE_MODULES) <= set(directives())


def test_every_page_is_in_the_site_nav():
    """Each docs/**/*.md page is in mkdocs.yml's nav, and each nav page exists."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = config[config.index("\nnav:") : config.index("\ntheme:")]
    listed = set(re.findall(r"([\w./-]+\.md)\s*$", nav, re.MULTILINE))
    pages = {
        p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")
    }
    assert sorted(pages - listed) == [], "add these pages to `nav` in mkdocs.yml"
    assert sorted(listed - pages) == [], "nav names pages that do not exist"


def _python_block(doc: str) -> str:
    match = re.search(r"^```python\n(?P<body>.*?)^```", doc, re.DOTALL | re.MULTILINE)
    assert match is not None, "the docstring shows a python example"
    return match.group("body")


@pytest.mark.parametrize("module", ["cancelflow", "cancelflow.testing"])
def test_package_help_is_for_users(module: str):
    """help() of the public packages opens with what they do and an example, and
    keeps the maintainers' notes (lazy names, _LAZY) out."""
    import importlib

    doc = importlib.import_module(module).__doc__
    assert doc is not None
    summary, _, rest = doc.partition("\n\n")
    assert "\n" not in summary.strip()
    for word in ("_LAZY", "TYPE_CHECKING", "public name", "Adding a"):
        assert word not in doc
    assert "```python" in rest.split("\n\n", 2)[1]  # the example comes second


def test_package_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The examples in help(cancelflow) and help(cancelflow.testing) run: against
    a FakeStripe, the cancel link opens and the webhook function prints events."""
    import contextlib
    import io

    import cancelflow
    import cancelflow.testing
    from cancelflow.testing import FakeStripe

    monkeypatch.chdir(tmp_path)
    exec(_python_block(cancelflow.testing.__doc__ or ""), {})
    fake = FakeStripe()
    with fake.install():
        namespace: dict[str, object] = {
            "api_key": "sk_test_docs",
            "webhook_secret": "whsec_docs",
        }
        exec(_python_block(cancelflow.__doc__ or ""), namespace)
        printed = io.StringIO()
        webhook = namespace["stripe_webhook"]
        fake.add_webhook_endpoint(
            lambda body, headers: webhook(body, headers["Stripe-Signature"]),  # type: ignore[operator]
            secret="whsec_docs",
        )
        client = fake.client()
        price = client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 900,
                "recurring": {"interval": "month"},
                "product_data": {"name": "Pro"},
            }
        )
        fake.dashboard.save_portal_settings(
            features={"subscription_cancel": {"enabled": True}}
        )
        customer = client.v1.customers.create(params={})
        sub = client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id}]}
        )
        url = namespace["cancel_clicked"](customer.id, sub.id)  # type: ignore[operator]
        with contextlib.redirect_stdout(printed):
            fake.portal.visit(url).cancel()
        assert "scheduled to cancel" in printed.getvalue()
        namespace["ledger"].close()  # type: ignore[attr-defined]


LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
SNIPPET = re.compile(r'^--8<-- "([^"]+)"\s*$', re.MULTILINE)


def _slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension (MkDocs) gives a heading."""
    import unicodedata

    text = re.sub(r"`|\*\*?|\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {
        _slug(m.group(1)) for m in re.finditer(r"^#+ (.+?)\s*$", text, re.MULTILINE)
    }


def test_relative_links_and_anchors_resolve():
    """Each relative link in docs/ names an existing page, and an existing heading.

    The same check as `mkdocs build --strict` (nox -s docs), in the main suite.
    """
    docs = ROOT / "docs"
    broken = []
    for page in sorted(docs.rglob("*.md")):
        text = SNIPPET.sub(
            lambda m: (ROOT / m.group(1)).read_text(encoding="utf-8"),
            page.read_text(encoding="utf-8"),
        )  # a page made of a file (docs/changelog.md) links from where it is shown
        text = FENCE.sub("", text)
        for m in LINK.finditer(text):
            target = m.group("target")
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)}: ({target})"
            if not dest.exists():
                broken.append(f"{where}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{where}: no heading with that anchor")
    assert broken == [], "\n".join(broken)
