"""Plan, apply and export against FakeStripe, through stripe-python."""

from __future__ import annotations

import attrs
import pytest
import stripe
from hypothesis import HealthCheck, given, settings

from cancelflow import (
    PlanAction,
    PortalConfigFile,
    PortalConfigSpec,
    StripeGateway,
    apply_portal_config,
    dump_portal_config,
    export_portal_config,
    parse_portal_config,
    plan_portal_config,
)
from cancelflow.exceptions import (
    PortalConfigApplyError,
    PortalConfigInvalidError,
    PortalConfigMatchError,
    StripeRateLimitError,
)
from cancelflow.testing import FakeStripe
from fake_support import counting_client
from portal_config_strategies import specs

FILE = """
[configurations.default]
match = "default"

[configurations.default.features.subscription_cancel]
enabled = true
mode = "at_period_end"

[configurations.default.features.subscription_cancel.cancellation_reason]
enabled = true
options = ["too_expensive", "unused", "other"]
feedback_options = ["Too many emails"]

[configurations.annual]
name = "Annual plans"
default_return_url = "https://example.com/account"

[configurations.annual.metadata]
team = "billing"

[configurations.annual.features.subscription_cancel]
enabled = true
mode = "immediately"
proration_behavior = "create_prorations"

[configurations.annual.features.subscription_cancel.cancellation_reason]
enabled = true
options = ["too_expensive"]
feedback_options = ["Too many emails", "Moving to another tool"]
"""


@pytest.fixture
def fake() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return fake.client()


def dashboard_default(fake: FakeStripe) -> str:
    """The account's default configuration, as a team saves it in the Dashboard
    (the API cannot create it)."""
    config = fake.dashboard.save_portal_settings(
        features={"invoice_history": {"enabled": True}}
    )
    assert config["is_default"]
    return str(config["id"])


def feedback_options(client: stripe.StripeClient) -> list[tuple[str, str]]:
    return [
        (o.description, o.status)
        for o in client.v1.billing.feedback_options.list(params={"limit": 100})
    ]


def test_plan_then_apply_then_a_no_op(fake, client):
    """Apply makes the account what the file says; applying again writes nothing."""
    default = dashboard_default(fake)
    config = parse_portal_config(FILE)
    plan = plan_portal_config(client, config)
    actions = {c.key: c.action for c in plan.configurations}
    assert actions == {"default": PlanAction.UPDATE, "annual": PlanAction.CREATE}
    assert [f.label for f in plan.feedback_options] == [
        "Too many emails",
        "Moving to another tool",
    ]
    assert plan.configurations[0].configuration_id == default
    text = plan.render()
    assert "features.subscription_cancel.enabled: false → true" in text
    assert '+ configuration "annual": create' in text
    assert plan.summary().startswith("Plan: configurations 1 to create, 1 to update")

    result = apply_portal_config(client, config, plan=plan)
    assert result.writes == 4  # two options, one update, one create
    assert result.configuration_ids["default"] == default
    annual = client.v1.billing_portal.configurations.retrieve(
        result.configuration_ids["annual"]
    )
    assert annual.metadata["cancelflow_config"] == "annual"
    assert annual.metadata["team"] == "billing"
    assert annual.features.subscription_cancel.mode == "immediately"

    counted, counter = counting_client(fake)
    again = apply_portal_config(counted, config)
    assert again.writes == 0
    assert counter.writes == []
    assert counter.calls == [
        ("get", "/v1/billing_portal/configurations"),
        ("get", "/v1/billing/feedback_options"),
    ]
    assert plan_portal_config(client, config).in_step


def test_feedback_options_are_created_once_and_reused(fake, client):
    """A label two configurations share is one option, reused by every later apply."""
    dashboard_default(fake)
    config = parse_portal_config(FILE)
    apply_portal_config(client, config)
    apply_portal_config(client, config)
    assert sorted(feedback_options(client)) == [
        ("Moving to another tool", "active"),
        ("Too many emails", "active"),
    ]
    options = {o.description: o.id for o in client.v1.billing.feedback_options.list()}
    default = client.v1.billing_portal.configurations.list(
        params={"is_default": True}
    ).data[0]
    reason = default.features.subscription_cancel.cancellation_reason
    assert reason.feedback_options == [options["Too many emails"]]


def test_an_existing_option_is_found_by_its_label(fake, client):
    """An active option with the declared label (made in the Dashboard) is used, not copied."""
    dashboard_default(fake)
    made = client.v1.billing.feedback_options.create(
        params={"description": "Too many emails"}
    )
    plan = plan_portal_config(client, parse_portal_config(FILE))
    assert [f.label for f in plan.feedback_options] == ["Moving to another tool"]
    assert plan.feedback_ids == {"Too many emails": made.id}


