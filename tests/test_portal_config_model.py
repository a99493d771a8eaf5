"""The declared portal configuration: Stripe's rules, key paths, Stripe parameters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cancelflow import (
    CancellationReasonSpec,
    ConfigMatch,
    FeaturesSpec,
    PortalConfigSpec,
    ProductSpec,
    SubscriptionCancelSpec,
    SubscriptionUpdateSpec,
)
from cancelflow.exceptions import PortalConfigInvalidError, StripeObjectError
from portal_config_strategies import specs


def spec_of(data: dict, key: str = "main") -> PortalConfigSpec:
    return PortalConfigSpec.from_data(data, f"configurations.{key}")


def cancel_data(**cancel: object) -> dict:
    return {"features": {"subscription_cancel": {"enabled": True, **cancel}}}


# -- Stripe's rules, each named by its key path ------------------------------------------

RULES = [
    (
        cancel_data(mode="at_period_end", proration_behavior="create_prorations"),
        "configurations.main.features.subscription_cancel.proration_behavior",
        "only compatible with",
    ),
    (
        cancel_data(proration_behavior="create_prorations"),
        "configurations.main.features.subscription_cancel.proration_behavior",
        "only compatible with",
    ),
    (
        cancel_data(mode="immediately", proration_behavior="always_invoice"),
        "configurations.main.features.subscription_cancel.proration_behavior",
        "is not one of none, create_prorations",
    ),
    (
        cancel_data(cancellation_reason={"enabled": True, "options": []}),
        "configurations.main.features.subscription_cancel.cancellation_reason.options",
        "needs at least one option",
    ),
    (
        cancel_data(cancellation_reason={"enabled": True}),
        "configurations.main.features.subscription_cancel.cancellation_reason.options",
        "is required",
    ),
    (
        cancel_data(cancellation_reason={"enabled": True, "options": ["bored"]}),
        "configurations.main.features.subscription_cancel.cancellation_reason.options[0]",
        "'bored' is not one of too_expensive",
    ),
    (
        cancel_data(
            cancellation_reason={"enabled": True, "options": ["other", "other"]}
        ),
        "configurations.main.features.subscription_cancel.cancellation_reason.options[1]",
        "listed twice",
    ),
    (
        cancel_data(
            cancellation_reason={
                "enabled": True,
                "options": [],
                "feedback_options": ["x" * 101],
            }
        ),
        (
            "configurations.main.features.subscription_cancel.cancellation_reason."
            "feedback_options[0]"
        ),
        "at most 100",
    ),
    (
        cancel_data(
            cancellation_reason={
                "enabled": True,
                "options": [],
                "feedback_options": ["Too many emails", "Too many emails"],
            }
        ),
        (
            "configurations.main.features.subscription_cancel.cancellation_reason."
            "feedback_options[1]"
        ),
        "listed twice",
    ),
    (
        cancel_data(
            cancellation_reason={
                "enabled": True,
                "options": [],
                "feedback_options": [" "],
            }
        ),
        (
            "configurations.main.features.subscription_cancel.cancellation_reason."
            "feedback_options[0]"
        ),
        "must not be empty",
    ),
    (
        cancel_data(mode="later"),
        "configurations.main.features.subscription_cancel.mode",
        "'later' is not one of at_period_end, immediately",
    ),
    (
        {"features": {"subscription_cancel": {"mode": "immediately"}}},
        "configurations.main.features.subscription_cancel.enabled",
        "is required",
    ),
    (
        {"features": {"invoice_history": {}}},
        "configurations.main.features.invoice_history.enabled",
        "is required",
    ),
    (
        {"login_page": {}},
        "configurations.main.login_page.enabled",
        "is required",
    ),
    (
        {
            "features": {
                "customer_update": {"enabled": True, "allowed_updates": ["age"]}
            }
        },
        "configurations.main.features.customer_update.allowed_updates[0]",
        "not one of address, email, name, phone, shipping, tax_id",
    ),
    (
        {
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "products": [{"product": "prod_1", "prices": ["p"]}] * 11,
                }
            }
        },
        "configurations.main.features.subscription_update.products",
        "at most 10",
    ),
    (
        {
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "products": [{"product": "prod_1", "prices": []}],
                }
            }
        },
        "configurations.main.features.subscription_update.products[0].prices",
        "at least one price",
    ),
    (
        {
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "products": [
                        {"product": "prod_1", "prices": ["a"]},
                        {"product": "prod_1", "prices": ["b"]},
                    ],
                }
            }
        },
        "configurations.main.features.subscription_update.products[1].product",
        "listed twice",
    ),
    (
        {
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "products": [
                        {
                            "product": "prod_1",
                            "prices": ["a"],
                            "adjustable_quantity": {
                                "enabled": True,
                                "minimum": 5,
                                "maximum": 2,
                            },
                        }
                    ],
                }
            }
        },
        (
            "configurations.main.features.subscription_update.products[0]."
            "adjustable_quantity.maximum"
        ),
        "below minimum",
    ),
    (
        {
            "features": {
                "subscription_update": {"enabled": True, "billing_cycle_anchor": "x"}
            }
        },
        "configurations.main.features.subscription_update.billing_cycle_anchor",
        "not one of now, unchanged",
    ),
    (
        {
            "features": {
                "subscription_pause": {"duration": {"type": "interval_options"}}
            }
        },
        "configurations.main.features.subscription_pause.duration.interval_options",
        "is required",
    ),
    (
        {
            "features": {
                "subscription_pause": {
                    "duration": {
                        "type": "indefinite",
                        "interval_options": [{"interval": "month"}],
                    }
                }
            }
        },
        "configurations.main.features.subscription_pause.duration.interval_options",
        "only for",
    ),
    (
        {
            "features": {
                "subscription_pause": {
                    "duration": {
                        "type": "interval_options",
                        "interval_options": [
                            {"interval": "month", "interval_count": 37}
                        ],
                    }
                }
            }
        },
        (
            "configurations.main.features.subscription_pause.duration.interval_options[0]."
            "interval_count"
        ),
        "three years",
    ),
    (
        {"default_return_url": "example.com/account"},
        "configurations.main.default_return_url",
        "is not a URL",
    ),
    (
        {"business_profile": {"privacy_policy_url": "https://exa mple.com"}},
        "configurations.main.business_profile.privacy_policy_url",
        "is not a URL",
    ),
    (
        {"metadata": {"cancelflow_config": "other"}},
        "configurations.main.metadata.cancelflow_config",
        "is reserved",
    ),
    (
        {"metadata": {"a[0]": "x"}},
        'configurations.main.metadata."a[0]"',
        "without [ or ]",
    ),
    (
        {"metadata": {"k" * 41: "x"}},
        f"configurations.main.metadata.{'k' * 41}",
        "at most 40",
    ),
    (
        {"metadata": {"k": "v" * 501}},
        "configurations.main.metadata.k",
        "at most 500",
    ),
    (
        {"metadata": {f"k{n}": "v" for n in range(50)}},
        "configurations.main.metadata",
        "at most 49",
    ),
    (
        {"match": "latest"},
        "configurations.main.match",
        "not one of metadata, default, id",
    ),
    ({"match": "id"}, "configurations.main.id", "bpc_"),
    ({"match": "id", "id": "cus_1"}, "configurations.main.id", "bpc_"),
    ({"id": "bpc_1"}, "configurations.main.id", 'only for match = "id"'),
    ({"name": "x" * 5001}, "configurations.main.name", "at most 5000"),
]


@pytest.mark.parametrize(("data", "key_path", "words"), RULES)
def test_each_rule_is_refused_with_its_key_path(data, key_path, words):
    """Each of Stripe's rules (and cancelflow's) is refused, naming the key path."""
    with pytest.raises(PortalConfigInvalidError) as caught:
        spec_of(data)
    assert caught.value.key_path == key_path
    assert words in caught.value.problem


UNKNOWN = [
    ({"colour": "red"}, "configurations.main.colour"),
    (
        {"features": {"subscription_cancell": {}}},
        "configurations.main.features.subscription_cancell",
    ),
    (cancel_data(reason={}), "configurations.main.features.subscription_cancel.reason"),
    (
        cancel_data(
            cancellation_reason={"enabled": False, "options": [], "comment": True}
        ),
        "configurations.main.features.subscription_cancel.cancellation_reason.comment",
    ),
    (
        {
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "products": [{"product": "p", "prices": ["x"], "max": 2}],
                }
            }
        },
        "configurations.main.features.subscription_update.products[0].max",
    ),
    (
        {"login_page": {"enabled": True, "url": "https://x.example.com"}},
        "configurations.main.login_page.url",
    ),
]


@pytest.mark.parametrize(("data", "key_path"), UNKNOWN)
def test_unknown_keys_are_errors(data, key_path):
    """An unknown key at any depth is refused by its path, never dropped."""
    with pytest.raises(PortalConfigInvalidError, match="unknown key") as caught:
        spec_of(data)
    assert caught.value.key_path == key_path


WRONG_TYPES = [
    (
        {"active": "yes"},
        "configurations.main.active",
        "expected true or false, got a string",
    ),
    ({"name": 3}, "configurations.main.name", "expected a string, got an integer"),
    (
        {"features": []},
        "configurations.main.features",
        "expected a table, got an array",
    ),
    (
        {"features": {"subscription_cancel": True}},
        "configurations.main.features.subscription_cancel",
        "expected a table",
    ),
    (
        cancel_data(cancellation_reason={"enabled": True, "options": "other"}),
        "configurations.main.features.subscription_cancel.cancellation_reason.options",
        "expected an array",
    ),
    (
        cancel_data(cancellation_reason={"enabled": True, "options": [1]}),
        "configurations.main.features.subscription_cancel.cancellation_reason.options[0]",
        "expected a string, got an integer",
    ),
    (
        {"metadata": ["a"]},
        "configurations.main.metadata",
        "expected a table of strings",
    ),
    ({"metadata": {"a": 1}}, "configurations.main.metadata.a", "expected a string"),
    (
        {
            "features": {
                "subscription_pause": {
                    "duration": {
                        "type": "interval_options",
                        "interval_options": [
                            {"interval": "day", "interval_count": 1.5}
                        ],
                    }
                }
            }
        },
        "configurations.main.features.subscription_pause.duration.interval_options[0].interval_count",
        "expected an integer, got a float",
    ),
    (
        {
            "features": {
                "subscription_pause": {
                    "duration": {
                        "type": "interval_options",
                        "interval_options": [
                            {"interval": "day", "interval_count": True}
                        ],
                    }
                }
            }
        },
        "configurations.main.features.subscription_pause.duration.interval_options[0].interval_count",
        "expected an integer, got a boolean",
    ),
    ({"match": 1}, "configurations.main.match", "expected a string"),
]


@pytest.mark.parametrize(("data", "key_path", "words"), WRONG_TYPES)
def test_wrong_types_are_refused_by_name(data, key_path, words):
    """A value of the wrong type is refused by its key path, never a TypeError."""
    with pytest.raises(PortalConfigInvalidError) as caught:
        spec_of(data)
    assert caught.value.key_path == key_path
    assert words in caught.value.problem


def test_huge_integers_are_refused():
    """An integer beyond Stripe's 64 bits is refused without printing all its digits."""
    huge = 10**40
    data = {
        "features": {
            "subscription_update": {
                "enabled": True,
                "products": [
                    {
                        "product": "prod_1",
                        "prices": ["price_1"],
                        "adjustable_quantity": {"enabled": True, "maximum": huge},
                    }
                ],
            }
        }
    }
    with pytest.raises(
        PortalConfigInvalidError, match=r"41-digit number is out of range"
    ):
        spec_of(data)


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "a\x1b[31mb", "line\nbreak"])
def test_control_characters_and_lone_surrogates_are_refused(bad):
    """NUL, escape sequences, newlines and lone surrogates are refused in any text."""
    with pytest.raises(
        PortalConfigInvalidError, match=r"control character|lone surrogate"
    ):
        PortalConfigSpec(key="main", name=bad)
    with pytest.raises(PortalConfigInvalidError) as caught:
        spec_of(
            cancel_data(
                cancellation_reason={
                    "enabled": True,
                    "options": [],
                    "feedback_options": [bad],
                }
            )
        )
    assert caught.value.key_path.endswith("feedback_options[0]")


