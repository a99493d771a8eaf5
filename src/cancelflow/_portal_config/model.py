"""A portal configuration as declared: frozen, checked with Stripe's rules.

`PortalConfigSpec` covers every writable field of
``billing_portal.configuration`` at the API version stripe-python pins
(``2026-10-28.endive``). A field left at ``None`` is *not declared*: cancelflow
neither compares nor writes it. ``""`` declares a text field empty (Stripe's
``null``), ``[]`` a list empty.

Custom feedback options are declared by their label (``feedback_options``);
the apply step finds or creates the ``billing.feedback_option`` objects and
sends their ids, so a file never holds an id it cannot know.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from cancelflow._portal_config.fields import (
    Bool,
    Choice,
    ChoiceSet,
    Int,
    Nested,
    NestedList,
    Spec,
    Text,
    TextList,
    TextMap,
    refuse,
    spec_field,
)
from cancelflow._stripe.portal import CancelMode, ProrationBehavior
from cancelflow._stripe.read import Obj, plain
from cancelflow._stripe.reasons import CancellationFeedback
from cancelflow._toml import at, describe, join
from cancelflow.exceptions import PortalConfigInvalidError, StripeObjectError

__all__ = [
    "METADATA_KEY",
    "AdjustableQuantitySpec",
    "BillingCycleAnchor",
    "BusinessProfileSpec",
    "CancellationReasonSpec",
    "ConfigMatch",
    "CustomerUpdateField",
    "CustomerUpdateSpec",
    "FeaturesSpec",
    "InvoiceHistorySpec",
    "LoginPageSpec",
    "PauseDurationSpec",
    "PauseDurationType",
    "PauseInterval",
    "PauseIntervalSpec",
    "PaymentMethodUpdateSpec",
    "PortalConfigSpec",
    "ProductSpec",
    "ScheduleCondition",
    "SubscriptionCancelSpec",
    "SubscriptionPauseSpec",
    "SubscriptionUpdateField",
    "SubscriptionUpdateSpec",
    "account_data",
    "declared_reason",
]

#: The metadata key cancelflow writes on a configuration it manages by key.
METADATA_KEY: Final = "cancelflow_config"
#: A configuration's key in a file: what ``METADATA_KEY`` holds.
KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
#: Stripe's limit on a feedback option's description.
LABEL_MAX: Final = 100
#: Where a configuration declares its custom feedback options (their labels).
FEEDBACK_OPTIONS_PATH: Final = (
    "features.subscription_cancel.cancellation_reason.feedback_options"
)
#: Stripe: "The maximum duration is three years."
_PAUSE_MAX: Final = {"day": 3 * 365, "week": 3 * 52, "month": 36, "year": 3}


class ConfigMatch(enum.StrEnum):
    """How a declared configuration finds its configuration in the account."""

    METADATA = "metadata"
    """By the metadata key ``cancelflow_config`` that apply writes (created if none)."""
    DEFAULT = "default"
    """The account's default configuration (saved in the Dashboard; the API can
    update it but never create it)."""
    ID = "id"
    """One configuration by its ``bpc_…`` id (ties the file to one account and mode)."""


class CustomerUpdateField(enum.StrEnum):
    """``features.customer_update.allowed_updates``: what customers may change."""

    ADDRESS = "address"
    EMAIL = "email"
    NAME = "name"
    PHONE = "phone"
    SHIPPING = "shipping"
    TAX_ID = "tax_id"


class SubscriptionUpdateField(enum.StrEnum):
    """``features.subscription_update.default_allowed_updates``."""

    PRICE = "price"
    PROMOTION_CODE = "promotion_code"
    QUANTITY = "quantity"


class BillingCycleAnchor(enum.StrEnum):
    """``features.subscription_update.billing_cycle_anchor``."""

    NOW = "now"
    UNCHANGED = "unchanged"


class TrialUpdateBehavior(enum.StrEnum):
    """``features.subscription_update.trial_update_behavior``."""

    CONTINUE_TRIAL = "continue_trial"
    END_TRIAL = "end_trial"


class ScheduleCondition(enum.StrEnum):
    """``features.subscription_update.schedule_at_period_end.conditions[].type``."""

    DECREASING_ITEM_AMOUNT = "decreasing_item_amount"
    SHORTENING_INTERVAL = "shortening_interval"


class PauseDurationType(enum.StrEnum):
    """``features.subscription_pause.duration.type``."""

    INDEFINITE = "indefinite"
    INTERVAL_OPTIONS = "interval_options"


class PauseInterval(enum.StrEnum):
    """``features.subscription_pause.duration.interval_options[].interval``."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


