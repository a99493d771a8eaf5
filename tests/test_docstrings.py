"""Every public name has a docstring the API reference can render, in one style.

The docs site (mkdocstrings) renders Google-style docstrings. The rule, also in
CONTRIBUTING.md ("Docstrings"), applies to every *public name*: each name in the
``__all__`` of ``cancelflow``, ``cancelflow.exceptions``, ``cancelflow.testing``
and ``cancelflow.testing.strategies``, the pytest plugin's fixtures, and each
public method, classmethod, staticmethod and property that a public class
defines itself (no leading underscore; a method left without a docstring because
a Protocol or base class documents it, as ``Ledger`` does for the stores, is
skipped):

1. a docstring whose first line is a one-line summary ending with a period,
   followed by a blank line when more text comes;
2. no reST/Sphinx markup (``:class:`…```, ``:func:``, ``:meth:``, ``:attr:``,
   ``:data:``, ``:exc:``, ``:mod:``, ``::`` literal blocks): Markdown renders
   them as they are; cross-reference as ``[`Name`][cancelflow.Name]``;
3. every parameter (not ``self``/``cls``) in an ``Args:`` section — for a class,
   the parameters of the ``__init__`` it defines (attrs' included) in the class
   docstring's ``Args:`` or ``Attributes:`` (except those its public base
   classes document, and an error's ``message``) — and no entry for a
   parameter that does not exist;
4. a ``Returns:`` (or ``Yields:``) section when a function or method (not a
   property) returns something other than ``None``;
5. a ``Raises:`` section naming every exception its own body raises with
   ``raise Name(...)``;
6. an ``Example:`` section with a ```` ```python ```` block on every public
   module-level function; every such block (on any public name) runs.

A failure lists each name with what is missing, for example
``cancelflow.Cancelflow.create_cancel_link: Args: no entry for 'locale'``.
"""

from __future__ import annotations

import ast
import enum
import functools
import importlib
import inspect
import logging
import re
import textwrap
import typing
from pathlib import Path

import griffe
import pytest

