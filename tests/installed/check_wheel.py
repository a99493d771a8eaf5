"""The built wheel, as a user gets it: run by ``nox -s release`` in a fresh venv.

That venv holds the wheel and its dependencies only, and the working directory
is outside the source tree, so every import below comes from the installed
wheel. Not collected by the main suite (its name does not start with test_).
"""

from __future__ import annotations

import os
from importlib.metadata import distribution, entry_points
from importlib.resources import files
from pathlib import Path

import cancelflow

EXPECTED = Path("expected-files.txt")


def test_cancelflow_comes_from_the_installed_wheel():
    """The imported package lives in site-packages, not in the source tree."""
    source = Path(os.environ["CANCELFLOW_SOURCE"]).resolve()
    here = Path(cancelflow.__file__).resolve().parent
    assert "site-packages" in here.parts
    assert here != source


def test_every_source_file_is_in_the_wheel():
    """Each file under src/cancelflow that git tracks (package data included) is installed."""
    expected = set(EXPECTED.read_text(encoding="utf-8").split())
    record = distribution("cancelflow").files or []
    installed = {
        str(f).removeprefix("cancelflow/")
        for f in record
        if str(f).startswith("cancelflow/") and "__pycache__" not in str(f)
    }
    assert sorted(expected - installed) == [], "missing from the wheel"


def test_py_typed_is_installed():
    """py.typed marks the installed package as typed (PEP 561)."""
    assert (files("cancelflow") / "py.typed").is_file()


def test_licence_and_metadata_are_installed():
    """The wheel carries the licence file and its version is __version__."""
    dist = distribution("cancelflow")
    assert dist.version == cancelflow.__version__
    assert dist.metadata["License-Expression"] == "MIT"
    licences = [f for f in dist.files or [] if f.name == "LICENSE"]
    assert licences, "LICENSE is not in the wheel's .dist-info"
    assert dist.metadata.get_all("Project-URL")


def test_pytest_plugin_entry_point_loads():
    """The wheel registers cancelflow's pytest plugin, and it imports."""
    (plugin,) = entry_points(group="pytest11", name="cancelflow")
    assert plugin.load().__name__ == "cancelflow.testing._pytest_plugin"


def test_fake_stripe_fixture_works(fake_stripe):
    """The plugin's fake_stripe fixture reaches a FakeStripe through stripe-python."""
    customer = fake_stripe.client().v1.customers.create()
    assert customer.id.startswith("cus_")
