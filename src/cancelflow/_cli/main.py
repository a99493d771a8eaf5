"""The ``cancelflow`` command line (stdlib ``argparse``).

Each subcommand is one entry of `COMMANDS`: a name and a function that
adds its parser to the subparsers and sets ``handler`` (a function of the parsed
arguments and a `Context`, returning the exit code). To add a
subcommand, write such a function (keep heavy imports inside the handler) and
append one line to `COMMANDS`.

Errors print one line on stderr and exit non-zero; no traceback reaches the
user. The API key comes from ``STRIPE_API_KEY`` and is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import TYPE_CHECKING, Any, Final, NoReturn, TextIO
from urllib.parse import urlsplit

from cancelflow.exceptions import CancelflowError, InvalidParameterError

if TYPE_CHECKING:
    import stripe

    from cancelflow._links.deeplink import AfterCompletion
    from cancelflow._links.urls import AllowedHosts

__all__ = [
    "COMMANDS",
    "Context",
    "add_group",
    "is_terminal",
    "main",
    "note_problems",
    "writing",
]

#: A secret (``sk_``) or restricted (``rk_``) key, test or live mode.
API_KEY_SHAPE: Final = re.compile(r"(?:sk|rk)_(?:test|live)_[0-9A-Za-z]{8,}\Z")

EX_SOFTWARE: Final = 70
EX_PIPE: Final = 128 + 13
"""Exit code when the reader of the output went away (``| head``), as for SIGPIPE."""


class Context:
    """What a subcommand handler may use besides its arguments."""

    __slots__ = ("environ", "make_client", "stderr", "stdin", "stdout")

    def __init__(
        self,
        *,
        stdout: TextIO,
        stderr: TextIO,
        environ: Mapping[str, str],
        make_client: Callable[[str], stripe.StripeClient],
        stdin: TextIO | None = None,
    ) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.environ = environ
        self.make_client = make_client
        #: Where a command reads an answer (``cancelflow config apply`` asks one).
        self.stdin = sys.stdin if stdin is None else stdin

    def stripe_client(self, *, otherwise: str = "use --dry-run") -> stripe.StripeClient:
        """A ``StripeClient`` for ``STRIPE_API_KEY``, or a clear error.

        *otherwise* tells what the command can do without a key.
        """
        key = self.environ.get("STRIPE_API_KEY", "").strip()
        if not key:
            raise UsageError(
                "STRIPE_API_KEY is not set; export a secret (sk_…) or restricted "
                f"(rk_…) key, or {otherwise}"
            )
        if not API_KEY_SHAPE.match(key):
            kind = "a publishable key (pk_…)" if key.startswith("pk_") else "not a key"
            raise UsageError(
                f"STRIPE_API_KEY is {kind}; portal sessions need a secret (sk_…) or "
                "restricted (rk_…) key"
            )
        return self.make_client(key)


class UsageError(Exception):
    """A problem with how the command was called (exit code 2).

    Internal to the command line, so not part of the ``CancelflowError`` tree.
    """


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _default_client(api_key: str) -> stripe.StripeClient:
    import stripe

    return stripe.StripeClient(api_key)


# -- cancelflow link -------------------------------------------------------------------


def _register_link(subparsers: Any, name: str) -> None:
    parser = subparsers.add_parser(
        name,
        help="create a deep link to a subscription's cancel page",
        description=(
            "Create a customer-portal session that opens on the cancel page of one "
            "subscription, after checking that the subscription is the customer's, "
            "still active and not already scheduled to cancel, and that the coupon "
            "(if any) fits it. Prints the URL. Needs STRIPE_API_KEY unless --dry-run."
        ),
    )
    parser.add_argument("--customer", required=True, help="the cus_… id")
    parser.add_argument("--subscription", required=True, help="the sub_… id")
    parser.add_argument("--coupon", help="a coupon id to offer as a retention offer")
    parser.add_argument("--return-url", help="link back to your site, shown all along")
    after = parser.add_mutually_exclusive_group()
    after.add_argument(
        "--redirect-to", metavar="URL", help="after cancelling, redirect to URL"
    )
    after.add_argument(
        "--hosted-message",
        metavar="TEXT",
        help="after cancelling, show Stripe's confirmation with TEXT (≤ 500 chars)",
    )
    after.add_argument(
        "--portal-homepage",
        action="store_true",
        help="after cancelling, show the portal's homepage",
    )
    parser.add_argument("--locale", help="one of Stripe's 47 portal locales, or auto")
    parser.add_argument("--configuration", help="a bpc_… portal configuration")
    parser.add_argument("--on-behalf-of", help="a connected acct_… account")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host URLs may point to (repeatable); default: the hosts of the "
        "URLs given here",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the exact session parameters as JSON; no key, no network",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the whole result as JSON"
    )
    parser.set_defaults(handler=_link)


def _after_completion(args: argparse.Namespace) -> AfterCompletion | None:
    from cancelflow._links.deeplink import HostedConfirmation, PortalHomepage, Redirect

    if args.redirect_to is not None:
        return Redirect(args.redirect_to)
    if args.hosted_message is not None:
        return HostedConfirmation(args.hosted_message)
    if args.portal_homepage:
        return PortalHomepage()
    return None


def _allowed_hosts(args: argparse.Namespace) -> AllowedHosts:
    """``--allowed-host`` values, or else the hosts of the URLs on the command line.

    The person typing the command chose those URLs, so they are trusted hosts;
    the other rules (https, no user info, …) still apply.
    """
    from cancelflow._links.urls import AllowedHosts

    if args.allowed_host:
        return AllowedHosts(args.allowed_host)
    hosts: list[str] = []
    for url in (args.return_url, args.redirect_to):
        if url is None:
            continue
        try:
            netloc = urlsplit(url).netloc.rpartition("@")[2]
            AllowedHosts([netloc])
        except (CancelflowError, ValueError):  # urlsplit: "Invalid IPv6 URL"
            continue  # the URL check will explain what is wrong with it
        hosts.append(netloc)
    return AllowedHosts(hosts)


#: A parameter's path in a cancelflow error (its own name, or Stripe's form
#: path) → the ``cancelflow link`` option the user typed; a path matches an
#: entry equal to it or starting with it followed by ``[``.
LINK_OPTIONS: Final = (
    ("flow_data[after_completion][redirect]", "--redirect-to"),
    ("flow_data[after_completion][hosted_confirmation]", "--hosted-message"),
    ("flow_data[subscription_cancel][retention]", "--coupon"),
    ("flow_data[subscription_cancel][subscription]", "--subscription"),
    ("customer", "--customer"),
    ("subscription", "--subscription"),
    ("coupon", "--coupon"),
    ("return_url", "--return-url"),
    ("locale", "--locale"),
    ("configuration", "--configuration"),
    ("on_behalf_of", "--on-behalf-of"),
    ("allowed_hosts", "--allowed-host"),
)


def option_for(field: str) -> str | None:
    """The ``cancelflow link`` option behind the parameter *field*, if any."""
    for path, option in LINK_OPTIONS:
        if field == path or field.startswith(path + "["):
            return option
    return None


def _link(args: argparse.Namespace, ctx: Context) -> int:
    try:
        return _make_link(args, ctx)
    except InvalidParameterError as err:
        option = option_for(err.field)
        if option is None:
            raise
        rule = err.rule.replace(
            "add it to allowed_hosts when configuring cancelflow",
            "add it with --allowed-host",
        )
        raise type(err)(option, rule) from None


def _make_link(args: argparse.Namespace, ctx: Context) -> int:
    from cancelflow._links.deeplink import build_cancel_session_params

    after = _after_completion(args)
    hosts = _allowed_hosts(args)
    if args.dry_run:
        params = build_cancel_session_params(
            customer=args.customer,
            subscription=args.subscription,
            allowed_hosts=hosts,
            coupon=args.coupon,
            return_url=args.return_url,
            after_completion=after,
            locale=args.locale,
            configuration=args.configuration,
            on_behalf_of=args.on_behalf_of,
        )
        print(json.dumps(params, indent=2, ensure_ascii=False), file=ctx.stdout)
        return 0

    from cancelflow._links.cancelflow import Cancelflow

    flow = Cancelflow(
        ctx.stripe_client(),
        allowed_hosts=hosts,
        configuration=args.configuration,
        on_behalf_of=args.on_behalf_of,
    )
    link = flow.create_cancel_link(
        customer=args.customer,
        subscription=args.subscription,
        coupon=args.coupon,
        return_url=args.return_url,
        after_completion=after,
        locale=args.locale,
    )
    if args.json:
        result = {
            "url": link.url,
            "session_id": link.session_id,
            "subscription_id": link.subscription_id,
            "customer_id": link.customer_id,
            "coupon": link.coupon_id,
            "created": link.created,
        }
        print(json.dumps(result, indent=2), file=ctx.stdout)
    else:
        print(link.url, file=ctx.stdout)
    return 0


# -- cancelflow policy (in its own module) -------------------------------------------


def _register_policy(subparsers: Any, name: str) -> None:
    from cancelflow._cli.policy import register

    register(subparsers, name)


# -- cancelflow config (in its own module) -------------------------------------------


def _register_config(subparsers: Any, name: str) -> None:
    from cancelflow._cli.config import register

    register(subparsers, name)


# -- cancelflow fake (in its own module) ---------------------------------------------


def _register_fake(subparsers: Any, name: str) -> None:
    from cancelflow._cli.fake import register

    register(subparsers, name)


# -- cancelflow demo (in its own module) ---------------------------------------------


def _register_demo(subparsers: Any, name: str) -> None:
    from cancelflow._cli.demo import register

    register(subparsers, name)


# -- cancelflow report (in its own module) -------------------------------------------


def _register_report(subparsers: Any, name: str) -> None:
    from cancelflow._cli.report import register

    register(subparsers, name)


# -- the registry and the entry point ---------------------------------------------------

#: ``(name, register)`` for every subcommand, in ``--help`` order.
#: ``register(subparsers, name)`` adds the parser and sets ``handler``.
COMMANDS: list[tuple[str, Callable[[Any, str], None]]] = [
    ("demo", _register_demo),
    ("config", _register_config),
    ("fake", _register_fake),
    ("link", _register_link),
    ("policy", _register_policy),
    ("report", _register_report),
]


def build_parser() -> argparse.ArgumentParser:
    """The ``cancelflow`` parser with every registered subcommand."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("cancelflow")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        release = "unknown"
    parser = _Parser(
        prog="cancelflow",
        description="Own the cancellation path of Stripe's customer portal.",
    )
    parser.add_argument("--version", action="version", version=f"cancelflow {release}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, register in COMMANDS:
        register(subparsers, name)
    return parser


# -- what the subcommands share ---------------------------------------------------------


def add_group(subparsers: Any, name: str, *, help: str, description: str) -> Any:  # noqa: A002 - argparse's word
    """Add ``cancelflow NAME COMMAND …``: a command made of subcommands.

    Run alone, it prints its help on stderr and exits 2.

    Returns:
        The subparsers to add its commands to.
    """
    parser = subparsers.add_parser(name, help=help, description=description)

    def usage(_args: argparse.Namespace, ctx: Context) -> int:
        parser.print_help(ctx.stderr)
        return 2

    parser.set_defaults(handler=usage)
    return parser.add_subparsers(title="commands", metavar="COMMAND")


def is_terminal(stream: object) -> bool:
    """Whether *stream* is a terminal (``False`` for a closed stream)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


@contextmanager
def writing(path: str) -> Iterator[None]:
    """Turn a failure to write *path* (``OSError``) into a one-line usage error."""
    try:
        yield
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None


def note_problems(ledger: Any, name: str, stream: TextIO) -> None:
    """Say on *stream* how many deliveries *ledger* keeps as problems (dead
    letters it could never record), if any: a command reading a ledger leaves
    them out, and the person running it should know."""
    problems = ledger.problems()
    if not problems:
        return
    count = len(problems)
    print(
        f"cancelflow: note: {name} keeps {count} webhook "
        f"deliver{'y' if count == 1 else 'ies'} it could never record "
        f"(ledger.problems()), left out here. Latest: "
        f"{_one_line(problems[-1].describe())}",
        file=stream,
    )


def _one_line(text: str) -> str:
    """*text* on one line, with anything shaped like a secret key redacted."""
    from cancelflow._redact import redact

    return redact(" ".join(text.split()))


def _drop_output(stream: TextIO) -> None:
    """The reader of *stream*'s pipe went away (``cancelflow … | head``): point
    its file descriptor at ``/dev/null``, so that what is still buffered does
    not fail again when the interpreter exits."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (io.StringIO)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    make_client: Callable[[str], stripe.StripeClient] | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run ``cancelflow`` with *argv*; return the exit code.

    The keyword arguments replace the process's streams, environment and
    ``StripeClient`` factory (tests and embedding use them).
    """
    ctx = Context(
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
        environ=os.environ if environ is None else environ,
        make_client=make_client or _default_client,
        stdin=stdin,
    )
    parser = build_parser()
    try:
        with redirect_stdout(ctx.stdout), redirect_stderr(ctx.stderr):
            args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error
        return int(done.code or 0)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(ctx.stderr)
        return 2
    try:
        code: int = handler(args, ctx)
        ctx.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        _drop_output(ctx.stdout)
        return EX_PIPE
    except UsageError as err:
        print(f"cancelflow: error: {_one_line(str(err))}", file=ctx.stderr)
        return 2
    except CancelflowError as err:
        print(f"cancelflow: error: {_one_line(str(err))}", file=ctx.stderr)
        return 1
    except KeyboardInterrupt:
        print("cancelflow: interrupted", file=ctx.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the promise is: never a traceback
        print(
            f"cancelflow: internal error: {type(err).__name__}: {_one_line(str(err))} "
            "(please report it)",
            file=ctx.stderr,
        )
        return EX_SOFTWARE
    return code
