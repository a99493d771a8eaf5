"""Stripe objects read into frozen models, and the gateway: the one module that calls Stripe.

May import: the top-level helpers and ``cancelflow.exceptions``.
"""