@pytest.mark.parametrize("key", ["", "has space", "-dash-first", "x" * 101, "é", 3])
def test_bad_keys_are_refused(key):
    """A configuration's key must be a short slug (it goes into metadata and CLI arguments)."""
    with pytest.raises(PortalConfigInvalidError, match="configuration's key") as caught:
        PortalConfigSpec(key=key)
    assert caught.value.key_path == "key"


def test_python_values_are_checked_like_file_values():
    """A model built in Python refuses what a file would, naming the field."""
    with pytest.raises(PortalConfigInvalidError) as caught:
        CancellationReasonSpec(enabled=True, options=["other", "unknown"])
    assert caught.value.key_path == "options[1]"
    with pytest.raises(PortalConfigInvalidError) as caught:
        FeaturesSpec(subscription_cancel="yes")  # type: ignore[arg-type]
    assert caught.value.key_path == "subscription_cancel"


def test_python_accepts_strings_lists_and_tables_for_nested_values():
    """Strings become enum members, lists frozensets or tuples, tables models."""
    spec = PortalConfigSpec(
        key="main",
        features={"subscription_cancel": {"enabled": True, "mode": "immediately"}},  # type: ignore[arg-type]
    )
    assert spec.features is not None
    cancel = spec.features.subscription_cancel
    assert isinstance(cancel, SubscriptionCancelSpec)
    assert cancel.mode == "immediately"
    update = SubscriptionUpdateSpec(
        enabled=True, products=[ProductSpec(product="prod_1", prices=["a", "b"])]
    )
    assert update.products is not None
    assert update.products[0].prices == ("a", "b")


