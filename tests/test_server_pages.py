"""The portal's pages over HTTP: what they show, escaping, languages, and what they do."""

from __future__ import annotations

import pytest
from tests.serve_support import (
    cancel_session,
    fake,
    home_session,
    portal_account,
    request,
    served,
)

from cancelflow.testing._server.html import Markup, escape, join, link_target, render
from cancelflow.testing._server.wording import amount, negotiate, words_for

__all__ = ["fake", "served"]

HOSTILE = '<script>alert("x")</script>&\'"'


@pytest.fixture
def client(fake, served):
    return fake.client()


def page(url: str, **headers: str):
    answer = request(url, headers=headers)
    return answer.status, answer.text


def post(url: str, action: str, form: dict[str, str] | None = None):
    return request(f"{url}/{action}", "POST", form=form or {})


class TestTheCancelPage:
    def test_what_it_shows_in_english(self, client):
        """Plan, price, end date, reasons with Stripe's labels, the offer and the buttons."""
        sub = portal_account(client, features=["Unlimited projects"])
        session = cancel_session(
            client, sub, coupon="STAY20", return_url="https://example.com/me"
        )
        status, html = page(session.url)
        assert status == 200
        assert '<html lang="en">' in html
        assert "<h1>Cancel your plan</h1>" in html
        assert "€15.00 per month" in html
        assert "until the end of your billing period on February 1, 2026" in html
        assert "Unlimited projects" in html
        assert "It’s too expensive" in html
        assert "Other reason" in html
        assert "20% off on your next invoice" in html
        assert 'href="https://example.com/me"' in html
        assert "Return to example.com" in html
        for button in ("Accept offer", "Cancel plan", "Go back"):
            assert f">{button}</button>" in html

    def test_french(self, client):
        """locale=fr: French text, Stripe's French reason labels, French dates and amounts."""
        sub = portal_account(client)
        session = cancel_session(client, sub, coupon="STAY20", locale="fr")
        _status, html = page(session.url)
        assert '<html lang="fr">' in html
        assert "Annuler votre abonnement" in html
        assert "15,00\u00a0€ par mois" in html
        assert "le 1er février 2026" in html
        assert "Le tarif est trop élevé" in html
        assert "Autre motif" in html
        assert "20 % de réduction sur votre prochaine facture" in html

    @pytest.mark.parametrize(
        ("accept", "lang"),
        [
            ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
            ("en-GB,fr;q=0.5", "en"),
            ("de", "en"),
            ("", "en"),
        ],
    )
    def test_auto_follows_the_browser(self, client, accept, lang):
        """locale=auto (or none) follows Accept-Language among English and French."""
        sub = portal_account(client)
        session = cancel_session(client, sub, locale="auto")
        _status, html = page(session.url, **{"Accept-Language": accept})
        assert f'<html lang="{lang}">' in html

    def test_labelled_controls(self, client):
        """Every radio and the comment box have a label; reasons are a fieldset with a legend."""
        sub = portal_account(client, feedback_options=["Too many emails"])
        _status, html = page(cancel_session(client, sub).url)
        assert "<legend>Why are you canceling? (optional)</legend>" in html
        for control in (
            "reason-too_expensive",
            "reason-other",
            "reason-option-1",
            "comment",
        ):
            assert f'id="{control}"' in html
            assert f'<label for="{control}">' in html
        assert "Too many emails" in html
        assert "<script" not in html

    def test_immediate_cancels_say_so(self, client):
        """With mode=immediately the page says access ends now."""
        sub = portal_account(client, cancel_mode="immediately", options=())
        _status, html = page(cancel_session(client, sub).url)
        assert "lose access to it right away" in html
        assert "<fieldset" not in html

    def test_everything_from_host_or_customer_is_escaped(self, client):
        """Product names, feedback options and custom messages appear as text, never markup."""
        sub = portal_account(
            client, product=HOSTILE, features=[HOSTILE], feedback_options=[HOSTILE]
        )
        session = cancel_session(
            client,
            sub,
            after={
                "type": "hosted_confirmation",
                "hosted_confirmation": {"custom_message": HOSTILE},
            },
        )
        _status, html = page(session.url)
        assert "<script>" not in html
        assert (
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;&quot;" in html
        )
        post(session.url, "cancel")
        _status, done = page(session.url)
        assert "<script>" not in done
        assert "&lt;script&gt;" in done

    def test_a_return_url_that_is_not_http_is_not_a_link(self, client):
        """A return URL with another scheme is never put in a link or a redirect."""
        sub = portal_account(client)
        session = cancel_session(
            client, sub, return_url="javascript://example.com/%0Aalert(1)"
        )
        _status, html = page(session.url)
        assert "javascript:" not in html
        back = post(session.url, "back")
        assert back.status == 200
        assert "location" not in back.headers

    def test_security_headers(self, client):
        """Pages forbid scripts and framing, are not cached and leak no Referer."""
        answer = request(cancel_session(client, portal_account(client)).url)
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"


