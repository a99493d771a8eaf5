"""The plan, pure: comparing declared data with the account's, matching, rendering."""

from __future__ import annotations

import pytest

from cancelflow import (
    FieldChange,
    PortalConfigFile,
    PortalConfiguration,
    parse_portal_config,
)
from cancelflow._portal_config.plan import AccountState, diff, make_plan, show
from cancelflow._stripe.feedback_option import FeedbackOption


def configuration(
    id_: str, *, default: bool = False, **fields: object
) -> PortalConfiguration:
    obj = {
        "id": id_,
        "object": "billing_portal.configuration",
        "active": True,
        "is_default": default,
        "metadata": {},
        "features": {
            "subscription_cancel": {
                "enabled": False,
                "mode": "at_period_end",
                "proration_behavior": "none",
                "cancellation_reason": {
                    "enabled": False,
                    "options": ["too_expensive", "other"],
                    "feedback_options": None,
                },
            }
        },
        **fields,
    }
    return PortalConfiguration.from_stripe(obj)


def test_only_declared_keys_are_compared():
    """Keys the declaration leaves out never show as changes."""
    declared = {"features": {"subscription_cancel": {"enabled": True}}}
    actual = {
        "name": "x",
        "features": {"subscription_cancel": {"enabled": True, "mode": "immediately"}},
    }
    assert diff(declared, actual) == []


def test_enum_lists_are_compared_as_sets_other_lists_in_order():
    """Stripe's enum lists may come back in any order; labels and prices keep theirs."""
    reason = {"options": ["other", "too_expensive"], "feedback_options": ["A", "B"]}
    actual = {"options": ["too_expensive", "other"], "feedback_options": ["B", "A"]}
    changes = diff(reason, actual)
    assert [c.path for c in changes] == ["feedback_options"]


def test_lists_of_tables_compare_declared_keys_only():
    """A product entry matches when its declared keys do; Stripe's extra keys do not count."""
    declared = {"products": [{"product": "prod_1", "prices": ["p1"]}]}
    actual = {
        "products": [
            {
                "product": "prod_1",
                "prices": ["p1"],
                "adjustable_quantity": {"enabled": False},
            }
        ]
    }
    assert diff(declared, actual) == []
    longer = {
        "products": [*actual["products"], {"product": "prod_2", "prices": ["p2"]}]
    }
    assert [c.path for c in diff(declared, longer)] == ["products"]


def test_metadata_blank_means_absent():
    """A metadata value "" wants the key gone; other keys of the account are ignored."""
    declared = {"metadata": {"team": "billing", "old": ""}}
    assert diff(declared, {"metadata": {"team": "billing", "owner": "x"}}) == []
    assert diff(declared, {"metadata": {"team": "billing", "old": "1"}}) == [
        FieldChange("metadata.old", "1", None)
    ]


def test_show_escapes_control_and_bidi_characters():
    """Text from the account cannot drive the terminal the plan is printed on."""
    assert show("a\x1b[31mred\u202eb") == '"a\\u001b[31mred\\u202eb"'
    assert show("\x9b") == '"\\u009b"'
    assert show(None) == "(none)"
    assert show(["é"]) == '["é"]'


def test_a_plan_renders_escaped_account_values():
    """A hostile value in the account appears escaped in the rendered plan."""
    state = AccountState(
        (configuration("bpc_1", default=True, name="\x1b]0;pwned\x07"),),
    )
    config = parse_portal_config(
        '[configurations.d]\nmatch = "default"\nname = "Main"\n'
    )
    text = make_plan(config, state).render()
    assert "\x1b" not in text
    assert "\\u001b]0;pwned\\u0007" in text


def test_unmanaged_configurations_are_described():
    """The plan lists what it leaves alone, with what identifies each."""
    state = AccountState(
        (
            configuration("bpc_1", default=True),
            configuration(
                "bpc_2", active=False, name="Old", metadata={"cancelflow_config": "old"}
            ),
        )
    )
    plan = make_plan(PortalConfigFile([]), state)
    assert plan.unmanaged == (
        "bpc_1 (the default)",
        'bpc_2 (inactive, cancelflow_config = "old", name "Old")',
    )
    assert plan.in_step
    assert plan.summary() == "In step: the account matches the file (0 configurations)."


def test_a_deactivated_option_offered_is_drift():
    """A configuration that still offers a deactivated option differs from the file's label."""
    option = FeedbackOption(id="fo_1", description="Too many emails", active=False)
    reason = {"enabled": True, "options": ["other"], "feedback_options": ["fo_1"]}
    state = AccountState(
        (
            configuration(
                "bpc_1",
                default=True,
                features={
                    "subscription_cancel": {
                        "enabled": True,
                        "mode": "at_period_end",
                        "proration_behavior": "none",
                        "cancellation_reason": reason,
                    }
                },
            ),
        ),
        (option,),
    )
    config = parse_portal_config(
        '[configurations.d]\nmatch = "default"\n'
        "[configurations.d.features.subscription_cancel]\nenabled = true\n"
        "[configurations.d.features.subscription_cancel.cancellation_reason]\n"
        'enabled = true\noptions = ["other"]\nfeedback_options = ["Too many emails"]\n'
    )
    plan = make_plan(config, state)
    assert [c.describe() for c in plan.configurations[0].changes] == [
        (
            "features.subscription_cancel.cancellation_reason.feedback_options: "
            '["Too many emails (deactivated)"] → ["Too many emails"]'
        )
    ]
    assert [(f.label, f.action.value) for f in plan.feedback_options] == [
        ("Too many emails", "create")
    ]


@pytest.mark.parametrize("value", [None, "portal.toml", ["a"]])
def test_make_plan_refuses_what_is_not_a_file(value):
    """make_plan names a wrong argument."""
    from cancelflow.exceptions import PortalConfigInvalidError

    with pytest.raises(PortalConfigInvalidError, match="expected a PortalConfigFile"):
        make_plan(value, AccountState(()))  # type: ignore[arg-type]
