"""Portal configuration files: several named configurations, in TOML or in Python.

A TOML file holds one table per configuration under ``configurations``:

```toml
[configurations.cancel-page.features.subscription_cancel]
enabled = true
mode = "at_period_end"
```

A Python file (``.py``) defines ``PORTAL_CONFIG``: a `PortalConfigFile`
or a list of `PortalConfigSpec`. The format is documented in
``docs/how-to/portal-config-as-code.md``.
"""

from __future__ import annotations

import importlib.util
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, Final

import attrs

from cancelflow._portal_config.model import ConfigMatch, PortalConfigSpec
from cancelflow._toml import describe, join, toml_key, toml_value
from cancelflow.exceptions import PortalConfigInvalidError

__all__ = [
    "PortalConfigFile",
    "dump_portal_config",
    "load_portal_config",
    "parse_portal_config",
]

#: The name a Python file gives its configurations.
PYTHON_NAME: Final = "PORTAL_CONFIG"
#: Larger files are refused before they are parsed.
MAX_FILE_BYTES: Final = 1_000_000


def _configurations(value: Iterable[PortalConfigSpec]) -> tuple[PortalConfigSpec, ...]:
    given: object = value
    if isinstance(given, str | bytes | Mapping) or not isinstance(given, Iterable):
        raise PortalConfigInvalidError(
            f"expected a list of PortalConfigSpec, got {describe(given)}",
            key_path="configurations",
        )
    out = tuple(given)
    for n, spec in enumerate(out):
        if not isinstance(spec, PortalConfigSpec):
            raise PortalConfigInvalidError(
                f"expected a PortalConfigSpec, got {describe(spec)}",
                key_path=join("configurations", n),
            )
    return out


@attrs.frozen
class PortalConfigFile:
    """The configurations one file declares, by key.

    Args:
        configurations: the declared configurations; keys are unique, at most
            one matches the account's default configuration, and an id is
            matched by one at most.

    Raises:
        PortalConfigInvalidError: two configurations share a key, or would
            manage the same Stripe configuration.

    Example:
        ```python
        from cancelflow import PortalConfigFile, PortalConfigSpec

        config = PortalConfigFile([PortalConfigSpec(key="cancel-page")])
        assert config["cancel-page"].key == "cancel-page"
        assert config.keys() == ("cancel-page",)
        ```
    """

    configurations: tuple[PortalConfigSpec, ...] = attrs.field(
        converter=_configurations
    )

    def __attrs_post_init__(self) -> None:
        keys: set[str] = set()
        ids: set[str] = set()
        default: str | None = None
        for spec in self.configurations:
            where = join("configurations", spec.key)
            if spec.key in keys:
                raise PortalConfigInvalidError(
                    "two configurations have this key", key_path=where
                )
            keys.add(spec.key)
            if spec.match is ConfigMatch.DEFAULT:
                if default is not None:
                    raise PortalConfigInvalidError(
                        f"{default} already matches the default configuration; only "
                        'one may have match = "default"',
                        key_path=join(where, "match"),
                    )
                default = spec.key
            if spec.id is not None:
                if spec.id in ids:
                    raise PortalConfigInvalidError(
                        f"another configuration already matches {spec.id}",
                        key_path=join(where, "id"),
                    )
                ids.add(spec.id)

    def __getitem__(self, key: str) -> PortalConfigSpec:
        """The configuration declared under *key*.

        Raises:
            PortalConfigInvalidError: the file declares none under that key.
        """
        for spec in self.configurations:
            if spec.key == key:
                return spec
        known = ", ".join(self.keys()) or "none"
        shown = repr(key)[:80]
        raise PortalConfigInvalidError(
            f"the file declares no configuration {shown} (it declares: {known})",
            key_path="configurations",
        )

    def __iter__(self) -> Iterator[PortalConfigSpec]:
        return iter(self.configurations)

    def __len__(self) -> int:
        return len(self.configurations)

    def keys(self) -> tuple[str, ...]:
        """The configurations' keys, in the file's order.

        Returns:
            The keys.
        """
        return tuple(spec.key for spec in self.configurations)

    def to_toml(self) -> str:
        """The file as TOML text (see [`dump_portal_config`][cancelflow.dump_portal_config]).

        Returns:
            TOML that reads back equal.
        """
        return dump_portal_config(self)


# -- reading ---------------------------------------------------------------------------


def _from_data(data: Mapping[str, Any]) -> PortalConfigFile:
    for key in data:
        if key != "configurations":
            raise PortalConfigInvalidError(
                "unknown key; a portal configuration file holds only [configurations.KEY] "
                "tables",
                key_path=join("", key),
            )
    tables = data.get("configurations", {})
    if not isinstance(tables, Mapping):
        raise PortalConfigInvalidError(
            f"expected a table of configurations, got {describe(tables)}",
            key_path="configurations",
        )
    specs = [
        PortalConfigSpec.from_data(table, join("configurations", key))
        for key, table in tables.items()
    ]
    return PortalConfigFile(specs)