PUBLIC_MODULES = (
    "cancelflow",
    "cancelflow.exceptions",
    "cancelflow.testing",
    "cancelflow.testing.strategies",
    "cancelflow.testing._pytest_plugin",  # its __all__: the fixtures
)
SPHINX = re.compile(
    r":(?:class|func|meth|attr|data|exc|mod|obj|const):`|::\s*$", re.MULTILINE
)
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```python\n(?P<body>.*?)^(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)
NOT_DOCUMENTED_RAISES = {"AssertionError", "NotImplementedError"}

#: pytest fixtures: their parameters are other fixtures and pytest calls them, so
#: they need a summary and an Example (a test using them), not Args/Returns/Raises.
FIXTURES: set[str] = set()


def _public_objects() -> dict[str, object]:
    """Public path → object, each object once (under its first public path)."""
    found: dict[str, object] = {}
    seen: set[int] = set()

    def add(path: str, obj: object) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        found[path] = obj

    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                continue
            if module_name.endswith("_pytest_plugin"):
                FIXTURES.add(f"{module_name}.{name}")
                obj = getattr(obj, "__wrapped__", obj)  # the fixture's function
            add(f"{module_name}.{name}", obj)
            if isinstance(obj, type):
                for member, value in _own_members(obj):
                    add(f"{module_name}.{name}.{member}", value)
    return found


def _protocol_methods(cls: type) -> set[str]:
    """Methods *cls* implements for a public Protocol or base class that documents them.

    A store such as MemoryLedger implements the Ledger protocol, and AllOf
    overrides Condition's methods: the documented originals are the reference,
    so an override may go without a docstring (the site then shows none).
    """
    names: set[str] = set()
    for module_name in ("cancelflow", "cancelflow.testing"):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            proto = getattr(module, name)
            if not (isinstance(proto, type) and getattr(proto, "_is_protocol", False)):
                continue
            methods = {m for m in vars(proto) if not m.startswith("_")}
            if proto is not cls and methods and all(hasattr(cls, m) for m in methods):
                names |= methods
    for base in cls.__mro__[1:]:  # a documented method of a cancelflow base class
        if base.__module__.startswith("cancelflow"):
            names |= {m for m, v in vars(base).items() if getattr(v, "__doc__", None)}
    return names


def _own_members(cls: type) -> list[tuple[str, object]]:
    if issubclass(cls, BaseException) and not cls.__module__.startswith("cancelflow"):
        return []
    implemented = _protocol_methods(cls)
    members = []
    for member, raw in vars(cls).items():
        if member.startswith("_") or isinstance(raw, enum.Enum):
            continue
        value = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
        if member in implemented and not getattr(value, "__doc__", None):
            continue  # documented on the protocol it implements
        if inspect.isfunction(value) or isinstance(
            value, (property, functools.cached_property)
        ):
            members.append((member, value))
    return members


def _sections(doc: str) -> dict[str, list[object]]:
    logging.getLogger("griffe").setLevel(logging.CRITICAL)
    parsed = griffe.Docstring(doc, lineno=1, parser="google").parsed
    sections: dict[str, list[object]] = {}
    for section in parsed:
        kind = section.kind.value
        if kind == "admonition":
            kind = f"admonition:{section.value.annotation}"  # Example: → example
            sections.setdefault(kind, []).append(section.value.contents)
        elif kind == "examples":
            sections.setdefault("admonition:example", []).extend(
                text for _, text in section.value
            )
        elif isinstance(section.value, list):
            sections.setdefault(kind, []).extend(section.value)
        else:
            sections.setdefault(kind, []).append(section.value)
    return sections


def _names(items: list[object]) -> list[str]:
    return [str(getattr(item, "name", "")) for item in items]


def _parameters(func: typing.Callable[..., object]) -> list[str]:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    names = []
    for param in signature.parameters.values():
        if param.name in {"self", "cls"}:
            continue
        prefix = {
            inspect.Parameter.VAR_POSITIONAL: "*",
            inspect.Parameter.VAR_KEYWORD: "**",
        }.get(param.kind, "")
        names.append(prefix + param.name)
    return names


def _documented(items: list[object]) -> set[str]:
    return {name.lstrip("*") for name in _names(items)}


def _check_parameters(
    expected: list[str],
    sections: dict[str, list[object]],
    *,
    also: str = "",
    existing: list[str] | None = None,
) -> list[str]:
    documented = _documented(sections.get("parameters", []))
    if also:
        documented |= _documented(sections.get(also, []))
    wanted = [name.lstrip("*") for name in expected]
    real = [name.lstrip("*") for name in (expected if existing is None else existing)]
    problems = [
        f"Args: no entry for {name!r}" for name in wanted if name not in documented
    ]
    extra = sorted(set(_documented(sections.get("parameters", []))) - set(real))
    problems += [f"Args: {name!r} is not a parameter" for name in extra]
    return problems


def _raised_names(func: typing.Callable[..., object]) -> set[str]:
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return set()
    tree = ast.parse(source)
    top = tree.body[0]
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue  # a nested function raises when it is called, elsewhere
            if isinstance(child, ast.Raise) and child.exc is not None:
                exc = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
                if isinstance(exc, ast.Name) and exc.id[:1].isupper():
                    names.add(exc.id)
                elif isinstance(exc, ast.Attribute):
                    names.add(exc.attr)
            visit(child)

    visit(top)
    return names - NOT_DOCUMENTED_RAISES


def _returns_something(func: typing.Callable[..., object]) -> bool:
    annotation = inspect.signature(func).return_annotation
    return annotation not in {None, "None", inspect.Signature.empty}


def _constructor(cls: type) -> typing.Callable[..., object] | None:
    if issubclass(cls, enum.Enum) or getattr(cls, "_is_protocol", False):
        return None
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):  # a NamedTuple
        return cls
    if "__init__" in vars(cls):
        return vars(cls)["__init__"]  # type: ignore[no-any-return]
    return None


def problems_of(path: str, obj: object) -> list[str]:
    """What the docstring of *obj* (public as *path*) lacks under the rule."""
    if isinstance(obj, property | functools.cached_property):
        raw = obj.__doc__
    elif isinstance(obj, type):
        raw = vars(obj).get("__doc__")  # not inherited
    elif inspect.isfunction(obj):
        raw = obj.__doc__
    else:
        return []  # a constant or a type alias: documented by a `#:` comment in source
    doc = inspect.cleandoc(raw or "")
    if not doc:
        return ["no docstring"]
    problems = []
    lines = doc.splitlines()
    if not lines[0].rstrip().endswith("."):
        problems.append("summary: the first line must be one sentence ending with '.'")
    if len(lines) > 1 and lines[1].strip():
        problems.append("summary: the first line must be followed by a blank line")
    if SPHINX.search(doc):
        problems.append(
            "reST markup (:class:`…`, ::): use Markdown, [`Name`][cancelflow.Name]"
        )
    if isinstance(obj, property | functools.cached_property):
        return problems
    sections = _sections(doc)
    if path in FIXTURES:
        return problems + _check_example(sections)
    if isinstance(obj, type):
        init = _constructor(obj)
        if init is not None:
            init_doc = inspect.getdoc(init) if init is not obj else None
            if init_doc and init.__doc__ and "Args:" in init.__doc__:
                sections = {**sections, **_sections(init_doc)}
            # Arguments a public base class documents are documented there (the
            # reference shows the bases); an error's message is str(error).
            inherited = _inherited_entries(obj)
            expected = [n for n in _parameters(obj) if n not in inherited]
            if issubclass(obj, BaseException):
                expected = [n for n in expected if n != "message"]
            problems += _check_parameters(
                expected, sections, also="attributes", existing=_parameters(obj)
            )
            if init is not obj:
                problems += _check_raises(init, sections)
        return problems
    problems += _check_parameters(_parameters(obj), sections)
    if _returns_something(obj) and not (
        sections.get("returns") or sections.get("yields")
    ):
        problems.append("Returns: missing (the function returns a value)")
    problems += _check_raises(obj, sections)
    if obj.__qualname__ == obj.__name__:  # a module-level function, not a method
        problems += _check_example(sections)
    return problems


