"""The Dashboard: what a Stripe account sets outside the API (``FakeStripe.dashboard``).

Some of an account's behaviour is set in Stripe's Dashboard and nowhere in
the API. The fake models two such settings, as calls a test makes:

* **The customer portal's settings** (Settings → Billing → Customer portal).
  Saving that page creates the account's *default* portal configuration
  (``is_default: true``), the one a portal session uses when it is created
  without ``configuration``. The API can update that configuration but never
  create a default one: configurations created with
  ``billing_portal.configurations.create`` have ``is_default: false``. Until
  the page is saved, a session without ``configuration`` is refused with
  Stripe's own message.
* **The retry schedule for failed subscription payments** (Billing → Revenue
  recovery → Retries): when a failed renewal is tried again, and what happens
  to the subscription when every retry has failed (see
  [`RetrySchedule`][cancelflow.testing.RetrySchedule]).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing._errors import ApiError
from cancelflow.testing._form import decode, encode
from cancelflow.testing._retries import DEFAULT_RETRY_SCHEDULE, RetrySchedule

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["Dashboard"]

JSON = dict[str, Any]
_NOT_ON_THE_PAGE: Final = ("active", "expand")


class Dashboard:
    """The Dashboard settings of one fake account (``FakeStripe.dashboard``).

    Args:
        backend: the fake account's internal state; not built by hand: use
            `fake.dashboard`.

    Attributes:
        retry_schedule: when failed renewal payments are retried and what
            happens to the subscription when every retry has failed
            ([`RetrySchedule`][cancelflow.testing.RetrySchedule]; 8 tries within
            2 weeks, then cancel, by default).

    Example:
        ```python
        from cancelflow.testing import FakeStripe

        fake = FakeStripe()
        config = fake.dashboard.save_portal_settings(
            features={"subscription_cancel": {"enabled": True}})
        assert config["is_default"] is True
        assert fake.dashboard.portal_configuration["id"] == config["id"]
        ```
    """

    def __init__(self, backend: Backend) -> None:
        self._b = backend
        self._retry_schedule = DEFAULT_RETRY_SCHEDULE

    def __repr__(self) -> str:
        saved = self._b.portal_configurations.default_id
        return f"<Dashboard portal_configuration={saved} {self._retry_schedule!r}>"

    # -- the customer portal's page ------------------------------------------------

    @property
    def portal_configuration(self) -> JSON | None:
        """The default configuration the portal page saved (``None``: never saved)."""
        record = self._b.portal_configurations.default()
        return None if record is None else _copy(record.obj)

    def save_portal_settings(self, **settings: Any) -> JSON:
        """Save the customer portal page of the Dashboard; return the default configuration.

        The first save creates the account's default configuration
        (``is_default: true``, ``billing_portal.configuration.created``); a
        later save changes it (``billing_portal.configuration.updated``), as
        an API update of it would. Portal sessions created without
        ``configuration`` use it from then on.

        Args:
            **settings: what the page sets, with the names and shapes of
                ``billing_portal.configurations.update`` parameters
                (``features``, ``business_profile``, ``default_return_url``,
                ``login_page``, ``name``, ``metadata``). What is not given
                keeps its value; a first save starts from Stripe's defaults
                for a new configuration (every feature disabled).

        Returns:
            The default configuration, as the API renders it.

        Raises:
            FakeStripeError: a setting the page does not have, or a value
                Stripe refuses (the message names it, as the API's 400 would).
        """
        from cancelflow.testing._schema import params_spec

        for name in _NOT_ON_THE_PAGE:
            if name in settings:
                raise FakeStripeError(
                    f"the Dashboard's portal settings have no {name!r}: it is an API "
                    "parameter (the default configuration stays active)"
                )
        b = self._b
        with b.lock:
            try:
                params = params_spec("billing_portal.ConfigurationUpdateParams").coerce(
                    decode(encode(settings)), None
                )
                configs = b.portal_configurations
                saved = configs.default()
                if saved is None:
                    saved = configs.create(params, default=True)
                else:
                    configs.update(saved, params)
            except ApiError as err:
                where = f" ({err.param})" if err.param else ""
                raise FakeStripeError(
                    f"Stripe would not save these portal settings{where}: {err.message}"
                ) from None
            return _copy(saved.obj)

    # -- revenue recovery ----------------------------------------------------------

    @property
    def retry_schedule(self) -> RetrySchedule:
        """When failed renewals are retried, and what happens after the last try."""
        return self._retry_schedule

    @retry_schedule.setter
    def retry_schedule(self, schedule: RetrySchedule) -> None:
        given: object = schedule  # untyped test code may pass anything
        if not isinstance(given, RetrySchedule):
            raise FakeStripeError(
                "retry_schedule takes a cancelflow.testing.RetrySchedule, e.g. "
                "RetrySchedule(days=(3, 5, 7), then='unpaid'); got "
                f"{type(given).__name__}"
            )
        self._retry_schedule = schedule


def _copy(obj: JSON) -> JSON:
    copied: JSON = json.loads(json.dumps(obj))
    return copied
