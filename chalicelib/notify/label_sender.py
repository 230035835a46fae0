"""Outbox channel "label": buy an approved return's prepaid label through EasyPost, once.

Items (kind `buy_return_label`) are queued in the approval's transaction
(`return_followups.on_approved`); `sender.deliver_due` hands each due one to `deliver`.
Claim, defer and backoff are the SMS sender's.

Never two labels: a guard item (`LabelGuardItem`, keyed by the outbox id) is inserted before
EasyPost is called and gets the shipment id as soon as the shipment exists, before its
purchase. A retry that finds a shipment id reads that shipment (bought already? then only the
record was lost) and otherwise buys that same shipment, which EasyPost sells only once; a
crash before the id was kept leaves an unbought shipment, which costs nothing.

On purchase, one transaction records: the guard (bought), the case details (`label_url`,
`return_tracking_number`, `return_carrier`), a return `ShipmentItem` (tracked like any
parcel), a timeline entry, the customer's SMS with the label link (kind
`return_label_ready`), the outbox item as sent and the `return_labels_bought` counter.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.connectors.easypost_api import EasyPostApi, Label, label_of
from chalicelib.connectors.http import for_settings
from chalicelib.errors import AftercareError, ProviderError, StaleVersion
from chalicelib.log import bind_context, get_logger
from chalicelib.notify.sender import MAX_ATTEMPTS, _claim, _defer, backoff
from chalicelib.policy.return_labels import LabelSettings, shipment_request
from chalicelib.store import keys
from chalicelib.store.models import (
    CaseItem,
    CustomerItem,
    LabelGuardItem,
    MerchantItem,
    ShipmentItem,
)
from chalicelib.store.records import clear_outbox_due, new_shipment, new_timeline_entry
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.models import OutboxItem

__all__ = ["deliver", "CHANNEL", "KIND", "easypost_client"]

log = get_logger(__name__)
CHANNEL = "label"
KIND = "buy_return_label"
RECORD_ATTEMPTS = 3
LABEL_STATUSES = frozenset({"approved"})  # a return still waiting for its parcel


def easypost_client(deps: Deps) -> EasyPostApi:
    """The platform's EasyPost client; ProviderError (not retryable) when not configured."""
    keys_ = deps.secrets.resolve(deps.settings.easypost_api_keys)
    if not keys_:
        raise ProviderError(
            "EasyPost is not configured: set AFTERCARE_EASYPOST_API_KEYS", retryable=False
        )
    http = for_settings(deps.settings, "EasyPost")
    return EasyPostApi(keys_[0], http, deps.settings.easypost_api_base)


def deliver(deps: Deps, item: OutboxItem, now: datetime) -> str:
    """Claim and buy one label: sent|retry|failed|skipped|busy."""
    if item.channel != CHANNEL:
        return "other_channel"
    with bind_context(merchant_id=item.merchant_id, outbox_id=item.outbox_id, kind=item.kind):
        if not _claim(deps, item, now):
            return "busy"
        mid = item.merchant_id
        found = deps.store.get_many(
            {
                "merchant": ItemRef(MerchantItem, keys.merchant(mid)),
                "case": ItemRef(CaseItem, keys.case(mid, item.case_id or "-")),
                "customer": ItemRef(CustomerItem, keys.customer(mid, item.customer_id or "-")),
                "guard": ItemRef(LabelGuardItem, keys.label_guard(mid, item.outbox_id)),
            }
        )
        merchant, case, guard = found["merchant"], found["case"], found["guard"]
        bought_before = guard is not None and guard.status == "bought"
        if merchant is None or merchant.status != "active":
            return _fail(deps, item, now, "skipped", "merchant is not active")
        if case is None:
            return _fail(deps, item, now, "skipped", "the return case is gone")
        if not bought_before and case.status not in LABEL_STATUSES:
            return _fail(deps, item, now, "skipped", f"the return is {case.status}")
        labels = LabelSettings.of(merchant.settings or {})
        if not bought_before and not labels.enabled:
            return _fail(deps, item, now, "skipped", "return labels are switched off")
        item.attempts = (item.attempts or 0) + 1
        try:
            label = _buy(deps, item, labels, case, found["customer"], guard, now)
        except ProviderError as exc:
            if exc.retryable and item.attempts < MAX_ATTEMPTS:
                asked = getattr(exc, "retry_after", None)
                wait = timedelta(seconds=max(1.0, asked)) if asked else backoff(item.attempts)
                _defer(deps, item, now + wait, exc.detail)
                log.info("label purchase deferred", extra={"seconds": wait.total_seconds()})
                return "retry"
            return _fail(deps, item, now, "failed", exc.detail)
        except (KeyError, TypeError, ValueError, AftercareError) as exc:
            return _fail(deps, item, now, "failed", f"invalid label request: {exc}")
        return _record(deps, item, label, now)


