"""HTTP/1.1 on one socket: requests in, responses out, with keep-alive (strictly private).

A small, strict subset of HTTP/1.1, enough for every Stripe SDK, curl and
browsers: one request line, headers, and a body of ``Content-Length`` bytes
(``Expect: 100-continue`` is answered; chunked request bodies are refused
with 411). Each response goes out in one write with ``TCP_NODELAY``, so a
keep-alive connection never waits on Nagle's algorithm. Limits keep a
hostile client from holding memory: 8 KiB per line, 100 headers, 1 MiB of
body; past them the answer is 431 or 413 and the connection closes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import IO, Final

__all__ = ["MAX_BODY", "Request", "Response", "serve_connection"]

MAX_LINE: Final = 8192
MAX_HEADERS: Final = 100
MAX_BODY: Final = 1 << 20
_METHODS: Final = frozenset(
    {"GET", "POST", "DELETE", "HEAD", "PUT", "PATCH", "OPTIONS"}
)


class Request:
    """One parsed request: method, target (path and query), headers, body."""

    __slots__ = ("body", "headers", "keep_alive", "method", "path", "query", "target")

    def __init__(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        *,
        keep_alive: bool,
    ) -> None:
        self.method = method
        self.target = target
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        self.headers = headers
        """Lower-case names; a repeated header keeps its last value."""
        self.body = body
        self.keep_alive = keep_alive


class Response:
    """A status, headers and a body (bytes)."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.status = status
        self.body = body
        self.headers = list(headers)

    def encode(self, *, keep_alive: bool, head: bool = False) -> bytes:
        """The whole response as bytes, ready for one ``sendall``."""
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Status"
        lines = [f"HTTP/1.1 {self.status} {phrase}"]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        lines.append(f"Content-Length: {len(self.body)}")
        lines.append("Connection: " + ("keep-alive" if keep_alive else "close"))
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head_bytes if head else head_bytes + self.body


class ProtocolError(Exception):
    """The request cannot be read: answer *status* with *message* and close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _line(rfile: IO[bytes]) -> bytes:
    line = rfile.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise ProtocolError(431, "a request line or header is longer than 8 KiB")
    return line


def read_request(rfile: IO[bytes], sock: socket.socket) -> Request | None:
    """The next request on the connection, ``None`` when the client closed it."""
    line = _line(rfile)
    while line in (b"\r\n", b"\n"):  # tolerated before a request (RFC 9112 §2.2)
        line = _line(rfile)
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ")
    except ValueError:
        raise ProtocolError(400, "malformed request line") from None
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise ProtocolError(505, f"unsupported protocol version {version[:20]!r}")
    if method not in _METHODS:
        raise ProtocolError(501, f"unsupported method {method[:20]!r}")
    if not target.startswith("/"):
        raise ProtocolError(400, "the request target must be a path")
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        raw = _line(rfile)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise ProtocolError(400, "malformed header line")
        headers[name.lower()] = value.strip()
    else:
        raise ProtocolError(431, f"more than {MAX_HEADERS} headers")
    if "transfer-encoding" in headers:
        raise ProtocolError(411, "send the body with a Content-Length, not chunked")
    body = b""
    length_text = headers.get("content-length")
    if length_text is not None:
        if not length_text.isdigit():
            raise ProtocolError(400, "Content-Length is not a number")
        length = int(length_text)
        if length > MAX_BODY:
            raise ProtocolError(413, "the request body is larger than 1 MiB")
        if length:
            if headers.get("expect", "").lower() == "100-continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = rfile.read(length)
            if len(body) < length:
                return None  # the client went away mid-body
    connection = headers.get("connection", "").lower()
    keep_alive = (
        "close" not in connection
        if version == "HTTP/1.1"
        else "keep-alive" in connection
    )
    return Request(method, target, headers, body, keep_alive=keep_alive)


def serve_connection(
    sock: socket.socket,
    app: Callable[[Request], Response],
    *,
    stopping: Callable[[], bool],
    idle_timeout: float,
) -> None:
    """Answer the requests of one connection until it closes (or the server stops)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(idle_timeout)
    rfile = sock.makefile("rb")
    try:
        while True:
            try:
                request = read_request(rfile, sock)
            except ProtocolError as err:
                body = f"{err.message}\n".encode()
                answer = Response(
                    err.status, body, [("Content-Type", "text/plain; charset=utf-8")]
                )
                sock.sendall(answer.encode(keep_alive=False))
                return
            if request is None:
                return
            response = app(request)
            keep_alive = request.keep_alive and not stopping()
            sock.sendall(
                response.encode(keep_alive=keep_alive, head=request.method == "HEAD")
            )
            if not keep_alive:
                return
    except (OSError, ValueError):  # reset, timed out, or closed by stop()
        return
    finally:
        rfile.close()
