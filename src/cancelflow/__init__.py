"""cancelflow: own the cancellation path of Stripe's customer portal.

Importing this package does not import ``stripe`` (about 200 ms and 40 MB):
the gateway imports it the first time it talks to Stripe.
"""

from __future__ import annotations

from cancelflow import exceptions
from cancelflow._coupon import Coupon, CouponDuration, CouponProblem
from cancelflow._reasons import (
    CancellationDetails,
    CancellationFeedback,
    CancellationReason,
    FeedbackLabels,
    FeedbackOptionRef,
)
from cancelflow._subscription import (
    BillingMode,
    DiscountRef,
    SubscriptionItemSnapshot,
    SubscriptionSnapshot,
    SubscriptionStatus,
)
from cancelflow.exceptions import CancelflowError

__all__ = [
    "BillingMode",
    "CancelflowError",
    "CancellationDetails",
    "CancellationFeedback",
    "CancellationReason",
    "Coupon",
    "CouponDuration",
    "CouponProblem",
    "DiscountRef",
    "FeedbackLabels",
    "FeedbackOptionRef",
    "SubscriptionItemSnapshot",
    "SubscriptionSnapshot",
    "SubscriptionStatus",
    "exceptions",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version

        return version("cancelflow")
    msg = f"module 'cancelflow' has no attribute {name!r}"
    raise AttributeError(msg)


def _fix_module() -> None:
    for _name in __all__:
        obj = globals()[_name]
        if isinstance(obj, type) and obj.__module__.startswith("cancelflow._"):
            obj.__module__ = "cancelflow"


_fix_module()