class TestWhatItDoes:
    def test_cancel_with_other_and_a_comment(self, fake, client):
        """The form's answer goes through the portal driver: scheduled, then the reason."""
        sub = portal_account(client)
        session = cancel_session(client, sub)
        answer = post(
            session.url, "cancel", {"reason": "other", "comment": " Too slow "}
        )
        assert answer.status == 303
        after = client.v1.subscriptions.retrieve(sub.id)
        assert after.cancel_at_period_end
        assert after.cancellation_details.feedback == "other"
        assert after.cancellation_details.comment == "Too slow"
        assert (
            fake.backend.portal_sessions.get(session.id).state["finished"] == "cancel"
        )

    def test_flexible_billing_mode(self, client):
        """In flexible mode the cancel sets cancel_at, not cancel_at_period_end."""
        sub = portal_account(client, mode="flexible")
        post(cancel_session(client, sub).url, "cancel", {"reason": "too_expensive"})
        after = client.v1.subscriptions.retrieve(sub.id)
        assert (after.cancel_at_period_end, after.cancel_at is not None) == (
            False,
            True,
        )
        assert after.cancellation_details.feedback == "too_expensive"

    def test_a_comment_without_other_is_not_an_answer(self, client):
        """Text left in the hidden box with another reason is dropped, as the page hides it."""
        sub = portal_account(client)
        post(
            cancel_session(client, sub).url,
            "cancel",
            {"reason": "too_expensive", "comment": "x"},
        )
        details = client.v1.subscriptions.retrieve(sub.id).cancellation_details
        assert (details.feedback, details.comment) == ("too_expensive", None)

    def test_a_custom_feedback_option(self, client):
        """Choosing a custom option sets feedback_option and leaves feedback empty."""
        sub = portal_account(client, feedback_options=["Too many emails"])
        option = client.v1.billing.feedback_options.list().data[0].id
        post(cancel_session(client, sub).url, "cancel", {"reason": option})
        details = client.v1.subscriptions.retrieve(sub.id).cancellation_details
        assert (details.feedback, details.feedback_option) == (None, option)

    def test_a_reason_not_offered_shows_the_page_again(self, client):
        """A reason the configuration does not offer re-renders the page with an alert (400)."""
        sub = portal_account(client)
        session = cancel_session(client, sub)
        answer = post(session.url, "cancel", {"reason": "low_quality"})
        assert answer.status == 400
        assert 'role="alert"' in answer.text
        assert "low_quality" in answer.text
        assert client.v1.subscriptions.retrieve(sub.id).cancel_at is None

    def test_redeem_the_offer(self, client):
        """Accept offer applies the coupon and cancels nothing."""
        sub = portal_account(client)
        session = cancel_session(client, sub, coupon="STAY20")
        assert post(session.url, "accept_offer").status == 303
        after = client.v1.subscriptions.retrieve(
            sub.id, params={"expand": ["discounts"]}
        )
        assert after.discounts[0].source.coupon == "STAY20"
        assert after.cancel_at is None
        _status, html = page(session.url)
        assert "20% off on your next invoice now applies to your plan." in html

    def test_go_back(self, fake, client):
        """Go back changes nothing and returns to the host's page."""
        sub = portal_account(client)
        session = cancel_session(client, sub, return_url="https://example.com/account")
        answer = post(session.url, "back")
        assert (answer.status, answer.headers["location"]) == (
            303,
            "https://example.com/account",
        )
        assert client.v1.subscriptions.retrieve(sub.id).cancel_at is None
        assert page(session.url)[0] == 200  # the session can be visited again

    def test_the_offer_cannot_be_redeemed_twice(self, client):
        """After the flow is done, another action is refused with a page, not an error."""
        sub = portal_account(client)
        session = cancel_session(client, sub, coupon="STAY20")
        post(session.url, "accept_offer")
        again = post(session.url, "accept_offer")
        assert again.status == 409
        assert "already done" in again.text


