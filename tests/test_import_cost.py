"""Importing cancelflow is cheap: no stripe, and no models until a name is used."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import cancelflow

INIT = Path(cancelflow.__file__)


def modules_after(code: str) -> set[str]:
    """The modules loaded by *code* in a fresh interpreter (not measured by
    coverage, which would load modules of its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return set(out.split())


def test_import_cancelflow_does_not_import_stripe():
    """`import cancelflow` leaves stripe (and attrs, and the models) unloaded."""
    loaded = modules_after("import cancelflow")
    assert "cancelflow" in loaded
    assert not {m for m in loaded if m == "stripe" or m.startswith("stripe.")}
    assert "attr" not in loaded
    assert "typing" not in loaded
    assert {m for m in loaded if m.startswith("cancelflow")} == {
        "cancelflow",
        "cancelflow.exceptions",
    }


def test_every_public_name_loads_without_stripe():
    """Loading every public name (star import) still does not import stripe."""
    loaded = modules_after("from cancelflow import *")
    assert "stripe" not in loaded
    assert "cancelflow._stripe.gateway" in loaded


def test_building_params_and_the_dry_run_do_not_import_stripe():
    """The pure builder and `cancelflow link --dry-run` never import stripe."""
    loaded = modules_after(
        "import contextlib, io\n"
        "from cancelflow._cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['link', '--customer', 'cus_1', '--subscription', 'sub_1',"
        " '--return-url', 'https://example.com/a', '--dry-run'], environ={}) == 0"
    )
    assert "stripe" not in loaded


def _type_checking_names() -> dict[str, str]:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                if imp.module == "typing":
                    continue  # annotations of __init__ itself
                for alias in imp.names:
                    names[alias.asname or alias.name] = imp.module or ""
    return names


def test_lazy_table_matches_type_checking_imports_and_all():
    """The lazy table, the TYPE_CHECKING imports and __all__ list the same names."""
    lazy = cancelflow._LAZY
    assert _type_checking_names() == lazy
    assert set(cancelflow.__all__) == {*lazy, "CancelflowError", "exceptions"}
    assert len(cancelflow.__all__) == len(set(cancelflow.__all__))


def test_every_public_name_resolves_with_public_module():
    """Each public name resolves, and public classes report module 'cancelflow'."""
    for name in cancelflow.__all__:
        obj = getattr(cancelflow, name)
        if isinstance(obj, type) and name != "CancelflowError":
            assert obj.__module__ == "cancelflow", name
    assert set(cancelflow.__all__) <= set(dir(cancelflow))
