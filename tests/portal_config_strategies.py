"""Hypothesis strategies for declared portal configurations (not a test module).

Every strategy draws a value that follows Stripe's rules as the model checks
them, with each field declared or not, so that round trips cover partial
declarations as well as complete ones.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from cancelflow import (
    AdjustableQuantitySpec,
    BusinessProfileSpec,
    CancellationFeedback,
    CancellationReasonSpec,
    CancelMode,
    ConfigMatch,
    CustomerUpdateField,
    CustomerUpdateSpec,
    FeaturesSpec,
    InvoiceHistorySpec,
    LoginPageSpec,
    PauseDurationSpec,
    PauseDurationType,
    PauseInterval,
    PauseIntervalSpec,
    PaymentMethodUpdateSpec,
    PortalConfigFile,
    PortalConfigSpec,
    ProductSpec,
    ScheduleCondition,
    SubscriptionCancelSpec,
    SubscriptionPauseSpec,
    SubscriptionUpdateField,
    SubscriptionUpdateSpec,
)
from cancelflow._portal_config.model import TrialUpdateBehavior

# Printable text without control characters or surrogates (the model refuses those).
TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), min_size=0, max_size=30
)
LABEL = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
)
URL = st.builds(
    lambda host, path: f"https://{host}.example.com/{path}",
    st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True),
    st.from_regex(r"[a-z0-9/_-]{0,20}", fullmatch=True),
)
IDS = st.from_regex(r"[a-z]{2,5}_[A-Za-z0-9]{1,12}", fullmatch=True)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def subsets(kind: Any) -> st.SearchStrategy[frozenset[Any]]:
    return st.frozensets(st.sampled_from(list(kind)))


@st.composite
def reason(draw: st.DrawFn) -> CancellationReasonSpec:
    enabled = draw(st.booleans())
    options = draw(subsets(CancellationFeedback))
    labels = draw(maybe(st.lists(LABEL, max_size=4, unique=True).map(tuple)))
    if enabled and not options and not labels:
        options = frozenset({CancellationFeedback.OTHER})
    return CancellationReasonSpec(
        enabled=enabled, options=options, feedback_options=labels
    )


@st.composite
def cancel(draw: st.DrawFn) -> SubscriptionCancelSpec:
    mode = draw(maybe(st.sampled_from(list(CancelMode))))
    prorations = ["none", "create_prorations"] if mode == "immediately" else ["none"]
    return SubscriptionCancelSpec(
        enabled=draw(st.booleans()),
        mode=mode,
        proration_behavior=draw(maybe(st.sampled_from(prorations))),
        cancellation_reason=draw(maybe(reason())),
    )


@st.composite
def quantity(draw: st.DrawFn) -> AdjustableQuantitySpec:
    low = draw(maybe(st.integers(0, 50)))
    high = draw(maybe(st.integers(max(1, low or 1), 99)))
    return AdjustableQuantitySpec(
        enabled=draw(st.booleans()), minimum=low, maximum=high
    )


PRODUCT = st.builds(
    ProductSpec,
    product=IDS.map(lambda s: f"prod_{s}"),
    prices=st.lists(
        IDS.map(lambda s: f"price_{s}"), min_size=1, max_size=3, unique=True
    ).map(tuple),
    adjustable_quantity=maybe(quantity()),
)

UPDATE = st.builds(
    SubscriptionUpdateSpec,
    enabled=st.booleans(),
    default_allowed_updates=maybe(subsets(SubscriptionUpdateField)),
    products=maybe(
        st.lists(PRODUCT, max_size=3, unique_by=lambda p: p.product).map(tuple)
    ),
    proration_behavior=maybe(
        st.sampled_from(["none", "create_prorations", "always_invoice"])
    ),
    billing_cycle_anchor=maybe(st.sampled_from(["now", "unchanged"])),
    schedule_at_period_end=maybe(subsets(ScheduleCondition)),
    trial_update_behavior=maybe(st.sampled_from(list(TrialUpdateBehavior))),
)

INTERVAL = st.builds(
    PauseIntervalSpec,
    interval=st.sampled_from(list(PauseInterval)),
    interval_count=maybe(st.integers(1, 3)),
)

DURATION = st.one_of(
    st.builds(PauseDurationSpec, type=st.just(PauseDurationType.INDEFINITE)),
    st.builds(
        PauseDurationSpec,
        type=st.just(PauseDurationType.INTERVAL_OPTIONS),
        interval_options=st.lists(INTERVAL, min_size=1, max_size=3).map(tuple),
    ),
)

FEATURES = st.builds(
    FeaturesSpec,
    subscription_cancel=maybe(cancel()),
    customer_update=maybe(
        st.builds(
            CustomerUpdateSpec,
            enabled=st.booleans(),
            allowed_updates=maybe(subsets(CustomerUpdateField)),
        )
    ),
    invoice_history=maybe(st.builds(InvoiceHistorySpec, enabled=st.booleans())),
    payment_method_update=maybe(
        st.builds(
            PaymentMethodUpdateSpec,
            enabled=st.booleans(),
            payment_method_configuration=maybe(
                st.just("") | IDS.map(lambda s: f"pmc_{s}")
            ),
        )
    ),
    subscription_pause=maybe(
        st.builds(
            SubscriptionPauseSpec,
            enabled=maybe(st.booleans()),
            duration=maybe(DURATION),
        )
    ),
    subscription_update=maybe(UPDATE),
)

METADATA = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(
        lambda k: k != "cancelflow_config"
    ),
    TEXT,
    max_size=4,
)


def specs(
    *, key: st.SearchStrategy[str] | None = None, match: Any = None
) -> st.SearchStrategy[PortalConfigSpec]:
    """Declared configurations (``match="metadata"`` unless *match* is given)."""
    return st.builds(
        PortalConfigSpec,
        key=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
        if key is None
        else key,
        match=st.just(ConfigMatch.METADATA if match is None else match),
        active=maybe(st.booleans()),
        name=maybe(TEXT),
        default_return_url=maybe(st.just("") | URL),
        metadata=maybe(METADATA),
        business_profile=maybe(
            st.builds(
                BusinessProfileSpec,
                headline=maybe(TEXT),
                privacy_policy_url=maybe(st.just("") | URL),
                terms_of_service_url=maybe(st.just("") | URL),
            )
        ),
        login_page=maybe(st.builds(LoginPageSpec, enabled=st.booleans())),
        features=maybe(FEATURES),
    )


def files() -> st.SearchStrategy[PortalConfigFile]:
    """Files of one to three configurations with distinct keys."""
    return st.lists(specs(), min_size=1, max_size=3, unique_by=lambda s: s.key).map(
        PortalConfigFile
    )
