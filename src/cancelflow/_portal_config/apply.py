"""Plan, apply and export portal configurations through the gateway.

Apply runs a plan in a fixed order — create the missing feedback options,
create or update the configurations, deactivate the feedback options no
configuration offers any more — then reads the account back and plans again:
anything left is drift, and an error. A plan with nothing to do makes no write
request.

Every write carries its own idempotency key (``cancelflow-config-RUN-N-WHAT``:
one run id per apply, one number per write), so that stripe-python's retries
of a write never apply it twice, and the keys show in Stripe's request logs.
A new apply uses new keys on purpose: it plans again from what the account
holds, and finds what an interrupted apply made (configurations by their
metadata key, feedback options by their label) instead of making it twice. A
key derived from the content alone would instead replay a stale answer when
someone reverts the account to an earlier state within Stripe's 24 hours.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from cancelflow._format import format_count
from cancelflow._portal_config.files import PortalConfigFile
from cancelflow._portal_config.model import (
    KEY_PATTERN,
    METADATA_KEY,
    ConfigMatch,
    PortalConfigSpec,
)
from cancelflow._portal_config.plan import (
    AccountState,
    ConfigurationPlan,
    PlanAction,
    PortalConfigPlan,
    make_plan,
    read_account,
    show,
)
from cancelflow._stripe.gateway import StripeGateway
from cancelflow._stripe.portal import PortalConfiguration
from cancelflow._toml import join
from cancelflow.exceptions import (
    PortalConfigApplyError,
    PortalConfigInvalidError,
    PortalConfigMatchError,
    StripeAPIError,
)

if TYPE_CHECKING:
    import stripe

__all__ = [
    "ApplyResult",
    "apply_portal_config",
    "export_portal_config",
    "plan_portal_config",
]

#: Keys of a node that Stripe needs whenever the node is sent.
_REQUIRED_SIBLINGS: Final = ("enabled", "type")
_PARAM_PART: Final = re.compile(r"[^\[\]]+")


def as_gateway(client: stripe.StripeClient | StripeGateway) -> StripeGateway:
    """*client* as a `StripeGateway`."""
    return client if isinstance(client, StripeGateway) else StripeGateway(client)


def _check_file(config: object) -> PortalConfigFile:
    if isinstance(config, PortalConfigFile):
        return config
    raise PortalConfigInvalidError(
        f"expected a PortalConfigFile (load_portal_config, parse_portal_config), got "
        f"a {type(config).__name__}"
    )


def plan_portal_config(
    client: stripe.StripeClient | StripeGateway, config: PortalConfigFile
) -> PortalConfigPlan:
    """Compare *config* with the account: what differs, and what apply would do.

    Reads every portal configuration and feedback option (no write).

    Args:
        client: a ``stripe.StripeClient`` (or a [`StripeGateway`][cancelflow.StripeGateway]).
        config: the declared configurations.

    Returns:
        The plan; ``plan.in_step`` is ``True`` when there is nothing to do,
        ``plan.render()`` is the readable diff.

    Raises:
        PortalConfigMatchError: the account cannot be matched to the file.
        PortalConfigInvalidError: a configuration to create declares no features.
        StripeAPIError: Stripe answered with an error.

    Example:
        ```python
        from cancelflow import parse_portal_config, plan_portal_config
        from cancelflow.testing import FakeStripe

        config = parse_portal_config('''
        [configurations.cancel-page.features.subscription_cancel]
        enabled = true
        ''')
        plan = plan_portal_config(FakeStripe().client(), config)
        assert not plan.in_step
        assert plan.configurations[0].action == "create"
        ```
    """
    checked = _check_file(config)
    return make_plan(checked, read_account(as_gateway(client)))


@attrs.frozen(kw_only=True)
class ApplyResult:
    """What an apply did.

    Attributes:
        plan: the plan it carried out.
        applied: one line per write made, in order (empty for a no-op).
        configuration_ids: the ``bpc_…`` id of each declared configuration.
    """

    plan: PortalConfigPlan
    applied: tuple[str, ...] = ()
    configuration_ids: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def writes(self) -> int:
        """How many write requests it made."""
        return len(self.applied)


def _configuration_ids(plan: PortalConfigPlan) -> dict[str, str]:
    """The ``bpc_…`` id of each configuration *plan* matched, by key."""
    return {
        c.key: c.configuration_id for c in plan.configurations if c.configuration_id
    }


def _covered(path: str, changed: set[str]) -> bool:
    return any(
        c == path or c.startswith((f"{path}.", f"{path}[")) or path.startswith(f"{c}.")
        for c in changed
    )


def _prune(
    params: Mapping[str, Any], changed: set[str], path: str = ""
) -> dict[str, Any]:
    """Only the parts of *params* that carry a change (plus the keys Stripe
    requires beside them), so that an update never resends what is in step."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        where = join(path, key)
        if not _covered(where, changed):
            continue
        if isinstance(value, Mapping) and where not in changed and key != "metadata":
            out[key] = _prune(value, changed, where)
        elif key == "metadata" and not path:
            out[key] = {k: v for k, v in value.items() if join(where, k) in changed}
        else:
            out[key] = value
    if out:
        for key in _REQUIRED_SIBLINGS:
            if key in params and key not in out:
                out[key] = params[key]
    return out


