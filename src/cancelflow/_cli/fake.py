"""``cancelflow fake serve``: the fake Stripe over loopback HTTP, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from cancelflow._cli.main import Context, add_group

if TYPE_CHECKING:
    from cancelflow.testing import FakeServer

__all__ = ["register"]


def register(subparsers: Any, name: str) -> None:
    """Add ``cancelflow fake`` (with its ``serve`` subcommand)."""
    from cancelflow.testing._server.server import DEFAULT_PORT

    commands = add_group(
        subparsers,
        name,
        help="run cancelflow's fake Stripe for local development",
        description="cancelflow's in-memory fake Stripe, for local development.",
    )
    serve = commands.add_parser(
        "serve",
        help="serve the fake Stripe over HTTP, with the portal's cancel page",
        description=(
            "Serve an in-memory Stripe test-mode account over HTTP on loopback: "
            "Stripe's API under /v1 (for stripe-python, curl or any Stripe SDK), "
            "portal sessions' pages in the browser, and every event POSTed, signed, "
            "to each --forward-to URL. Stops cleanly on Ctrl-C or SIGTERM."
        ),
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the TCP port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the interface to listen on (default 127.0.0.1; another one is "
        "reachable by others, and the fake has no real authentication)",
    )
    serve.add_argument(
        "--forward-to",
        action="append",
        default=[],
        metavar="URL",
        help="POST every event, signed, to URL (repeatable)",
    )
    serve.add_argument(
        "--state",
        metavar="FILE",
        help="keep the account in FILE across restarts (created if missing)",
    )
    serve.add_argument(
        "--webhook-secret",
        metavar="WHSEC",
        help="the whsec_… secret that signs forwarded events (default: generated, "
        "or the one kept in --state FILE)",
    )
    serve.add_argument(
        "--quiet", action="store_true", help="do not log each request (only webhooks)"
    )
    serve.set_defaults(handler=_serve)


class _SigtermError(Exception):
    """SIGTERM arrived: stop as for Ctrl-C."""


def _on_sigterm(_signum: int, _frame: object) -> None:
    raise _SigtermError


def _serve(args: argparse.Namespace, ctx: Context) -> int:
    from cancelflow.testing._fake import FakeStripe
    from cancelflow.testing._server.server import FakeServer

    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "forward_to": args.forward_to,
        "webhook_secret": args.webhook_secret,
    }
    if args.state:
        server = FakeServer.with_state(args.state, **options)
    else:
        server = FakeServer(FakeStripe(start=int(time.time())), **options)
    handler = _log_to(ctx.stderr, quiet=args.quiet)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        server.start()
        _banner(server, ctx.stdout)
        try:
            threading.Event().wait()
        except (KeyboardInterrupt, _SigtermError):
            print("cancelflow: stopping", file=ctx.stderr, flush=True)
        finally:
            server.stop()
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        for name in ("cancelflow.testing.server", "cancelflow.testing.server.access"):
            logging.getLogger(name).removeHandler(handler)
    return 0


def _log_to(stream: TextIO, *, quiet: bool) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    for name, level in (
        ("cancelflow.testing.server", logging.INFO),
        (
            "cancelflow.testing.server.access",
            logging.WARNING if quiet else logging.INFO,
        ),
    ):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False
    return handler


def _banner(server: FakeServer, out: TextIO) -> None:
    url = server.url
    lines = [
        f"cancelflow fake Stripe is serving {url}",
        (
            f"  API base        {url}  (stripe.api_base, or "
            f"StripeClient(key, base_addresses={{'api': '{url}'}}))"
        ),
        f"  Test key        {server.api_key}  (any sk_test_… key works)",
        f"  Webhook secret  {server.webhook_secret}",
    ]
    lines.extend(f"  Forwarding to   {target}" for target in server.forward_to)
    if server.state_path is not None:
        lines.append(
            f"  State file      {server.state_path} "
            f"({server.replayed} changes brought back)"
        )
    lines.append("Stop it with Ctrl-C.")
    print("\n".join(lines), file=out, flush=True)
