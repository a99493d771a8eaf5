"""Portal configuration as code: the declarative model, TOML and Python files,
export, plan (diff and drift) and apply of ``billing_portal.configuration``.

May import: ``_stripe``, the helpers and ``exceptions``. ``_links`` and ``_cli``
may import it.
"""