def test_a_dropped_label_is_deactivated_unless_still_offered(fake, client):
    """An option a managed configuration stops offering is deactivated, unless
    an unmanaged configuration still offers it."""
    dashboard_default(fake)
    apply_portal_config(client, parse_portal_config(FILE))
    smaller = parse_portal_config(FILE.replace(', "Moving to another tool"', ""))
    plan = plan_portal_config(client, smaller)
    assert [(f.label, f.action) for f in plan.feedback_options] == [
        ("Moving to another tool", PlanAction.DEACTIVATE)
    ]
    assert '- feedback option "Moving to another tool"' in plan.render()
    apply_portal_config(client, smaller)
    assert ("Moving to another tool", "inactive") in feedback_options(client)

    # Offered by a configuration the file does not manage: left active.
    other = client.v1.billing.feedback_options.create(params={"description": "Kept"})
    client.v1.billing_portal.configurations.create(
        params={
            "features": {
                "subscription_cancel": {
                    "enabled": True,
                    "cancellation_reason": {
                        "enabled": True,
                        "options": "",
                        "feedback_options": [other.id],
                    },
                }
            }
        }
    )
    with_kept = parse_portal_config(FILE.replace('"Moving to another tool"', '"Kept"'))
    apply_portal_config(client, with_kept)
    apply_portal_config(client, smaller)
    assert ("Kept", "active") in feedback_options(client)


def test_drift_made_through_the_api_is_detected(fake, client):
    """A change someone makes in the Dashboard (here: the API) shows in the next plan."""
    dashboard_default(fake)
    config = parse_portal_config(FILE)
    result = apply_portal_config(client, config)
    client.v1.billing_portal.configurations.update(
        result.configuration_ids["annual"],
        params={
            "features": {
                "subscription_cancel": {
                    "mode": "at_period_end",
                    "proration_behavior": "none",
                }
            },
            "metadata": {"team": "growth"},
            "name": "",
        },
    )
    plan = plan_portal_config(client, config)
    annual = plan.configurations[1]
    assert annual.action is PlanAction.UPDATE
    assert [c.describe() for c in annual.changes] == [
        'name: "" → "Annual plans"',
        'metadata.team: "growth" → "billing"',
        'features.subscription_cancel.mode: "at_period_end" → "immediately"',
        'features.subscription_cancel.proration_behavior: "none" → "create_prorations"',
    ]
    apply_portal_config(client, config)
    assert plan_portal_config(client, config).in_step


def test_only_declared_fields_are_compared(fake, client):
    """A field the file leaves out may differ without being drift."""
    dashboard_default(fake)
    config = parse_portal_config(FILE)
    result = apply_portal_config(client, config)
    client.v1.billing_portal.configurations.update(
        result.configuration_ids["annual"],
        params={
            "features": {"invoice_history": {"enabled": True}},
            "metadata": {"owner": "someone"},
            "business_profile": {"headline": "Hello"},
        },
    )
    assert plan_portal_config(client, config).in_step


def test_unmanaged_configurations_are_never_touched(fake, client):
    """Configurations the file does not manage keep every field, and are listed."""
    dashboard_default(fake)
    other = client.v1.billing_portal.configurations.create(
        params={
            "features": {"subscription_cancel": {"enabled": False}},
            "metadata": {"cancelflow_config": "retired"},
        }
    )
    before = client.v1.billing_portal.configurations.retrieve(other.id).to_dict()
    config = parse_portal_config(FILE)
    plan = plan_portal_config(client, config)
    assert plan.unmanaged == (f'{other.id} (cancelflow_config = "retired")',)
    assert "left alone (not in the file)" in plan.render()
    apply_portal_config(client, config)
    assert (
        client.v1.billing_portal.configurations.retrieve(other.id).to_dict() == before
    )


def test_metadata_values_remove_keys_with_blank(fake, client):
    """A metadata value "" declares the key absent: removed if there, in step if not."""
    dashboard_default(fake)
    config = parse_portal_config(
        FILE.replace('team = "billing"', 'team = "billing"\nold = ""')
    )
    result = apply_portal_config(client, config)
    config_id = result.configuration_ids["annual"]
    client.v1.billing_portal.configurations.update(
        config_id, params={"metadata": {"old": "1"}}
    )
    plan = plan_portal_config(client, config)
    assert [c.describe() for c in plan.configurations[1].changes] == [
        'metadata.old: "1" → (none)'
    ]
    apply_portal_config(client, config)
    metadata = client.v1.billing_portal.configurations.retrieve(config_id).metadata
    assert "old" not in metadata.to_dict()


