"""The Dashboard: what a Stripe account sets outside the API (``FakeStripe.dashboard``).

Some of an account's behaviour is set in Stripe's Dashboard and nowhere in
the API. The fake models such settings as calls a test makes:

* **The customer portal's settings** (Settings → Billing → Customer portal).
  Saving that page creates the account's *default* portal configuration
  (``is_default: true``), the one a portal session uses when it is created
  without ``configuration``. The API can update that configuration but never
  create a default one: configurations created with
  ``billing_portal.configurations.create`` have ``is_default: false``. Until
  the page is saved, a session without ``configuration`` is refused with
  Stripe's own message.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing._errors import ApiError
from cancelflow.testing._form import decode, encode

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

    def __repr__(self) -> str:
        saved = self._b.portal_configurations.default_id
        return f"<Dashboard portal_configuration={saved}>"

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


def _copy(obj: JSON) -> JSON:
    copied: JSON = json.loads(json.dumps(obj))
    return copied
