"""Privacy and lifecycle use cases: uninstall, customer data request, customer and shop erasure.

Shopify's mandatory compliance webhooks: https://shopify.dev/docs/apps/build/privacy-law-compliance

- `AppUninstalled`: the merchant becomes `uninstalled` (senders, digests and the API skip
  it) and its tokens are deleted; no partner call is made.
- `CustomerDataRequested`: the customer's stored data (customer item, orders, cases,
  timeline, messages) becomes one JSON document, stored for the merchant as a privacy request
  (`GET /api/privacy/requests/{id}`) and counted.
- `CustomerRedact`: personal data is erased wherever it is kept: the customer item's fields,
  free text on their timeline entries and cases, their messages' texts, their phone pointer
  entry and earlier data exports. Found through their keys and indexes; the writes are
  bounded by that customer's own items.
- `ShopRedact`: every item of the shop is deleted, found through the merchant's item index
  and its partitions (no Scan); the merchant item goes last, so a retry finds work to finish.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import api
from chalicelib.errors import NotFound
from chalicelib.events import AppUninstalled, CustomerDataRequested, CustomerRedact, ShopRedact
from chalicelib.handlers.common import Delivery, Outcome, add_receipt, receipt_ref
from chalicelib.store import keys, lifecycle
from chalicelib.store.models import (
    CaseItem,
    CustomerItem,
    MerchantItem,
    OrderItem,
    OutboxItem,
    PrivacyRequestItem,
    TimelineItem,
)
from chalicelib.store.records import clear_outbox_due, new_privacy_request
from chalicelib.store.repository import ItemRef, Store

__all__ = [
    "on_app_uninstalled",
    "on_customer_data_request",
    "on_customer_redact",
    "on_shop_redact",
    "customer_ids",
    "list_privacy_requests",
    "get_privacy_request",
    "REDACTED",
]

REDACTED = "[redacted]"
PII_FIELDS = ("email", "phone", "first_name", "last_name", "city", "province", "timezone")
FREE_TEXT = frozenset({"text", "body", "note", "customer_note", "message", "reason", "subject"})
MAX_DOCUMENT_BYTES = 350_000  # a DynamoDB item holds 400 KB
CHUNK = 90  # writes per transaction (DynamoDB allows 100)


def customer_ids(event: CustomerDataRequested | CustomerRedact) -> list[str]:
    """Our ids of the customer: the marketplace id, and the guest id its e-mail gives."""
    ids = [event.customer_id] if event.customer_id else []
    if event.email:
        ids.append("guest:" + hashlib.sha256(event.email.lower().encode()).hexdigest()[:16])
    return ids


def on_app_uninstalled(event: AppUninstalled, delivery: Delivery, store: Store) -> Outcome:
    """Mark the merchant uninstalled and drop its tokens (Shopify revoked them)."""
    if store.get_many({"receipt": receipt_ref(delivery)})["receipt"]:
        return Outcome("duplicate")
    merchant = delivery.merchant
    uow = store.unit_of_work()
    add_receipt(uow, delivery)
    if merchant.status == "active":
        merchant.status, merchant.uninstalled_at = "uninstalled", delivery.received_at
        uow.save("merchant", merchant)
    uow.count(merchant.merchant_id, delivery.received_at, "app_uninstalled")
    uow.commit()
    lifecycle.delete_keys(store, [(keys.credentials(merchant.merchant_id), keys.META)])
    return Outcome("applied", "merchant marked uninstalled")


class _Found:
    """Everything stored about one customer, read through keys and indexes."""

    def __init__(self, store: Store, mid: str, cid: str, order_ids: Iterable[str]) -> None:
        self.customer: CustomerItem | None = store.get(CustomerItem, keys.customer(mid, cid))
        self.entries: list[TimelineItem] = list(
            TimelineItem.by_customer.query(keys.customer_timeline(mid, cid))
        )
        wanted = set(order_ids) | {e.order_id for e in self.entries if e.order_id}
        cases = {e.case_id for e in self.entries if e.case_id}
        if self.customer is not None:
            wanted |= set(self.customer.order_ids or ())
            cases |= {c["case_id"] for c in self.customer.recent_cases or [] if c.get("case_id")}
        refs = {f"o:{o}": ItemRef(OrderItem, keys.order(mid, o)) for o in wanted}
        refs |= {f"c:{c}": ItemRef(CaseItem, keys.case(mid, c)) for c in cases}
        items = [i for i in store.get_many_chunked(refs) if i is not None]
        self.orders = [i for i in items if isinstance(i, OrderItem) and i.customer_id == cid]
        self.cases = [i for i in items if isinstance(i, CaseItem) and i.customer_id == cid]
        times = [o.placed_at for o in self.orders] + [e.recorded_at for e in self.entries]
        since = min(times, default=None)
        self.outbox = (
            lifecycle.customer_outbox(store, mid, cid, since - timedelta(days=1)) if since else []
        )

    @property
    def empty(self) -> bool:
        return self.customer is None and not (self.entries or self.orders or self.outbox)


def _customer_json(customer: CustomerItem | None) -> dict[str, Any] | None:
    if customer is None:
        return None
    fields = (*PII_FIELDS, "customer_id", "locale", "country", "spend", "tier", "sms_opt_out")
    data = {name: getattr(customer, name) for name in fields}
    return {**data, "order_ids": sorted(customer.order_ids or ())}


def _order_json(order: OrderItem) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "placed_at": keys.iso(order.placed_at),
        "total": order.total,
        "currency": order.currency,
        "status": order.status,
        "line_items": order.line_items or [],
    }


def on_customer_data_request(
    event: CustomerDataRequested, delivery: Delivery, store: Store
) -> Outcome:
    """Assemble what we store about the customer into one document for the merchant."""
    if store.get_many({"receipt": receipt_ref(delivery)})["receipt"]:
        return Outcome("duplicate")
    mid, now = delivery.merchant_id, delivery.received_at
    request_id = "DR-" + (event.request_id or keys.short_hash(delivery.cause, length=12))
    found = [_Found(store, mid, cid, event.order_ids) for cid in customer_ids(event)]
    document: dict[str, Any] = {
        "request_id": request_id,
        "merchant_id": mid,
        "generated_at": keys.iso(now),
        "customers": [_customer_json(f.customer) for f in found if f.customer is not None],
        "orders": [_order_json(o) for f in found for o in f.orders],
        "cases": [api.case_json(c) for f in found for c in f.cases],
        "timeline": [api.timeline_json(e) for f in found for e in f.entries],
        "messages": [api.notification_json(m) for f in found for m in f.outbox],
    }
    for part in ("messages", "timeline"):  # oversize: keep the newest, say so
        while len(json.dumps(document, default=str)) > MAX_DOCUMENT_BYTES and document[part]:
            document[part] = document[part][len(document[part]) // 2 :]
            document["truncated"] = True
    holder = next((f.customer.customer_id for f in found if f.customer is not None), None)
    uow = store.unit_of_work()
    add_receipt(uow, delivery)
    item = new_privacy_request(mid, request_id, now, customer_id=holder, document=document)
    uow.save("privacy_request", item)
    uow.count(mid, now, "privacy_data_requests")
    uow.commit()
    detail = "nothing stored for this customer" if all(f.empty for f in found) else "assembled"
    return Outcome("applied", f"data request {request_id}: {detail}", extra={"id": request_id})


def _scrub(value: Any) -> Any:
    """`value` without free-text fields (at any depth)."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in FREE_TEXT else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def on_customer_redact(event: CustomerRedact, delivery: Delivery, store: Store) -> Outcome:
    """Erase the customer's personal data in every item that holds it."""
    if store.get_many({"receipt": receipt_ref(delivery)})["receipt"]:
        return Outcome("duplicate")
    mid, now, writes = delivery.merchant_id, delivery.received_at, 0
    ops: list[tuple[str, Any, list[Any]]] = []  # (label, item, update actions or [] = save)
    for cid in customer_ids(event):
        found = _Found(store, mid, cid, event.order_ids)
        customer = found.customer
        if customer is not None:
            if customer.phone:
                lifecycle.drop_phone_owner(store, customer.phone, mid, cid)
            for name in PII_FIELDS:
                setattr(customer, name, None)
            customer.redacted_at = customer.updated_at = now
            ops.append(("customer", customer, []))
        for entry in found.entries:
            summary = f"{REDACTED} {entry.kind}"
            actions = [TimelineItem.summary.set(summary), TimelineItem.data.set({"redacted": True})]
            ops.append(("timeline", entry, actions))
        for case in found.cases:
            case.subject, case.details = f"{case.case_type} {REDACTED}", _scrub(case.details or {})
            ops.append(("case", case, []))
        for message in found.outbox:
            if message.channel == "marketplace":  # a refund or return decision: no personal data
                continue
            message.text, message.to_masked, message.context = None, None, {}
            if message.status in ("pending", "sending"):
                message.status, message.last_error = "skipped", "customer data erased"
                clear_outbox_due(message)
            ops.append(("outbox", message, []))
        exports = [r for r in lifecycle.privacy_requests(store, mid) if r.customer_id == cid]
        writes += lifecycle.delete_keys(store, [(r.pk, r.sk) for r in exports])
    for start in range(0, max(len(ops), 1), CHUNK):
        uow = store.unit_of_work()
        for label, item, actions in ops[start : start + CHUNK]:
            if actions:
                uow.update(label, item, actions)
            else:
                uow.save(label, item)
        if start + CHUNK >= len(ops):  # the receipt goes with the last chunk
            add_receipt(uow, delivery)
            uow.count(mid, now, "privacy_customer_redactions")
        uow.commit()
    return Outcome("applied", f"{len(ops) + writes} item(s) redacted")


