"""The folder tree is the architecture: one private package per capability, imports
running one way (CONTRIBUTING.md, "Layout").

The imports are read with :mod:`ast`, so an import inside a function or under
``TYPE_CHECKING`` counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cancelflow

SRC = Path(cancelflow.__file__).parent

#: Top-level private modules that every capability may use: small helpers with no
#: knowledge of Stripe objects, policies or ledgers.
HELPERS = frozenset(
    {"_format", "_ids", "_pickle", "_redact", "_toml", "_typing", "_validate"}
)

#: Which units a unit may import (besides itself, the helpers and ``exceptions``;
#: ``testing`` gets no helper).
#: A unit is a private package (``_policy``), ``testing``, a helper, ``exceptions``
#: or one of the package's own entry files.
ALLOWED: dict[str, frozenset[str]] = {
    "_stripe": frozenset(),
    "_policy": frozenset({"_stripe"}),
    "_outcomes": frozenset({"_policy", "_stripe"}),
    "_links": frozenset({"_policy", "_outcomes", "_portal_config", "_stripe"}),
    "_backtest": frozenset({"_policy", "_outcomes", "_stripe"}),
    "_portal_config": frozenset({"_stripe"}),
    "_reports": frozenset({"_policy", "_outcomes", "_stripe"}),
    "_cli": frozenset({"*"}),
    "testing": frozenset(),  # plus the labels, below
    "__init__": frozenset({"*"}),  # the public façade names everything lazily
    "__main__": frozenset({"_cli"}),
    "exceptions": frozenset(),
    **{helper: frozenset() for helper in HELPERS},
}

#: Single modules a unit may import from a package it may not otherwise use.
ALLOWED_MODULES: dict[str, frozenset[str]] = {
    # The fake's portal shows Stripe's own reason labels.
    "testing": frozenset({"cancelflow._stripe.labels"}),
}


def unit_of(module: str) -> str:
    """``cancelflow._policy.guards`` → ``_policy``; ``cancelflow`` → ``__init__``."""
    parts = module.split(".")
    assert parts[0] == "cancelflow", module
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str, bool]]:
    """Every ``cancelflow`` module *path* imports: (line, module, type-only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only_lines: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            for inner in node.body:
                type_only_lines.update(
                    range(inner.lineno, (inner.end_lineno or inner.lineno) + 1)
                )
    found: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "cancelflow":
                names = [f"cancelflow.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        found.extend(
            (node.lineno, name, node.lineno in type_only_lines)
            for name in names
            if name == "cancelflow" or name.startswith("cancelflow.")
        )
    return found


def is_private_module_of_facade(name: str) -> bool:
    """``from cancelflow import Cancelflow`` reaches the façade, not a module."""
    last = name.rsplit(".", 1)[-1]
    return (
        name.count(".") == 1
        and not last.startswith("_")
        and last
        not in {
            "exceptions",
            "testing",
        }
    )


SOURCES = sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_belongs_to_a_known_unit():
    """Each module lies in a capability package, `testing`, or is a known helper."""
    unknown = {
        module_name(p) for p in SOURCES if unit_of(module_name(p)) not in ALLOWED
    }
    assert not unknown, f"modules outside the layout (add them to ALLOWED): {unknown}"


@pytest.mark.parametrize("path", SOURCES, ids=module_name)
def test_imports_run_one_way(path):
    """A module imports only the units its own unit may import (CONTRIBUTING.md)."""
    me = unit_of(module_name(path))
    allowed = ALLOWED[me]
    wrong = []
    for line, name, type_only in imports_of(path):
        if me == "exceptions" and type_only:
            continue  # it may name result types for its errors' attributes
        if name == "cancelflow" or is_private_module_of_facade(name):
            target = "__init__"
        else:
            target = unit_of(name)
        # The fake stays independent of the library it tests: no shared helper,
        # so a mistake in one (say, a currency's decimals) is not repeated by
        # the fake that should catch it.
        helpers = frozenset() if me == "testing" else HELPERS
        ok = (
            "*" in allowed
            or target in {me, "exceptions", *helpers, *allowed}
            or name in ALLOWED_MODULES.get(me, frozenset())
        )
        if me in HELPERS and target in HELPERS | {"exceptions"}:
            ok = True
        if not ok:
            wrong.append(f"line {line}: {name}")
    assert not wrong, f"{module_name(path)} ({me}) imports upwards: {wrong}"


def test_the_checker_sees_upward_imports(tmp_path):
    """The import reader finds imports in functions and under TYPE_CHECKING."""
    module = tmp_path / "m.py"
    module.write_text(
        "TYPE_CHECKING = False\n"
        "if TYPE_CHECKING:\n"
        "    from cancelflow._cli.main import main\n"
        "def f():\n"
        "    import cancelflow._links.cancelflow\n"
        "from cancelflow import Cancelflow\n",
        encoding="utf-8",
    )
    assert sorted(imports_of(module)) == [
        (3, "cancelflow._cli.main", True),
        (5, "cancelflow._links.cancelflow", False),
        (6, "cancelflow.Cancelflow", False),
    ]


@pytest.mark.parametrize(
    "package",
    sorted(p.parent for p in SRC.glob("_*/__init__.py")),
    ids=lambda p: p.name,
)
def test_private_packages_re_export_nothing(package):
    """A capability package's __init__ holds a docstring and nothing else."""
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{package.name}/__init__.py says what it owns"
    assert len(tree.body) == 1, f"{package.name}/__init__.py only has its docstring"
    assert "May import" in ast.get_docstring(tree)


def test_modules_in_packages_drop_the_underscore():
    """Inside a private package, module names have no leading underscore."""
    bad = [
        module_name(p)
        for p in SOURCES
        if p.parent != SRC
        and p.parent.name.startswith("_")
        and p.parent.parent == SRC
        and p.stem.startswith("_")
        and p.stem != "__init__"
    ]
    assert not bad


def test_top_level_holds_only_helpers_and_entry_files():
    """Flat private modules at the top are the small shared helpers only."""
    flat = {p.stem for p in SRC.glob("_*.py")} - {"__init__", "__main__"}
    assert flat == HELPERS
