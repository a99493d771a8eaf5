"""Backtests: policies replayed over history (JSONL files, a ledger, Stripe).

May import: ``_policy``, ``_outcomes``, ``_stripe``, helpers, ``exceptions``.
"""
