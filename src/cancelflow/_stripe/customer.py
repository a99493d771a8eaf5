"""A frozen snapshot of a Stripe customer: the few facts offers are segmented by.

No e-mail, name, phone or full address is kept: the country, the preferred
locales, when the customer was created, and the metadata are enough for
country and tenure segments.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from cancelflow._stripe.read import Obj, frozen_map
from cancelflow.exceptions import StripeObjectError

__all__ = ["CustomerSnapshot"]

_DAY = 86_400


@attrs.frozen(kw_only=True)
class CustomerSnapshot:
    """The facts of one Stripe customer that retention offers may depend on.

    Attributes:
        id: the ``cus_…`` id.
        created: when the customer was created (unix seconds); ``None`` for a
            deleted customer.
        country: ``address.country`` (ISO 3166-1 alpha-2, upper case), if set.
        preferred_locales: the customer's ``preferred_locales``, in order.
        metadata: the customer's metadata.
        deleted: whether Stripe answered with a deleted customer.
    """

    id: str
    created: int | None = None
    country: str | None = None
    preferred_locales: tuple[str, ...] = ()
    metadata: Mapping[str, str] = attrs.field(
        factory=dict, converter=frozen_map, hash=False
    )
    deleted: bool = False

    @classmethod
    def from_stripe(cls, customer: object) -> CustomerSnapshot:
        """Build a snapshot from a `stripe.Customer` or its JSON dict.

        Args:
            customer: the object.

        Returns:
            The snapshot (no e-mail, name or full address is kept).

        Raises:
            StripeObjectError: the object is not a customer or a field has the
                wrong type; the message names the field's path.
        """
        o = Obj.of(customer, "customer")
        o.check_object("customer")
        deleted = o.boolean("deleted", default=False)
        address = o.opt_obj("address")
        country = address.opt_string("country") if address else None
        locales = o.array("preferred_locales")
        for n, locale in enumerate(locales):
            if not isinstance(locale, str):
                raise StripeObjectError(
                    f"customer.preferred_locales[{n}]", "expected a string"
                )
        return cls(
            id=o.string("id"),
            created=o.opt_integer("created") if deleted else o.integer("created"),
            country=country.upper() if country else None,
            preferred_locales=tuple(locales),
            metadata=o.str_map("metadata"),
            deleted=deleted,
        )

    def tenure_days(self, now: int) -> int | None:
        """Count the whole days since the customer was created.

        Args:
            now: the time, unix seconds.

        Returns:
            The days, or `None` when Stripe sent no `created`.
        """
        if self.created is None:
            return None
        return max(0, (now - self.created) // _DAY)

    @property
    def preferred_locale(self) -> str | None:
        """The customer's first preferred locale, if any."""
        return self.preferred_locales[0] if self.preferred_locales else None
