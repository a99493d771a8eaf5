"""`cancelflow fake serve`: the banner, the account over HTTP, SIGTERM/Ctrl-C, --state."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import sys

import stripe
from tests.serve_support import KEY, Receiver, Served

from cancelflow._cli import main as _cli


def test_serve_then_sigterm(tmp_path):
    """It prints URL, key and secret, serves stripe-python, forwards signed events, stops on SIGTERM."""
    receiver = Receiver()
    state = tmp_path / "state.json"
    served = Served("--state", str(state), "--forward-to", receiver.url)
    try:
        assert served.url.startswith("http://127.0.0.1:")
        assert served.field("Test key").startswith("sk_test_")
        assert served.secret.startswith("whsec_")
        assert any(receiver.url in line for line in served.banner)
        receiver.secret = served.secret
        client = stripe.StripeClient(KEY, base_addresses={"api": served.url})
        made = client.v1.customers.create(params={"email": "ada@example.com"})
        [event] = receiver.wait_for(1)
        assert event["data"]["object"]["id"] == made.id
    finally:
        code, err = served.stop(signal.SIGTERM)
        receiver.close()
    assert code == 0
    assert "stopping" in err
    assert "POST /v1/customers 200" in err
    assert "Traceback" not in err
    assert json.loads(state.read_text())["entries"][0]["target"] == "/v1/customers"

    again = Served("--state", str(state), "--quiet")
    try:
        assert "(1 changes brought back)" in "\n".join(again.banner)
        assert again.secret == served.secret
        client = stripe.StripeClient(KEY, base_addresses={"api": again.url})
        assert client.v1.customers.retrieve(made.id).email == "ada@example.com"
    finally:
        code, err = again.stop(signal.SIGINT)
    assert code == 0
    assert "GET /v1/customers" not in err  # --quiet


def test_a_corrupt_state_file_is_refused(tmp_path):
    """A corrupt --state file: exit 1, one clear line, the file untouched."""
    state = tmp_path / "state.json"
    state.write_text("{oops")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cancelflow",
            "fake",
            "serve",
            "--port",
            "0",
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "cannot use the state file" in proc.stderr
    assert "not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert state.read_text() == "{oops"


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = _cli.main(argv, stdout=out, stderr=err, environ={})
    return code, out.getvalue(), err.getvalue()


def test_fake_alone_shows_its_commands():
    """`cancelflow fake` without a command prints its usage and exits 2."""
    code, _out, err = run(["fake"])
    assert code == 2
    assert "serve" in err


def test_help_names_the_options():
    """`cancelflow fake serve --help` lists --port, --forward-to and --state."""
    code, out, _err = run(["fake", "serve", "--help"])
    assert code == 0
    for option in ("--port", "--host", "--forward-to", "--state", "--webhook-secret"):
        assert option in out


def test_a_taken_port(tmp_path):
    """A port in use is an error line, exit 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _out, err = run(["fake", "serve", "--port", str(port)])
    assert code == 1
    assert "cannot listen on 127.0.0.1" in err


def test_a_bad_forward_url():
    """A --forward-to that is not an http(s) URL is refused before serving."""
    code, _out, err = run(["fake", "serve", "--forward-to", "localhost:8000"])
    assert code == 1
    assert "forward_to URL" in err