def test_models_are_frozen_and_hashable():
    """Declared configurations are values: equal when equal, hashable, unchangeable."""
    one = spec_of({"metadata": {"team": "billing"}, **cancel_data(mode="immediately")})
    two = spec_of({"metadata": {"team": "billing"}, **cancel_data(mode="immediately")})
    assert one == two
    assert hash(one) == hash(two)
    with pytest.raises(AttributeError):
        one.name = "x"  # type: ignore[misc]
    assert one.metadata is not None
    with pytest.raises(TypeError):
        one.metadata["team"] = "x"  # type: ignore[index]


# -- Stripe parameters -------------------------------------------------------------------


def test_params_carry_the_key_and_empty_lists_as_blank():
    """to_params adds the metadata key and sends empty lists as "" (Stripe's form)."""
    spec = spec_of(
        cancel_data(
            cancellation_reason={
                "enabled": True,
                "options": ["other"],
                "feedback_options": [],
            }
        )
        | {"metadata": {"team": "billing", "old": ""}}
    )
    params = spec.to_params({})
    reason = params["features"]["subscription_cancel"]["cancellation_reason"]
    assert reason == {"enabled": True, "options": ["other"], "feedback_options": ""}
    assert params["metadata"] == {
        "team": "billing",
        "old": "",
        "cancelflow_config": "main",
    }
    assert spec.to_params({}, create=True)["metadata"] == {
        "team": "billing",
        "cancelflow_config": "main",
    }


