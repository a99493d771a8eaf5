"""Ingest signed webhook deliveries into a ledger (run as a subprocess by the tests).

Usage: python ingest_child.py sqlite PATH COUNT
       python ingest_child.py postgres URL SCHEMA COUNT

Delivers every event of ``stripe_events.many_events(COUNT)`` (recording each
deep link just before its subscription's first event) through
``WebhookHandler.handle_webhook`` and prints the number handled after each one,
so that the parent can SIGKILL it part way. Not a test module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from cancelflow import PostgresLedger, SQLiteLedger, WebhookHandler, sign_webhook
from stripe_events import links_for, many_events

SECRET = "whsec_sigkill_test"


def main(argv: list[str]) -> None:
    kind = argv[1]
    if kind == "sqlite":
        ledger = SQLiteLedger(argv[2])
        count = int(argv[3])
    else:
        ledger = PostgresLedger(argv[2], schema=argv[3])
        count = int(argv[4])
    handler = WebhookHandler(SECRET, ledger=ledger)
    events = many_events(count)
    pending = {x.subscription_id: x for x in links_for(events)}
    for n, event in enumerate(events, 1):
        obj = event["data"]["object"]
        sub = (
            obj["id"]
            if obj.get("object") == "subscription"
            else obj.get("subscription")
        )
        link = pending.pop(sub, None)
        if link is not None:
            ledger.record_link(link)
        body = json.dumps(event).encode()
        handler.handle_webhook(body, sign_webhook(body, SECRET))
        sys.stdout.write(f"{n}\n")
        sys.stdout.flush()
    ledger.close()


if __name__ == "__main__":
    main(sys.argv)