# -- features --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CancellationReasonSpec(Spec):
    """``features.subscription_cancel.cancellation_reason``: ask why, and with which answers.

    Args:
        enabled: whether the cancel page asks for a reason.
        options: which of Stripe's eight reasons it offers (``[]`` for none);
            required, as Stripe requires it.
        feedback_options: labels of custom feedback options (at most 100
            characters each), offered after Stripe's reasons; apply finds or
            creates them.

    Raises:
        PortalConfigInvalidError: an enabled question offers no answer, or a
            value breaks a rule.
    """

    enabled: bool = spec_field(Bool(), required=True)
    options: frozenset[CancellationFeedback] | None = spec_field(
        ChoiceSet(CancellationFeedback), required=True
    )
    feedback_options: tuple[str, ...] | None = spec_field(
        TextList(max_len=LABEL_MAX, item="label")
    )

    def _rules(self) -> None:
        if self.enabled and not self.options and not self.feedback_options:
            raise refuse(
                "options",
                "an enabled cancellation reason needs at least one option (or custom "
                "feedback_options); set enabled = false to not ask",
            )


@attrs.frozen(kw_only=True)
class SubscriptionCancelSpec(Spec):
    """``features.subscription_cancel``: whether and how customers cancel in the portal.

    Args:
        enabled: whether the portal lets customers cancel.
        mode: at the end of the period, or immediately.
        proration_behavior: ``none``, or ``create_prorations`` (only with
            ``mode="immediately"``); Stripe refuses ``always_invoice`` here.
        cancellation_reason: the reason question.

    Raises:
        PortalConfigInvalidError: a value or a combination Stripe refuses.

    Example:
        ```python
        from cancelflow import CancellationReasonSpec, SubscriptionCancelSpec

        cancel = SubscriptionCancelSpec(
            enabled=True,
            mode="at_period_end",
            cancellation_reason=CancellationReasonSpec(
                enabled=True, options=["too_expensive", "other"]
            ),
        )
        assert cancel.to_data()["mode"] == "at_period_end"
        ```
    """

    enabled: bool = spec_field(Bool(), required=True)
    mode: CancelMode | None = spec_field(Choice(CancelMode))
    proration_behavior: ProrationBehavior | None = spec_field(
        Choice(ProrationBehavior, refused=frozenset({"always_invoice"}))
    )
    cancellation_reason: CancellationReasonSpec | None = spec_field(
        Nested(CancellationReasonSpec)
    )

    def _rules(self) -> None:
        if (
            self.proration_behavior is ProrationBehavior.CREATE_PRORATIONS
            and self.mode is not CancelMode.IMMEDIATELY
        ):
            raise refuse(
                "proration_behavior",
                'create_prorations is only compatible with mode = "immediately" '
                '(declare that mode, or use "none")',
            )


@attrs.frozen(kw_only=True)
class CustomerUpdateSpec(Spec):
    """``features.customer_update``: which customer details the portal lets them change.

    Args:
        enabled: whether the feature is on.
        allowed_updates: ``address``, ``email``, ``name``, ``phone``,
            ``shipping``, ``tax_id`` (``[]``: none).
    """

    enabled: bool = spec_field(Bool(), required=True)
    allowed_updates: frozenset[CustomerUpdateField] | None = spec_field(
        ChoiceSet(CustomerUpdateField)
    )


@attrs.frozen(kw_only=True)
class InvoiceHistorySpec(Spec):
    """``features.invoice_history``: whether the portal shows past invoices.

    Args:
        enabled: whether the feature is on.
    """

    enabled: bool = spec_field(Bool(), required=True)


@attrs.frozen(kw_only=True)
class PaymentMethodUpdateSpec(Spec):
    """``features.payment_method_update``.

    Args:
        enabled: whether customers may change their payment method.
        payment_method_configuration: a ``pmc_…`` id, or ``""`` for the
            account's default payment method configuration.
    """

    enabled: bool = spec_field(Bool(), required=True)
    payment_method_configuration: str | None = spec_field(Text(max_len=5000))


