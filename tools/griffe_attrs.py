"""A Griffe extension for the docs site: give ``attrs`` classes their ``__init__``.

Griffe reads the source statically, and an ``@attrs.frozen`` class has no
``__init__`` in its source: attrs writes one when the class is created. Without
it the reference would show ``SubscriptionSnapshot()`` with no parameters, and
an ``Args:`` section would be "not in the signature". This extension imports
each cancelflow class that attrs made, reads the real ``__init__`` signature
(names after attrs' private-name aliasing, kinds, which have defaults), and
adds an ``__init__`` to Griffe's model whose annotations and defaults come from
the source (so they stay cross-referenced).

Loaded by ``mkdocs.yml`` (mkdocstrings' ``extensions``) and by
``tests/test_docstrings.py``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}
_FIELD_CALLS = ("attrs.field", "attr.ib", "attr.attrib", "attrs.attrib")


def _runtime(cls: griffe.Class) -> Any:
    obj: Any = importlib.import_module(cls.module.path)
    for part in cls.path.removeprefix(cls.module.path + ".").split("."):
        obj = getattr(obj, part)
    return obj


def _attribute(cls: griffe.Class, name: str) -> griffe.Attribute | None:
    for candidate in (name, "_" + name):
        member = cls.all_members.get(candidate)
        if member is not None and not member.is_alias and member.is_attribute:
            return member  # type: ignore[return-value]
    return None


def _default(attribute: griffe.Attribute | None) -> str | griffe.Expr | None:
    if attribute is None or attribute.value is None:
        return "..."
    value = attribute.value
    if (
        isinstance(value, griffe.ExprCall)
        and value.function.canonical_path in _FIELD_CALLS
    ):
        for argument in value.arguments:
            if isinstance(argument, griffe.ExprKeyword):
                if argument.name == "default":
                    return argument.value
                if argument.name == "factory":
                    return f"{argument.value}()"
        return "..."
    return value


def _init(cls: griffe.Class, runtime: Any) -> griffe.Function:
    parameters = [
        griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)
    ]
    signature = inspect.signature(runtime.__init__)
    for param in list(signature.parameters.values())[1:]:
        attribute = _attribute(cls, param.name)
        has_default = param.default is not inspect.Parameter.empty
        parameters.append(
            griffe.Parameter(
                param.name,
                annotation=attribute.annotation if attribute is not None else None,
                kind=_KINDS[param.kind],
                default=_default(attribute) if has_default else None,
                docstring=attribute.docstring if attribute is not None else None,
            )
        )
    return griffe.Function(
        "__init__",
        lineno=cls.lineno,
        endlineno=cls.lineno,
        parent=cls,
        parameters=griffe.Parameters(*parameters),
        returns="None",
    )


def _classes(obj: griffe.Module | griffe.Class) -> Any:
    for member in obj.members.values():
        if member.is_alias:
            continue
        if member.is_class:
            yield member
            yield from _classes(member)  # type: ignore[arg-type]
        elif member.is_module:
            yield from _classes(member)  # type: ignore[arg-type]


class AttrsInit(griffe.Extension):
    """Add the ``__init__`` that attrs generates to each attrs class of cancelflow."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:  # noqa: ARG002
        """Walk every class of the loaded package once it is fully loaded."""
        if pkg.name != "cancelflow":
            return
        import attrs

        for cls in _classes(pkg):
            if "__init__" in cls.members:
                continue
            try:
                runtime = _runtime(cls)
            except (
                ImportError,
                AttributeError,
            ):  # a name defined only for type checkers
                continue
            if (
                isinstance(runtime, type)
                and attrs.has(runtime)
                and "__init__" in vars(runtime)
            ):
                cls.set_member("__init__", _init(cls, runtime))