def _param_path(base: str, param: str | None) -> str:
    """Stripe's ``features[subscription_cancel][mode]`` as a file's key path."""
    if not param:
        return base
    path = base
    for part in _PARAM_PART.findall(param):
        path = join(path, int(part) if part.isdigit() else part)
    return path


class _Run:
    """One apply: the writes made so far, for the report of a failure."""

    def __init__(self, gateway: StripeGateway, plan: PortalConfigPlan) -> None:
        self.gateway = gateway
        self.plan = plan
        self.run_id = uuid.uuid4().hex[:16]
        self.applied: list[str] = []
        self.steps: list[str] = [_step_line(s) for s in _steps(plan)]
        self.ids = dict(plan.feedback_ids)

    def key(self, what: str) -> str:
        """The idempotency key of the next write."""
        return f"cancelflow-config-{self.run_id}-{len(self.applied) + 1}-{what}"

    def done(self, line: str) -> None:
        self.applied.append(line)

    def fail(
        self, err: StripeAPIError, what: str, key_path: str
    ) -> PortalConfigApplyError:
        not_applied = tuple(self.steps[len(self.applied) :])
        applied = tuple(self.applied)
        done = "; ".join(applied) or "nothing"
        todo = "; ".join(not_applied)
        return PortalConfigApplyError(
            f"{what} failed: {err} Applied: {done}. Not applied: {todo}. Fix the "
            "cause and apply again: it plans again from what is there.",
            key_path=key_path,
            applied=applied,
            not_applied=not_applied,
        )

    # -- the steps ----------------------------------------------------------------------

    def create_options(self) -> None:
        for option in self.plan.feedback_options:
            if option.action is not PlanAction.CREATE:
                continue
            what = f"creating feedback option {show(option.label)}"
            try:
                made = self.gateway.create_feedback_option(
                    option.label,
                    idempotency_key=self.key("create-feedback-option"),
                )
            except StripeAPIError as err:
                raise self.fail(err, what, option.key_path or "") from err
            self.ids[option.label] = made.id
            self.done(f"created feedback option {show(option.label)} ({made.id})")

    def write_configurations(self) -> None:
        for config in self.plan.configurations:
            if config.action is PlanAction.CREATE:
                self._create(config)
            elif config.action is PlanAction.UPDATE:
                self._update(config)

    def _create(self, config: ConfigurationPlan) -> None:
        base = join("configurations", config.key)
        params = config.spec.to_params(self.ids, create=True)
        what = f"creating configuration {show(config.key)}"
        try:
            made = self.gateway.create_portal_configuration(
                params,  # type: ignore[arg-type]
                idempotency_key=self.key("create-configuration"),
            )
        except StripeAPIError as err:
            raise self.fail(err, what, _param_path(base, err.param)) from err
        self.done(f"created configuration {show(config.key)} ({made.id})")
        if config.spec.active is False:
            # Stripe creates configurations active; deactivating is an update.
            try:
                self.gateway.update_portal_configuration(
                    made.id,
                    {"active": False},
                    idempotency_key=self.key("deactivate-configuration"),
                )
            except StripeAPIError as err:
                raise self.fail(
                    err, f"deactivating {made.id}", join(base, "active")
                ) from err
            self.done(f"deactivated configuration {show(config.key)} ({made.id})")

    def _update(self, config: ConfigurationPlan) -> None:
        assert config.configuration_id is not None  # matched
        base = join("configurations", config.key)
        changed = {c.path for c in config.changes}
        params = _prune(config.spec.to_params(self.ids), changed)
        what = f"updating configuration {show(config.key)} ({config.configuration_id})"
        try:
            self.gateway.update_portal_configuration(
                config.configuration_id,
                params,  # type: ignore[arg-type]
                idempotency_key=self.key("update-configuration"),
            )
        except StripeAPIError as err:
            raise self.fail(err, what, _param_path(base, err.param)) from err
        self.done(
            f"updated configuration {show(config.key)} ({config.configuration_id}): "
            f"{format_count(len(config.changes), 'change')}"
        )

    def deactivate_options(self) -> None:
        for option in self.plan.feedback_options:
            if option.action is not PlanAction.DEACTIVATE:
                continue
            assert option.option_id is not None  # an existing option
            what = f"deactivating feedback option {show(option.label)} ({option.option_id})"
            try:
                self.gateway.deactivate_feedback_option(
                    option.option_id,
                    idempotency_key=self.key("deactivate-feedback-option"),
                )
            except StripeAPIError as err:
                raise self.fail(err, what, "") from err
            self.done(
                f"deactivated feedback option {show(option.label)} ({option.option_id})"
            )


