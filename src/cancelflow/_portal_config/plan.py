"""Compare a file with the account: which configuration is which, and what differs.

Matching. A declared configuration finds its Stripe configuration by the
metadata key ``cancelflow_config`` (``match="metadata"``, created when none
carries it), as the account's default configuration (``match="default"``), or
by id (``match="id"``). Every other configuration is *unmanaged*: listed, never
touched.

Comparing. Only what the file declares is compared (`diff`): a field the
file leaves out may be anything. Lists of Stripe's enum values are compared as
sets (Stripe's order on the page is its own), other lists in order.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from cancelflow._format import format_count, printable_json
from cancelflow._portal_config.files import PortalConfigFile
from cancelflow._portal_config.model import (
    FEEDBACK_OPTIONS_PATH,
    METADATA_KEY,
    ConfigMatch,
    PortalConfigSpec,
    account_data,
    declared_reason,
)
from cancelflow._stripe.feedback_option import FeedbackOption
from cancelflow._stripe.gateway import StripeGateway
from cancelflow._stripe.portal import PortalConfiguration
from cancelflow._toml import join
from cancelflow.exceptions import PortalConfigInvalidError, PortalConfigMatchError

__all__ = [
    "AccountState",
    "ConfigurationPlan",
    "FeedbackOptionPlan",
    "FieldChange",
    "PlanAction",
    "PortalConfigPlan",
    "diff",
    "find_configuration",
    "make_plan",
    "read_account",
]

_ABSENT: Final = object()
#: Lists of Stripe enum values: compared as sets.
_UNORDERED: Final = frozenset(
    {"options", "allowed_updates", "default_allowed_updates", "schedule_at_period_end"}
)


class PlanAction(enum.StrEnum):
    """What a plan does to one configuration or feedback option."""

    CREATE = "create"
    UPDATE = "update"
    NONE = "none"
    DEACTIVATE = "deactivate"


def show(value: object) -> str:
    """A value as the plan prints it: JSON, with control and bidi characters
    escaped (text from the account must not drive the terminal); ``None`` is
    ``(none)``."""
    return "(none)" if value is None else printable_json(value)


@attrs.frozen
class FieldChange:
    """One declared field whose value in the account differs from the file's.

    Attributes:
        path: the key path in the configuration's table
            (``features.subscription_cancel.mode``).
        old: the account's value (plain data), or ``None`` if absent.
        new: the file's value, or ``None`` for a metadata key it removes.
    """

    path: str
    old: Any
    new: Any

    def describe(self) -> str:
        """The change as one line.

        Returns:
            ``path: old → new``, values as JSON (``(none)`` when absent).
        """
        return f"{self.path}: {show(self.old)} → {show(self.new)}"


@attrs.frozen(kw_only=True)
class ConfigurationPlan:
    """What the plan does to one declared configuration.

    Attributes:
        key: its key in the file.
        match: how it was matched.
        action: ``create``, ``update`` or ``none`` (in step).
        configuration_id: the matched ``bpc_…`` id (``None`` when created).
        is_default: whether it is the account's default configuration.
        changes: the declared fields that differ (all of them for a create).
        spec: the declaration.
    """

    key: str
    match: ConfigMatch
    action: PlanAction
    configuration_id: str | None
    is_default: bool = False
    changes: tuple[FieldChange, ...] = ()
    spec: PortalConfigSpec = attrs.field(repr=False)

    def title(self) -> str:
        """The configuration's name in a rendered plan.

        Returns:
            ``"key" (bpc_…, the account's default)``, as much of it as is known.
        """
        facts = [self.configuration_id] if self.configuration_id else []
        if self.is_default:
            facts.append("the account's default")
        inner = f" ({', '.join(facts)})" if facts else ""
        return f"{show(self.key)}{inner}"


@attrs.frozen(kw_only=True)
class FeedbackOptionPlan:
    """A custom feedback option the plan creates or deactivates.

    Attributes:
        label: its description.
        action: ``create`` or ``deactivate``.
        option_id: the option's id (``None`` for one to create).
        key_path: where the file declares it (for a create).
    """

    label: str
    action: PlanAction
    option_id: str | None = None
    key_path: str | None = None


@attrs.frozen(kw_only=True)
class PortalConfigPlan:
    """The difference between a file and the account, and what apply would do.

    Attributes:
        configurations: one entry per declared configuration, in file order.
        feedback_options: feedback options to create, then to deactivate.
        unmanaged: configurations the file does not manage (left alone), as
            ``bpc_… (what they are)``.
        feedback_ids: the id of each declared label that already exists.
    """

    configurations: tuple[ConfigurationPlan, ...]
    feedback_options: tuple[FeedbackOptionPlan, ...] = ()
    unmanaged: tuple[str, ...] = ()
    feedback_ids: Mapping[str, str] = attrs.field(factory=dict, repr=False)

    @property
    def in_step(self) -> bool:
        """``True`` when the account is what the file declares: nothing to do."""
        return not self.feedback_options and all(
            c.action is PlanAction.NONE for c in self.configurations
        )

    def counts(self) -> dict[str, int]:
        """How many configurations and feedback options each action concerns.

        Returns:
            ``create``, ``update`` and ``in_step`` (configurations),
            ``create_feedback_option`` and ``deactivate_feedback_option``.
        """
        return {
            "create": sum(c.action is PlanAction.CREATE for c in self.configurations),
            "update": sum(c.action is PlanAction.UPDATE for c in self.configurations),
            "in_step": sum(c.action is PlanAction.NONE for c in self.configurations),
            "create_feedback_option": sum(
                f.action is PlanAction.CREATE for f in self.feedback_options
            ),
            "deactivate_feedback_option": sum(
                f.action is PlanAction.DEACTIVATE for f in self.feedback_options
            ),
        }

    def summary(self) -> str:
        """What apply would do, in one line.

        Returns:
            ``Plan: configurations 1 to create, …`` or ``In step: …``.
        """
        n = self.counts()
        if self.in_step:
            return (
                "In step: the account matches the file "
                f"({format_count(n['in_step'], 'configuration')})."
            )
        parts = [
            f"{n['create']} to create",
            f"{n['update']} to update",
            f"{n['in_step']} in step",
        ]
        line = f"Plan: configurations {', '.join(parts)}"
        fo = [
            f"{n['create_feedback_option']} to create"
            if n["create_feedback_option"]
            else "",
            f"{n['deactivate_feedback_option']} to deactivate"
            if n["deactivate_feedback_option"]
            else "",
        ]
        fo = [f for f in fo if f]
        if fo:
            line += f"; feedback options {', '.join(fo)}"
        return line + "."

    def render(self) -> str:
        """The plan as text, for a person to review.

        One block per configuration (``+`` create, ``~`` update, ``=`` in step) with
        its changes (``key.path: old → new``), the feedback options created (``+``)
        or deactivated (``-``), the configurations left alone, and the summary.
        Text from the account is escaped, so it cannot drive a terminal.

        Returns:
            The lines, joined.
        """
        lines: list[str] = []
        for config in self.configurations:
            if config.action is PlanAction.CREATE:
                lines.append(f"+ configuration {config.title()}: create")
            elif config.action is PlanAction.UPDATE:
                lines.append(f"~ configuration {config.title()}: update")
            else:
                lines.append(f"= configuration {config.title()}: in step")
            lines += [f"    {change.describe()}" for change in config.changes]
        for option in self.feedback_options:
            if option.action is PlanAction.CREATE:
                lines.append(f"+ feedback option {show(option.label)}: create")
            else:
                lines.append(
                    f"- feedback option {show(option.label)} ({option.option_id}): "
                    "deactivate (no configuration offers it any more)"
                )
        if self.unmanaged:
            lines.append(f"  left alone (not in the file): {', '.join(self.unmanaged)}")
        lines.append(self.summary())
        return "\n".join(lines)


@attrs.frozen
class AccountState:
    """The account's portal configurations and feedback options, as read.

    Attributes:
        configurations: every portal configuration.
        feedback_options: every feedback option, active or not.
    """

    configurations: tuple[PortalConfiguration, ...]
    feedback_options: tuple[FeedbackOption, ...] = ()

    def labels(self) -> dict[str, str]:
        """The label of each feedback option id; a deactivated one is marked so
        that the plan shows it as different from an active one."""
        return {
            o.id: o.description if o.active else f"{o.description} (deactivated)"
            for o in self.feedback_options
        }


def read_account(gateway: StripeGateway) -> AccountState:
    """List every portal configuration and feedback option (two requests a page)."""
    return AccountState(
        tuple(gateway.list_portal_configurations()),
        tuple(gateway.list_feedback_options()),
    )


# -- comparing ----------------------------------------------------------------------------


def _same(key: str, want: Any, have: Any) -> bool:
    if have is _ABSENT:
        return False
    if isinstance(want, list) and isinstance(have, list):
        if (want and isinstance(want[0], dict)) or (have and isinstance(have[0], dict)):
            return len(want) == len(have) and all(
                isinstance(w, dict) and isinstance(h, dict) and not diff(w, h)
                for w, h in zip(want, have, strict=True)
            )
        if key in _UNORDERED:
            return sorted(map(str, want)) == sorted(map(str, have))
    return bool(want == have)


def diff(
    declared: Mapping[str, Any], actual: Mapping[str, Any], path: str = ""
) -> list[FieldChange]:
    """The declared fields whose value in *actual* differs, depth first.

    Only the keys of *declared* are compared. In the top-level ``metadata``,
    a declared value ``""`` means the key must be absent.
    """
    out: list[FieldChange] = []
    for key, want in declared.items():
        where = join(path, key)
        have = actual.get(key, _ABSENT)
        if key == "metadata" and not path:
            current = have if isinstance(have, Mapping) else {}
            for name, value in want.items():
                now = current.get(name)
                if value == "":
                    if now is not None:
                        out.append(FieldChange(join(where, name), now, None))
                elif now != value:
                    out.append(FieldChange(join(where, name), now, value))
        elif isinstance(want, Mapping):
            out += diff(want, have if isinstance(have, Mapping) else {}, where)
        elif not _same(key, want, have):
            out.append(FieldChange(where, None if have is _ABSENT else have, want))
    return out


def _has_leaf(data: Mapping[str, Any]) -> bool:
    """Whether *data* sets any value (empty tables set nothing)."""
    return any(
        _has_leaf(value) if isinstance(value, Mapping) else True
        for value in data.values()
    )


def _leaves(declared: Mapping[str, Any], path: str = "") -> list[FieldChange]:
    """Every declared leaf, as a change from nothing (what a create sets)."""
    out: list[FieldChange] = []
    for key, value in declared.items():
        where = join(path, key)
        if isinstance(value, Mapping) and value and key != "metadata":
            out += _leaves(value, where)
        elif key == "metadata" and not path:
            out += [FieldChange(join(where, k), None, v) for k, v in value.items() if v]
        else:
            out.append(FieldChange(where, None, value))
    return out


# -- matching ---------------------------------------------------------------------------


def _tag(config: PortalConfiguration) -> str | None:
    return config.metadata.get(METADATA_KEY)


def find_configuration(
    spec: PortalConfigSpec, configurations: Iterable[PortalConfiguration]
) -> PortalConfiguration | None:
    """The account's configuration *spec* manages, or ``None`` (one to create).

    Raises:
        PortalConfigMatchError: two configurations carry the key, the account
            has no default configuration, or no configuration has the id.
    """
    where = join("configurations", spec.key)
    configs = list(configurations)
    if spec.match is ConfigMatch.DEFAULT:
        found = [c for c in configs if c.is_default]
        if not found:
            raise PortalConfigMatchError(
                "the account has no default portal configuration, and the API cannot "
                "create one: save the portal settings once in the Dashboard "
                '(Settings → Billing → Customer portal), or use match = "metadata"',
                key_path=where,
            )
        return found[0]
    if spec.match is ConfigMatch.ID:
        found = [c for c in configs if c.id == spec.id]
        if not found:
            raise PortalConfigMatchError(
                f"the account has no configuration {spec.id} (ids differ between "
                "accounts and between test and live mode)",
                key_path=join(where, "id"),
            )
        return found[0]
    found = [c for c in configs if _tag(c) == spec.key]
    if len(found) > 1:
        ids = ", ".join(c.id for c in found)
        raise PortalConfigMatchError(
            f"{len(found)} configurations carry {METADATA_KEY} = {show(spec.key)} "
            f"({ids}); remove the key from all but one",
            key_path=where,
        )
    return found[0] if found else None


def _describe_unmanaged(config: PortalConfiguration) -> str:
    facts = []
    if config.is_default:
        facts.append("the default")
    if not config.active:
        facts.append("inactive")
    tag = _tag(config)
    if tag is not None:
        facts.append(f"{METADATA_KEY} = {show(tag)}")
    if config.name:
        facts.append(f"name {show(config.name)}")
    return f"{config.id} ({', '.join(facts)})" if facts else config.id


def _referenced(config: PortalConfiguration) -> list[str]:
    data = account_data(config.raw, {})
    reason = (
        data.get("features", {})
        .get("subscription_cancel", {})
        .get("cancellation_reason", {})
    )
    return list(reason.get("feedback_options", []))


def _declares_feedback(spec: PortalConfigSpec) -> bool:
    reason = declared_reason(spec)
    return reason is not None and reason.feedback_options is not None


def _label_paths(config: PortalConfigFile) -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in config:
        base = f"{join('configurations', spec.key)}.{FEEDBACK_OPTIONS_PATH}"
        for n, label in enumerate(spec.feedback_labels()):
            out.setdefault(label, join(base, n))
    return out


def _choose_options(
    labels: Sequence[str], state: AccountState, in_use: set[str]
) -> dict[str, str]:
    """The existing active option for each label: one a configuration already
    offers, else the oldest (Stripe lists the newest first)."""
    chosen: dict[str, str] = {}
    for label in labels:
        candidates = [
            o for o in state.feedback_options if o.active and o.description == label
        ]
        if not candidates:
            continue
        used = [o for o in candidates if o.id in in_use]
        chosen[label] = (used or candidates[::-1])[0].id
    return chosen


def make_plan(config: PortalConfigFile, state: AccountState) -> PortalConfigPlan:
    """The plan that makes *state* what *config* declares (pure: no request).

    Raises:
        PortalConfigMatchError: the account cannot be matched to the file.
        PortalConfigInvalidError: a configuration to create declares no
            ``features`` (Stripe requires them on create).
    """
    given: object = config
    if not isinstance(given, PortalConfigFile):
        raise PortalConfigInvalidError(
            f"expected a PortalConfigFile, got a {type(given).__name__}"
        )
    labels = state.labels()
    matched: dict[str, PortalConfiguration | None] = {}
    owner: dict[str, str] = {}
    for spec in config:
        found = find_configuration(spec, state.configurations)
        if found is not None:
            if found.id in owner:
                raise PortalConfigMatchError(
                    f"{found.id} is already managed as {show(owner[found.id])}; a "
                    "configuration can be managed once",
                    key_path=join("configurations", spec.key),
                )
            owner[found.id] = spec.key
        matched[spec.key] = found

    # Feedback options: find or create the declared labels; deactivate those a
    # managed configuration stops offering, unless another one still offers them.
    referenced = {c.id: _referenced(c) for c in state.configurations}
    in_use = {i for ids in referenced.values() for i in ids}
    wanted: list[str] = []
    for spec in config:
        for label in spec.feedback_labels():
            if label not in wanted:
                wanted.append(label)
    ids = _choose_options(wanted, state, in_use)
    paths = _label_paths(config)
    options: list[FeedbackOptionPlan] = [
        FeedbackOptionPlan(
            label=label,
            action=PlanAction.CREATE,
            key_path=paths.get(label),
        )
        for label in wanted
        if label not in ids
    ]
    dropped: set[str] = set()
    kept: set[str] = set(ids.values())
    managed_ids = {c.id for c in matched.values() if c is not None}
    for spec in config:
        found = matched[spec.key]
        if found is None:
            continue
        if _declares_feedback(spec):
            dropped.update(referenced[found.id])
        else:
            kept.update(referenced[found.id])
    for c in state.configurations:
        if c.id not in managed_ids:
            kept.update(referenced[c.id])
    by_id = {o.id: o for o in state.feedback_options}
    for option_id in sorted(dropped - kept):
        option = by_id.get(option_id)
        if option is not None and option.active:
            options.append(
                FeedbackOptionPlan(
                    label=option.description,
                    action=PlanAction.DEACTIVATE,
                    option_id=option_id,
                )
            )

    plans: list[ConfigurationPlan] = []
    for spec in config:
        found = matched[spec.key]
        declared = spec.declared()
        if found is None:
            if not _has_leaf(declared.get("features", {})):
                raise PortalConfigInvalidError(
                    f"required to create this configuration (no configuration in the "
                    f"account carries {METADATA_KEY} = {show(spec.key)}): declare at "
                    "least one feature",
                    key_path=join(join("configurations", spec.key), "features"),
                )
            plans.append(
                ConfigurationPlan(
                    key=spec.key,
                    match=spec.match,
                    action=PlanAction.CREATE,
                    configuration_id=None,
                    changes=tuple(_leaves(declared)),
                    spec=spec,
                )
            )
            continue
        changes = diff(declared, account_data(found.raw, labels))
        plans.append(
            ConfigurationPlan(
                key=spec.key,
                match=spec.match,
                action=PlanAction.UPDATE if changes else PlanAction.NONE,
                configuration_id=found.id,
                is_default=found.is_default,
                changes=tuple(changes),
                spec=spec,
            )
        )
    unmanaged = tuple(
        _describe_unmanaged(c) for c in state.configurations if c.id not in managed_ids
    )
    return PortalConfigPlan(
        configurations=tuple(plans),
        feedback_options=tuple(options),
        unmanaged=unmanaged,
        feedback_ids=ids,
    )