def _shop_keys(store: Store, mid: str, now: datetime, created: datetime) -> set[tuple[str, str]]:
    """Keys of every item of the shop except the merchant item."""
    found: set[tuple[str, str]] = set()
    owners = [pk for pk, _ in lifecycle.merchant_item_keys(store, mid)]
    owners += [pk for pk, _ in lifecycle.index_keys(store, keys.cases_of(mid))]
    for pk in owners:  # an order, case or customer with its timeline entries
        found |= set(lifecycle.partition_keys(store, pk))
    found |= set(lifecycle.index_keys(store, keys.privacy_requests_of(mid)))
    for message in OutboxItem.by_merchant.query(keys.outbox_of(mid)):
        found.add((message.pk, message.sk))
        if message.provider and message.provider_message_id:
            pointer = keys.provider_message(message.provider, message.provider_message_id)
            found.add((pointer, keys.META))
        if message.sent_at:  # the SMS rate window it counted in (notify.rate_limit)
            window = message.sent_at.strftime("%Y-%m-%dT%H:%M")
            found.add((keys.rate_window(mid, "sms", window), keys.META))
    # Weekly counters: every week since the install, and the week of every timeline entry
    # (counters of backdated events, e.g. an old order, go to the week of their entry).
    weeks = {sk.split("#")[1][:10] for _, sk in found if sk.startswith("TL#")}
    moments = [datetime.fromisoformat(day).replace(tzinfo=UTC) for day in weeks]
    week = created - timedelta(weeks=1)
    while week <= now + timedelta(weeks=1):
        moments.append(week)
        week += timedelta(weeks=1)
    found |= {(keys.weekly_stats(mid, keys.iso_week(m)), keys.META) for m in moments}
    found.add((keys.digest_schedule(mid), keys.META))
    found.add((keys.credentials(mid), keys.META))
    return found


