"""The portal driver: act as the customer on a portal session's page.

``visit = fake.portal.visit(session.url)`` opens the page a portal session's
URL shows (a deep-link flow, or the portal's homepage). The visit shows what
Stripe's page would — the flow, the subscription, the cancellation reasons
and custom feedback options the configuration offers (with their labels in
the session's locale), the retention coupon offered, the locale and where the
customer goes afterwards — and acts on the account the way the page does:

* `PortalVisit.cancel` — per the configuration's
  ``features.subscription_cancel``: ``mode=at_period_end`` schedules the end
  (classic billing mode: ``cancel_at_period_end`` and ``cancel_at`` = the
  period end; flexible: ``cancel_at`` = the latest item period end and
  ``cancel_at_period_end=false``), ``mode=immediately`` ends the subscription
  (``customer.subscription.deleted``). The reason the customer picks arrives
  in a *second* ``customer.subscription.updated``, `Portal.feedback_delay`
  later (the reason page comes after the cancel).
* `PortalVisit.accept_offer` — applies the retention coupon as a
  discount (``customer.discount.created``, then
  ``customer.subscription.updated``) and cancels nothing.
* `PortalVisit.renew` — on the homepage, renews a subscription that is
  scheduled to cancel (``customer.subscription.updated`` clearing the schedule).
* `PortalVisit.abandon` — the customer leaves; nothing changes.

Whatever Stripe's page would not allow is refused with a
`PortalError` subclass that says why.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from cancelflow.exceptions import (
    FakeStripeError,
    PortalCancelDisabledError,
    PortalError,
    PortalFlowFinishedError,
    PortalOfferError,
    PortalReasonNotOfferedError,
    PortalSessionExpiredError,
    PortalSessionNotFoundError,
    PortalSubscriptionError,
)
from cancelflow.testing._errors import ApiError
from cancelflow.testing._resources.subscriptions import ENDED, Subscriptions

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend
    from cancelflow.testing._resources.portal_sessions import SessionRecord
    from cancelflow.testing._resources.subscriptions import SubscriptionRecord

__all__ = ["Portal", "PortalOutcome", "PortalVisit"]

JSON = dict[str, Any]
T = TypeVar("T")

UNUSED_SESSION_TTL: Final = dt.timedelta(minutes=5)
"""An unused session expires this long after it was created (UNCONFIRMED:
Stripe says only that sessions are short-lived; 5 minutes is from third-party notes)."""
IDLE_TIMEOUT: Final = dt.timedelta(hours=1)
"""A visited session expires this long after its last activity (UNCONFIRMED, as above)."""
FEEDBACK_DELAY: Final = dt.timedelta(seconds=3)
"""How long after the cancel the customer's reason arrives (UNCONFIRMED: "a few seconds")."""


def _copy(obj: T) -> T:
    """A deep copy of JSON data, so that callers never share the store's dicts."""
    copied: T = json.loads(json.dumps(obj))
    return copied


@attrs.frozen(kw_only=True)
class PortalOutcome:
    """What one action on the portal did.

    Attributes:
        action: ``cancel``, ``accept_offer`` or ``renew``.
        subscription: the subscription afterwards, as the API renders it.
        events: the events the action emitted, oldest first (delivered to
            the webhook endpoints by the time the action returns).
        after_completion: the flow's ``after_completion`` (``None`` on the homepage).
        redirect_url: where the customer's browser goes next: the
            ``after_completion`` redirect URL of a deep-link flow, or ``None``
            (Stripe's confirmation page, or the portal).
    """

    action: str
    subscription: JSON = attrs.field(repr=False)
    events: tuple[JSON, ...] = attrs.field(repr=False)
    after_completion: JSON | None = attrs.field(repr=False)
    redirect_url: str | None

    @property
    def event_types(self) -> list[str]:
        """The types of `events`, in order."""
        return [event["type"] for event in self.events]


