"""``typing`` names needed at run time, without importing ``typing``.

Strictly private. Verifying and parsing a webhook must stay cheap on a cold
start (a serverless handler pays every import each time), and ``typing`` is
a good part of that cost. Modules on that path import names only for type
checkers (under ``TYPE_CHECKING``, which type checkers treat as true), and the
one name used at run time, `final`, from here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import final as final  # noqa: PLC0414 (an explicit re-export)
else:

    def final(cls: type) -> type:
        """Mark *cls* final, as ``typing.final`` does at run time."""
        cls.__final__ = True
        return cls