def test_export_then_plan_shows_no_change(fake, client):
    """Exporting the account, then planning that file, shows nothing to do."""
    dashboard_default(fake)
    apply_portal_config(client, parse_portal_config(FILE))
    clicked = client.v1.billing_portal.configurations.create(
        params={
            "features": {
                "subscription_update": {
                    "enabled": True,
                    "default_allowed_updates": ["price", "quantity"],
                    "products": [
                        {
                            "product": "prod_1",
                            "prices": ["price_1"],
                            "adjustable_quantity": {"enabled": True, "maximum": 5},
                        }
                    ],
                    "schedule_at_period_end": {
                        "conditions": [{"type": "shortening_interval"}]
                    },
                },
                "subscription_pause": {
                    "enabled": True,
                    "duration": {
                        "type": "interval_options",
                        "interval_options": [{"interval": "week", "interval_count": 2}],
                    },
                },
            },
            "login_page": {"enabled": True},
            "business_profile": {
                "headline": "Billing",
                "privacy_policy_url": "https://example.com/privacy",
            },
        }
    )
    exported = export_portal_config(client)
    assert exported.keys() == ("default", "annual", clicked.id) or set(
        exported.keys()
    ) == {
        "default",
        "annual",
        clicked.id,
    }
    text = dump_portal_config(exported)
    assert 'match = "id"' in text
    plan = plan_portal_config(client, parse_portal_config(text))
    assert plan.in_step, plan.render()
    one = export_portal_config(client, configuration="annual")
    assert one.keys() == ("annual",)
    assert export_portal_config(client, configuration=clicked.id).keys() == (
        clicked.id,
    )
    with pytest.raises(PortalConfigMatchError, match="no configuration"):
        export_portal_config(client, configuration="monthly")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=specs())
def test_apply_then_read_back_is_the_declaration(spec):
    """Whatever is declared, apply makes the account hold it: the plan is then in
    step, and so is the file export would write."""
    from cancelflow._portal_config.plan import _has_leaf

    if not _has_leaf(spec.declared().get("features", {})):
        spec = attrs.evolve(spec, features=parse_portal_config(FILE)["annual"].features)
    fake = FakeStripe()
    client = fake.client()
    dashboard_default(fake)  # as an account's own default, left alone
    result = apply_portal_config(client, PortalConfigFile([spec]))
    assert result.writes >= 1
    created = client.v1.billing_portal.configurations.retrieve(
        result.configuration_ids[spec.key]
    )
    labels = {
        o.id: o.description
        for o in client.v1.billing.feedback_options.list(params={"limit": 100})
    }
    # What Stripe holds, read back, holds every value the spec declares.
    held = PortalConfigSpec.from_stripe(created, feedback_labels=labels)
    assert plan_portal_config(client, PortalConfigFile([held])).in_step
    assert plan_portal_config(client, PortalConfigFile([spec])).in_step


# -- matching --------------------------------------------------------------------------------


def test_no_default_configuration_is_a_match_error(client):
    """The API cannot create the default configuration: the plan says what to do."""
    with pytest.raises(
        PortalConfigMatchError, match="no default portal configuration"
    ) as caught:
        plan_portal_config(client, parse_portal_config(FILE))
    assert caught.value.key_path == "configurations.default"


def test_two_configurations_with_one_key_are_a_match_error(client):
    """Two configurations carrying the same key cannot be told apart."""
    for _ in range(2):
        client.v1.billing_portal.configurations.create(
            params={
                "features": {"invoice_history": {"enabled": True}},
                "metadata": {"cancelflow_config": "annual"},
            }
        )
    config = PortalConfigFile([parse_portal_config(FILE)["annual"]])
    with pytest.raises(PortalConfigMatchError, match="2 configurations carry"):
        plan_portal_config(client, config)


def test_a_configuration_is_managed_once(fake, client):
    """Matching the default by `default` and by its id in one file is refused."""
    default = dashboard_default(fake)
    config = parse_portal_config(
        f"""
[configurations.default]
match = "default"
[configurations.again]
match = "id"
id = "{default}"
"""
    )
    with pytest.raises(PortalConfigMatchError, match="already managed"):
        plan_portal_config(client, config)


def test_an_id_not_in_the_account_is_a_match_error(client):
    """match = "id" with an id of another account or mode is refused by key path."""
    config = parse_portal_config(
        '[configurations.x]\nmatch = "id"\nid = "bpc_elsewhere"\n'
    )
    with pytest.raises(PortalConfigMatchError) as caught:
        plan_portal_config(client, config)
    assert caught.value.key_path == "configurations.x.id"


def test_creating_needs_features(client):
    """A configuration to create must declare features, as Stripe requires."""
    config = parse_portal_config('[configurations.x]\nname = "X"\n')
    with pytest.raises(
        PortalConfigInvalidError, match="declare at least one feature"
    ) as caught:
        plan_portal_config(client, config)
    assert caught.value.key_path == "configurations.x.features"


