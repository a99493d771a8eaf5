"""Reports: why customers leave and what the retention offers saved.

Figures computed where the data is (SQL in the ledger's database; Python over an
in-memory ledger or over Stripe's subscriptions), assembled into one frozen
:class:`~cancelflow.Report`, written as text, JSON, CSV or one HTML page with
SVG charts.

May import: ``_outcomes``, ``_policy``, ``_stripe``, helpers, ``exceptions``.
"""
