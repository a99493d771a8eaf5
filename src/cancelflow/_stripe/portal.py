"""Frozen views of Stripe's ``billing_portal`` objects: sessions and configurations."""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping
from typing import Any

import attrs

from cancelflow._stripe.read import Obj, frozen_map, plain, to_member
from cancelflow._stripe.reasons import CancellationFeedback

__all__ = [
    "CancelMode",
    "CancellationReasonFeature",
    "PortalConfiguration",
    "PortalSession",
    "ProrationBehavior",
    "SubscriptionCancelFeature",
]


class CancelMode(enum.StrEnum):
    """``features.subscription_cancel.mode``: when a portal cancel takes effect."""

    AT_PERIOD_END = "at_period_end"
    IMMEDIATELY = "immediately"


class ProrationBehavior(enum.StrEnum):
    """``features.subscription_cancel.proration_behavior``.

    Stripe accepts ``none`` and ``create_prorations`` (the latter only with
    ``mode=immediately``); it refuses ``always_invoice`` on cancel but may still
    report it, so it is listed.
    """

    NONE = "none"
    CREATE_PRORATIONS = "create_prorations"
    ALWAYS_INVOICE = "always_invoice"


@attrs.frozen(kw_only=True)
class PortalSession:
    """A ``billing_portal.session`` Stripe created.

    The ``url`` logs the customer into their billing portal until the session
    expires, so it is left out of ``repr`` (and therefore out of logs that
    print the object); read ``session.url`` where you need it.

    Attributes:
        id: the ``bps_…`` id.
        url: the short-lived portal URL to send the customer to.
        customer: the customer's ``cus_…`` id.
        created: when Stripe created it (unix seconds).
        livemode: ``True`` for a live-mode session.
        configuration: the ``bpc_…`` configuration it uses.
        flow_type: ``flow.type`` (``subscription_cancel``), or ``None`` for a
            plain portal session.
        subscription: the subscription of a ``subscription_cancel`` flow.
        coupon: the coupon offered by the flow's ``retention.coupon_offer``.
        after_completion: ``flow.after_completion.type``, if there is a flow.
        return_url: the top-level return URL, if any.
        locale: the session's locale, if Stripe reports one.
        on_behalf_of: the connected account, if any.
    """

    id: str
    url: str = attrs.field(repr=False)
    customer: str
    created: int
    livemode: bool = False
    configuration: str | None = None
    flow_type: str | None = None
    subscription: str | None = None
    coupon: str | None = None
    after_completion: str | None = None
    return_url: str | None = None
    locale: str | None = None
    on_behalf_of: str | None = None

    @classmethod
    def from_stripe(cls, session: object) -> PortalSession:
        """Build from a `stripe.billing_portal.Session` or its JSON dict.

        Args:
            session: the object.

        Returns:
            The session.

        Raises:
            StripeObjectError: the object is not a portal session or a field has the
                wrong type.
        """
        o = Obj.of(session, "session")
        o.check_object("billing_portal.session")
        flow = o.opt_obj("flow")
        cancel = flow.opt_obj("subscription_cancel") if flow else None
        retention = cancel.opt_obj("retention") if cancel else None
        offer = retention.opt_obj("coupon_offer") if retention else None
        after = flow.opt_obj("after_completion") if flow else None
        return cls(
            id=o.string("id"),
            url=o.string("url"),
            customer=o.string("customer"),
            created=o.integer("created"),
            livemode=o.boolean("livemode", default=False),
            configuration=o.opt_id_of("configuration"),
            flow_type=flow.string("type") if flow else None,
            subscription=cancel.string("subscription") if cancel else None,
            coupon=offer.string("coupon") if offer else None,
            after_completion=after.string("type") if after else None,
            return_url=o.opt_string("return_url"),
            locale=o.opt_string("locale"),
            on_behalf_of=o.opt_string("on_behalf_of"),
        )


