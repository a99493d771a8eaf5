"""Take the screenshots of the fake server's cancel page shown in the docs.

Run from the repository root with Playwright's Python package and the system's
Chromium (``apt-get install chromium``; never ``playwright install``)::

    python tools/fake_server_screenshots.py [--chromium /usr/bin/chromium]

It writes ``docs/images/fake-server-cancel-en.png`` and ``…-fr.png``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import stripe
from playwright.sync_api import sync_playwright

from cancelflow.testing import FakeStripe

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
COMMENTS = {
    "en": "We moved the team to another tool.",
    "fr": "L’équipe est passée à un autre outil.",
}
OTHER = {"en": "Other reason", "fr": "Autre motif"}


def session_url(client: stripe.StripeClient, locale: str) -> str:
    product = client.v1.products.create(
        params={
            "name": "Pro",
            "marketing_features": [
                {
                    "name": "Unlimited projects"
                    if locale == "en"
                    else "Projets illimités"
                },
                {
                    "name": "Priority support"
                    if locale == "en"
                    else "Support prioritaire"
                },
                {
                    "name": "Weekly reports"
                    if locale == "en"
                    else "Rapports hebdomadaires"
                },
            ],
        }
    )
    price = client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": 2900,
            "recurring": {"interval": "month"},
            "product": product.id,
        }
    )
    coupon = client.v1.coupons.create(
        params={"percent_off": 30, "duration": "repeating", "duration_in_months": 3}
    )
    config = client.v1.billing_portal.configurations.create(
        params={
            "features": {
                "subscription_cancel": {
                    "enabled": True,
                    "mode": "at_period_end",
                    "cancellation_reason": {
                        "enabled": True,
                        "options": [
                            "too_expensive",
                            "missing_features",
                            "switched_service",
                            "unused",
                            "other",
                        ],
                    },
                }
            }
        }
    )
    customer = client.v1.customers.create(params={"email": "chloe@example.com"})
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    session = client.v1.billing_portal.sessions.create(
        params={
            "customer": customer.id,
            "configuration": config.id,
            "locale": locale,
            "return_url": "https://example.com/account",
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {
                    "subscription": sub.id,
                    "retention": {
                        "type": "coupon_offer",
                        "coupon_offer": {"coupon": coupon.id},
                    },
                },
            },
        }
    )
    return str(session.url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    fake = FakeStripe()
    with fake.serve() as url, sync_playwright() as p:
        client = stripe.StripeClient("sk_test_docs", base_addresses={"api": url})
        browser = p.chromium.launch(
            executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        for locale in ("en", "fr"):
            context = browser.new_context(
                locale=locale,
                viewport={"width": 760, "height": 900},
                device_scale_factor=1,
            )
            page = context.new_page()
            page.goto(session_url(client, locale))
            page.get_by_label(OTHER[locale]).check()
            page.locator("#comment").fill(COMMENTS[locale])
            page.locator("#comment").blur()
            path = OUT / f"fake-server-cancel-{locale}.png"
            page.screenshot(path=str(path), full_page=True)
            sys.stdout.write(f"wrote {path.relative_to(OUT.parent.parent)}\n")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
