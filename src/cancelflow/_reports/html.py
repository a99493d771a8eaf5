"""A tiny HTML/SVG builder that escapes by construction.

Every element is made with :func:`el`: its tag and attribute names must be
plain words (letters, digits, ``-``; checked), every attribute value and every text child is
escaped, and only :class:`Markup` returned by :func:`el` (or the module's own
constants) is inserted as it is. Customer text can therefore only ever become
text: ``<script>`` shows as ``<script>``, ``"><img onerror=…>`` as itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html import escape
from typing import Final

__all__ = ["Markup", "el", "fragment"]

_NAME: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*\Z")  # SVG has viewBox
_VOID: Final = frozenset({"meta", "br", "hr", "link"})


class Markup:
    """HTML text known to be safe: only :func:`el` and :func:`fragment` make it."""

    __slots__ = ("_html",)

    def __init__(self, html: str, _token: object = None) -> None:
        if _token is not _BUILDER:
            raise TypeError("Markup is made by el() only; pass text to el() instead")
        self._html = html

    def __str__(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return f"Markup({self._html[:40]!r}…)"


_BUILDER: Final = object()

Value = str | int | float | bool | None


def _text(child: object) -> str:
    if child is None:
        return ""
    if isinstance(child, Markup):
        return str(child)
    if isinstance(child, float):
        return escape(f"{child:g}")
    return escape(str(child), quote=True)


def _attribute(name: str, value: Value) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not an attribute name: {name!r}")
    if value is None or value is False:
        return ""
    if value is True:
        return f" {name}"
    if isinstance(value, float):
        value = f"{value:.2f}".rstrip("0").rstrip(".")
    return f' {name}="{escape(str(value), quote=True)}"'


def el(
    tag: str,
    attributes: Mapping[str, Value] | None = None,
    *children: Markup | str | float | Iterable[Markup] | None,
) -> Markup:
    """``<tag attributes…>children…</tag>`` with everything escaped.

    Children may be text (escaped), numbers, ``None`` (nothing), Markup, or an
    iterable of Markup (a list of rows).

    Raises:
        ValueError: a tag or attribute name that is not a plain word.
    """
    if not _NAME.match(tag):
        raise ValueError(f"not a tag name: {tag!r}")
    attrs = "".join(_attribute(k, v) for k, v in (attributes or {}).items())
    if tag in _VOID:
        return Markup(f"<{tag}{attrs}>", _BUILDER)
    inner = []
    for child in children:
        if isinstance(child, Markup | str | int | float) or child is None:
            inner.append(_text(child))
        else:
            inner.extend(_text(c) for c in child)
    return Markup(f"<{tag}{attrs}>{''.join(inner)}</{tag}>", _BUILDER)


def fragment(*parts: Markup | Iterable[Markup]) -> Markup:
    """Several pieces of Markup one after another."""
    out = []
    for part in parts:
        if isinstance(part, Markup):
            out.append(str(part))
        else:
            out.extend(str(p) for p in part)
    return Markup("".join(out), _BUILDER)


def constant(html: str) -> Markup:
    """Markup from a constant of this package (the doctype, the style sheet)."""
    return Markup(html, _BUILDER)