def _steps(plan: PortalConfigPlan) -> list[Any]:
    options = list(plan.feedback_options)
    steps: list[Any] = [o for o in options if o.action is PlanAction.CREATE]
    for config in plan.configurations:
        if config.action is PlanAction.CREATE:
            steps.append(config)
            if config.spec.active is False:
                steps.append(("deactivate", config))
        elif config.action is PlanAction.UPDATE:
            steps.append(config)
    steps += [o for o in options if o.action is PlanAction.DEACTIVATE]
    return steps


def _step_line(step: Any) -> str:
    if isinstance(step, tuple):
        return f"deactivate configuration {show(step[1].key)}"
    if isinstance(step, ConfigurationPlan):
        if step.action is PlanAction.CREATE:
            return f"create configuration {show(step.key)}"
        return f"update configuration {show(step.key)} ({step.configuration_id})"
    if step.action is PlanAction.CREATE:
        return f"create feedback option {show(step.label)}"
    return f"deactivate feedback option {show(step.label)} ({step.option_id})"


def apply_portal_config(
    client: stripe.StripeClient | StripeGateway,
    config: PortalConfigFile,
    *,
    plan: PortalConfigPlan | None = None,
) -> ApplyResult:
    """Make the account what *config* declares, then check that it is.

    Creates the missing feedback options, creates or updates the
    configurations (sending only what differs), deactivates the feedback
    options no configuration offers any more, reads everything back and plans
    again. A plan with nothing to do makes no write request.

    Args:
        client: a ``stripe.StripeClient`` (or a [`StripeGateway`][cancelflow.StripeGateway]).
        config: the declared configurations.
        plan: the plan to carry out (one shown to a person, say); planned
            afresh when ``None``. The account is read again first, and a plan
            that no longer matches it is refused.

    Returns:
        What was done, and the id of each declared configuration.

    Raises:
        PortalConfigApplyError: Stripe refused a write (``key_path`` names the
            key it concerns; ``applied`` and ``not_applied`` say what was done),
            the account still differs from the file afterwards, or *plan* is
            stale.
        PortalConfigMatchError: the account cannot be matched to the file.
        StripeAPIError: reading the account failed.

    Example:
        ```python
        from cancelflow import apply_portal_config, parse_portal_config
        from cancelflow.testing import FakeStripe

        client = FakeStripe().client()
        config = parse_portal_config('''
        [configurations.cancel-page.features.subscription_cancel]
        enabled = true
        ''')
        first = apply_portal_config(client, config)
        assert first.writes == 1
        assert apply_portal_config(client, config).writes == 0
        ```
    """
    checked = _check_file(config)
    gateway = as_gateway(client)
    if plan is None:
        plan = make_plan(checked, read_account(gateway))
    elif not plan.in_step:
        fresh = make_plan(checked, read_account(gateway))
        if fresh.render() != plan.render():
            raise PortalConfigApplyError(
                "the account changed since this plan was made (or the plan is for "
                "another file); nothing was applied: plan again"
            )
    if plan.in_step:
        return ApplyResult(plan=plan, configuration_ids=_configuration_ids(plan))
    run = _Run(gateway, plan)
    run.create_options()
    run.write_configurations()
    run.deactivate_options()
    after = make_plan(checked, read_account(gateway))
    if not after.in_step:
        left = "; ".join(
            [
                f"{c.key}: {ch.describe()}"
                for c in after.configurations
                for ch in c.changes
            ]
            + [
                f"feedback option {show(f.label)}: {f.action}"
                for f in after.feedback_options
            ]
        )
        raise PortalConfigApplyError(
            f"the account still differs from the file after the apply: {left}. Stripe "
            "may have changed or refused a value silently; plan again to see it.",
            applied=tuple(run.applied),
        )
    return ApplyResult(
        plan=plan,
        applied=tuple(run.applied),
        configuration_ids=_configuration_ids(after),
    )


