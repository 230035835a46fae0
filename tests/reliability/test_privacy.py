"""Privacy in logs (issue 9): a full generated scenario (orders, shipments, carrier updates,
returns, warehouse receipts, SMS sent, a data request and a redaction) runs with the app's
real log output captured; no customer's e-mail or phone number (as typed, E.164 or bare
digits) and no secret or API key appears in any line, and none in any API response.

What `customers/redact` and `shop/redact` leave is proven in tests/integration/test_privacy.py.
"""

from __future__ import annotations

import io
import logging
import re

from chalicelib.notify.phone import normalize_e164
from chalicelib.notify.sender import deliver_one
from tests import signing
from tests.data.generator import generate
from tests.reliability.world import World, post, retire


def _traces(customer) -> list[str]:
    found = [customer.email]
    if customer.phone:
        e164 = normalize_e164(customer.phone, customer.country) or ""
        found += [customer.phone, e164, e164.lstrip("+"), re.sub(r"\D", "", customer.phone)]
    return [t for t in found if t and len(t) >= 6]


SECRETS = [
    signing.FAKE_SHOPIFY_SECRET,
    signing.FAKE_EASYPOST_SECRET,
    signing.FAKE_GENERIC_WMS_SECRET,
    signing.FAKE_GENERIC_CARRIER_SECRET,
]


def test_a_full_scenario_logs_no_personal_data_and_no_secret(client, app_deps):
    data = generate(seed=4242, merchants=1, orders_per_merchant=14, first_merchant=2)
    world = World(data)
    api_keys = world.create_merchants(app_deps.store, app_deps.now())
    [merchant_id] = world.merchant_ids
    [api_key] = api_keys.values()
    auth = {"Authorization": f"Bearer {api_key}"}
    from chalicelib.log import JsonFormatter

    captured = io.StringIO()
    handler = logging.StreamHandler(captured)  # the app's formatter, as Lambda's handler has
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        kinds = (
            "order_created",
            "fulfillment",
            "tracking_update",
            "return_requested",
            "warehouse_receipt",
        )
        for happening in world.happenings(kinds):
            status, _ = post(client, world.delivery(happening))
            assert status == 200
        sent = 0
        for item in app_deps.store.list_notifications(merchant_id, 100, None).items:
            sent += deliver_one(app_deps, item, app_deps.now()) == "sent"
        responses = [
            client.http.get(path, headers=auth).body.decode()
            for path in ("/api/cases", "/api/notifications", "/api/settings")
        ]
        refused = client.http.get("/api/cases", headers={"Authorization": "Bearer ak_nope"})
        responses.append(refused.body.decode())
    finally:
        logging.getLogger().removeHandler(handler)
        retire(app_deps.store, world.merchant_ids)
    logs = captured.getvalue()

    assert logs.count('"level"') > 50, "the scenario's log lines were not captured"
    assert sent > 0
    leaks = {t for c in data.customers for t in _traces(c) if t in logs}
    assert not leaks, f"personal data in logs: {sorted(leaks)[:5]}"
    assert not [s for s in (*SECRETS, api_key) if s in logs]
    for body in responses:
        assert not [s for s in (*SECRETS, api_key) if s in body]
    print(f"\nprivacy: {logs.count(chr(10))} log lines searched, {sent} SMS sent")