def test_params_send_feedback_options_by_id():
    """Labels become the ids the apply step found or created."""
    spec = spec_of(
        cancel_data(
            cancellation_reason={
                "enabled": True,
                "options": [],
                "feedback_options": ["A", "B"],
            }
        )
    )
    params = spec.to_params({"A": "fo_1", "B": "fo_2"})
    assert params["features"]["subscription_cancel"]["cancellation_reason"][
        "feedback_options"
    ] == ["fo_1", "fo_2"]
    with pytest.raises(
        PortalConfigInvalidError, match="no feedback option id"
    ) as caught:
        spec.to_params({"A": "fo_1"})
    assert caught.value.key_path.endswith("feedback_options[1]")


def test_create_params_leave_out_what_only_an_update_accepts():
    """Create parameters drop `active` and empty policy links; the default match adds no key."""
    spec = spec_of(
        {
            "match": "default",
            "active": True,
            "business_profile": {"headline": "", "privacy_policy_url": ""},
            "features": {
                "subscription_update": {"enabled": False, "schedule_at_period_end": []}
            },
        }
    )
    create = spec.to_params(create=True)
    assert "active" not in create
    assert create["business_profile"] == {"headline": ""}
    assert create["features"]["subscription_update"] == {"enabled": False}
    assert "metadata" not in create
    update = spec.to_params()
    assert update["active"] is True
    assert update["business_profile"] == {"headline": "", "privacy_policy_url": ""}
    assert update["features"]["subscription_update"]["schedule_at_period_end"] == ""


def _labels(spec: PortalConfigSpec) -> tuple[dict[str, str], dict[str, str]]:
    ids = {label: f"fo_{n}" for n, label in enumerate(spec.feedback_labels())}
    return ids, {v: k for k, v in ids.items()}


@settings(max_examples=200)
@given(specs())
def test_from_stripe_reads_back_what_to_params_sends(spec):
    """from_stripe(to_params(x)) == x for any declared configuration."""
    ids, labels = _labels(spec)
    back = PortalConfigSpec.from_stripe(spec.to_params(ids), feedback_labels=labels)
    assert back == spec


@settings(max_examples=50)
@given(specs(match=ConfigMatch.DEFAULT, key=st.just("default")))
def test_from_stripe_round_trip_keeps_a_given_match(spec):
    """With the key and match given, the round trip holds for the default match too."""
    ids, labels = _labels(spec)
    back = PortalConfigSpec.from_stripe(
        spec.to_params(ids), feedback_labels=labels, key="default", match="default"
    )
    assert back == spec


def test_from_stripe_refuses_an_unknown_feedback_option():
    """Export cannot write a label for an option it does not know."""
    params = {
        "features": {
            "subscription_cancel": {
                "enabled": True,
                "cancellation_reason": {
                    "enabled": True,
                    "options": [],
                    "feedback_options": ["fo_x"],
                },
            }
        }
    }
    with pytest.raises(PortalConfigInvalidError, match="fo_x is unknown"):
        PortalConfigSpec.from_stripe(params, key="main")


def test_from_stripe_refuses_objects_of_another_shape():
    """A Stripe object of the wrong shape is a StripeObjectError, not a TypeError."""
    with pytest.raises(StripeObjectError):
        PortalConfigSpec.from_stripe({"features": {"subscription_cancel": []}})
    with pytest.raises(StripeObjectError):
        PortalConfigSpec.from_stripe("bpc_1")
