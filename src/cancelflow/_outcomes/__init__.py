"""Outcomes: webhook signatures, typed cancellation events, the ledger and its stores.

May import: ``_policy`` (the customer history), ``_stripe``, helpers, ``exceptions``.
"""