def parse_portal_config(text: str) -> PortalConfigFile:
    """Read portal configurations from TOML text.

    Args:
        text: the TOML document.

    Returns:
        The declared configurations.

    Raises:
        PortalConfigInvalidError: the text is not TOML, or breaks a rule;
            ``key_path`` names the key
            (``configurations.main.features.subscription_cancel.mode``).

    Example:
        ```python
        from cancelflow import parse_portal_config

        config = parse_portal_config('''
        [configurations.main.features.subscription_cancel]
        enabled = true
        mode = "immediately"
        ''')
        assert config["main"].features.subscription_cancel.mode == "immediately"
        ```
    """
    if not isinstance(text, str):
        raise PortalConfigInvalidError(f"expected TOML text, got {describe(text)}")
    if len(text) > MAX_FILE_BYTES:
        raise PortalConfigInvalidError(
            f"the text is {len(text):,} characters long; at most {MAX_FILE_BYTES:,}"
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PortalConfigInvalidError(f"not valid TOML: {err}") from None
    except RecursionError:
        raise PortalConfigInvalidError(
            "not valid TOML: it is nested too deeply"
        ) from None
    return _from_data(data)


def load_portal_config(path: str | PathLike[str]) -> PortalConfigFile:
    """Read portal configurations from a ``.toml`` file, or a ``.py`` file.

    A Python file must define ``PORTAL_CONFIG`` (a `PortalConfigFile`, or a list
    of `PortalConfigSpec`); it is run as a module, so run only your own.

    Args:
        path: the file.

    Returns:
        The declared configurations.

    Raises:
        PortalConfigInvalidError: the file cannot be read or run, or breaks a
            rule (``key_path`` names the key; the message names the file).

    Example:
        ```python
        import pathlib
        import tempfile

        from cancelflow import load_portal_config

        with tempfile.TemporaryDirectory() as folder:
            path = pathlib.Path(folder, "portal.toml")
            path.write_text("[configurations.main.login_page]\\nenabled = true\\n")
            assert load_portal_config(path)["main"].login_page.enabled
        ```
    """
    where = Path(path)
    if where.suffix == ".py":
        return _load_python(where)
    try:
        size = where.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PortalConfigInvalidError(
                f"{path} is {size:,} bytes long; at most {MAX_FILE_BYTES:,}"
            )
        text = where.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise PortalConfigInvalidError(f"cannot read {path}: {reason}") from None
    try:
        return parse_portal_config(text)
    except PortalConfigInvalidError as err:
        raise PortalConfigInvalidError(
            f"{path}: {err.problem}", key_path=err.key_path
        ) from None


def _load_python(path: Path) -> PortalConfigFile:
    spec = importlib.util.spec_from_file_location(
        f"_cancelflow_portal_{path.stem}", path
    )
    if spec is None or spec.loader is None:
        raise PortalConfigInvalidError(f"cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except FileNotFoundError:
        raise PortalConfigInvalidError(f"cannot read {path}: no such file") from None
    except PortalConfigInvalidError as err:
        raise PortalConfigInvalidError(
            f"{path}: {err.problem}", key_path=err.key_path
        ) from None
    except Exception as err:  # noqa: BLE001 - the user's code; say what it raised
        raise PortalConfigInvalidError(
            f"running {path} raised {type(err).__name__}: {err}"
        ) from None
    value = getattr(module, PYTHON_NAME, None)
    if value is None:
        raise PortalConfigInvalidError(
            f"{path} defines no {PYTHON_NAME} (a PortalConfigFile or a list of "
            "PortalConfigSpec)"
        )
    return value if isinstance(value, PortalConfigFile) else PortalConfigFile(value)


# -- writing ---------------------------------------------------------------------------


def _table_lines(data: Mapping[str, Any], header: str) -> list[str]:
    """``[header]`` with the scalars and arrays of *data*, then its sub-tables
    (the header is left out when the table holds only sub-tables)."""
    lines = ["", f"[{header}]"]
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            lines.append(f"{toml_key(key)} = [")
            lines += [f"  {toml_value(item)}," for item in value]
            lines.append("]")
        else:
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    if len(lines) == 2 and tables:
        lines = []
    for key, table in tables:
        lines += _table_lines(table, f"{header}.{toml_key(key)}")
    return lines


def dump_portal_config(config: PortalConfigFile) -> str:
    """Write configurations as TOML text that `parse_portal_config` reads back equal.

    Args:
        config: the configurations.

    Returns:
        The TOML text: one ``[configurations.KEY]`` table each, with its sub-tables.

    Raises:
        PortalConfigInvalidError: *config* is not a `PortalConfigFile`.

    Example:
        ```python
        from cancelflow import PortalConfigFile, PortalConfigSpec, dump_portal_config

        config = PortalConfigFile([PortalConfigSpec(key="main", name="Main")])
        assert dump_portal_config(config) == '[configurations.main]\\nname = "Main"\\n'
        ```
    """
    given: object = config
    if not isinstance(given, PortalConfigFile):
        raise PortalConfigInvalidError(
            f"expected a PortalConfigFile, got {describe(given)}"
        )
    lines: list[str] = []
    for spec in config:
        lines += _table_lines(spec.to_data(), f"configurations.{toml_key(spec.key)}")
    return "\n".join(lines).lstrip("\n") + "\n"