class Portal:
    """The customer portal of one fake account (``FakeStripe.portal``).

    Attributes:
        unused_session_ttl: an unused session expires this long after it
            was created (5 minutes; UNCONFIRMED).
        idle_timeout: a visited session expires this long after its last
            activity (1 hour; UNCONFIRMED).
        feedback_delay: how long after the cancel the customer's reason
            arrives, as a second ``customer.subscription.updated`` (3 seconds;
            the fake clock advances by it; ``timedelta(0)`` for none).

    Args:
        backend: the fake account's internal state; not built by hand: use
            `fake.portal`.
    """

    def __init__(self, backend: Backend) -> None:
        self._b = backend
        self.unused_session_ttl = UNUSED_SESSION_TTL
        self.idle_timeout = IDLE_TIMEOUT
        self.feedback_delay = FEEDBACK_DELAY

    def __repr__(self) -> str:
        return f"<Portal sessions={len(self._b.portal_sessions)}>"

    def visit(self, url_or_id: str) -> PortalVisit:
        """Open the page of a portal session, by its ``url`` or its ``bps_…`` id.

        Args:
            url_or_id: the session's `url` or `bps_…` id.

        Returns:
            The [`PortalVisit`][cancelflow.testing.PortalVisit].

        Raises:
            PortalSessionNotFoundError: no session has this URL or id.
            PortalSessionExpiredError: the session has expired.
            PortalFlowFinishedError: its deep-link flow is already done.
            PortalSubscriptionError: the flow's subscription is another
                customer's, or has ended.
        """
        b = self._b
        with b.lock:
            found: object = url_or_id  # untyped test code may pass anything
            record = (
                b.portal_sessions.find(url_or_id) if isinstance(found, str) else None
            )
            if record is None:
                raise PortalSessionNotFoundError(
                    "no portal session of this fake account has that URL or id "
                    "(pass session.url or session.id from billing_portal.sessions.create)"
                )
            visit = PortalVisit(self, record)
            visit._check_session()
            if record.subscription_id is not None:
                visit._flow_subscription()
            record.state["last_activity"] = b.now()
            record.state["visits"] = record.state.get("visits", 0) + 1
            return visit

    def _expired(self, record: SessionRecord) -> str | None:
        """Why the session has expired, or ``None``."""
        now = self._b.now()
        last = record.state.get("last_activity")
        if last is None:
            ttl = int(self.unused_session_ttl.total_seconds())
            if now - record.created > ttl:
                return (
                    f"it was created {_ago(now - record.created)} ago and never "
                    f"used; unused sessions expire after {_ago(ttl)}"
                )
            return None
        idle = int(self.idle_timeout.total_seconds())
        if now - last > idle:
            return (
                f"its last activity was {_ago(now - last)} ago; sessions expire "
                f"after {_ago(idle)} without activity"
            )
        return None


