"""HTML that is escaped by construction (strictly private).

Every value put into a template is escaped unless it is :class:`Markup`, and
the only ways to make :class:`Markup` are :func:`escape`, :func:`render` and
:func:`join`, which escape what they are given. So a customer's name, a
product's name, a coupon's name, a feedback option or a host's custom
message reaches the page as text, never as markup, without anyone having to
remember to escape it. Templates live in ``assets/`` (package data) or are
short constants in the page code; both use ``$name`` placeholders.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from functools import cache
from importlib import resources
from string import Template
from typing import Final
from urllib.parse import urlsplit

__all__ = ["Markup", "asset", "escape", "join", "link_target", "render", "template"]

_PACKAGE: Final = "cancelflow.testing._server"


class Markup(str):
    """Text that is already safe HTML (made only by this module's functions)."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """*value* as HTML text (``&``, ``<``, ``>``, ``"`` and ``'`` escaped), unless
    it is already :class:`Markup`."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(parts: Iterable[object], separator: str = "\n") -> Markup:
    """Escaped *parts*, joined."""
    return Markup(separator.join(escape(part) for part in parts))


def render(source: Template | str, **values: object) -> Markup:
    """*source* with every ``$name`` replaced by the escaped value."""
    tpl = source if isinstance(source, Template) else Template(source)
    return Markup(
        tpl.substitute({name: escape(value) for name, value in values.items()})
    )


@cache
def template(name: str) -> Template:
    """The template ``assets/<name>`` (package data)."""
    return Template(asset(name).decode("utf-8"))


@cache
def asset(name: str) -> bytes:
    """The bytes of ``assets/<name>`` (package data, shipped in the wheel)."""
    return resources.files(_PACKAGE).joinpath("assets", name).read_bytes()


def link_target(url: str | None) -> str | None:
    """*url* if a page may link or redirect to it, or the server POST events to
    it: an ``http``/``https`` URL with a host."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url
