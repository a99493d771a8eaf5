"""Keep secrets out of messages (strictly private).

`redact` replaces anything shaped like a Stripe secret or restricted key
(``sk_…``, ``rk_…``) or a webhook signing secret (``whsec_…``) in a text that
may reach an error message, a log or a terminal.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["redact"]

_SECRET: Final = re.compile(r"\b(sk|rk|whsec)_(?:(test|live)_)?[A-Za-z0-9*]{4,}")


def redact(text: str) -> str:
    """Replace anything shaped like a secret key or webhook secret in *text*."""
    return _SECRET.sub(lambda m: f"{m[1]}_{m[2] + '_' if m[2] else ''}[redacted]", text)