@attrs.frozen(kw_only=True)
class PauseIntervalSpec(Spec):
    """One preset pause length (``duration.interval_options[]``).

    Args:
        interval: ``day``, ``week``, ``month`` or ``year``.
        interval_count: how many (Stripe's default is 1; three years at most).
    """

    interval: PauseInterval | None = spec_field(Choice(PauseInterval), required=True)
    interval_count: int | None = spec_field(Int(low=1, high=3 * 365))

    def _rules(self) -> None:
        assert self.interval is not None  # required
        limit = _PAUSE_MAX[self.interval.value]
        if self.interval_count is not None and self.interval_count > limit:
            raise refuse(
                "interval_count",
                f"{self.interval_count} {self.interval.value}s is more than the three "
                f"years Stripe allows (at most {limit})",
            )


@attrs.frozen(kw_only=True)
class PauseDurationSpec(Spec):
    """``features.subscription_pause.duration``: how long a pause may last.

    Args:
        type: ``indefinite``, or ``interval_options`` (then *interval_options*
            lists the lengths customers choose from).
        interval_options: the preset lengths.
    """

    type: PauseDurationType | None = spec_field(
        Choice(PauseDurationType), required=True
    )
    interval_options: tuple[PauseIntervalSpec, ...] | None = spec_field(
        NestedList(PauseIntervalSpec, max_items=20)
    )

    def _rules(self) -> None:
        if (
            self.type is PauseDurationType.INTERVAL_OPTIONS
            and not self.interval_options
        ):
            raise refuse(
                "interval_options",
                'is required (not empty) with type = "interval_options"',
            )
        if self.type is PauseDurationType.INDEFINITE and self.interval_options:
            raise refuse("interval_options", 'is only for type = "interval_options"')


@attrs.frozen(kw_only=True)
class SubscriptionPauseSpec(Spec):
    """``features.subscription_pause`` (Stripe: only in the redesigned portal).

    Args:
        enabled: whether customers may pause.
        duration: how long a pause may last.
    """

    enabled: bool | None = spec_field(Bool())
    duration: PauseDurationSpec | None = spec_field(Nested(PauseDurationSpec))


@attrs.frozen(kw_only=True)
class AdjustableQuantitySpec(Spec):
    """``products[].adjustable_quantity``.

    Args:
        enabled: whether customers may change the quantity.
        minimum: the lowest quantity.
        maximum: the highest quantity.
    """

    enabled: bool = spec_field(Bool(), required=True)
    minimum: int | None = spec_field(Int(low=0))
    maximum: int | None = spec_field(Int(low=1))

    def _rules(self) -> None:
        if (
            self.minimum is not None
            and self.maximum is not None
            and self.minimum > self.maximum
        ):
            raise refuse("maximum", f"is below minimum ({self.minimum})")


@attrs.frozen(kw_only=True)
class ProductSpec(Spec):
    """One product customers may switch to (``subscription_update.products[]``).

    Args:
        product: the ``prod_…`` id.
        prices: the price ids customers may choose from (at least one).
        adjustable_quantity: whether and how the quantity may change.
    """

    product: str | None = spec_field(Text(max_len=5000, nonempty=True), required=True)
    prices: tuple[str, ...] | None = spec_field(
        TextList(max_len=5000, nonempty=True, item="price"), required=True
    )
    adjustable_quantity: AdjustableQuantitySpec | None = spec_field(
        Nested(AdjustableQuantitySpec)
    )


