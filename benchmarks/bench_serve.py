"""The fake served over HTTP: the cost of one request, and how it grows with the store.

Prints ``name: value`` lines:

* ``serve_customer_create_ms`` — ``client.v1.customers.create`` through
  stripe-python's default HTTP client (requests, one keep-alive connection) on
  ``cancelflow fake serve`` running in its own process, over loopback: the
  median of a batch of calls, the lowest of several interleaved batches (the
  least disturbed by other processes). Target ≤ 1.0, localstripe's speed
  without persistence before its store slows it down.
* ``serve_growth_ratio`` — the same with 10,000 customers stored against about
  100 (two servers, batches interleaved). Target ≤ 1.2: nothing a request
  does scans the store.
* ``serve_customer_create_no_proxy_env_ms`` — the same call through a
  ``stripe.RequestsClient`` whose ``requests.Session`` does not read proxy
  settings from the environment (``trust_env = False``; a loopback server needs
  no proxy): requests otherwise scans every environment variable on each
  request, which costs a few tenths of a millisecond where the environment is
  large.
* Baselines from the same run: ``inprocess_customer_create_ms`` (the same call
  on the in-process fake, no HTTP at all) and ``loopback_floor_ms`` (the same
  call, default client, on a loopback server in its own process, with the same
  HTTP stack, that answers a canned customer without the fake; its batches are
  interleaved with the others): what
  stripe-python and its HTTP client cost on this machine, which the served fake
  cannot go below.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import stripe

from cancelflow.testing import FakeStripe
from cancelflow.testing._server.protocol import Response, serve_connection

KEY = "sk_test_benchmark"
PARAMS = {"email": "ada@example.com", "name": "Ada", "metadata": {"plan": "pro"}}


class Server:
    """`cancelflow fake serve --port 0 --quiet` in its own process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cancelflow",
                "fake",
                "serve",
                "--port",
                "0",
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().rsplit(" ", 1)[1].strip()
        self.client = stripe.StripeClient(
            KEY, base_addresses={"api": self.url}, max_network_retries=0
        )

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def batch_median_ms(call: Callable[[], object], calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def serve_canned(port_file: str) -> None:
    """Serve a fixed customer with the fake server's HTTP stack (the floor's server)."""
    import socket
    import socketserver

    fake = FakeStripe()
    body = json.dumps(
        fake.client().v1.customers.create(params=PARAMS).to_dict()
    ).encode()
    answer = Response(
        200, body, [("Content-Type", "application/json"), ("Request-Id", "req_canned")]
    )

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            serve_connection(
                self.request,
                lambda _r: answer,
                stopping=lambda: False,
                idle_timeout=600,
            )

    class Threaded(socketserver.ThreadingMixIn, socketserver.TCPServer):
        daemon_threads = True
        allow_reuse_address = True

    httpd = Threaded(("127.0.0.1", 0), Handler)
    httpd.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Path(port_file).write_text(str(httpd.server_address[1]), encoding="utf-8")
    httpd.serve_forever()


class Canned:
    """The floor's server: `serve_canned` in its own process."""

    def __init__(self, folder: str) -> None:
        port_file = Path(folder) / "port"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--canned-server", str(port_file)]
        )
        while not port_file.exists() or not port_file.read_text(encoding="utf-8"):
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text(encoding='utf-8')}"
        self.client = stripe.StripeClient(
            KEY, base_addresses={"api": url}, max_network_retries=0
        )

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="calls per batch")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--large", type=int, default=10_000, help="customers stored")
    parser.add_argument("--canned-server", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.canned_server:
        serve_canned(args.canned_server)
        return

    fake = FakeStripe()
    local = fake.client()
    for _ in range(200):
        local.v1.customers.create(params=PARAMS)
    inprocess = min(
        batch_median_ms(lambda: local.v1.customers.create(params=PARAMS), args.calls)
        for _ in range(args.batches)
    )

    import tempfile

    folder = tempfile.mkdtemp()
    small, large, canned = Server(), Server(), Canned(folder)
    try:
        for _ in range(100):
            small.client.v1.customers.create(params=PARAMS)
        for _ in range(args.large):
            large.client.v1.customers.create(params=PARAMS)
        import requests

        session = requests.Session()
        session.trust_env = False
        no_env = stripe.StripeClient(
            KEY,
            base_addresses={"api": small.url},
            max_network_retries=0,
            http_client=stripe.RequestsClient(session=session),
        )
        for _ in range(200):
            canned.client.v1.customers.create(params=PARAMS)
        at_small, at_large, at_no_env, at_floor = [], [], [], []
        for _ in range(args.batches):
            at_floor.append(
                batch_median_ms(
                    lambda: canned.client.v1.customers.create(params=PARAMS), args.calls
                )
            )
            at_no_env.append(
                batch_median_ms(
                    lambda: no_env.v1.customers.create(params=PARAMS), args.calls
                )
            )
            at_small.append(
                batch_median_ms(
                    lambda: small.client.v1.customers.create(params=PARAMS), args.calls
                )
            )
            at_large.append(
                batch_median_ms(
                    lambda: large.client.v1.customers.create(params=PARAMS), args.calls
                )
            )
    finally:
        small.stop()
        large.stop()
        canned.stop()
    floor = min(at_floor)
    print(f"serve_customer_create_ms: {min(at_small):.3f}")
    print(f"serve_growth_ratio: {min(at_large) / min(at_small):.3f}")
    print(f"serve_customer_create_no_proxy_env_ms: {min(at_no_env):.3f}")
    print(f"inprocess_customer_create_ms: {inprocess:.3f}")
    print(f"loopback_floor_ms: {floor:.3f}")


if __name__ == "__main__":
    main()