class PortalVisit:
    """One customer's visit to a portal session's page (see `Portal.visit`).

    Reading attributes shows what the page shows; `cancel`,
    `accept_offer`, `renew` and `abandon` act. A deep-link
    flow is done after a cancel or an accepted offer: later actions on this
    visit, and new visits of the session, are refused.

    Args:
        portal: the portal it happens in; not built by hand: use
            [`Portal.visit`][cancelflow.testing.Portal.visit].
        record: the session's internal record.
    """

    def __init__(self, portal: Portal, record: SessionRecord) -> None:
        self._portal = portal
        self._b = portal._b
        self._record = record
        self._closed: str | None = None
        self.outcomes: list[PortalOutcome] = []
        """What each action of this visit did, in order."""

    def __repr__(self) -> str:
        return (
            f"<PortalVisit {self.session_id} flow={self.flow_type} "
            f"subscription={self.subscription_id} open={self.is_open}>"
        )

    # -- what the page shows -------------------------------------------------------

    @property
    def session_id(self) -> str:
        """The session's ``bps_…`` id."""
        return self._record.id

    @property
    def customer(self) -> str:
        """The customer's ``cus_…`` id."""
        return self._record.customer_id

    @property
    def configuration(self) -> JSON:
        """The portal configuration the session uses (``billing_portal.configuration``)."""
        config = self._b.portal_configurations.get(self._record.configuration_id)
        return _copy(config.obj)

    @property
    def flow_type(self) -> str | None:
        """The deep-link flow (``subscription_cancel``, …), or ``None`` on the homepage."""
        flow = self._record.flow
        return None if flow is None else str(flow["type"])

    @property
    def locale(self) -> str | None:
        """The session's ``locale`` (``None``: the customer's browser decides)."""
        return self._record.locale

    @property
    def return_url(self) -> str | None:
        """The link back to the host's site that the page shows all along."""
        return self._record.return_url

    @property
    def after_completion(self) -> JSON | None:
        """The flow's ``after_completion`` (``type``, ``redirect``, ``hosted_confirmation``)."""
        after = self._record.after_completion
        return None if after is None else _copy(after)

    @property
    def subscription_id(self) -> str | None:
        """The subscription the flow is about (``None`` on the homepage)."""
        return self._record.subscription_id

    @property
    def subscription(self) -> JSON | None:
        """The flow's subscription as the page shows it now (as the API renders it)."""
        sub_id = self._record.subscription_id
        if sub_id is None:
            return None
        subs = self._b.subscriptions
        return _copy(subs.render(subs.get(sub_id)))

    @property
    def subscriptions(self) -> list[JSON]:
        """The customer's subscriptions that have not ended (what the homepage lists)."""
        listing = self._b.subscriptions.list_for_customer(self.customer)
        data: list[JSON] = _copy(listing["data"])
        return data

    @property
    def cancel_enabled(self) -> bool:
        """Whether the configuration lets the customer cancel."""
        return bool(self._cancel_feature()["enabled"])

    @property
    def cancel_mode(self) -> str:
        """``at_period_end`` or ``immediately`` (the configuration's ``mode``)."""
        return str(self._cancel_feature()["mode"])

    @property
    def proration_behavior(self) -> str:
        """``none`` or ``create_prorations`` (immediate cancels only)."""
        return str(self._cancel_feature()["proration_behavior"])

    @property
    def reasons_enabled(self) -> bool:
        """Whether the page asks the customer why they cancel."""
        return bool(self._cancel_feature()["cancellation_reason"]["enabled"])

    @property
    def cancellation_reasons(self) -> tuple[str, ...]:
        """The reasons the page offers (wire values), in the configuration's order."""
        reason = self._cancel_feature()["cancellation_reason"]
        return tuple(reason["options"]) if reason["enabled"] else ()

    @property
    def reason_labels(self) -> dict[str, str]:
        """Each offered reason's label in the session's locale (English fallback)."""
        from cancelflow._stripe.labels import FeedbackLabels

        labels = FeedbackLabels()
        locale = self._record.locale
        if locale in (None, "auto"):
            locale = "en"
        return {
            value: labels.label(value, locale) for value in self.cancellation_reasons
        }

    @property
    def feedback_options(self) -> dict[str, str]:
        """The custom feedback options offered: ``fo_…`` id → description."""
        reason = self._cancel_feature()["cancellation_reason"]
        if not reason["enabled"]:
            return {}
        options = self._b.feedback_options.store.by_id
        out: dict[str, str] = {}
        for option_id in reason["feedback_options"] or ():
            option = options.get(option_id)
            if option is not None and option.obj["status"] == "active":
                out[option_id] = option.obj["description"]
        return out

    @property
    def coupon_id(self) -> str | None:
        """The retention coupon the page offers instead of cancelling, if any."""
        return self._record.coupon_id

    @property
    def coupon(self) -> JSON | None:
        """That coupon, as the API renders it (``None`` without an offer)."""
        coupon_id = self._record.coupon_id
        if coupon_id is None:
            return None
        coupons = self._b.coupons
        record = coupons.store.by_id.get(coupon_id)
        return None if record is None else _copy(coupons.render(record))

    @property
    def is_open(self) -> bool:
        """Whether the customer can still act on this visit."""
        return self._closed is None

    # -- what the customer does ----------------------------------------------------

    def cancel(
        self,
        feedback: str | None = None,
        comment: str | None = None,
        *,
        feedback_option: str | None = None,
        subscription: str | None = None,
    ) -> PortalOutcome:
        """Cancel the subscription, as the configuration says, with an optional reason.

        Args:
            feedback: one of the reasons the page offers (a wire value such
                as ``"too_expensive"`` or ``"other"``).
            comment: free text; the page asks for it only with ``"other"``.
            feedback_option: a custom feedback option the page offers
                (``fo_…``), instead of *feedback*.
            subscription: on the homepage, which subscription (needed when
                the customer has several).

        Returns:
            The [`PortalOutcome`][cancelflow.testing.PortalOutcome]: what changed and
            the events it emitted.

        Raises:
            PortalFlowFinishedError: the flow is done or the visit has ended.
            PortalSessionExpiredError: the session has expired meanwhile.
            PortalCancelDisabledError: the configuration does not allow cancels.
            PortalReasonNotOfferedError: a reason, option or comment the page
                does not offer.
            PortalSubscriptionError: the subscription has ended or is already
                scheduled to cancel.
        """
        return self._act(
            "cancel",
            lambda: self._cancel(feedback, comment, feedback_option, subscription),
        )

    def accept_offer(self) -> PortalOutcome:
        """Redeem the retention coupon instead of cancelling.

        Returns:
            The [`PortalOutcome`][cancelflow.testing.PortalOutcome]: what changed and
            the events it emitted.

        Raises:
            PortalOfferError: the session offers no coupon, or it can no
                longer apply (used up, expired, deleted).
            PortalFlowFinishedError: as for [`cancel`][..cancel].
            PortalSessionExpiredError: as for [`cancel`][..cancel].
            PortalSubscriptionError: as for [`cancel`][..cancel].
        """
        return self._act("accept_offer", self._accept_offer)

    def renew(self, subscription: str | None = None) -> PortalOutcome:
        """On the homepage: renew a subscription scheduled to cancel (withdraw the cancel).

        Args:
            subscription: which one (needed when several are scheduled).

        Returns:
            The [`PortalOutcome`][cancelflow.testing.PortalOutcome]: what changed and
            the events it emitted.

        Raises:
            PortalError: the visit is not on the homepage.
            PortalSubscriptionError: the subscription is not scheduled to
                cancel, or has ended.
        """
        return self._act("renew", lambda: self._renew(subscription))

    def abandon(self) -> None:
        """Leave the page without doing anything (the session can be visited again)."""
        self._check_open()
        self._closed = "abandoned"

    # -- the actions ---------------------------------------------------------------

    def _act(self, action: str, run: Callable[[], SubscriptionRecord]) -> PortalOutcome:
        b = self._b
        with b.lock:
            self._check_open()
            self._check_session()
            self._record.state["last_activity"] = b.now()
            order = b.events.store.order.ids
            first = len(order)
            record = run()
            events = tuple(
                _copy(b.events.store.by_id[event_id].obj) for event_id in order[first:]
            )
            self._record.state["last_activity"] = b.now()
            after = self.after_completion
            in_flow = self._record.flow is not None
            if in_flow:
                self._record.state["finished"] = action
                self._closed = action
            redirect = None
            if in_flow and after is not None and after["type"] == "redirect":
                redirect = after["redirect"]["return_url"]
            outcome = PortalOutcome(
                action=action,
                subscription=_copy(b.subscriptions.render(record)),
                events=events,
                after_completion=after if in_flow else None,
                redirect_url=redirect,
            )
            self.outcomes.append(outcome)
            return outcome

    def _cancel(
        self,
        feedback: str | None,
        comment: str | None,
        feedback_option: str | None,
        subscription: str | None,
    ) -> SubscriptionRecord:
        b = self._b
        subs = b.subscriptions
        record = self._target(subscription, "cancel")
        feature = self._cancel_feature()
        if not feature["enabled"]:
            raise PortalCancelDisabledError(
                f"the portal configuration {self._record.configuration_id} does not "
                "let customers cancel (features.subscription_cancel.enabled is false)"
            )
        details = self._details(
            feature["cancellation_reason"], feedback, comment, feedback_option
        )
        if Subscriptions.is_scheduled(record.obj):
            raise PortalSubscriptionError(
                f"the subscription {record.id} is already scheduled to cancel; the "
                "portal offers to renew it instead (visit.renew() on the homepage)"
            )
        if feature["mode"] == "immediately":
            subs.cancel_now(record, details=None)
        elif record.obj["billing_mode"]["type"] == "classic":
            subs.schedule_cancel(record, at_period_end=True)
        else:
            subs.schedule_cancel(record, cancel_at=subs.period_end(record, "max"))
        if details:
            delay = self._portal.feedback_delay
            if delay:
                b.clock.advance(delay)
            subs.set_cancellation_details(record, details)
        return record

    def _accept_offer(self) -> SubscriptionRecord:
        b = self._b
        coupon_id = self._record.coupon_id
        if coupon_id is None:
            raise PortalOfferError(
                f"the session {self.session_id} offers no retention coupon (create it "
                "with flow_data[subscription_cancel][retention][coupon_offer][coupon])"
            )
        record = self._flow_subscription()
        if Subscriptions.is_scheduled(record.obj):
            raise PortalSubscriptionError(
                f"the subscription {record.id} is already scheduled to cancel"
            )
        coupon = b.coupons.store.by_id.get(coupon_id)
        if coupon is None:
            raise PortalOfferError(f"the coupon {coupon_id} has been deleted")
        try:
            b.subscriptions.apply_coupon(record, coupon)
        except ApiError as err:
            raise PortalOfferError(
                f"the coupon {coupon_id} can no longer be applied: {err.message}"
            ) from None
        return record

    def _renew(self, subscription: str | None) -> SubscriptionRecord:
        if self._record.flow is not None:
            raise PortalError(
                "renewing is done on the portal's homepage: visit a session created "
                "without flow_data (Cancelflow.create_portal_link)"
            )
        record = self._target(subscription, "renew")
        if not Subscriptions.is_scheduled(record.obj):
            raise PortalSubscriptionError(
                f"the subscription {record.id} is not scheduled to cancel; there is "
                "nothing to renew"
            )
        self._b.subscriptions.unschedule_cancel(record)
        return record

    # -- checks --------------------------------------------------------------------

    def _cancel_feature(self) -> JSON:
        config = self._b.portal_configurations.get(self._record.configuration_id)
        feature: JSON = config.obj["features"]["subscription_cancel"]
        return feature

    def _check_open(self) -> None:
        if self._closed is not None:
            raise PortalFlowFinishedError(
                f"this visit of {self.session_id} has ended ({self._closed}); "
                "call fake.portal.visit(url) again to start another"
            )

    def _check_session(self) -> None:
        record = self._record
        finished = record.state.get("finished")
        if finished is not None:
            raise PortalFlowFinishedError(
                f"the {self.flow_type} flow of {record.id} is already done "
                f"({finished}); create a new session"
            )
        why = self._portal._expired(record)
        if why is not None:
            raise PortalSessionExpiredError(
                f"the portal session {record.id} has expired: {why}. Create a new "
                "session when the customer asks for the portal"
            )

    def _flow_subscription(self) -> SubscriptionRecord:
        """The flow's subscription, if it is still the customer's and has not ended."""
        sub_id = self._record.subscription_id
        assert sub_id is not None
        record = self._b.subscriptions.store.by_id.get(sub_id)
        if record is None:
            raise PortalSubscriptionError(f"the subscription {sub_id} does not exist")
        return self._usable(record)

    def _usable(self, record: SubscriptionRecord) -> SubscriptionRecord:
        if record.obj["customer"] != self.customer:
            raise PortalSubscriptionError(
                f"the subscription {record.id} is not the session customer's"
            )
        if record.obj["status"] in ENDED:
            raise PortalSubscriptionError(
                f"the subscription {record.id} has already ended "
                f"(status {record.obj['status']})"
            )
        return record

    def _target(self, subscription: str | None, action: str) -> SubscriptionRecord:
        flow_type = self.flow_type
        if flow_type is not None:
            if flow_type != "subscription_cancel":
                raise FakeStripeError(
                    f"cancelflow FakeStripe's portal driver models the "
                    f"subscription_cancel flow and the homepage, not {flow_type}"
                )
            if subscription not in (None, self._record.subscription_id):
                raise PortalSubscriptionError(
                    f"this flow is about {self._record.subscription_id}, not {subscription}"
                )
            return self._flow_subscription()
        subs = self._b.subscriptions
        if subscription is not None:
            record = subs.store.by_id.get(subscription)
            if record is None:
                raise PortalSubscriptionError(
                    f"the portal lists no subscription {subscription}"
                )
            return self._usable(record)
        wanted = Subscriptions.is_scheduled if action == "renew" else _not_scheduled
        candidates = [
            subs.store.by_id[sub_id]
            for sub_id in subs.by_customer.get(self.customer).ids
            if subs.store.by_id[sub_id].obj["status"] not in ENDED
            and wanted(subs.store.by_id[sub_id].obj)
        ]
        if len(candidates) != 1:
            found = "none" if not candidates else f"{len(candidates)}"
            raise PortalSubscriptionError(
                f"say which subscription to {action} (subscription='sub_…'): the "
                f"customer has {found} that the portal offers to {action}"
            )
        return candidates[0]

    def _details(
        self,
        reason: JSON,
        feedback: str | None,
        comment: str | None,
        feedback_option: str | None,
    ) -> JSON:
        if feedback is None and comment is None and feedback_option is None:
            return {}
        if not reason["enabled"]:
            raise PortalReasonNotOfferedError(
                "the portal configuration does not ask for cancellation reasons "
                "(features.subscription_cancel.cancellation_reason.enabled is false)"
            )
        if feedback is not None and feedback_option is not None:
            raise PortalReasonNotOfferedError(
                "the customer picks one answer: a reason (feedback) or a custom "
                "feedback option, not both"
            )
        if feedback is not None and feedback not in reason["options"]:
            offered = ", ".join(reason["options"]) or "none"
            raise PortalReasonNotOfferedError(
                f"the page does not offer the reason {feedback!r} (offered: {offered})"
            )
        if feedback_option is not None and feedback_option not in self.feedback_options:
            raise PortalReasonNotOfferedError(
                f"the page does not offer the feedback option {feedback_option!r} "
                f"(offered: {', '.join(self.feedback_options) or 'none'})"
            )
        if comment is not None and feedback != "other":
            raise PortalReasonNotOfferedError(
                "the page asks for a comment only with the reason 'other'"
            )
        details: JSON = {}
        if feedback is not None:
            details["feedback"] = feedback
        if comment is not None:
            details["comment"] = comment
        if feedback_option is not None:
            details["feedback_option"] = feedback_option
        return details


def _not_scheduled(obj: JSON) -> bool:
    return not Subscriptions.is_scheduled(obj)


def _ago(seconds: int) -> str:
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"
