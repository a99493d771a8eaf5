"""--state FILE: the served account kept across restarts, and bad files refused."""

from __future__ import annotations

import json
import stat

import pytest
import stripe
from tests.serve_support import KEY, cancel_session, portal_account, request

from cancelflow.exceptions import FakeServerStateError
from cancelflow.testing import FakeServer
from cancelflow.testing._server import state


def client_for(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": url}, max_network_retries=0)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "fake-state.json"


def session_events(client):
    return [e.type for e in client.v1.events.list(params={"limit": 100}).data]


class TestRestart:
    def test_the_account_comes_back(self, path):
        """Objects, a portal cancel, events and the clock are the same after a restart."""
        first = FakeServer.with_state(path)
        with first as url:
            client = client_for(url)
            sub = portal_account(client)
            session = cancel_session(client, sub)
            form = request(
                f"{url}/p/session/{session.url.rsplit('/', 1)[1]}/cancel",
                "POST",
                form={"reason": "other", "comment": "Too slow"},
            )
            assert form.status == 303
            before = client.v1.subscriptions.retrieve(sub.id).to_dict()
            events = session_events(client)
            secret, now = first.webhook_secret, first.fake.clock.now()
        second = FakeServer.with_state(path)
        with second as url:
            client = client_for(url)
            after = client.v1.subscriptions.retrieve(sub.id).to_dict()
            assert after == before
            assert after["cancellation_details"]["comment"] == "Too slow"
            assert session_events(client) == events
            assert second.webhook_secret == secret
            assert second.fake.clock.now() == now
            assert second.replayed > 0
            # new objects continue the counters instead of reusing ids
            assert client.v1.customers.create(params={}).id != sub.customer

    def test_request_ids_and_idempotency_survive(self, path):
        """A replayed request keeps its req_ id; an idempotency key replays after a restart."""
        with FakeServer.with_state(path) as url:
            client = client_for(url)
            client.v1.customers.list()  # a GET between changes uses a request id too
            made = client.v1.customers.create(
                params={"email": "ada@example.com"}, options={"idempotency_key": "k1"}
            )
            created = client.v1.events.list().data[0]
        with FakeServer.with_state(path) as url:
            client = client_for(url)
            again = client.v1.customers.create(
                params={"email": "ada@example.com"}, options={"idempotency_key": "k1"}
            )
            assert again.id == made.id
            assert client.v1.events.list().data[0].request.id == created.request.id

    def test_session_urls_follow_the_new_port(self, path):
        """A session made before a restart opens on the restarted server's port."""
        with FakeServer.with_state(path) as url:
            client = client_for(url)
            session = cancel_session(client, portal_account(client))
        with FakeServer.with_state(path) as url:
            token = session.url.rsplit("/", 1)[1]
            assert request(f"{url}/p/session/{token}").status == 200

    def test_clock_moves_are_kept(self, path):
        """A clock advance over HTTP is replayed."""
        auth = {"Authorization": f"Bearer {KEY}"}
        first = FakeServer.with_state(path)
        with first as url:
            moved = request(
                f"{url}/_cancelflow/clock/advance",
                "POST",
                form={"seconds": "86400"},
                headers=auth,
            ).json()["now"]
        assert moved == first.fake.clock.start + 86400
        with FakeServer.with_state(path) as url:
            now = request(f"{url}/_cancelflow/clock", headers=auth).json()["now"]
        assert now == moved

    def test_dashboard_settings_are_kept(self, path):
        """Portal settings saved through the fake's Dashboard control come back."""
        auth = {"Authorization": f"Bearer {KEY}"}
        with FakeServer.with_state(path) as url:
            saved = request(
                f"{url}/_cancelflow/dashboard/portal_settings",
                "POST",
                form={"features[subscription_cancel][enabled]": "true"},
                headers=auth,
            ).json()
        with FakeServer.with_state(path) as url:
            client = client_for(url)
            customer = client.v1.customers.create(params={})
            session = client.v1.billing_portal.sessions.create(
                params={"customer": customer.id}
            )
        assert session.configuration == saved["id"]

    def test_failed_renewals_and_the_retry_schedule_are_kept(self, path):
        """A planned renewal failure and a retry schedule set over HTTP come back."""
        auth = {"Authorization": f"Bearer {KEY}"}
        with FakeServer.with_state(path) as url:
            client = client_for(url)
            sub = portal_account(client)
            request(
                f"{url}/_cancelflow/dashboard/retry_schedule",
                "POST",
                form={"days[0]": "2", "then": "unpaid"},
                headers=auth,
            )
            request(
                f"{url}/_cancelflow/customers/{sub.customer}/fail_next_renewal",
                "POST",
                headers=auth,
            )
        server = FakeServer.with_state(path)
        with server as url:
            assert server.fake.dashboard.retry_schedule.then == "unpaid"
            request(
                f"{url}/_cancelflow/clock/advance",
                "POST",
                form={"seconds": str(32 * 86400)},
                headers=auth,
            )
            assert (
                client_for(url).v1.subscriptions.retrieve(sub.id).status == "past_due"
            )

    def test_a_reset_empties_the_journal(self, path):
        """fake.reset() while served with a state file starts the saved account over."""
        server = FakeServer.with_state(path)
        with server as url:
            client_for(url).v1.customers.create(params={})
            server.fake.reset()
            client_for(url).v1.customers.list()
        saved = state.read(path)
        assert saved is not None
        assert saved.entries == []


class TestTheFile:
    def test_its_shape(self, path):
        """The file is versioned JSON, owner-only, without the API key; no temp file is left."""
        with FakeServer.with_state(path) as url:
            client_for(url).v1.customers.create(params={"email": "ada@example.com"})
        data = json.loads(path.read_text())
        assert (data["format"], data["version"]) == ("cancelflow-fake-state", 1)
        assert data["entries"][0]["op"] == "api"
        assert KEY not in path.read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [p.name for p in path.parent.iterdir()] == [path.name]

    def test_it_is_created_at_start(self, path):
        """A missing file is created when the server starts (a bad folder fails early)."""
        with FakeServer.with_state(path):
            assert path.exists()

    def test_an_unwritable_place_is_refused_at_start(self, tmp_path):
        """A state file in a missing folder is refused before serving."""
        server = FakeServer.with_state(tmp_path / "missing" / "state.json")
        with pytest.raises(FakeServerStateError, match="cannot write"):
            server.start()

    def test_a_write_replaces_the_file_whole(self, path):
        """state.write leaves either the old or the new file (os.replace of a temp file)."""
        saved = state.SavedState(
            seed=1,
            start=2,
            webhook_secret="whsec_x",
            request_count=0,
            entries=[],
            written_by="test",
        )
        state.write(path, saved)
        inode = path.stat().st_ino
        state.write(path, saved)
        assert path.stat().st_ino != inode
        assert state.read(path) == saved


BAD = {
    "not JSON": (b"{not json", "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "another kind of file": (b'{"hello": 1}', "not a cancelflow fake state file"),
    "a list": (b"[]", "not a cancelflow fake state file"),
    "newer": (
        b'{"format": "cancelflow-fake-state", "version": 2, "written_by": "cancelflow 9"}',
        "newer cancelflow",
    ),
    "bad version": (b'{"format": "cancelflow-fake-state", "version": "1"}', "version"),
    "missing fields": (b'{"format": "cancelflow-fake-state", "version": 1}', "corrupt"),
}


class TestRefusals:
    @pytest.mark.parametrize("case", sorted(BAD))
    def test_bad_files_are_refused_untouched(self, path, case):
        """A corrupt, foreign or newer file is refused with a clear message and left as it was."""
        content, message = BAD[case]
        path.write_bytes(content)
        with pytest.raises(FakeServerStateError, match=message) as caught:
            FakeServer.with_state(path)
        assert "move the file away" in str(caught.value)
        assert path.read_bytes() == content

    def test_bad_entries_are_refused(self, path):
        """Entries that are not journal steps make the file corrupt."""
        with FakeServer.with_state(path):
            pass
        data = json.loads(path.read_text())
        data["entries"] = [{"op": "format_disk"}]
        path.write_text(json.dumps(data))
        with pytest.raises(FakeServerStateError, match="entry 0"):
            FakeServer.with_state(path)

    def test_an_unreadable_file(self, path):
        """A path that cannot be read (a folder) is refused by name."""
        path.mkdir()
        with pytest.raises(FakeServerStateError, match="cannot be read"):
            FakeServer.with_state(path)

    def test_a_journal_that_no_longer_replays(self, path):
        """A step that answers differently now (another cancelflow) refuses the file at start."""
        with FakeServer.with_state(path) as url:
            client_for(url).v1.customers.create(params={"email": "ada@example.com"})
        data = json.loads(path.read_text())
        data["entries"][0]["status"] = 400
        path.write_text(json.dumps(data))
        before = path.read_bytes()
        server = FakeServer.with_state(path)
        with pytest.raises(FakeServerStateError, match="replaying step 1") as caught:
            server.start()
        assert "POST /v1/customers" in str(caught.value)
        assert path.read_bytes() == before

    def test_a_malformed_step(self, path):
        """A step missing its fields is reported as malformed, not as a crash."""
        with FakeServer.with_state(path):
            pass
        data = json.loads(path.read_text())
        data["entries"] = [{"op": "api"}, {"op": "act", "session": "bps_x"}]
        path.write_text(json.dumps(data))
        with pytest.raises(FakeServerStateError, match="malformed"):
            FakeServer.with_state(path).start()

    def test_portal_steps_must_replay_the_same(self, path):
        """A recorded portal refusal that now succeeds is a divergence too."""
        with FakeServer.with_state(path) as url:
            client = client_for(url)
            session = cancel_session(client, portal_account(client))
            token = session.url.rsplit("/", 1)[1]
            assert request(f"{url}/p/session/{token}").status == 200
        data = json.loads(path.read_text())
        visit = next(e for e in data["entries"] if e["op"] == "visit")
        visit["error"] = "PortalSessionExpiredError"
        path.write_text(json.dumps(data))
        with pytest.raises(FakeServerStateError, match="portal visit on bps_"):
            FakeServer.with_state(path).start()


def test_the_secret_on_the_command_line_wins(path):
    """An explicit webhook secret replaces the saved one (and is saved)."""
    with FakeServer.with_state(path):
        pass
    with FakeServer.with_state(path, webhook_secret="whsec_mine") as _url:
        pass
    saved = state.read(path)
    assert saved is not None
    assert saved.webhook_secret == "whsec_mine"


def test_autosave_closes_while_it_saves(path):
    """close() right after a change never waits forever, even while a save runs."""
    import threading

    saved = state.SavedState(
        seed=0, start=0, webhook_secret="whsec_x", request_count=0, entries=[],
        written_by="test",
    )  # fmt: skip
    for _ in range(100):
        autosave = state.Autosave(path, lambda: saved, on_error=print, interval=0.0)
        autosave.start()
        autosave.changed()
        closer = threading.Thread(target=autosave.close, daemon=True)
        closer.start()
        closer.join(timeout=30)
        assert not closer.is_alive()
    assert state.read(path) == saved
