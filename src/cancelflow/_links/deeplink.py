"""Parameters of a ``subscription_cancel`` portal session, built and checked purely.

`build_cancel_session_params` returns stripe-python's own
``SessionCreateParams`` TypedDict, so mypy checks the shape against the SDK and
the result can go straight to ``client.v1.billing_portal.sessions.create``.
Nothing here talks to Stripe or imports ``stripe`` at run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, TypeAlias

import attrs

from cancelflow._ids import check_id
from cancelflow._links.urls import AllowedHosts, as_allowed_hosts
from cancelflow._stripe.read import unstorable
from cancelflow.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from stripe.params.billing_portal import (
        SessionCreateParams,
        SessionCreateParamsFlowData,
        SessionCreateParamsFlowDataAfterCompletion,
    )

__all__ = [
    "LOCALES",
    "AfterCompletion",
    "HostedConfirmation",
    "PortalHomepage",
    "Redirect",
    "build_cancel_session_params",
    "build_portal_session_params",
]

#: Stripe's 47 portal locales (``billing_portal.session.locale``), in Stripe's order.
LOCALES: Final = (
    "auto", "bg", "cs", "da", "de", "el", "en", "en-AU", "en-CA", "en-GB", "en-IE",
    "en-IN", "en-NZ", "en-SG", "es", "es-419", "et", "fi", "fil", "fr", "fr-CA", "hr",
    "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt",
    "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
)  # fmt: skip

#: ``flow_data.after_completion.hosted_confirmation.custom_message`` limit. It
#: comes from Stripe's API spec (``maxLength``) via a spec-generated SDK, not
#: from prose documentation; counted here in Unicode code points.
MAX_CUSTOM_MESSAGE: Final = 500

#: Longest id Stripe accepts for these fields (``maxLength`` in its API spec).

_BY_FOLDED: Final = {loc.casefold(): loc for loc in LOCALES}

_AFTER: Final = "flow_data[after_completion]"
_CANCEL: Final = "flow_data[subscription_cancel]"


@attrs.frozen
class Redirect:
    """After cancelling, send the customer to an allowed URL of the site.

    Attributes:
        return_url: where to send the customer; checked against the
            [`AllowedHosts`][cancelflow.AllowedHosts] like the session's `return_url`.

    Example:
        ```python
        import cancelflow

        after = cancelflow.Redirect("https://example.com/goodbye")
        params = after.to_params(cancelflow.AllowedHosts(["example.com"]))
        assert params["redirect"]["return_url"] == "https://example.com/goodbye"
        ```
    """

    return_url: str

    def to_params(
        self, allowed_hosts: AllowedHosts
    ) -> SessionCreateParamsFlowDataAfterCompletion:
        """Return the `flow_data[after_completion]` parameters.

        Args:
            allowed_hosts: the hosts `return_url` may point to.

        Returns:
            `{"type": "redirect", "redirect": {"return_url": ...}}`, with the URL
            normalised.

        Raises:
            DisallowedURLError: `return_url` is not an allowed URL.
        """
        url = allowed_hosts.check(
            self.return_url, field=f"{_AFTER}[redirect][return_url]"
        )
        return {"type": "redirect", "redirect": {"return_url": url}}


@attrs.frozen
class HostedConfirmation:
    """After cancelling, show Stripe's confirmation page, with an optional message.

    Attributes:
        custom_message: at most 500 characters (Stripe's limit), not blank; Stripe's
            own text when `None`.
    """

    custom_message: str | None = None

    def to_params(
        self, allowed_hosts: AllowedHosts
    ) -> SessionCreateParamsFlowDataAfterCompletion:
        """Return the `flow_data[after_completion]` parameters.

        Args:
            allowed_hosts: unused (there is no URL here); taken for symmetry with
                [`Redirect.to_params`][cancelflow.Redirect.to_params].

        Returns:
            `{"type": "hosted_confirmation", ...}` with the message when there is one.

        Raises:
            InvalidParameterError: the message is not a string, is blank, or is
                longer than 500 characters, or holding U+0000 or a lone
                surrogate.
        """
        del allowed_hosts  # no URL here
        field = f"{_AFTER}[hosted_confirmation][custom_message]"
        message: object = self.custom_message
        if message is None:
            return {"type": "hosted_confirmation"}
        if not isinstance(message, str):
            raise InvalidParameterError(field, "must be a string")
        if not message.strip():
            raise InvalidParameterError(
                field, "must not be blank; leave custom_message out instead"
            )
        if len(message) > MAX_CUSTOM_MESSAGE:
            raise InvalidParameterError(
                field,
                f"is {len(message)} characters long; Stripe accepts at most "
                f"{MAX_CUSTOM_MESSAGE}",
            )
        problem = unstorable(message)
        if problem is not None:
            raise InvalidParameterError(
                field, f"contains {problem}, which cannot be sent to Stripe as text"
            )
        return {
            "type": "hosted_confirmation",
            "hosted_confirmation": {"custom_message": message},
        }


@attrs.frozen
class PortalHomepage:
    """After cancelling, show the portal's homepage (the customer's subscriptions)."""

    def to_params(
        self, allowed_hosts: AllowedHosts
    ) -> SessionCreateParamsFlowDataAfterCompletion:
        """Return the `flow_data[after_completion]` parameters.

        Args:
            allowed_hosts: unused (there is no URL here).

        Returns:
            `{"type": "portal_homepage"}`.
        """
        del allowed_hosts
        return {"type": "portal_homepage"}


#: What the portal does once the customer has cancelled (``after_completion``).
AfterCompletion: TypeAlias = Redirect | HostedConfirmation | PortalHomepage

_AFTER_COMPLETION_TYPES: Final[tuple[type, ...]] = (
    Redirect,
    HostedConfirmation,
    PortalHomepage,
)


def check_after_completion(
    after_completion: AfterCompletion, allowed_hosts: AllowedHosts
) -> SessionCreateParamsFlowDataAfterCompletion:
    """Return the ``flow_data[after_completion]`` parameters of *after_completion*."""
    if not isinstance(after_completion, _AFTER_COMPLETION_TYPES):
        raise InvalidParameterError(
            _AFTER,
            "must be Redirect(url), HostedConfirmation(message) or PortalHomepage()",
        )
    return after_completion.to_params(allowed_hosts)


def check_locale(value: object, field: str = "locale") -> str:
    """Return Stripe's spelling of *value* if it is one of `LOCALES`.

    Matching ignores case (``fr-ca`` gives ``fr-CA``); otherwise the error
    suggests the language alone when Stripe has it (``fr-BE`` → ``fr``).
    """
    if not isinstance(value, str):
        raise InvalidParameterError(field, f"must be a string, got {value!r}")
    found = _BY_FOLDED.get(value.strip().casefold().replace("_", "-"))
    if found is not None:
        return found
    language = value.strip().split("-")[0].split("_")[0].casefold()
    hint = (
        f"; did you mean {_BY_FOLDED[language]!r}?"
        if language in _BY_FOLDED
        else "; see cancelflow.LOCALES, or use 'auto'"
    )
    raise InvalidParameterError(
        field, f"{value!r} is not one of Stripe's {len(LOCALES)} portal locales{hint}"
    )


def _common(
    params: SessionCreateParams,
    *,
    return_url: str | None,
    locale: str | None,
    configuration: str | None,
    on_behalf_of: str | None,
    allowed_hosts: AllowedHosts,
) -> None:
    if return_url is not None:
        params["return_url"] = allowed_hosts.check(return_url, field="return_url")
    if locale is not None:
        params["locale"] = check_locale(locale)
    if configuration is not None:
        params["configuration"] = check_id(
            configuration, "configuration", prefix="bpc_"
        )
    if on_behalf_of is not None:
        params["on_behalf_of"] = check_id(on_behalf_of, "on_behalf_of", prefix="acct_")


def build_cancel_session_params(
    *,
    customer: str,
    subscription: str,
    allowed_hosts: AllowedHosts | Iterable[str],
    coupon: str | None = None,
    return_url: str | None = None,
    after_completion: AfterCompletion | None = None,
    locale: str | None = None,
    configuration: str | None = None,
    on_behalf_of: str | None = None,
) -> SessionCreateParams:
    """Parameters for a portal session that opens on *subscription*'s cancel page.

    Args:
        customer: the ``cus_…`` id the session is for.
        subscription: the ``sub_…`` id to cancel (it must be *customer*'s;
            `Cancelflow` checks that, this function cannot).
        allowed_hosts: where `return_url` and a [`Redirect`][cancelflow.Redirect]
            may point: an [`AllowedHosts`][cancelflow.AllowedHosts] or a list of
            its entries.
        coupon: a coupon id to offer as `retention.coupon_offer`.
        return_url: the top-level link back to the site, shown all along.
        after_completion: [`Redirect`][cancelflow.Redirect],
            [`HostedConfirmation`][cancelflow.HostedConfirmation] or
            [`PortalHomepage`][cancelflow.PortalHomepage]; Stripe's default when
            `None`.
        locale: one of [`LOCALES`][cancelflow.LOCALES] (case and `_`/`-` do not
            matter); Stripe picks one when `None`.
        configuration: a `bpc_…` portal configuration; the default one when
            `None`.
        on_behalf_of: a connected `acct_…` account.

    Returns:
        stripe-python's `SessionCreateParams`, ready for
        `client.v1.billing_portal.sessions.create(params=...)`.

    Raises:
        InvalidParameterError: a field breaks a rule; `field` is its path in
            Stripe's form notation and `rule` says which rule.
        DisallowedURLError: a URL is not allowed (see
            [`AllowedHosts.check`][cancelflow.AllowedHosts.check]).

    Example:
        ```python
        import cancelflow

        params = cancelflow.build_cancel_session_params(
            customer="cus_123",
            subscription="sub_456",
            allowed_hosts=["example.com"],
            coupon="STAY20",
            after_completion=cancelflow.HostedConfirmation("Sorry to see you go."),
            locale="fr_ca",
        )
        assert params["flow_data"]["type"] == "subscription_cancel"
        assert params["locale"] == "fr-CA"
        ```
    """
    allowed_hosts = as_allowed_hosts(allowed_hosts)
    flow: SessionCreateParamsFlowData = {
        "type": "subscription_cancel",
        "subscription_cancel": {
            "subscription": check_id(
                subscription, f"{_CANCEL}[subscription]", prefix="sub_"
            )
        },
    }
    if coupon is not None:
        flow["subscription_cancel"]["retention"] = {
            "type": "coupon_offer",
            "coupon_offer": {
                "coupon": check_id(
                    coupon, f"{_CANCEL}[retention][coupon_offer][coupon]"
                )
            },
        }
    if after_completion is not None:
        flow["after_completion"] = check_after_completion(
            after_completion, allowed_hosts
        )
    params: SessionCreateParams = {
        "customer": check_id(customer, "customer", prefix="cus_"),
        "flow_data": flow,
    }
    _common(
        params,
        return_url=return_url,
        locale=locale,
        configuration=configuration,
        on_behalf_of=on_behalf_of,
        allowed_hosts=allowed_hosts,
    )
    return params


def build_portal_session_params(
    *,
    customer: str,
    allowed_hosts: AllowedHosts | Iterable[str],
    return_url: str | None = None,
    locale: str | None = None,
    configuration: str | None = None,
    on_behalf_of: str | None = None,
) -> SessionCreateParams:
    """Parameters for a plain portal session (the portal's homepage, no flow).

    The way forward for a subscription already scheduled to cancel: the homepage
    lets the customer renew it. The same checks as
    [`build_cancel_session_params`][cancelflow.build_cancel_session_params] apply.

    Args:
        customer: the `cus_…` id the session is for.
        allowed_hosts: where `return_url` may point: an
            [`AllowedHosts`][cancelflow.AllowedHosts] or a list of its entries.
        return_url: the link back to the site.
        locale: one of [`LOCALES`][cancelflow.LOCALES]; Stripe picks one when `None`.
        configuration: a `bpc_…` portal configuration; the default one when `None`.
        on_behalf_of: a connected `acct_…` account.

    Returns:
        stripe-python's `SessionCreateParams` for
        `client.v1.billing_portal.sessions.create(params=...)`.

    Raises:
        InvalidParameterError: a field breaks a rule (`field`, `rule`).
        DisallowedURLError: `return_url` is not allowed.

    Example:
        ```python
        import cancelflow

        params = cancelflow.build_portal_session_params(
            customer="cus_123",
            allowed_hosts=["example.com"],
            return_url="https://example.com/account",
        )
        assert "flow_data" not in params
        ```
    """
    params: SessionCreateParams = {
        "customer": check_id(customer, "customer", prefix="cus_")
    }
    allowed_hosts = as_allowed_hosts(allowed_hosts)
    _common(
        params,
        return_url=return_url,
        locale=locale,
        configuration=configuration,
        on_behalf_of=on_behalf_of,
        allowed_hosts=allowed_hosts,
    )
    return params