class TestAfterCompletion:
    def test_redirect(self, client):
        """after_completion=redirect sends the browser to the host's URL."""
        sub = portal_account(client)
        session = cancel_session(
            client,
            sub,
            after={
                "type": "redirect",
                "redirect": {"return_url": "https://example.com/bye?x=1"},
            },
        )
        answer = post(session.url, "cancel")
        assert answer.headers["location"] == "https://example.com/bye?x=1"
        _status, html = page(session.url)
        assert "Your plan has been canceled" in html

    def test_hosted_confirmation(self, client):
        """hosted_confirmation shows the confirmation with the custom message."""
        sub = portal_account(client)
        session = cancel_session(
            client,
            sub,
            locale="fr",
            after={
                "type": "hosted_confirmation",
                "hosted_confirmation": {"custom_message": "À bientôt !"},
            },
        )
        answer = post(session.url, "cancel")
        assert session.url.endswith(answer.headers["location"])
        status, html = page(session.url)
        assert status == 200
        assert "Votre abonnement a été annulé" in html
        assert "Il reste disponible jusqu’au 1er février 2026." in html
        assert '<p class="custom">À bientôt !</p>' in html

    def test_portal_homepage(self, client):
        """portal_homepage shows the customer's plans, marked as canceling."""
        sub = portal_account(client)
        session = cancel_session(client, sub)
        post(session.url, "cancel")
        status, html = page(session.url)
        assert status == 200
        assert "Your plans" in html
        assert "Cancels on February 1, 2026" in html
        assert "This link has been used" in html

    def test_immediate_cancel_has_ended(self, client):
        """After an immediate cancel, the confirmation says the plan has ended."""
        sub = portal_account(client, cancel_mode="immediately")
        session = cancel_session(
            client,
            sub,
            after={"type": "hosted_confirmation", "hosted_confirmation": {}},
        )
        post(session.url, "cancel")
        _status, html = page(session.url)
        assert "It has ended." in html
        assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"


class TestTheHomepage:
    def test_cancel_then_renew(self, client):
        """A session without flow_data lists plans; cancel one, then renew it."""
        sub = portal_account(client)
        session = home_session(client, sub)
        status, html = page(session.url)
        assert status == 200
        assert "Renews on February 1, 2026" in html
        assert f"/cancel?subscription={sub.id}" in html
        status, cancel_page = page(f"{session.url}/cancel?subscription={sub.id}")
        assert status == 200
        assert f'name="subscription" value="{sub.id}"' in cancel_page
        done = post(
            session.url, "cancel", {"subscription": sub.id, "reason": "too_expensive"}
        )
        assert done.headers["location"].endswith("?notice=canceled")
        _status, html = page(session.url + "?notice=canceled")
        assert "Your plan has been canceled" in html
        assert ">Renew plan</button>" in html
        renewed = post(session.url, "renew", {"subscription": sub.id})
        assert renewed.headers["location"].endswith("?notice=renewed")
        assert client.v1.subscriptions.retrieve(sub.id).cancel_at is None

    def test_an_unknown_plan(self, client):
        """Asking to cancel a plan the homepage does not list answers 404."""
        sub = portal_account(client)
        session = home_session(client, sub)
        assert page(f"{session.url}/cancel?subscription=sub_other")[0] == 404