def test_plan_refuses_what_is_not_a_file(client):
    """plan and apply name a wrong argument instead of failing inside."""
    with pytest.raises(PortalConfigInvalidError, match="expected a PortalConfigFile"):
        plan_portal_config(client, FILE)  # type: ignore[arg-type]
    with pytest.raises(PortalConfigInvalidError, match="expected a PortalConfigFile"):
        apply_portal_config(client, [])  # type: ignore[arg-type]


# -- failures ------------------------------------------------------------------------------


def test_a_stripe_refusal_names_the_key_path(fake, client):
    """Stripe's param is turned into the file's key path."""
    dashboard_default(fake)
    config = parse_portal_config(
        '[configurations.d]\nmatch = "default"\nactive = false\n'
    )
    with pytest.raises(PortalConfigApplyError) as caught:
        apply_portal_config(client, config)
    assert caught.value.key_path == "configurations.d.active"
    assert "cannot be deactivated" in str(caught.value)
    assert caught.value.applied == ()
    assert caught.value.not_applied == (
        'update configuration "d" (bpc_fake0000000001)',
    )


def test_a_refused_feedback_option_names_its_label_by_key_path(fake, client):
    """A feedback option Stripe refuses to create is named by the key path of its
    label in the file."""
    dashboard_default(fake)
    fake.faults.fail_next("billing.feedback_options.create", kind="api_error")
    with pytest.raises(PortalConfigApplyError) as caught:
        apply_portal_config(client, parse_portal_config(FILE))
    assert caught.value.key_path == (
        "configurations.default.features.subscription_cancel.cancellation_reason."
        "feedback_options[0]"
    )
    assert caught.value.applied == ()


def test_a_partial_failure_says_what_was_applied_and_what_not(fake, client):
    """When a write fails midway, the error lists what was done and what was not,
    and the next apply finishes the job."""
    dashboard_default(fake)
    config = parse_portal_config(FILE)
    fake.faults.fail_next("billing_portal.configurations.create", kind="rate_limit")
    with pytest.raises(PortalConfigApplyError) as caught:
        apply_portal_config(client, config)
    error = caught.value
    assert isinstance(error.__cause__, StripeRateLimitError)
    assert error.applied == (
        'created feedback option "Too many emails" (fo_fake0000000001)',
        'created feedback option "Moving to another tool" (fo_fake0000000002)',
        'updated configuration "default" (bpc_fake0000000001): 4 changes',
    )
    assert error.not_applied == ('create configuration "annual"',)
    assert "Applied: created feedback option" in str(error)
    assert "Not applied: create configuration" in str(error)
    assert error.key_path == "configurations.annual"
    rest = apply_portal_config(client, config)
    assert rest.applied == ('created configuration "annual" (bpc_fake0000000002)',)
    assert len(feedback_options(client)) == 2


def test_drift_left_after_apply_is_an_error(fake, client):
    """If Stripe does not hold what was sent, the read-back says so."""

    @attrs.frozen(repr=False)
    class Forgetful(StripeGateway):
        def update_portal_configuration(
            self, configuration, params, *, idempotency_key=None
        ):
            return self.retrieve_portal_configuration(configuration)

    dashboard_default(fake)
    config = parse_portal_config(FILE)
    with pytest.raises(
        PortalConfigApplyError, match="still differs from the file"
    ) as caught:
        apply_portal_config(Forgetful(client), config)
    assert "default: features.subscription_cancel.enabled: false → true" in str(
        caught.value
    )


def test_each_write_carries_its_own_idempotency_key(fake):
    """Every write of an apply has a distinct cancelflow-config-… idempotency key."""
    counted, counter = counting_client(fake)
    dashboard_default(fake)
    counter.idempotency_keys.clear()
    apply_portal_config(counted, parse_portal_config(FILE))
    keys = counter.idempotency_keys
    assert len(keys) == len(counter.writes) == 4
    assert len(set(keys)) == 4
    assert all(k.startswith("cancelflow-config-") for k in keys)
    assert keys[0].endswith("-1-create-feedback-option")
    assert keys[3].endswith("-4-create-configuration")


def test_a_stale_plan_is_refused(fake, client):
    """A plan made before the account changed is not carried out."""
    dashboard_default(fake)
    config = parse_portal_config(FILE)
    plan = plan_portal_config(client, config)
    apply_portal_config(client, config)
    with pytest.raises(
        PortalConfigApplyError, match="changed since this plan was made"
    ):
        apply_portal_config(client, config, plan=plan)
    assert len(client.v1.billing_portal.configurations.list().data) == 2
    assert len(feedback_options(client)) == 2