@attrs.frozen(kw_only=True)
class SubscriptionUpdateSpec(Spec):
    """``features.subscription_update``: plan changes in the portal.

    Args:
        enabled: whether customers may change their subscription.
        default_allowed_updates: ``price``, ``promotion_code``, ``quantity``.
        products: at most 10 products with their prices.
        proration_behavior: ``none``, ``create_prorations`` or ``always_invoice``.
        billing_cycle_anchor: ``now`` or ``unchanged``.
        schedule_at_period_end: the conditions (``decreasing_item_amount``,
            ``shortening_interval``) under which a change waits for the period end.
        trial_update_behavior: ``continue_trial`` or ``end_trial``.
    """

    enabled: bool = spec_field(Bool(), required=True)
    default_allowed_updates: frozenset[SubscriptionUpdateField] | None = spec_field(
        ChoiceSet(SubscriptionUpdateField)
    )
    products: tuple[ProductSpec, ...] | None = spec_field(
        NestedList(ProductSpec, max_items=10)
    )
    proration_behavior: ProrationBehavior | None = spec_field(Choice(ProrationBehavior))
    billing_cycle_anchor: BillingCycleAnchor | None = spec_field(
        Choice(BillingCycleAnchor)
    )
    schedule_at_period_end: frozenset[ScheduleCondition] | None = spec_field(
        ChoiceSet(ScheduleCondition)
    )
    trial_update_behavior: TrialUpdateBehavior | None = spec_field(
        Choice(TrialUpdateBehavior)
    )

    def _rules(self) -> None:
        seen: set[str] = set()
        for n, product in enumerate(self.products or ()):
            assert product.product is not None  # required
            if product.product in seen:
                raise refuse(
                    join(join("products", n), "product"),
                    f"{product.product!r} is listed twice",
                )
            seen.add(product.product)


@attrs.frozen(kw_only=True)
class FeaturesSpec(Spec):
    """``features``: what the portal lets customers do.

    Args:
        subscription_cancel: cancelling (the cancel page).
        customer_update: changing their details.
        invoice_history: seeing past invoices.
        payment_method_update: changing the payment method.
        subscription_pause: pausing.
        subscription_update: changing plans.
    """

    subscription_cancel: SubscriptionCancelSpec | None = spec_field(
        Nested(SubscriptionCancelSpec)
    )
    customer_update: CustomerUpdateSpec | None = spec_field(Nested(CustomerUpdateSpec))
    invoice_history: InvoiceHistorySpec | None = spec_field(Nested(InvoiceHistorySpec))
    payment_method_update: PaymentMethodUpdateSpec | None = spec_field(
        Nested(PaymentMethodUpdateSpec)
    )
    subscription_pause: SubscriptionPauseSpec | None = spec_field(
        Nested(SubscriptionPauseSpec)
    )
    subscription_update: SubscriptionUpdateSpec | None = spec_field(
        Nested(SubscriptionUpdateSpec)
    )


@attrs.frozen(kw_only=True)
class BusinessProfileSpec(Spec):
    """``business_profile``: what the portal shows about the business.

    Args:
        headline: the message shown to customers (``""``: none).
        privacy_policy_url: a link to the privacy policy (``""``: none).
        terms_of_service_url: a link to the terms of service (``""``: none).
    """

    headline: str | None = spec_field(Text())
    privacy_policy_url: str | None = spec_field(Text(url=True))
    terms_of_service_url: str | None = spec_field(Text(url=True))


@attrs.frozen(kw_only=True)
class LoginPageSpec(Spec):
    """``login_page``: the shareable, hosted portal login page.

    Args:
        enabled: whether it exists (Stripe makes its URL).
    """

    enabled: bool = spec_field(Bool(), required=True)


# -- the configuration -----------------------------------------------------------------


_KEY_RULE: Final = (
    "a configuration's key is 1 to 100 letters, digits, _ or -, starting with a "
    "letter or digit"
)


def _check_key(value: object) -> str:
    if not isinstance(value, str) or not KEY_PATTERN.fullmatch(value):
        raise refuse("key", _KEY_RULE)
    return value


