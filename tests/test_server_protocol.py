"""The served fake's HTTP/1.1: what it accepts, and how it refuses what it does not."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from tests.serve_support import KEY, fake, served

__all__ = ["fake", "served"]


def raw(url: str, data: bytes) -> bytes:
    """Send *data* as is and close our side; return everything the server answers."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


class TestRefusals:
    @pytest.mark.parametrize(
        ("data", "status"),
        [
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET /v1/customers HTTP/2.0\r\n\r\n", 505),
            (b"BREW /v1/customers HTTP/1.1\r\n\r\n", 501),
            (b"GET http://x/v1 HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n leading: space\r\n\r\n", 400),
            (b"POST /v1/customers HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400),
            (b"POST /v1/customers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
            (b"POST /v1/customers HTTP/1.1\r\nContent-Length: 9999999\r\n\r\n", 413),
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 431),
            (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431),
        ],
    )
    def test_malformed_requests(self, served, data, status):
        """A request the server cannot read gets one plain-text error and the connection closes."""
        answer = raw(served, data)
        assert status_of(answer) == status
        assert b"Connection: close" in answer
        assert answer.count(b"HTTP/1.1 ") == 1

    def test_a_client_that_leaves_mid_body(self, served):
        """A body shorter than its Content-Length ends the connection without an answer."""
        assert (
            raw(served, b"POST /v1/customers HTTP/1.1\r\nContent-Length: 50\r\n\r\nab")
            == b""
        )


class TestWhatItAccepts:
    def test_expect_100_continue(self, served):
        """A client that waits for 100 Continue (curl with a large body) gets it, then the answer."""
        body = b"email=a%40example.com"
        head = (
            "POST /v1/customers HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {KEY}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
        ).encode()
        answer = raw(served, head + body)
        assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")
        assert b'"email":"a@example.com"' in answer

    def test_http_1_0_closes_unless_asked(self, served):
        """An HTTP/1.0 request is answered and the connection closes."""
        answer = raw(served, b"GET / HTTP/1.0\r\n\r\n")
        assert status_of(answer) == 200
        assert b"Connection: close" in answer

    def test_pipelined_requests_on_one_connection(self, served):
        """Two requests sent back to back on one connection get two answers in order."""
        one = b"GET /assets/portal.css HTTP/1.1\r\nHost: x\r\n\r\n"
        two = b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        answer = raw(served, b"\r\n" + one + two)
        assert answer.count(b"HTTP/1.1 ") == 2
        assert answer.index(b"200 OK") < answer.index(b"404 Not Found")

    def test_head(self, served):
        """HEAD answers the headers of GET without the body."""
        answer = raw(served, b"HEAD / HTTP/1.1\r\nConnection: close\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        assert status_of(answer) == 200
        assert b"Content-Length: " in head
        assert body == b""

    def test_a_method_the_api_does_not_route(self, served):
        """PUT on the API is Stripe's 'Unrecognized request URL' 404."""
        answer = raw(
            served,
            f"PUT /v1/customers HTTP/1.1\r\nAuthorization: Bearer {KEY}\r\n"
            "Connection: close\r\n\r\n".encode(),
        )
        assert status_of(answer) == 404
        assert b"Unrecognized request URL" in answer