def on_shop_redact(event: ShopRedact, delivery: Delivery, store: Store) -> Outcome:
    """Delete everything stored about the shop; the merchant item last (no receipt: it
    would be the shop's data too, and a repeat finds nothing left to do)."""
    merchant, now = delivery.merchant, delivery.received_at
    mid = merchant.merchant_id
    item_keys = _shop_keys(store, mid, now, merchant.created_at)
    refs = {
        pk: ItemRef(CustomerItem, pk)
        for pk, sk in item_keys
        if pk.startswith("CUSTOMER#") and sk == keys.META
    }
    for customer in store.get_many_chunked(refs):
        if isinstance(customer, CustomerItem) and customer.phone:
            lifecycle.drop_phone_owner(store, customer.phone, mid, customer.customer_id)
    deleted = lifecycle.delete_keys(store, sorted(item_keys))
    tail = [(keys.api_key(merchant.api_key_hash), keys.META)] if merchant.api_key_hash else []
    deleted += lifecycle.delete_keys(store, [*tail, (merchant.pk, merchant.sk)])
    return Outcome("applied", f"shop erased ({deleted} keys)")


def list_privacy_requests(store: Store, merchant: MerchantItem) -> dict[str, Any]:
    """The merchant's data-request exports (ids and times; fetch one for its document)."""
    found = lifecycle.privacy_requests(store, merchant.merchant_id)
    items = [
        {"id": r.request_id, "kind": r.kind, "created_at": keys.iso(r.created_at)} for r in found
    ]
    return {"items": items, "next_cursor": None}


def get_privacy_request(store: Store, merchant: MerchantItem, request_id: str) -> dict[str, Any]:
    """One data-request export with its document; raises `NotFound`."""
    if not request_id or len(request_id) > 80 or "#" in request_id:
        raise NotFound("no such privacy request")
    item = store.get(PrivacyRequestItem, keys.privacy_request(merchant.merchant_id, request_id))
    if item is None:
        raise NotFound("no such privacy request")
    return {
        "id": item.request_id,
        "kind": item.kind,
        "created_at": keys.iso(item.created_at),
        "document": item.document,
    }