@attrs.frozen(kw_only=True)
class PortalConfigSpec(Spec):
    """One portal configuration, as the team declares it.

    Only the fields given are managed: a field left at ``None`` is neither
    compared with the account nor written.

    Args:
        key: the configuration's key in the file (``[configurations.KEY]``);
            with ``match="metadata"`` apply writes it to the configuration's
            metadata (``cancelflow_config``) and finds it by it.
        match: how it finds its configuration: ``"metadata"`` (created when
            none carries the key), ``"default"`` (the account's default one),
            or ``"id"`` (with *id*).
        id: the ``bpc_…`` id, only with ``match="id"``.
        active: whether sessions may use it (updates only; a new configuration
            is active).
        name: Stripe's ``name`` of the configuration (``""``: none).
        default_return_url: where the portal's link back points (``""``: none).
        metadata: metadata keys to set (a value ``""`` removes the key); other
            keys are left alone.
        business_profile: the headline and policy links.
        login_page: the hosted login page.
        features: what customers may do.

    Raises:
        PortalConfigInvalidError: a value breaks one of Stripe's rules, or
            cancelflow's; ``key_path`` names it.

    Example:
        ```python
        from cancelflow import FeaturesSpec, PortalConfigSpec, SubscriptionCancelSpec

        spec = PortalConfigSpec(
            key="cancel-page",
            features=FeaturesSpec(
                subscription_cancel=SubscriptionCancelSpec(enabled=True)
            ),
        )
        params = spec.to_params()
        assert params["metadata"] == {"cancelflow_config": "cancel-page"}
        ```
    """

    key: str = attrs.field(converter=_check_key)
    match: ConfigMatch = attrs.field(default=ConfigMatch.METADATA)
    id: str | None = None
    active: bool | None = spec_field(Bool())
    name: str | None = spec_field(Text())
    default_return_url: str | None = spec_field(Text(url=True))
    metadata: Mapping[str, str] | None = spec_field(
        TextMap(max_keys=49, reserved=frozenset({METADATA_KEY}))
    )
    business_profile: BusinessProfileSpec | None = spec_field(
        Nested(BusinessProfileSpec)
    )
    login_page: LoginPageSpec | None = spec_field(Nested(LoginPageSpec))
    features: FeaturesSpec | None = spec_field(Nested(FeaturesSpec))

    def _rules(self) -> None:
        match: object = self.match
        try:
            object.__setattr__(self, "match", ConfigMatch(str(match)))
        except ValueError:
            allowed = ", ".join(m.value for m in ConfigMatch)
            shown = repr(match)[:60]
            raise refuse("match", f"{shown} is not one of {allowed}") from None
        if self.match is ConfigMatch.ID:
            given: object = self.id
            if (
                not isinstance(given, str)
                or not given.startswith("bpc_")
                or not re.fullmatch(r"bpc_[A-Za-z0-9_]{1,250}", given)
            ):
                raise refuse("id", 'match = "id" needs the configuration\'s bpc_… id')
        elif self.id is not None:
            raise refuse("id", 'is only for match = "id"')

    # -- plain data (files) ------------------------------------------------------------

    @classmethod
    def data_keys(cls) -> dict[str, Any]:
        """The keys a file may give besides ``match`` and ``id``.

        Returns:
            Each key with the kind of value it holds, in order.
        """
        return super().data_keys()

    @classmethod
    def from_data(
        cls, data: object, path: str = "", *, key: str | None = None
    ) -> PortalConfigSpec:
        """Read one ``[configurations.KEY]`` table.

        Args:
            data: the table, as ``tomllib`` reads it.
            path: its key path in the file (``configurations.main``), put in
                front of the key path of any refusal.
            key: the configuration's key; by default the last part of *path*.

        Returns:
            The declaration.

        Raises:
            PortalConfigInvalidError: the table breaks a rule, or has an unknown key.
        """
        if not isinstance(data, Mapping):
            raise PortalConfigInvalidError(
                f"expected a table, got {describe(data)}", key_path=path or None
            )
        kinds = cls.data_keys()
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            where = join(path, name) if isinstance(name, str) else path
            if name in ("match", "id"):
                if not isinstance(value, str):
                    raise PortalConfigInvalidError(
                        f"expected a string, got {describe(value)}", key_path=where
                    )
                kwargs[name] = value
            elif isinstance(name, str) and name in kinds:
                kwargs[name] = kinds[name].load(value, where)
            else:
                raise PortalConfigInvalidError(
                    f"unknown key; expected one of: match, id, {', '.join(kinds)}",
                    key_path=where,
                )
        name = key if key is not None else path.rsplit(".", 1)[-1]
        if key is None and not KEY_PATTERN.fullmatch(name):
            # The key is the table's own name: the error points at the table.
            raise PortalConfigInvalidError(_KEY_RULE, key_path=path or None)
        return at(path, lambda: cls(key=name, **kwargs), PortalConfigInvalidError)

    def to_data(self) -> dict[str, Any]:
        """The declaration as plain data, as a file holds it.

        ``match`` and ``id`` come first when they are not the default; the key is
        the table's name, so it is not in the data.

        Returns:
            The declared fields (str, bool, int, lists and dicts), in order.
        """
        out: dict[str, Any] = {}
        if self.match is not ConfigMatch.METADATA:
            out["match"] = self.match.value
        if self.id is not None:
            out["id"] = self.id
        out.update(super().to_data())
        return out

    def declared(self) -> dict[str, Any]:
        """What is compared with the account.

        Returns:
            The declared fields as plain data, without ``match`` and ``id``.
        """
        return super().to_data()

    # -- Stripe ------------------------------------------------------------------------

    def feedback_labels(self) -> tuple[str, ...]:
        """The custom feedback options it declares.

        Returns:
            Their labels, in order.
        """
        reason = declared_reason(self)
        return reason.feedback_options or () if reason else ()

    def to_params(
        self, feedback_ids: Mapping[str, str] | None = None, *, create: bool = False
    ) -> dict[str, Any]:
        """The parameters that make a configuration what this one declares.

        The update parameters (``ConfigurationUpdateParams``) by default; with
        *create*, the create parameters (``active`` is left out, and so are
        ``""`` policy links, which only an update accepts). Empty lists are
        sent as ``""``, Stripe's way of emptying a list in a form. With
        ``match="metadata"`` the key is added to ``metadata``.

        Args:
            feedback_ids: the ``billing.feedback_option`` id of each declared
                label.
            create: build the create parameters.

        Returns:
            The parameters, as plain data stripe-python encodes.

        Raises:
            PortalConfigInvalidError: a declared label has no id in
                *feedback_ids*.
        """
        return _params(self, dict(feedback_ids or {}), create=create)

    @classmethod
    def from_stripe(
        cls,
        configuration: object,
        *,
        feedback_labels: Mapping[str, str] | None = None,
        key: str | None = None,
        match: ConfigMatch | str | None = None,
    ) -> PortalConfigSpec:
        """Declare everything a configuration is (export), or what params set.

        Reads a ``billing_portal.configuration`` (object or dict), or the
        parameters `to_params` built: a field that is absent stays
        undeclared, ``null`` and ``""`` declare it empty. Feedback option ids
        become their labels.

        Args:
            configuration: the configuration, or parameters.
            feedback_labels: the label of each feedback option id it uses.
            key: its key in the file; by default the ``cancelflow_config``
                metadata value, else ``default`` for the account's default
                configuration, else its id.
            match: how the file finds it; by default ``metadata`` when it
                carries the key, ``default`` for the default configuration,
                else ``id``.

        Returns:
            The declaration.

        Raises:
            StripeObjectError: the object does not have the expected shape.
            PortalConfigInvalidError: it uses a feedback option not in
                *feedback_labels*, or breaks a rule a file must follow.
        """
        o = Obj.of(configuration, "configuration")
        labels = dict(feedback_labels or {})
        data = account_data(configuration, labels, strict=True)
        tag = o.str_map("metadata").get(METADATA_KEY) if "metadata" in o.data else None
        config_id = o.opt_string("id")
        is_default = o.data.get("is_default") is True
        if match is None:
            match = (
                ConfigMatch.METADATA
                if tag or config_id is None
                else ConfigMatch.DEFAULT
                if is_default
                else ConfigMatch.ID
            )
        match = ConfigMatch(match)
        if key is None:
            key = tag or ("default" if is_default else config_id) or "configuration"
        identity: dict[str, Any] = {}
        if match is not ConfigMatch.METADATA:
            identity["match"] = match.value
        if match is ConfigMatch.ID and config_id is not None:
            identity["id"] = config_id
        return cls.from_data({**identity, **data}, join("configurations", key), key=key)


