"""Deep links into the portal: the ``Cancelflow`` entry point, the session-parameter
builder, the open-redirect guard and the coupon cache.

May import: ``_policy``, ``_outcomes``, ``_stripe``, helpers, ``exceptions``.
"""
