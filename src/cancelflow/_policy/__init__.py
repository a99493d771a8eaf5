"""The retention policy, pure: rules, segments, guards, experiments, decisions, the
TOML loader, and the customer history they read.

May import: ``_stripe``, helpers, ``exceptions``.
"""