def declared_reason(spec: PortalConfigSpec) -> CancellationReasonSpec | None:
    """The ``features.subscription_cancel.cancellation_reason`` *spec* declares, if any."""
    features = spec.features
    cancel = features.subscription_cancel if features else None
    return cancel.cancellation_reason if cancel else None


# -- to Stripe ---------------------------------------------------------------------------

#: Lists Stripe empties with ``""`` in a form (``[]`` would send nothing).
_EMPTY_AS_BLANK: Final = frozenset(
    {
        "allowed_updates",
        "options",
        "feedback_options",
        "default_allowed_updates",
        "products",
        "interval_options",
    }
)


def _blank_lists(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "metadata":
            out[key] = _blank_lists(value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [_blank_lists(v) for v in value]
        elif isinstance(value, list) and not value and key in _EMPTY_AS_BLANK:
            out[key] = ""
        else:
            out[key] = value
    return out


def _params(
    spec: PortalConfigSpec, feedback_ids: dict[str, str], *, create: bool
) -> dict[str, Any]:
    data = spec.declared()
    features = data.get("features", {})
    cancel = features.get("subscription_cancel", {})
    reason = cancel.get("cancellation_reason", {})
    if "feedback_options" in reason:
        ids = []
        for n, label in enumerate(reason["feedback_options"]):
            if label not in feedback_ids:
                raise PortalConfigInvalidError(
                    "no feedback option id is known for this label",
                    key_path=join(FEEDBACK_OPTIONS_PATH, n),
                )
            ids.append(feedback_ids[label])
        reason["feedback_options"] = ids
    update = features.get("subscription_update", {})
    if "schedule_at_period_end" in update:
        conditions = update["schedule_at_period_end"]
        if conditions:
            update["schedule_at_period_end"] = {
                "conditions": [{"type": c} for c in conditions]
            }
        elif create:
            del update["schedule_at_period_end"]  # nothing scheduled is the default
        else:
            update["schedule_at_period_end"] = ""
    params = _blank_lists(data)
    metadata = dict(params.get("metadata", {}))
    if spec.match is ConfigMatch.METADATA:
        metadata[METADATA_KEY] = spec.key
    if create:
        params.pop("active", None)
        metadata = {k: v for k, v in metadata.items() if v}
        profile = params.get("business_profile")
        if profile is not None:
            for url in ("privacy_policy_url", "terms_of_service_url"):
                if profile.get(url) == "":
                    del profile[url]
    if metadata:
        params["metadata"] = metadata
    else:
        params.pop("metadata", None)
    return params


# -- from Stripe -----------------------------------------------------------------------


def _text(o: Obj, key: str) -> str:
    """A nullable string field: ``null`` and ``""`` both declare it empty."""
    value = o.data.get(key)
    if value == "":
        return ""
    return o.opt_string(key) or ""


def _list(o: Obj, key: str) -> list[Any]:
    """A list field: ``""`` (a form's empty list) or ``null`` is empty."""
    return [] if o.data.get(key) == "" else o.array(key)


def _strings(o: Obj, key: str) -> list[str]:
    where = o.where(key)
    out: list[str] = []
    for n, value in enumerate(_list(o, key)):
        if not isinstance(value, str):
            raise StripeObjectError(f"{where}[{n}]", "expected a string")
        out.append(value)
    return out


def _feedback_labels(o: Obj, labels: Mapping[str, str], *, strict: bool) -> list[str]:
    where = o.where("feedback_options")
    out: list[str] = []
    for n, value in enumerate(_list(o, "feedback_options")):
        option_id = (
            value
            if isinstance(value, str)
            else Obj.of(value, f"{where}[{n}]").string("id")
        )
        label = labels.get(option_id)
        if label is None:
            if strict:
                raise PortalConfigInvalidError(
                    f"the feedback option {option_id} is unknown (not among the "
                    "account's feedback options)",
                    key_path=join(FEEDBACK_OPTIONS_PATH, n),
                )
            label = option_id
        out.append(label)
    return out


def account_data(
    configuration: object, feedback_labels: Mapping[str, str], *, strict: bool = False
) -> dict[str, Any]:
    """A configuration (or parameters) as the plain data a file declares.

    Read-only fields (``id``, ``is_default``, ``login_page.url``, …) are left
    out, ``null`` texts become ``""``, feedback option ids become labels
    (unknown ids stay ids unless *strict*), and the ``cancelflow_config``
    metadata key is left out. Fields that are absent stay absent.

    Raises:
        StripeObjectError: the object does not have the expected shape.
    """
    o = Obj.of(configuration, "configuration")
    out: dict[str, Any] = {}
    if "active" in o.data:
        out["active"] = o.boolean("active")
    for key in ("name", "default_return_url"):
        if key in o.data:
            out[key] = _text(o, key)
    if "metadata" in o.data:
        metadata = {} if o.data["metadata"] == "" else o.str_map("metadata")
        mine = {k: v for k, v in metadata.items() if k != METADATA_KEY}
        if mine:  # an empty map declares nothing
            out["metadata"] = mine
    profile = o.opt_obj("business_profile")
    if profile is not None:
        out["business_profile"] = {
            key: _text(profile, key)
            for key in ("headline", "privacy_policy_url", "terms_of_service_url")
            if key in profile.data
        }
    login = o.opt_obj("login_page")
    if login is not None and "enabled" in login.data:
        out["login_page"] = {"enabled": login.boolean("enabled")}
    features = o.opt_obj("features")
    if features is not None:
        out["features"] = _features(features, feedback_labels, strict=strict)
    return out


def _present(o: Obj, out: dict[str, Any], *keys: str) -> None:
    """Copy the plain values of *keys* that *o* has (and that are not null)."""
    for key in keys:
        value = plain(o.data.get(key))
        if value is not None:
            out[key] = value


def _features(o: Obj, labels: Mapping[str, str], *, strict: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cancel = o.opt_obj("subscription_cancel")
    if cancel is not None:
        data: dict[str, Any] = {}
        _present(cancel, data, "enabled", "mode", "proration_behavior")
        reason = cancel.opt_obj("cancellation_reason")
        if reason is not None:
            reason_data: dict[str, Any] = {}
            _present(reason, reason_data, "enabled")
            if "options" in reason.data:
                reason_data["options"] = _strings(reason, "options")
            if "feedback_options" in reason.data:
                reason_data["feedback_options"] = _feedback_labels(
                    reason, labels, strict=strict
                )
            data["cancellation_reason"] = reason_data
        out["subscription_cancel"] = data
    customer = o.opt_obj("customer_update")
    if customer is not None:
        data = {}
        _present(customer, data, "enabled")
        if "allowed_updates" in customer.data:
            data["allowed_updates"] = _strings(customer, "allowed_updates")
        out["customer_update"] = data
    invoices = o.opt_obj("invoice_history")
    if invoices is not None:
        data = {}
        _present(invoices, data, "enabled")
        out["invoice_history"] = data
    payment = o.opt_obj("payment_method_update")
    if payment is not None:
        data = {}
        _present(payment, data, "enabled")
        if "payment_method_configuration" in payment.data:
            data["payment_method_configuration"] = _text(
                payment, "payment_method_configuration"
            )
        out["payment_method_update"] = data
    pause = o.opt_obj("subscription_pause")
    if pause is not None:
        data = {}
        _present(pause, data, "enabled")
        duration = pause.opt_obj("duration")
        if duration is not None:
            duration_data: dict[str, Any] = {}
            _present(duration, duration_data, "type")
            if "interval_options" in duration.data:
                where = duration.where("interval_options")
                options = []
                for n, item in enumerate(_list(duration, "interval_options")):
                    option = Obj.of(item, f"{where}[{n}]")
                    option_data: dict[str, Any] = {}
                    _present(option, option_data, "interval", "interval_count")
                    options.append(option_data)
                duration_data["interval_options"] = options
            data["duration"] = duration_data
        out["subscription_pause"] = data
    update = o.opt_obj("subscription_update")
    if update is not None:
        out["subscription_update"] = _subscription_update(update)
    return out


def _subscription_update(o: Obj) -> dict[str, Any]:
    data: dict[str, Any] = {}
    _present(o, data, "enabled")
    if "default_allowed_updates" in o.data:
        data["default_allowed_updates"] = _strings(o, "default_allowed_updates")
    if "products" in o.data:
        where = o.where("products")
        products = []
        for n, item in enumerate(_list(o, "products")):
            product = Obj.of(item, f"{where}[{n}]")
            product_data: dict[str, Any] = {}
            _present(product, product_data, "product")
            if "prices" in product.data:
                product_data["prices"] = _strings(product, "prices")
            quantity = product.opt_obj("adjustable_quantity")
            if quantity is not None:
                quantity_data: dict[str, Any] = {}
                _present(quantity, quantity_data, "enabled", "minimum", "maximum")
                product_data["adjustable_quantity"] = quantity_data
            products.append(product_data)
        data["products"] = products
    _present(
        o,
        data,
        "proration_behavior",
        "billing_cycle_anchor",
        "trial_update_behavior",
    )
    if "schedule_at_period_end" in o.data:
        value = o.data["schedule_at_period_end"]
        if value == "" or value is None:
            data["schedule_at_period_end"] = []
        else:
            schedule = o.obj("schedule_at_period_end")
            where = schedule.where("conditions")
            data["schedule_at_period_end"] = [
                Obj.of(c, f"{where}[{n}]").string("type")
                for n, c in enumerate(schedule.array("conditions"))
            ]
    return data
