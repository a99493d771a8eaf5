"""Clients other than stripe-python on the served fake: curl, and Node's official `stripe`.

The Node test installs the `stripe` package from the npm registry into a
temporary folder; without node, npm or the registry it skips locally and
fails in CI (CI must show that another language's SDK works).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import stripe
from tests.serve_support import KEY, fake, request, served

__all__ = ["fake", "served"]

NODE_STRIPE = "stripe@23"


def curl(*args: str) -> dict:
    proc = subprocess.run(
        ["curl", "-sS", "--max-time", "20", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(proc.stdout)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_creates_a_customer_a_subscription_and_a_cancel_session(fake, served):
    """curl -u key: with form fields: customer, price, subscription, configuration, cancel link."""
    auth = ["-u", f"{KEY}:"]
    customer = curl(f"{served}/v1/customers", *auth, "-d", "email=ada@example.com")
    price = curl(
        f"{served}/v1/prices",
        *auth,
        "-d", "currency=eur",
        "-d", "unit_amount=1500",
        "-d", "recurring[interval]=month",
        "-d", "product_data[name]=Pro",
    )  # fmt: skip
    sub = curl(
        f"{served}/v1/subscriptions",
        *auth,
        "-H", "Idempotency-Key: curl-sub-1",
        "-d", f"customer={customer['id']}",
        "-d", f"items[0][price]={price['id']}",
    )  # fmt: skip
    config = curl(
        f"{served}/v1/billing_portal/configurations",
        *auth,
        "-d", "features[subscription_cancel][enabled]=true",
    )  # fmt: skip
    session = curl(
        f"{served}/v1/billing_portal/sessions",
        *auth,
        "-d", f"customer={customer['id']}",
        "-d", f"configuration={config['id']}",
        "-d", "flow_data[type]=subscription_cancel",
        "-d", f"flow_data[subscription_cancel][subscription]={sub['id']}",
    )  # fmt: skip
    assert sub["status"] == "active"
    assert session["flow"]["subscription_cancel"]["subscription"] == sub["id"]
    assert session["url"].startswith(f"{served}/p/session/")
    assert request(session["url"]).status == 200
    assert fake.backend.subscriptions.get(sub["id"]).obj["customer"] == customer["id"]
    error = curl(f"{served}/v1/customers/cus_missing", *auth)
    assert error["error"]["code"] == "resource_missing"


NODE_SCRIPT = r"""
const Stripe = require("stripe");
const [host, port, apiVersion] = process.argv.slice(2);
const stripe = new Stripe("sk_test_node", {
  host, port: Number(port), protocol: "http", apiVersion, maxNetworkRetries: 0,
});
(async () => {
  const customer = await stripe.customers.create({ email: "node@example.com" });
  const price = await stripe.prices.create({
    currency: "usd", unit_amount: 900, recurring: { interval: "month" },
    product_data: { name: "Node plan" },
  });
  const sub = await stripe.subscriptions.create({
    customer: customer.id, items: [{ price: price.id }],
    billing_mode: { type: "classic" },
  });
  const config = await stripe.billingPortal.configurations.create({
    features: { subscription_cancel: { enabled: true, mode: "at_period_end" } },
  });
  const session = await stripe.billingPortal.sessions.create({
    customer: customer.id, configuration: config.id,
    flow_data: { type: "subscription_cancel", subscription_cancel: { subscription: sub.id } },
  });
  let missing = null;
  try { await stripe.customers.retrieve("cus_missing"); }
  catch (err) { missing = { type: err.type, code: err.code, status: err.statusCode }; }
  console.log(JSON.stringify({ customer: customer.id, sub: sub.id, session: session.url, missing }));
})().catch((err) => { console.error(err); process.exit(1); });
"""


def _skip_or_fail(problem: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{problem}; CI must run the Node client test")
    pytest.skip(problem)


@pytest.fixture(scope="module")
def node_stripe(tmp_path_factory):
    """A folder with Node's official `stripe` package installed from the npm registry."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _skip_or_fail("node and npm are not installed")
    folder = tmp_path_factory.mktemp("node-stripe")
    proc = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(folder),
         NODE_STRIPE],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        _skip_or_fail(f"npm install {NODE_STRIPE} failed: {proc.stderr.strip()[-300:]}")
    return folder


def test_node_stripe_package(fake, served, node_stripe):
    """Node's `stripe` SDK creates a customer, a subscription and a cancel session, and
    gets Stripe's error for a missing customer."""
    script = node_stripe / "client.js"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    host, port = served.removeprefix("http://").split(":")
    proc = subprocess.run(
        ["node", str(script), host, port, stripe.api_version],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=node_stripe,
    )
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    assert (
        fake.backend.customers.get(made["customer"]).obj["email"] == "node@example.com"
    )
    assert fake.backend.subscriptions.get(made["sub"]).obj["status"] == "active"
    assert made["session"].startswith(f"{served}/p/session/")
    assert made["missing"] == {
        "type": "StripeInvalidRequestError",
        "code": "resource_missing",
        "status": 404,
    }
