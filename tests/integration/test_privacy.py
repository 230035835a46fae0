"""Shopify's privacy webhooks over HTTP on DynamoDB Local: app/uninstalled, customers/
data_request, customers/redact and shop/redact. Payloads are the compliance examples
(tests/fixtures/shopify) with the shop and customer changed to this test's. A test-only Scan of
the local table proves what remains: none of a redacted customer's personal data, and nothing
of an erased shop (the app itself never scans)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from chalicelib.store import keys
from tests.conftest import FIXED_NOW
from tests.integration import marketplace_env
from tests.integration.marketplace_env import install_shop, post_shopify
from tests.integration.sms_helpers import new_phone
from tests.integration.test_slice import fulfillment_body, post_easypost, tracker_body
from tests.signing import FAKE_EASYPOST_SECRET
from tests.support import load_fixture

stubs, fresh = marketplace_env.stubs, marketplace_env.fresh  # the module's fixtures


@dataclass(frozen=True)
class Person:
    customer_id: int
    email: str
    phone: str  # E.164
    first_name: str
    last_name: str

    @classmethod
    def new(cls) -> Person:
        tag = uuid.uuid4().hex[:8]
        return cls(
            customer_id=int(uuid.uuid4().int % 10**12),
            email=f"privacy-{tag}@example.com",
            phone=new_phone(),
            first_name=f"Firstname{tag}",
            last_name=f"Lastname{tag}",
        )

    @property
    def traces(self) -> list[str]:
        """Strings that must not survive a redaction: e-mail, phone, names."""
        national = self.phone[2:]  # without +1
        return [self.email, self.phone, national, self.first_name, self.last_name]


def order_for(person: Person, order_id: int) -> dict[str, Any]:
    """Shopify's orders/create example, bought by `person`."""
    order = json.loads(load_fixture("shopify", "orders_create.json"))
    order["id"] = order_id
    order["email"] = order["contact_email"] = person.email
    order["customer"].update(
        id=person.customer_id,
        email=person.email,
        first_name=person.first_name,
        last_name=person.last_name,
    )
    for key in ("shipping_address", "billing_address"):
        order[key].update(
            first_name=person.first_name,
            last_name=person.last_name,
            name=f"{person.first_name} {person.last_name}",
            phone=person.phone,
        )
    return order


def compliance(name: str, shop: str, person: Person | None = None, **extra: Any) -> dict:
    body = json.loads(load_fixture("shopify", name))
    body["shop_domain"] = shop
    if person is not None:
        body["customer"] = {"id": person.customer_id, "email": person.email, "phone": person.phone}
    return {**body, **extra}