class TestRefusals:
    def test_unknown_session(self, served):
        """An unknown session token is a 404 page."""
        status, html = page(f"{served}/p/session/test_nope")
        assert status == 404
        assert "This link is not valid" in html

    def test_expired_session(self, fake, client):
        """A session unused for too long shows 'This link has expired' (410)."""
        sub = portal_account(client)
        session = cancel_session(client, sub)
        fake.clock.advance(3600)
        status, html = page(session.url)
        assert status == 410
        assert "This link has expired" in html

    def test_flows_that_are_not_modeled(self, client):
        """Another deep-link flow opens a page that says it is not modeled (501)."""
        sub = portal_account(client)
        client.v1.billing_portal.configurations.create(
            params={"features": {"payment_method_update": {"enabled": True}}}
        )
        config = client.v1.billing_portal.configurations.list().data[0]
        session = client.v1.billing_portal.sessions.create(
            params={
                "customer": sub.customer,
                "configuration": config.id,
                "flow_data": {"type": "payment_method_update"},
            }
        )
        status, html = page(session.url)
        assert status == 501
        assert "payment_method_update" in html

    def test_unknown_actions_and_methods(self, client):
        """An unknown action is 404 on GET and 405 on POST; a bad form is 400."""
        session = cancel_session(client, portal_account(client))
        assert page(f"{session.url}/delete")[0] == 404
        assert post(session.url, "delete").status == 405
        bad = request(
            f"{session.url}/cancel",
            "POST",
            body=b"reason=\xff",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert bad.status == 400


class TestEscapingAndWords:
    def test_markup_is_made_only_by_escaping(self):
        """render escapes values; Markup passes through; join escapes each part."""
        assert render("<p>$x</p>", x="<b>") == "<p>&lt;b&gt;</p>"
        assert render("<p>$x</p>", x=Markup("<b>ok</b>")) == "<p><b>ok</b></p>"
        assert join(["<a>", Markup("<i>")], " ") == "&lt;a&gt; <i>"
        assert escape(escape("<")) == "&lt;"

    @pytest.mark.parametrize(
        ("url", "ok"),
        [
            ("https://example.com/a", True),
            ("http://localhost:3000/", True),
            ("javascript://example.com/%0A", False),
            ("data:text/html,x", False),
            ("//example.com", False),
            ("http://[::1", False),
            (None, False),
        ],
    )
    def test_link_targets(self, url, ok):
        """Only http(s) URLs with a host are linked or redirected to."""
        assert (link_target(url) is not None) == ok

    @pytest.mark.parametrize(
        ("value", "currency", "lang", "text"),
        [
            (1500, "eur", "en", "€15.00"),
            (1500, "eur", "fr", "15,00\u00a0€"),
            (123456, "usd", "fr", "1\u202f234,56\u00a0$"),
            (500, "jpy", "en", "¥500"),
            (1500, "chf", "en", "CHF\u00a015.00"),
            (1234, "kwd", "en", "KWD\u00a01.234"),
            (-250, "gbp", "en", "-£2.50"),
        ],
    )
    def test_amounts(self, value, currency, lang, text):
        """Amounts honour zero- and three-decimal currencies and each language's form."""
        assert amount(value, currency, lang) == text

    def test_intervals_and_dates(self):
        """Intervals and dates read naturally in both languages."""
        en, fr = words_for("en"), words_for("fr")
        assert en.interval("month", 3) == "every 3 months"
        assert fr.interval("year", 1) == "par an"
        assert en.date(1769904000) == "February 1, 2026"
        assert fr.date(1770508800) == "8 février 2026"

    @pytest.mark.parametrize(
        ("locale", "accept", "lang"),
        [
            ("fr-CA", None, "fr"),
            ("de", "fr", "en"),
            (None, "fr;q=0.4, en;q=0.9", "en"),
            ("auto", "xx;q=abc, fr", "fr"),
            (None, None, "en"),
        ],
    )
    def test_negotiation(self, locale, accept, lang):
        """The session's locale wins; auto or none follows Accept-Language; else English."""
        assert negotiate(locale, accept) == lang