def _customer_address(customer: CustomerItem | None) -> dict[str, Any]:
    """What we keep of the customer's address (no street: see docs/pages.md)."""
    if customer is None:
        return {}
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    return {
        "name": name or None,
        "city": customer.city,
        "state": customer.province,
        "country": customer.country,
        "phone": customer.phone,
        "email": customer.email,
    }


def _buy(
    deps: Deps,
    item: OutboxItem,
    labels: LabelSettings,
    case: CaseItem,
    customer: CustomerItem | None,
    guard: LabelGuardItem | None,
    now: datetime,
) -> Label:
    """The bought label: from the guard, from the shipment an earlier attempt bought, or a
    new purchase. Raises ProviderError."""
    store, mid = deps.store, item.merchant_id
    if guard is not None and guard.status == "bought":
        return Label(guard.shipment_id or "", guard.tracking_number, guard.carrier, guard.label_url)
    client = easypost_client(deps)
    if guard is None:
        guard = LabelGuardItem(
            pk=keys.label_guard(mid, item.outbox_id),
            sk=keys.META,
            merchant_id=mid,
            outbox_id=item.outbox_id,
            case_id=case.case_id,
            created_at=now,
            updated_at=now,
            gsi1pk=keys.merchant_items(mid, keys.label_guard(mid, item.outbox_id)),
            gsi1sk=keys.label_guard(mid, item.outbox_id),
        )
        uow = store.unit_of_work()
        uow.insert("label_guard", guard)
        try:
            uow.commit()
        except StaleVersion:  # another attempt got here first: follow what it wrote
            guard = store.get(LabelGuardItem, keys.label_guard(mid, item.outbox_id))
            if guard is None:
                raise ProviderError("label guard vanished", retryable=True) from None
            return _buy(deps, item, labels, case, customer, guard, now)
    if guard.shipment_id:
        shipment = client.shipment_body(guard.shipment_id)
        if label_of(shipment).bought:
            return label_of(shipment)  # bought before; only the record was lost
    else:
        request = shipment_request(labels, _customer_address(customer), item.outbox_id)
        shipment = client.create_shipment(request)
        guard.shipment_id, guard.updated_at = str(shipment["id"]), now
        uow = store.unit_of_work()
        uow.save("label_guard", guard)
        uow.commit()  # StaleVersion: a concurrent attempt; the claim's lease makes it rare
    return client.buy_cheapest(shipment)