def scan(app_deps) -> list[str]:
    """Every item of the local table as JSON text (test-only maintenance Scan)."""
    client, table = app_deps.store.connection.client, app_deps.store.table_name
    items, kwargs = [], {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        items += [json.dumps(item, sort_keys=True) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def shopper_activity(client, app_deps, merchant, person: Person, order_id: int) -> None:
    """An order, its shipment (an SMS sent) and a carrier failure (a case)."""
    from chalicelib.notify.sender import deliver_due

    shop, tracking = merchant.shop_domain, f"1ZPRIV{order_id}"
    assert (
        post_shopify(client, shop, "orders/create", order_for(person, order_id)).status_code == 200
    )
    shipped = post_shopify(
        client, shop, "fulfillments/create", fulfillment_body(order_id, tracking)
    )
    assert shipped.status_code == 200
    failure = tracker_body(tracking, "failure", f"evt_{order_id}", "2026-11-23T14:00:00Z")
    assert post_easypost(client, merchant.merchant_id, failure).status_code == 200
    deliver_due(app_deps, FIXED_NOW, limit=500)


def with_easypost(app_deps, merchant_id: str) -> None:
    merchant = app_deps.store.merchant(merchant_id)
    merchant.webhook_secrets = {**merchant.webhook_secrets, "easypost": [FAKE_EASYPOST_SECRET]}
    merchant.save()


def test_data_request_is_assembled_and_readable_by_the_merchant(client, merchant, app_deps):
    person = Person.new()
    shopper_activity(client, app_deps, merchant, person, 61001)
    body = compliance("customers_data_request.json", merchant.shop_domain, person)

    response = post_shopify(client, merchant.shop_domain, "customers/data_request", body)

    assert response.status_code == 200
    assert json.loads(response.body)["events"][0]["outcome"] == "applied"
    listing = json.loads(client.http.get("/api/privacy/requests", headers=merchant.auth).body)
    assert [item["id"] for item in listing["items"]] == ["DR-9999"]
    export = client.http.get("/api/privacy/requests/DR-9999", headers=merchant.auth)
    document = json.loads(export.body)["document"]
    [customer] = document["customers"]
    assert customer["email"] == person.email and customer["phone"] == person.phone
    assert customer["first_name"] == person.first_name
    assert [o["order_id"] for o in document["orders"]] == ["61001"]
    assert {c["type"] for c in document["cases"]} == {"shipping_exception"}
    assert {e["kind"] for e in document["timeline"]} >= {"order_placed", "shipment_update"}
    assert any(m["status"] == "sent" and m["text"] for m in document["messages"])
    other = client.http.get("/api/privacy/requests/DR-1", headers=merchant.auth)
    assert other.status_code == 404


def test_customer_redact_leaves_none_of_their_personal_data(client, merchant, app_deps):
    from chalicelib.store.models import CustomerItem

    gone, kept = Person.new(), Person.new()
    shopper_activity(client, app_deps, merchant, gone, 62001)
    shopper_activity(client, app_deps, merchant, kept, 62002)
    request = compliance("customers_data_request.json", merchant.shop_domain, gone)
    post_shopify(client, merchant.shop_domain, "customers/data_request", request)
    assert any(gone.email in item for item in scan(app_deps))  # it was there

    body = compliance("customers_redact.json", merchant.shop_domain, gone, orders_to_redact=[62001])
    response = post_shopify(client, merchant.shop_domain, "customers/redact", body)

    assert response.status_code == 200, response.body
    assert json.loads(response.body)["events"][0]["outcome"] == "applied"
    items = scan(app_deps)
    leaks = [(trace, item) for item in items for trace in gone.traces if trace in item]
    assert leaks == []
    assert any(kept.email in item for item in items)
    assert any(kept.phone in item for item in items)
    customer = app_deps.store.get(
        CustomerItem, keys.customer(merchant.merchant_id, str(gone.customer_id))
    )
    assert customer.redacted_at is not None and customer.order_ids == {"62001"}
    assert (
        client.http.get("/api/privacy/requests/DR-9999", headers=merchant.auth).status_code == 404
    )
    timeline = client.http.get(f"/api/customers/{gone.customer_id}/timeline", headers=merchant.auth)
    assert all(e["summary"].startswith("[redacted]") for e in json.loads(timeline.body)["items"])


def test_app_uninstalled_stops_the_merchant(fresh, client, app_deps):
    from chalicelib.store.models import CredentialsItem

    merchant = install_shop(client, fresh)
    calls = len(fresh.shopify.calls)

    response = post_shopify(client, merchant.shop_domain, "app/uninstalled", {"id": 1})
    again = post_shopify(client, merchant.shop_domain, "app/uninstalled", {"id": 1})

    assert response.status_code == 200 and again.status_code == 200
    stored = app_deps.store.merchant(merchant.merchant_id)
    assert stored.status == "uninstalled" and stored.uninstalled_at == FIXED_NOW
    assert app_deps.store.get(CredentialsItem, keys.credentials(merchant.merchant_id)) is None
    assert client.http.get("/api/cases", headers=merchant.auth).status_code == 401
    orders = post_shopify(client, merchant.shop_domain, "orders/create", order_for(Person.new(), 1))
    assert orders.status_code == 404
    assert len(fresh.shopify.calls) == calls  # no API call on uninstall


def test_shop_redact_leaves_nothing_of_the_shop(fresh, client, app_deps, merchant):
    shop = install_shop(client, fresh)
    with_easypost(app_deps, shop.merchant_id)
    person, neighbour = Person.new(), Person.new()
    shopper_activity(client, app_deps, shop, person, 63001)
    shopper_activity(client, app_deps, merchant, neighbour, 63002)  # another shop's customer
    request = compliance("customers_data_request.json", shop.shop_domain, person)
    post_shopify(client, shop.shop_domain, "customers/data_request", request)
    post_shopify(client, shop.shop_domain, "app/uninstalled", {"id": 1})
    assert sum(shop.merchant_id in item for item in scan(app_deps)) > 20

    body = compliance("shop_redact.json", shop.shop_domain)
    response = post_shopify(client, shop.shop_domain, "shop/redact", body)
    repeat = post_shopify(client, shop.shop_domain, "shop/redact", body)

    assert response.status_code == 200 and repeat.status_code == 200
    assert json.loads(repeat.body)["detail"] == "nothing stored for this shop"
    items = scan(app_deps)
    remains = [
        item
        for item in items
        if shop.merchant_id in item or shop.shop_domain in item or person.phone in item
    ]
    assert remains == []
    assert any(neighbour.email in item for item in items)  # other shops are untouched
    assert client.http.get("/api/cases", headers=merchant.auth).status_code == 200
