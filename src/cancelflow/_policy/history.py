"""What cancelflow remembers about a customer's earlier cancellation attempts.

The retention policy asks this through `OfferHistory` (implemented by the
ledgers) because Stripe cannot answer it: a ``duration=once`` coupon vanishes
from ``subscription.discounts`` after its invoice.
"""

from __future__ import annotations

from typing import Protocol

import attrs

__all__ = ["CustomerHistory", "OfferHistory"]


@attrs.frozen(kw_only=True)
class CustomerHistory:
    """A customer's cancellation history, as far as the ledger knows it.

    Attributes:
        attempts: earlier cancellation attempts (cases) of this customer.
        last_offered_at: when a retention offer was last made to this customer
            (unix seconds), if ever.
        last_redeemed_at: when this customer last redeemed a retention offer
            (unix seconds), if ever.
    """

    attempts: int = 0
    last_offered_at: int | None = None
    last_redeemed_at: int | None = None


class OfferHistory(Protocol):
    """Anything that can tell a customer's `CustomerHistory`."""

    def customer_history(self, customer_id: str) -> CustomerHistory:
        """Return a customer's history.

        Args:
            customer_id: the `cus_…` id.

        Returns:
            The [`CustomerHistory`][cancelflow.CustomerHistory]; empty when unknown.
        """
        ...


EMPTY_HISTORY = CustomerHistory()
