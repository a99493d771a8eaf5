"""The cancel page in a real headless Chromium: click through it as a customer would.

Playwright's Python package drives the system's Chromium (``apt-get install
chromium``; never a browser downloaded by Playwright). Without them these tests
skip locally and fail in CI.
"""

from __future__ import annotations

import pytest
import stripe
from tests.serve_support import (
    KEY,
    Receiver,
    browser,
    cancel_session,
    fake,
    portal_account,
)

__all__ = ["browser", "fake"]

SECRET = "whsec_browser_tests"


@pytest.fixture
def hook():
    receiver = Receiver(SECRET)
    yield receiver
    receiver.close()


@pytest.fixture
def served(fake, hook):
    server = fake.serve(forward_to=[hook.url], webhook_secret=SECRET)
    with server:
        yield server


@pytest.fixture
def client(served):
    return stripe.StripeClient(
        KEY, base_addresses={"api": served.url}, max_network_retries=0
    )


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


THANKS = {
    "type": "hosted_confirmation",
    "hosted_confirmation": {"custom_message": "Thanks!"},
}


def test_cancel_with_other_and_a_comment_classic(page, client, served, hook):
    """Classic mode: 'Other reason' + a comment; scheduled at period end; the webhook has it."""
    sub = portal_account(client, mode="classic")
    session = cancel_session(client, sub, after=THANKS)
    page.goto(session.url)
    assert page.get_by_role("heading", level=1).inner_text() == "Cancel your plan"
    comment = page.get_by_label("Tell us more (optional)")
    assert not comment.is_visible()  # only with "Other reason"
    page.get_by_label("Other reason").check()
    comment.fill("The reports are too slow")
    page.get_by_role("button", name="Cancel plan").click()
    page.wait_for_selector("text=Your plan has been canceled")
    assert page.locator(".custom").inner_text() == "Thanks!"
    after = client.v1.subscriptions.retrieve(sub.id)
    assert after.cancel_at_period_end is True
    assert (
        after.cancellation_details.feedback,
        after.cancellation_details.comment,
    ) == (
        "other",
        "The reports are too slow",
    )
    assert served.wait_for_webhooks()
    updates = [e for e in hook.events if e["type"] == "customer.subscription.updated"]
    assert updates[-1]["data"]["object"]["cancellation_details"]["comment"] == (
        "The reports are too slow"
    )
    assert updates[0]["data"]["object"]["cancel_at_period_end"] is True


def test_cancel_with_other_and_a_comment_flexible_in_french(
    browser, client, served, hook
):
    """Flexible mode in French: cancel_at set, cancel_at_period_end false; redirect after."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    try:
        sub = portal_account(client, mode="flexible")
        back = f"{served.url}/?from=portal"
        session = cancel_session(
            client,
            sub,
            locale="fr",
            after={"type": "redirect", "redirect": {"return_url": back}},
        )
        page.goto(session.url)
        assert (
            page.get_by_role("heading", level=1).inner_text()
            == "Annuler votre abonnement"
        )
        page.get_by_label("Autre motif").check()
        page.get_by_label("Dites-nous en plus (facultatif)").fill("Trop cher pour nous")
        page.get_by_role("button", name="Annuler l’abonnement").click()
        page.wait_for_url(back)
        after = client.v1.subscriptions.retrieve(sub.id)
        assert after.cancel_at_period_end is False
        assert after.cancel_at == after["items"].data[0].current_period_end
        assert after.cancellation_details.comment == "Trop cher pour nous"
        assert served.wait_for_webhooks()
        assert hook.types()[-2:] == ["customer.subscription.updated"] * 2
    finally:
        context.close()


def test_redeem_the_offer(page, client, served, hook):
    """Accept offer: the coupon is applied, nothing is canceled, the discount event arrives."""
    sub = portal_account(client)
    session = cancel_session(client, sub, coupon="STAY20", after=THANKS)
    page.goto(session.url)
    assert "20% off on your next invoice" in page.locator(".offer").inner_text()
    page.get_by_role("button", name="Accept offer").click()
    page.wait_for_selector("text=Offer accepted")
    after = client.v1.subscriptions.retrieve(sub.id)
    assert after.cancel_at is None
    assert len(after.discounts) == 1
    assert served.wait_for_webhooks()
    assert "customer.discount.created" in hook.types()


def test_go_back(page, client, served, hook):
    """Go back returns to the host's page and changes nothing."""
    sub = portal_account(client)
    home = f"{served.url}/?back=1"
    session = cancel_session(client, sub, return_url=home)
    page.goto(session.url)
    page.get_by_role("button", name="Go back").click()
    page.wait_for_url(home)
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at is None
    assert served.wait_for_webhooks()
    assert "customer.subscription.updated" not in hook.types()


def test_keyboard_only(page, client, served):
    """Tab and arrow keys reach every control in order; Enter cancels with the comment."""
    sub = portal_account(client)
    session = cancel_session(client, sub, return_url=f"{served.url}/", after=THANKS)
    page.goto(session.url)

    def focused() -> str:
        return page.evaluate(
            "() => document.activeElement.id || document.activeElement.innerText"
        )

    page.keyboard.press("Tab")
    assert "Return to" in focused()
    page.keyboard.press("Tab")
    assert focused() == "reason-too_expensive"
    page.keyboard.press("ArrowDown")  # moves to, and checks, "Other reason"
    assert focused() == "reason-other"
    assert page.get_by_label("Other reason").is_checked()
    page.keyboard.press("Tab")
    assert focused() == "comment"
    page.keyboard.type("Keyboard only")
    page.keyboard.press("Tab")
    assert focused() == "Cancel plan"
    outline = page.evaluate(
        "() => getComputedStyle(document.activeElement).outlineStyle"
    )
    assert outline == "solid"  # the focus is visible
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Your plan has been canceled")
    details = client.v1.subscriptions.retrieve(sub.id).cancellation_details
    assert (details.feedback, details.comment) == ("other", "Keyboard only")


def test_no_script_and_no_outside_request(page, client, served):
    """The page loads nothing from outside the server and has no script."""
    sub = portal_account(client)
    session = cancel_session(client, sub, coupon="STAY20")
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(session.url)
    assert seen
    assert all(url.startswith(served.url) for url in seen)
    assert page.locator("script").count() == 0


@pytest.mark.parametrize(("ci", "outcome"), [("", "skip"), ("true", "fail")])
def test_without_chromium_skip_locally_fail_in_ci(monkeypatch, ci, outcome):
    """With no Chromium, the browser tests skip with the reason, unless CI is set: then they fail."""
    from tests import serve_support

    monkeypatch.setenv(serve_support.CHROMIUM_VAR, "/nonexistent/chromium")
    monkeypatch.setenv("CI", ci)
    caught = pytest.skip.Exception if outcome == "skip" else pytest.fail.Exception
    with pytest.raises(caught, match="no chromium executable"):
        serve_support.need_browser()