@attrs.frozen(kw_only=True)
class CancellationReasonFeature:
    """`features.subscription_cancel.cancellation_reason` of a portal configuration.

    Whether the cancel page asks why, and which answers it offers.

    Attributes:
        enabled: whether the page asks for a reason.
        options: the standard reasons offered, in the portal's order.
        feedback_options: the ids of the custom feedback options offered.
    """

    enabled: bool = False
    options: tuple[CancellationFeedback, ...] = ()
    feedback_options: tuple[str, ...] = ()
    """Ids of custom ``billing.FeedbackOption`` objects."""

    @classmethod
    def from_obj(cls, o: Obj) -> CancellationReasonFeature:
        """Read the feature through a reader (`PortalConfiguration.from_stripe` is public).

        Args:
            o: the object, wrapped in cancelflow's reader (which names the path of a
                bad field).

        Returns:
            The model.
        """
        where = o.where("options")
        options: list[CancellationFeedback] = []
        for n, value in enumerate(o.array("options")):
            options.append(to_member(CancellationFeedback, value, f"{where}[{n}]"))
        feedback_where = o.where("feedback_options")
        feedback: list[str] = []
        for n, value in enumerate(o.array("feedback_options")):
            if isinstance(value, str):
                feedback.append(value)
            else:
                feedback.append(Obj.of(value, f"{feedback_where}[{n}]").string("id"))
        return cls(
            enabled=o.boolean("enabled"),
            options=tuple(options),
            feedback_options=tuple(feedback),
        )


@attrs.frozen(kw_only=True)
class SubscriptionCancelFeature:
    """`features.subscription_cancel` of a portal configuration.

    Attributes:
        enabled: whether customers can cancel in the portal.
        mode: when a cancel takes effect ([`CancelMode`][cancelflow.CancelMode]).
        proration_behavior: how an immediate cancel prorates
            ([`ProrationBehavior`][cancelflow.ProrationBehavior]).
        cancellation_reason: the reasons the cancel page asks for.
    """

    enabled: bool = False
    mode: CancelMode = CancelMode.AT_PERIOD_END
    proration_behavior: ProrationBehavior = ProrationBehavior.NONE
    cancellation_reason: CancellationReasonFeature = attrs.field(
        factory=CancellationReasonFeature
    )

    @classmethod
    def from_obj(cls, o: Obj) -> SubscriptionCancelFeature:
        """Read the feature through a reader (`PortalConfiguration.from_stripe` is public).

        Args:
            o: the object, wrapped in cancelflow's reader (which names the path of a
                bad field).

        Returns:
            The model.
        """
        reason = o.opt_obj("cancellation_reason")
        return cls(
            enabled=o.boolean("enabled"),
            mode=o.member("mode", CancelMode),
            proration_behavior=o.member("proration_behavior", ProrationBehavior),
            cancellation_reason=CancellationReasonFeature.from_obj(reason)
            if reason
            else CancellationReasonFeature(),
        )


def _frozen_raw(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return copy.deepcopy(dict(value))


@attrs.frozen(kw_only=True)
class PortalConfiguration:
    """A ``billing_portal.configuration``: the facts cancellation depends on.

    Attributes:
        id: the ``bpc_…`` id.
        active: whether sessions can use it.
        is_default: whether sessions without ``configuration`` use it.
        livemode: ``True`` in live mode.
        default_return_url: the configuration's default return URL, if any.
        subscription_cancel: what the cancel page does.
        name: the configuration's ``name``, if it has one.
        metadata: its ``metadata`` (an empty map when it has none).
        raw: the whole object as plain JSON data (a dict), for everything
            else; it is not part of equality, hashing or ``repr``.
    """

    id: str
    active: bool
    is_default: bool
    livemode: bool = False
    default_return_url: str | None = None
    subscription_cancel: SubscriptionCancelFeature = attrs.field(
        factory=SubscriptionCancelFeature
    )
    name: str | None = None
    metadata: Mapping[str, str] = attrs.field(
        factory=dict, converter=frozen_map, hash=False
    )
    raw: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_raw, eq=False, hash=False, repr=False
    )

    @classmethod
    def from_stripe(cls, configuration: object) -> PortalConfiguration:
        """Build from a `stripe.billing_portal.Configuration` or its JSON dict.

        Args:
            configuration: the object.

        Returns:
            The configuration.

        Raises:
            StripeObjectError: the object is not a portal configuration or a field
                has the wrong type.
        """
        o = Obj.of(configuration, "configuration")
        o.check_object("billing_portal.configuration")
        features = o.opt_obj("features")
        cancel = features.opt_obj("subscription_cancel") if features else None
        data = plain(configuration)
        assert isinstance(data, Mapping)  # Obj.of checked it
        return cls(
            id=o.string("id"),
            active=o.boolean("active"),
            is_default=o.boolean("is_default"),
            livemode=o.boolean("livemode", default=False),
            default_return_url=o.opt_string("default_return_url"),
            subscription_cancel=SubscriptionCancelFeature.from_obj(cancel)
            if cancel
            else SubscriptionCancelFeature(),
            name=o.opt_string("name"),
            metadata=o.str_map("metadata"),
            raw=data,
        )