def _check_example(sections: dict[str, list[object]]) -> list[str]:
    examples = sections.get("admonition:example", [])
    if any(FENCE.search(str(text) + "\n") for text in examples):
        return []
    return ["Example: missing (a ```python block showing a call)"]


def _inherited_entries(cls: type) -> set[str]:
    """Args and Attributes entries of the public classes *cls* derives from."""
    public = {id(obj) for obj in PUBLIC.values()}
    names: set[str] = set()
    for base in cls.__mro__[1:]:
        doc = vars(base).get("__doc__")
        if id(base) in public and doc:
            sections = _sections(inspect.cleandoc(doc))
            names |= _documented(sections.get("parameters", []))
            names |= _documented(sections.get("attributes", []))
    return names


def _check_raises(func: object, sections: dict[str, list[object]]) -> list[str]:
    documented = {
        str(getattr(item, "annotation", "")).rsplit(".", 1)[-1]
        for item in sections.get("raises", [])
    }
    raised = _raised_names(func)  # type: ignore[arg-type]
    return [f"Raises: no entry for {name}" for name in sorted(raised - documented)]


PUBLIC = _public_objects()


def test_every_public_name_follows_the_docstring_rule():
    """Each public name's docstring has its summary, Args, Returns, Raises and Example."""
    failures = []
    for path, obj in PUBLIC.items():
        failures += [f"{path}: {problem}" for problem in problems_of(path, obj)]
    assert not failures, (
        "docstrings break the rule in tests/test_docstrings.py's docstring "
        "(CONTRIBUTING.md, Docstrings):\n" + "\n".join(failures)
    )


EXAMPLES = {
    path: obj
    for path, obj in PUBLIC.items()
    if FENCE.search(inspect.cleandoc(getattr(obj, "__doc__", None) or "") + "\n")
}


def test_docstring_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The ```python blocks of each docstring run, in order, in one namespace per name."""
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    assert EXAMPLES, "no docstring has an example"
    for path, obj in EXAMPLES.items():
        where = tmp_path / path
        where.mkdir()
        monkeypatch.chdir(where)
        doc = inspect.cleandoc(obj.__doc__ or "")
        namespace: dict[str, object] = {"__name__": "docstring_example"}
        for block in FENCE.finditer(doc + "\n"):
            body = textwrap.dedent(block.group("body"))
            exec(compile(body, f"<Example of {path}>", "exec"), namespace)


def test_the_rule_catches_what_it_says():
    """A docstring without summary period, Args, Returns, Raises and Example is reported."""

    def sample(amount: int, *, currency: str = "eur") -> int:
        """Give the amount back

        Args:
            amount: minor units.
            colour: not a parameter.
        """
        if amount < 0:
            raise ValueError(amount)
        return amount

    sample.__qualname__ = "sample"  # as if defined at module level
    assert problems_of("cancelflow.sample", sample) == [
        "summary: the first line must be one sentence ending with '.'",
        "Args: no entry for 'currency'",
        "Args: 'colour' is not a parameter",
        "Returns: missing (the function returns a value)",
        "Raises: no entry for ValueError",
        "Example: missing (a ```python block showing a call)",
    ]


def test_the_rule_wants_a_blank_line_and_markdown():
    """A summary run into the next line, and a Sphinx role, are reported."""

    class Sample:
        """One line.
        Then another; see :class:`Other`.
        """

    assert problems_of("cancelflow.Sample", Sample) == [
        "summary: the first line must be followed by a blank line",
        "reST markup (:class:`…`, ::): use Markdown, [`Name`][cancelflow.Name]",
    ]