def _export_key(
    config: PortalConfiguration, taken: set[str]
) -> tuple[str, ConfigMatch]:
    tag = config.metadata.get(METADATA_KEY)
    if tag and tag not in taken and KEY_PATTERN.fullmatch(tag):
        return tag, ConfigMatch.METADATA
    if config.is_default and "default" not in taken:
        return "default", ConfigMatch.DEFAULT
    return config.id, ConfigMatch.ID


def export_portal_config(
    client: stripe.StripeClient | StripeGateway,
    *,
    configuration: str | None = None,
) -> PortalConfigFile:
    """The account's configurations (or one) as a file that plans in step.

    Each configuration declares every field it has. One that carries the
    ``cancelflow_config`` key keeps it (``match="metadata"``); the default
    configuration is ``default`` (``match="default"``); any other is matched by
    its id (``match="id"``, which ties the file to this account and mode).

    Args:
        client: a ``stripe.StripeClient`` (or a [`StripeGateway`][cancelflow.StripeGateway]).
        configuration: only this one: a ``bpc_…`` id, or a key.

    Returns:
        The declarations, in the account's order.

    Raises:
        PortalConfigMatchError: *configuration* is not in the account.
        StripeAPIError: Stripe answered with an error.

    Example:
        ```python
        from cancelflow import export_portal_config, plan_portal_config
        from cancelflow.testing import FakeStripe

        fake = FakeStripe()
        fake.dashboard.save_portal_settings(
            features={"subscription_cancel": {"enabled": True}}
        )
        exported = export_portal_config(fake.client())
        assert exported.keys() == ("default",)
        assert plan_portal_config(fake.client(), exported).in_step
        ```
    """
    state: AccountState = read_account(as_gateway(client))
    labels = state.labels()
    taken: set[str] = set()
    specs: list[PortalConfigSpec] = []
    # Tagged configurations first, so that their keys are theirs.
    ordered = sorted(
        state.configurations,
        key=lambda c: (METADATA_KEY not in c.metadata, not c.is_default),
    )
    keys: dict[str, tuple[str, ConfigMatch]] = {}
    for found in ordered:
        keys[found.id] = _export_key(found, taken)
        taken.add(keys[found.id][0])
    for found in state.configurations:
        key, match = keys[found.id]
        if configuration is not None and configuration not in (found.id, key):
            continue
        specs.append(
            PortalConfigSpec.from_stripe(
                found.raw, feedback_labels=labels, key=key, match=match
            )
        )
    if configuration is not None and not specs:
        raise PortalConfigMatchError(
            f"the account has no configuration {show(configuration)[:80]}",
            key_path="configuration",
        )
    return PortalConfigFile(specs)
