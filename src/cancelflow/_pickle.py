"""Pickle frozen attrs classes by their constructor arguments.

Strictly private. Segments, rules and policies keep compiled closures in
private fields (their fast matching code); closures do not pickle. These
classes pickle as "call the class again with the same arguments", which
rebuilds the closures on the other side (a worker process, a cache).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs


def rebuild(cls: type[Any], kwargs: dict[str, Any]) -> Any:
    """Call *cls* with *kwargs* (the unpickling side)."""
    return cls(**kwargs)


def reduce_by_init(obj: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """``__reduce__`` for an attrs instance: its ``__init__`` arguments."""
    kwargs = {
        field.alias: getattr(obj, field.name)
        for field in attrs.fields(type(obj))
        if field.init
    }
    return rebuild, (type(obj), kwargs)
