"""``FakeServer``: a FakeStripe served over HTTP, with the portal's pages.

One thread per connection (a keep-alive client keeps its thread, so no
thread is started per request); every request takes the account's lock, so
concurrent clients see one change at a time, as with one Stripe account.
See :mod:`cancelflow.testing._server` for the parts.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from cancelflow.exceptions import FakeServerStateError, FakeStripeError
from cancelflow.testing._server import controls, pages, state
from cancelflow.testing._server.account import ServedAccount
from cancelflow.testing._server.forward import ForwardedDelivery, Forwarder
from cancelflow.testing._server.html import asset, link_target, render
from cancelflow.testing._server.protocol import Request, Response, serve_connection

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend
    from cancelflow.testing._fake import FakeStripe
    from cancelflow.testing._webhooks import WebhookEndpoint

__all__ = ["DEFAULT_PORT", "FakeServer"]

LOG: Final = logging.getLogger("cancelflow.testing.server")
ACCESS: Final = logging.getLogger("cancelflow.testing.server.access")
DEFAULT_PORT: Final = 12121
"""The port ``cancelflow fake serve`` listens on unless told otherwise."""
_IDLE_TIMEOUT: Final = 300.0
_STYLE: Final = (
    ("Content-Type", "text/css; charset=utf-8"),
    ("Cache-Control", "max-age=3600"),
    ("X-Content-Type-Options", "nosniff"),
)
_INDEX: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cancelflow fake Stripe</title>
<link rel="stylesheet" href="/assets/portal.css"></head>
<body><main class="card"><h1>cancelflow fake Stripe</h1>
<p>An in-memory Stripe test-mode account. API base: <code>$url</code>; use any
test key (<code>sk_test_…</code>). Portal sessions' URLs open their pages here.</p>
</main></body></html>
"""


