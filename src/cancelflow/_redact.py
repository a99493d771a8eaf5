"""Keep secrets out of messages (strictly private).

`redact` replaces anything shaped like a Stripe secret or restricted key
(``sk_…``, ``rk_…``) or a webhook signing secret (``whsec_…``) in a text that
may reach an error message, a log or a terminal. The pattern lives in
:mod:`cancelflow.exceptions`, whose errors redact their own messages with it.
"""

from __future__ import annotations

from cancelflow.exceptions import redact

__all__ = ["redact"]
