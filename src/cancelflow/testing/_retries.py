"""The account's retry schedule for failed renewal payments (a Dashboard setting).

Stripe retries a subscription's failed invoice payment on the schedule set in
the Dashboard (Billing → Revenue recovery → Retries): Smart Retries (Stripe
picks the times; "8 tries within 2 weeks" is the recommended default) or a
custom schedule; and when every retry has failed, the subscription is
canceled, marked ``unpaid`` or left ``past_due``, as set there. None of it is
in the API. :class:`RetrySchedule` is the fake's version: fixed days, so a
test knows when each retry comes.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

import attrs

from cancelflow.exceptions import FakeStripeError

__all__ = ["DEFAULT_RETRY_SCHEDULE", "AfterRetries", "RetrySchedule"]

AfterRetries = Literal["cancel", "unpaid", "past_due"]
_AFTER: Final[tuple[str, ...]] = get_args(AfterRetries)


def _check_days(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, tuple) or not all(
        isinstance(day, int) and not isinstance(day, bool) for day in value
    ):
        raise FakeStripeError(
            "RetrySchedule.days is a tuple of whole days after the first failed "
            f"attempt, e.g. (3, 5, 7); got {value!r}"
        )
    previous = 0
    for day in value:
        if day <= previous:
            raise FakeStripeError(
                "RetrySchedule.days must be > 0 and increasing (days after the "
                f"first failed attempt); got {value!r}"
            )
        previous = day


def _check_then(_instance: object, _attribute: object, value: object) -> None:
    if value not in _AFTER:
        raise FakeStripeError(
            f"RetrySchedule.then is one of {', '.join(_AFTER)} (what happens to the "
            f"subscription when every retry has failed); got {value!r}"
        )


def _days(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen(kw_only=True)
class RetrySchedule:
    """When a failed renewal payment is tried again, and what happens when all tries fail.

    Set it as `fake.dashboard.retry_schedule`; it applies to payment attempts
    that fail afterwards (see
    [`FakeStripe.fail_next_renewal`][cancelflow.testing.FakeStripe.fail_next_renewal]).

    Attributes:
        days: when each retry happens, in whole days after the first failed
            attempt, increasing; `()` for no retry at all. The default,
            `(1, 3, 5, 7, 9, 11, 14)`, makes 8 tries within 2 weeks, the
            count and window Stripe recommends for Smart Retries (whose
            exact times Stripe chooses).
        then: what happens to the subscription after the last failed try:
            `"cancel"` (it ends: `customer.subscription.deleted`,
            `cancellation_details.reason = "payment_failed"`), `"unpaid"`
            (`status = "unpaid"`) or `"past_due"` (it stays `past_due`).

    Example:
        ```python
        from cancelflow.testing import FakeStripe, RetrySchedule

        fake = FakeStripe()
        fake.dashboard.retry_schedule = RetrySchedule(days=(3, 5), then="unpaid")
        assert fake.dashboard.retry_schedule.last_day == 5
        ```
    """

    days: tuple[int, ...] = attrs.field(
        default=(1, 3, 5, 7, 9, 11, 14), converter=_days, validator=_check_days
    )
    then: AfterRetries = attrs.field(default="cancel", validator=_check_then)

    @property
    def last_day(self) -> int:
        """The day of the last try, counted from the first failed attempt (0: no retry)."""
        return self.days[-1] if self.days else 0


DEFAULT_RETRY_SCHEDULE: Final = RetrySchedule()
