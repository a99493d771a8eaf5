"""Decode stripe-python's form encoding back into nested parameters (strictly private).

stripe-python encodes parameters with ``stripe._encode._api_encode`` plus
``urllib.parse.urlencode``, and turns ``%5B``/``%5D`` back into brackets:
nested dicts become ``a[b][c]=v``, lists are always indexed (``a[0]=x``,
``items[0][price]=p``), booleans become ``true``/``false``, ``None``, ``{}``
and ``[]`` are left out and ``""`` is kept (Stripe's "unset"). It has no
decoder, so here is one. Every leaf comes back as a ``str``; the schema
(`cancelflow.testing._schema`) coerces it to the type the operation expects.

The decoder is schema-aware in the one place where the encoding is ambiguous:
the keys under a ``metadata`` hash are always hash keys, even when they are
digits (``metadata[0]=x`` is not a list).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

__all__ = ["MAP_FIELDS", "decode", "encode"]

MAP_FIELDS: Final = frozenset({"metadata"})
"""Parameter names whose children are free-form hash keys."""


def decode(data: str) -> dict[str, Any]:
    """Decode a form-encoded body or query string into nested dicts and lists."""
    if not data:
        return {}
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(data, keep_blank_values=True):
        bracket = raw_key.find("[")
        if bracket <= 0:
            root[raw_key] = value
            continue
        parts = [raw_key[:bracket]]
        rest = raw_key[bracket:]
        while rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                break
            parts.append(rest[1:end])
            rest = rest[end + 1 :]
        if rest:  # trailing junk: keep the key whole, as Stripe would name it
            root[raw_key] = value
            continue
        node: dict[str, Any] = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if last == "":  # legacy ``a[]=x``: append
            last = str(len(node))
        node[last] = value
    for key, value in root.items():
        if isinstance(value, dict):
            root[key] = _lists(value, in_map=key in MAP_FIELDS)
    return root


def encode(params: Mapping[str, Any]) -> str:
    """Encode parameters as stripe-python does (for fake-only calls that take Python values).

    ``None`` is left out, booleans become ``true``/``false``, lists are
    indexed and hashes bracketed; `decode` reads the result back.
    """
    return urlencode(list(_pairs(params, None)))


def _pairs(value: Any, key: str | None) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for name, child in value.items():
            yield from _pairs(child, str(name) if key is None else f"{key}[{name}]")
    elif isinstance(value, list | tuple):
        for i, child in enumerate(value):
            yield from _pairs(child, f"{key}[{i}]")
    elif value is None or key is None:
        return
    elif isinstance(value, bool):
        yield key, "true" if value else "false"
    else:
        yield key, value


def _lists(node: dict[str, Any], *, in_map: bool) -> Any:
    """Turn dicts whose keys are all indexes into lists (except hash fields)."""
    for key, value in node.items():
        if isinstance(value, dict):
            node[key] = _lists(value, in_map=key in MAP_FIELDS)
    if in_map or not node or not all(k.isdigit() for k in node):
        return node
    size = max(int(k) for k in node) + 1
    if size > 2 * len(node) + 16:  # sparse indexes: keep as a hash, the schema decides
        return node
    out: list[Any] = [None] * size
    for key, value in node.items():
        out[int(key)] = value
    return out