def _record(deps: Deps, item: OutboxItem, label: Label, now: datetime) -> str:
    """Record the purchase in one transaction (re-read and retried on conflicts)."""
    from chalicelib.handlers.cases import CaseChange

    store, mid = deps.store, item.merchant_id
    tracking = label.tracking_number or ""
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        found = store.get_many(
            {
                "case": ItemRef(CaseItem, keys.case(mid, item.case_id or "-")),
                "guard": ItemRef(LabelGuardItem, keys.label_guard(mid, item.outbox_id)),
                "shipment": ItemRef(ShipmentItem, keys.shipment(mid, tracking)),
            }
        )
        case: CaseItem | None = found["case"]
        guard: LabelGuardItem | None = found["guard"]
        uow = store.unit_of_work()
        if guard is not None:
            guard.status, guard.updated_at = "bought", now
            guard.shipment_id = label.shipment_id or guard.shipment_id
            guard.tracking_number, guard.carrier = label.tracking_number, label.carrier
            guard.label_url = label.label_url
            uow.save("label_guard", guard)
        existing: ShipmentItem | None = found["shipment"]
        if existing is not None and not existing.is_return:  # an outbound parcel's number:
            existing = None  # never turn it into a return (EasyPost numbers are unique)
            log.warning("label tracking number belongs to an outbound parcel")
        shipment = existing or new_shipment(mid, tracking, now)
        shipment.carrier = shipment.carrier or (label.carrier or "")
        shipment.is_return, shipment.case_id, shipment.label_url = (
            True,
            item.case_id,
            label.label_url,
        )
        shipment.order_id = shipment.order_id or item.order_id
        shipment.customer_id = shipment.customer_id or item.customer_id
        shipment.updated_at = now
        if case is not None:
            shipment.order_number = (case.details or {}).get("order_number") or None
            case.details = {
                **(case.details or {}),
                "label_url": label.label_url,
                "return_tracking_number": tracking,
                "return_carrier": label.carrier,
                "label_bought_at": keys.iso(now),
            }
            case.updated_at = now
            uow.save("case", case)
            change = CaseChange(uow, case, now, item.outbox_id)
            change.note(
                "return_label_bought",
                "aftercare",
                f"Prepaid return label bought ({label.carrier}, tracking {tracking})",
                label_url=label.label_url,
                tracking_number=tracking,
                carrier=label.carrier,
                shipment_id=label.shipment_id,
            )
            change.send(
                "return_label_ready",
                {
                    "order_number": (case.details or {}).get("order_number") or "",
                    "label_url": label.label_url,
                    "carrier": label.carrier or "",
                    "tracking_number": tracking,
                },
            )
        if found["shipment"] is None or existing is not None:
            uow.save("shipment", shipment)
        item.status, item.lease_until, item.last_error = "sent", None, None
        item.provider, item.provider_message_id, item.sent_at = "easypost", label.shipment_id, now
        clear_outbox_due(item)
        uow.save("outbox", item)
        uow.count(mid, now, "return_labels_bought")
        try:
            uow.commit()
            break
        except StaleVersion:
            if attempt == RECORD_ATTEMPTS:
                raise
            fresh = store.get(type(item), item.pk, item.sk)
            if fresh is None or fresh.status != "sending":
                return "busy"
            item.version = fresh.version
    log.info("return label bought", extra={"shipment_id": label.shipment_id})
    return "sent"


def _fail(deps: Deps, item: OutboxItem, now: datetime, status: str, reason: str) -> str:
    """Park the item as `status` with a timeline entry and counter, in one transaction."""
    item.status, item.lease_until, item.last_error = status, None, reason
    clear_outbox_due(item)
    uow = deps.store.unit_of_work()
    uow.save("outbox", item)
    if item.timeline_pk:
        entry = new_timeline_entry(
            item.merchant_id,
            item.timeline_pk,
            cause=item.outbox_id,
            at=now,
            now=now,
            kind=f"return_label_{status}",
            source="aftercare",
            summary=f"Prepaid return label {status}: {reason}"[:500],
            customer_id=item.customer_id,
            case_id=item.case_id,
            order_id=item.order_id,
            data={"outbox_id": item.outbox_id},
        )
        uow.insert("timeline", entry)
    uow.count(item.merchant_id, now, f"return_labels_{status}")
    uow.commit()
    log.info("label request finished", extra={"result": status, "reason": reason})
    return status
