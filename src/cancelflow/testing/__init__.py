"""Test helpers for code that uses cancelflow and Stripe (``cancelflow.testing``)."""
