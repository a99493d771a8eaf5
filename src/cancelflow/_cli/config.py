"""``cancelflow config``: the portal configuration kept in a file, planned and applied.

Registered in :data:`cancelflow._cli.main.COMMANDS`. Heavy imports stay inside
the handlers, so ``cancelflow --help`` stays fast.

Exit codes: 0 done (or, with ``apply --check``, the account is in step with
the file); 1 an error (an invalid file, an account that cannot be matched, a
refusal from Stripe, an apply that stopped part-way); 2 a usage error, no
``STRIPE_API_KEY``, an apply that needs ``--yes`` and was not confirmed, or —
with ``apply --check`` — an account that has drifted from the file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cancelflow._cli.main import UsageError, add_group, is_terminal, writing
from cancelflow._format import format_count

if TYPE_CHECKING:
    from cancelflow._cli.main import Context
    from cancelflow._portal_config.files import PortalConfigFile

__all__ = ["EXIT_DRIFT", "register"]

#: ``cancelflow config apply FILE --check``: the account differs from the file.
EXIT_DRIFT: Final = 2
_NO_KEY: Final = "run `cancelflow config validate FILE` to check a file without Stripe"


def register(subparsers: Any, name: str) -> None:
    """Add ``cancelflow config`` (``show``, ``export``, ``validate``, ``plan``, ``apply``)."""
    commands = add_group(
        subparsers,
        name,
        help="keep the customer portal's configuration in a file: plan, apply, drift",
        description="Portal configuration as code: export the account's portal "
        "configurations to a TOML file, plan the difference between a file and the "
        "account, apply it, and check for drift in CI. Needs STRIPE_API_KEY (except "
        "validate). Format: docs/how-to/portal-config-as-code.md. Exit codes: 0 done "
        "(or in step), 1 error, 2 usage error or (apply --check) drift.",
    )

    show = commands.add_parser(
        "show",
        help="list the account's portal configurations",
        description="List every portal configuration of the account: id, default, "
        "active, name, the key cancelflow manages it by, and its cancel page.",
    )
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)

    export = commands.add_parser(
        "export",
        help="write the account's configurations as a TOML file",
        description="Write the account's portal configurations (or one) as a TOML "
        "file that plans in step: the way to start from what was set in the Dashboard.",
    )
    export.add_argument(
        "--output", metavar="FILE", help="write to FILE instead of standard output"
    )
    export.add_argument(
        "--configuration",
        metavar="ID_OR_KEY",
        help="only this configuration (a bpc_… id, or a key)",
    )
    export.set_defaults(handler=_export)

    validate = commands.add_parser(
        "validate",
        help="check a file against Stripe's rules, without Stripe",
        description="Read a portal configuration file (TOML, or Python defining "
        "PORTAL_CONFIG) and check it against Stripe's rules; no key, no network.",
    )
    validate.add_argument("file", help="the portal configuration file")
    validate.set_defaults(handler=_validate)

    plan = commands.add_parser(
        "plan",
        help="show what apply would change",
        description="Compare the file with the account and print the difference: "
        "key path, old → new, configurations created, feedback options created or "
        "deactivated. Writes nothing.",
    )
    plan.add_argument("file", help="the portal configuration file")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(handler=_plan)

    apply = commands.add_parser(
        "apply",
        help="make the account what the file declares (or --check for drift)",
        description="Plan, then create or update the configurations and feedback "
        "options, then read the account back. Asks for confirmation unless --yes. "
        "With --check, writes nothing and exits 2 if the account has drifted from "
        "the file, 0 if it is in step (for CI).",
    )
    apply.add_argument("file", help="the portal configuration file")
    mode = apply.add_mutually_exclusive_group()
    mode.add_argument("--yes", action="store_true", help="apply without asking")
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 2 on drift, 0 when in step",
    )
    apply.set_defaults(handler=_apply)


def _load(path: str) -> PortalConfigFile:
    from cancelflow._portal_config.files import load_portal_config

    return load_portal_config(path)


def _client(ctx: Context) -> Any:
    return ctx.stripe_client(otherwise=_NO_KEY)


# -- show and export ---------------------------------------------------------------------


def _show(args: argparse.Namespace, ctx: Context) -> int:
    from cancelflow._portal_config.model import METADATA_KEY, account_data
    from cancelflow._portal_config.plan import read_account, show
    from cancelflow._stripe.gateway import StripeGateway

    state = read_account(StripeGateway(_client(ctx)))
    labels = state.labels()
    rows: list[dict[str, Any]] = []
    for config in state.configurations:
        data = account_data(config.raw, labels)
        cancel = data.get("features", {}).get("subscription_cancel", {})
        rows.append(
            {
                "id": config.id,
                "is_default": config.is_default,
                "active": config.active,
                "name": config.name,
                "managed_as": config.metadata.get(METADATA_KEY),
                "subscription_cancel": cancel,
            }
        )
    out = ctx.stdout
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=out)
        return 0
    if not rows:
        print("No portal configuration in this account.", file=out)
        return 0
    for row in rows:
        facts = ["default" if row["is_default"] else ""]
        facts.append("active" if row["active"] else "inactive")
        if row["name"]:
            facts.append(f"name {show(row['name'])}")
        facts.append(
            f"managed as {show(row['managed_as'])}"
            if row["managed_as"]
            else "not managed by key"
        )
        print(f"{row['id']}  {' · '.join(f for f in facts if f)}", file=out)
        cancel = row["subscription_cancel"]
        if not cancel.get("enabled"):
            print("  cancel: disabled", file=out)
            continue
        line = (
            f"  cancel: {cancel.get('mode', '?')}, proration "
            f"{cancel.get('proration_behavior', '?')}"
        )
        reason = cancel.get("cancellation_reason", {})
        if reason.get("enabled"):
            answers = [*reason.get("options", [])]
            answers += [show(label) for label in reason.get("feedback_options", [])]
            line += f"; asks why: {', '.join(answers)}"
        print(line, file=out)
    return 0


def _export(args: argparse.Namespace, ctx: Context) -> int:
    from cancelflow._portal_config.apply import export_portal_config
    from cancelflow._portal_config.files import dump_portal_config

    exported = export_portal_config(_client(ctx), configuration=args.configuration)
    text = (
        "# Portal configurations exported by `cancelflow config export`.\n"
        "# Plan it with `cancelflow config plan FILE`; format:\n"
        "# docs/how-to/portal-config-as-code.md\n\n"
    ) + dump_portal_config(exported)
    if args.output is None:
        ctx.stdout.write(text)
        return 0
    with writing(args.output):
        Path(args.output).write_text(text, encoding="utf-8")
    print(
        f"wrote {format_count(len(exported), 'configuration')} to {args.output}",
        file=ctx.stderr,
    )
    return 0


# -- validate, plan and apply ------------------------------------------------------------


def _validate(args: argparse.Namespace, ctx: Context) -> int:
    config = _load(args.file)
    for spec in config:
        declared = spec.declared()
        features = ", ".join(declared.get("features", {})) or "no features"
        labels = spec.feedback_labels()
        extra = f"; {len(labels)} custom feedback option(s)" if labels else ""
        print(
            f"{spec.key} (match {spec.match.value}): {features}{extra}", file=ctx.stdout
        )
    print(
        f"{args.file}: valid, {format_count(len(config), 'configuration')}",
        file=ctx.stdout,
    )
    return 0


def _plan_data(plan: Any) -> dict[str, Any]:
    return {
        "in_step": plan.in_step,
        "configurations": [
            {
                "key": c.key,
                "match": c.match.value,
                "action": c.action.value,
                "configuration_id": c.configuration_id,
                "is_default": c.is_default,
                "changes": [
                    {"path": ch.path, "old": ch.old, "new": ch.new} for ch in c.changes
                ],
            }
            for c in plan.configurations
        ],
        "feedback_options": [
            {"label": f.label, "action": f.action.value, "option_id": f.option_id}
            for f in plan.feedback_options
        ],
        "unmanaged": list(plan.unmanaged),
        "counts": plan.counts(),
    }


def _plan(args: argparse.Namespace, ctx: Context) -> int:
    from cancelflow._portal_config.apply import plan_portal_config

    config = _load(args.file)
    plan = plan_portal_config(_client(ctx), config)
    if args.json:
        print(
            json.dumps(_plan_data(plan), indent=2, ensure_ascii=False), file=ctx.stdout
        )
    else:
        print(plan.render(), file=ctx.stdout)
    return 0


def _confirmed(ctx: Context) -> bool:
    if not is_terminal(ctx.stdin):
        raise UsageError(
            "apply needs confirmation and standard input is not a terminal; add --yes "
            "to apply without asking (or --check to only compare)"
        )
    print("Apply these changes? Type yes to apply: ", end="", file=ctx.stdout)
    ctx.stdout.flush()
    answer = ctx.stdin.readline()
    return answer.strip().lower() in ("yes", "y")


def _apply(args: argparse.Namespace, ctx: Context) -> int:
    from cancelflow._portal_config.apply import apply_portal_config, plan_portal_config

    config = _load(args.file)
    client = _client(ctx)
    plan = plan_portal_config(client, config)
    print(plan.render(), file=ctx.stdout)
    if args.check:
        if plan.in_step:
            return 0
        print(
            f"drift: the account differs from {args.file} "
            f"(exit {EXIT_DRIFT}; `cancelflow config apply {args.file}` fixes it)",
            file=ctx.stderr,
        )
        return EXIT_DRIFT
    if plan.in_step:
        return 0
    if not args.yes and not _confirmed(ctx):
        print("Nothing applied.", file=ctx.stdout)
        return 2
    result = apply_portal_config(client, config, plan=plan)
    for line in result.applied:
        print(f"  {line}", file=ctx.stdout)
    print(
        f"Applied: {format_count(result.writes, 'write')}; the account now matches "
        f"{args.file}.",
        file=ctx.stdout,
    )
    return 0