class FakeServer:
    """A [`FakeStripe`][cancelflow.testing.FakeStripe] served over HTTP (see `FakeStripe.serve`).

    ``/v1/…`` answers as Stripe's API does, through the same request pipeline
    as the in-process fake (same objects, validation, errors, idempotency and
    events); a portal session's ``url`` opens its page (the cancel page or the
    portal's homepage) in a browser; events are POSTed, signed with
    `webhook_secret`, to every *forward_to* URL, failed deliveries being
    retried with a doubling back-off; ``/_cancelflow/…`` reads and moves the
    fake clock, saves the Dashboard's portal settings and retry schedule, makes
    a renewal fail and sets the latency.
    HTTP/1.1 with keep-alive; concurrent clients are safe.

    Use it as a context manager (``with fake.serve() as url:``), or call
    `start()` and `stop()`. `FakeServer.with_state()` builds one whose account
    is kept in a file across restarts (``cancelflow fake serve --state``).

    Args:
        fake: the account to serve.
        host: the interface (``127.0.0.1`` by default; anything else is logged
            as a warning, since the fake has no real authentication).
        port: the TCP port; ``0`` picks a free one.
        forward_to: URLs that get every event, POSTed and signed.
        webhook_secret: the ``whsec_…`` secret that signs them (generated otherwise).
        webhook_attempts: how many times a delivery is tried in all.
        webhook_backoff: seconds before the first retry; each next wait doubles,
            up to an hour.

    Raises:
        FakeStripeError: a bad *forward_to* URL or *webhook_secret*, or
            *webhook_attempts* below 1.

    Example:
        ```python
        import stripe

        from cancelflow.testing import FakeServer, FakeStripe

        server = FakeServer(FakeStripe(), webhook_secret="whsec_local")
        with server as url:
            client = stripe.StripeClient("sk_test_x", base_addresses={"api": url})
            client.v1.customers.create(params={"email": "ada@example.com"})
        assert server.webhook_secret == "whsec_local"
        ```
    """

    def __init__(
        self,
        fake: FakeStripe,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        forward_to: Sequence[str] = (),
        webhook_secret: str | None = None,
        webhook_attempts: int = 8,
        webhook_backoff: float = 1.0,
    ) -> None:
        urls = [_check_forward_url(url) for url in forward_to]
        if webhook_secret is None:
            webhook_secret = "whsec_" + secrets.token_hex(24)
        elif not _is_secret(webhook_secret):
            raise FakeStripeError("a webhook secret starts with 'whsec_'")
        if webhook_attempts < 1 or webhook_backoff < 0:
            raise FakeStripeError(
                "webhook_attempts must be at least 1 and webhook_backoff not negative"
            )
        self.fake = fake
        self.host = host
        self._port = port
        self._secret = webhook_secret
        self._account = ServedAccount(fake)
        self._pages = pages.Pages(self._account)
        self._controls = controls.Controls(self._account)
        self._forwarder = Forwarder(
            urls,
            webhook_secret,
            attempts=webhook_attempts,
            backoff=webhook_backoff,
            max_delay=3600.0,
        )
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._endpoints: list[WebhookEndpoint] = []
        self._backends = 0
        self._state_path: Path | None = None
        self._saved: state.SavedState | None = None
        self._autosave: state.Autosave | None = None
        self.replayed = 0
        """How many journal entries a state file brought back at start."""

    @classmethod
    def with_state(
        cls,
        path: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        forward_to: Sequence[str] = (),
        webhook_secret: str | None = None,
        webhook_attempts: int = 8,
        webhook_backoff: float = 1.0,
    ) -> FakeServer:
        """A server whose account is kept in the file *path* across restarts.

        If the file exists, the account it holds comes back when the server
        starts (same ids, session URLs, events, clock and webhook secret);
        otherwise a new account starts, its clock at the current time. Every
        change made over HTTP is saved to the file, atomically, shortly after
        it happens and when the server stops. Change the account only over
        HTTP: what Python code does to ``server.fake`` directly is not saved.

        Args:
            path: the state file (created at start if missing).
            host: as for the constructor.
            port: as for the constructor.
            forward_to: as for the constructor.
            webhook_secret: as for the constructor; ``None`` keeps the saved one
                (or generates one for a new file).
            webhook_attempts: as for the constructor.
            webhook_backoff: as for the constructor.

        Returns:
            The server, not started yet; ``server.fake`` is the account.

        Raises:
            FakeServerStateError: the file cannot be read, is corrupt, or was
                written by a newer cancelflow (it is left untouched).
        """
        from cancelflow.testing._fake import FakeStripe

        file = Path(path)
        saved = state.read(file)
        if saved is None:
            fake = FakeStripe(start=int(time.time()))
        else:
            fake = FakeStripe(start=saved.start, seed=saved.seed)
            if webhook_secret is None:
                webhook_secret = saved.webhook_secret
        server = cls(
            fake,
            host=host,
            port=port,
            forward_to=forward_to,
            webhook_secret=webhook_secret,
            webhook_attempts=webhook_attempts,
            webhook_backoff=webhook_backoff,
        )
        server._state_path = file
        server._saved = saved
        return server

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "not started"
        return f"<FakeServer {where}>"

    # -- what to tell clients ----------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT`` (the API base and the pages' host)."""
        httpd = self._httpd
        if httpd is None:
            raise FakeStripeError("the server is not started; call start() first")
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{httpd.server_address[1]}"

    @property
    def port(self) -> int:
        """The TCP port it listens on (once started)."""
        return int(self.url.rsplit(":", 1)[1])

    @property
    def api_key(self) -> str:
        """A test key to use (any ``sk_test_…`` or ``rk_test_…`` key works)."""
        from cancelflow.testing._fake import DEFAULT_API_KEY

        return DEFAULT_API_KEY

    @property
    def webhook_secret(self) -> str:
        """The ``whsec_…`` secret forwarded events are signed with."""
        return self._secret

    @property
    def forward_to(self) -> list[str]:
        """The URLs every event is forwarded to."""
        return self._forwarder.urls

    @property
    def state_path(self) -> Path | None:
        """The state file, if the account is kept in one."""
        return self._state_path

    @property
    def deliveries(self) -> list[ForwardedDelivery]:
        """Every attempt to forward an event so far, in order."""
        return list(self._forwarder.deliveries)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every forwarded event is delivered or given up.

        Deliveries waiting for a retry count as not done.

        Args:
            timeout: the most seconds to wait.

        Returns:
            Whether nothing was left to deliver before the timeout.
        """
        return self._forwarder.wait(timeout)

    # -- start and stop ----------------------------------------------------------------

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> str:
        """Listen, bring back the saved account (if any), and serve.

        Returns:
            The base URL, ``http://127.0.0.1:PORT``.

        Raises:
            FakeStripeError: the address cannot be listened on, or the server
                was started already.
            FakeServerStateError: the state file does not replay.
        """
        if self._httpd is not None:
            raise FakeStripeError("this FakeServer is already started")
        try:
            httpd = _HTTPServer(self.host, self._port, self)
        except OSError as err:
            raise FakeStripeError(
                f"cannot listen on {self.host}:{self._port}: "
                f"{err.strerror or err}; choose another port"
            ) from None
        self._httpd = httpd
        if not _is_loopback(self.host):
            LOG.warning(
                "listening on %s, not on loopback: anyone who can reach this "
                "machine can use this fake account (it has no real authentication)",
                self.host,
            )
        try:
            self.fake._on_backend(self._attach)
            if self._state_path is not None:
                self._open_state(self._state_path)
        except BaseException:
            self._detach()
            httpd.server_close()
            self._httpd = None
            raise
        self._forwarder.start()
        if self._autosave is not None:
            self._autosave.start()
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"cancelflow-fake {self.url}",
            daemon=True,
        )
        self._thread = thread
        thread.start()
        LOG.info("serving the fake Stripe on %s", self.url)
        return self.url

    def stop(self, *, webhook_grace: float = 2.0) -> None:
        """Stop serving; does nothing if not started.

        Closes the connections, delivers the forwarded events that are due, and
        saves the state file.

        Args:
            webhook_grace: how many seconds deliveries that are due may still take.
        """
        httpd = self._httpd
        if httpd is None:
            return
        httpd.stopping = True
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join()
        self._forwarder.stop(webhook_grace)
        try:
            if self._autosave is not None:
                self._autosave.close()
        finally:
            self._detach()
            self._httpd = None
            self._thread = None
            LOG.info("stopped")

    # -- the account -------------------------------------------------------------------

    def _attach(self, backend: Backend) -> None:
        """Point session URLs here and forward events; a reset empties the journal."""
        self._backends += 1
        if self._backends > 1 and self._account.journal is not None:
            self._account.journal.clear()
            self._account.on_change and self._account.on_change()
        backend.portal_sessions.url_prefix = self.url + pages.PREFIX
        self._endpoints = []
        for url in self._forwarder.urls:
            self.fake.add_webhook_endpoint(
                self._forwarder.handler(url), secret=self._secret
            )
            self._endpoints.append(self.fake.webhook_endpoints[-1])

    def _detach(self) -> None:
        with contextlib.suppress(ValueError):
            self.fake._off_backend(self._attach)
        backend = self.fake._backend
        if backend is not None:
            from cancelflow.testing._resources.portal_sessions import URL_PREFIX

            backend.portal_sessions.url_prefix = URL_PREFIX
            endpoints = backend.webhooks.endpoints
            for endpoint in self._endpoints:
                if endpoint in endpoints:
                    endpoints.remove(endpoint)
        self._endpoints = []

    def _open_state(self, path: Path) -> None:
        saved = self._saved
        account = self._account
        account.journal = []
        if saved is not None:
            self._forwarder.paused = True
            try:
                account.replay(saved.entries, saved.request_count)
            except FakeServerStateError as err:
                raise FakeServerStateError(
                    f"cannot use the state file {str(path)!r}: {err}. Nothing was "
                    "changed; move the file away (or pass another --state FILE) to "
                    "start an empty account"
                ) from None
            finally:
                self._forwarder.paused = False
            self.replayed = len(saved.entries)
        autosave = state.Autosave(
            path,
            self._snapshot,
            on_error=lambda err: LOG.error("cannot save the state file: %s", err),
        )
        self._autosave = autosave
        account.on_change = autosave.changed
        try:
            autosave.save_now()  # creates the file now: a bad path fails at start
        except OSError as err:
            raise FakeServerStateError(
                f"cannot write the state file {str(path)!r}: {err.strerror or err}"
            ) from None

    def _snapshot(self) -> state.SavedState:
        from importlib.metadata import PackageNotFoundError, version

        try:
            release = version("cancelflow")
        except PackageNotFoundError:  # pragma: no cover - a bare checkout
            release = "unknown"
        backend = self.fake.backend
        with backend.lock:
            journal = self._account.journal
            return state.SavedState(
                seed=self.fake._seed,
                start=self.fake.clock.start,
                webhook_secret=self._secret,
                request_count=backend.request_count(),
                entries=list(journal or ()),
                written_by=f"cancelflow {release}",
            )

    # -- HTTP --------------------------------------------------------------------------

    def _app(self, request: Request) -> Response:
        path = request.path
        try:
            if path.startswith("/v1/"):
                response = self._api(request)
            elif path.startswith(pages.PREFIX):
                response = self._pages.handle(request)
            elif path.startswith(controls.PREFIX):
                response = self._controls.handle(request)
            elif path == "/assets/portal.css":
                response = Response(200, asset("portal.css"), _STYLE)
            elif path == "/":
                body = render(_INDEX, url=self.url).encode("utf-8")
                response = Response(
                    200, body, [("Content-Type", "text/html; charset=utf-8")]
                )
            else:
                response = Response(
                    404,
                    b"Not found: the fake serves /v1/... (Stripe's API), /p/session/... "
                    b"(portal pages) and /_cancelflow/... (fake-only controls).\n",
                    [("Content-Type", "text/plain; charset=utf-8")],
                )
        except Exception:
            LOG.exception("internal error answering %s %s", request.method, path[:200])
            response = _internal_error(path)
        if ACCESS.isEnabledFor(logging.INFO):
            ACCESS.info("%s %s %d", request.method, path[:200], response.status)
        return response

    def _api(self, request: Request) -> Response:
        try:
            text = request.body.decode("utf-8") if request.body else None
        except UnicodeDecodeError:
            return _stripe_error(400, "The request body is not valid UTF-8.")
        delay = self.fake._delay(request.method, request.target)  # fake.set_latency
        if delay > 0:
            time.sleep(
                delay
            )  # this connection's thread only, outside the account's lock
        body, status, headers = self._account.api(
            request.method, request.target, request.headers, text
        )
        return Response(status, body.encode("utf-8"), headers.items())


def _stripe_error(
    status: int, message: str, kind: str = "invalid_request_error"
) -> Response:
    body = json.dumps({"error": {"message": message, "type": kind}}).encode()
    return Response(status, body, [("Content-Type", "application/json")])


def _internal_error(path: str) -> Response:
    message = "cancelflow's fake hit an internal error; see the server's log (please report it)."
    if path.startswith("/v1/"):
        return _stripe_error(500, message, "api_error")
    return Response(
        500, message.encode(), [("Content-Type", "text/plain; charset=utf-8")]
    )


def _is_secret(value: object) -> bool:
    return isinstance(value, str) and value.startswith("whsec_")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_forward_url(url: object) -> str:
    if isinstance(url, str) and link_target(url) is not None:
        return url
    raise FakeStripeError(
        f"a forward_to URL must be an http(s) URL with a host, got {str(url)[:80]!r}"
    )


class _Connection(socketserver.BaseRequestHandler):
    server: _HTTPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        server = self.server
        server.track(sock, add=True)
        try:
            serve_connection(
                sock,
                server.owner._app,
                stopping=server.is_stopping,
                idle_timeout=_IDLE_TIMEOUT,
            )
        finally:
            server.track(sock, add=False)


class _HTTPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, owner: FakeServer) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.owner = owner
        self.stopping = False
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__((host, port), _Connection)

    def is_stopping(self) -> bool:
        return self.stopping

    def track(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(sock)
            else:
                self._connections.discard(sock)

    def close_connections(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002
        LOG.error("error on a connection from %s", client_address)
