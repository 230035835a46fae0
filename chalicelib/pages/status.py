"""The order status page `/s/{token}`: shipments, returns and refunds of one order, no login.

The token is an HMAC of (merchant, order, generation) with the pages key, 22 base64url
characters (~131 bits): unguessable, never the order id. Its pointer item (`STATUS#{token}`)
makes it resolvable and revocable (`revoked_at`); a forged, unknown or revoked token is a 404.

Round trips per view: GetItem (token pointer), Query (the order with its timeline: refunds),
BatchGetItem (customer + shipments), BatchGetItem (the order's return cases, found through
the customer's `recent_cases`); the merchant comes from the container cache.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pynamodb.exceptions import PutError

from chalicelib.pages.csat import csat_items
from chalicelib.pages.i18n import Words, choose_locale
from chalicelib.pages.render import brand_of
from chalicelib.pages.signing import signer_for
from chalicelib.pages.views import return_view
from chalicelib.pages.web import PageError, Reply, Request, form, page, redirect
from chalicelib.store import keys
from chalicelib.store.models import (
    CaseItem,
    CustomerItem,
    MerchantItem,
    OrderItem,
    ShipmentItem,
    StatusTokenItem,
    TimelineItem,
)
from chalicelib.store.records import new_status_token
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.deps import Deps

__all__ = [
    "status_token",
    "status_path",
    "status_link",
    "revoke_status_link",
    "status_page",
    "post_reply",
    "mask_phone",
]

GENERATION = "1"
REPLY_SECONDS = 2 * 3600  # a status page's reply form stays valid this long
MAX_REPLY = 1000
_REFUND_KINDS = ("refund_issued", "refund_confirmed")


def status_token(d: Deps, merchant_id: str, order_id: str) -> str:
    signer = signer_for(d.settings, d.secrets.resolve)
    return signer.digest("status-link", merchant_id, order_id, GENERATION, length=22)


def status_path(d: Deps, merchant_id: str, order_id: str) -> str:
    """The path `/s/{token}` of the order's status page (no I/O; see `status_link`)."""
    return f"/s/{status_token(d, merchant_id, order_id)}"


def status_link(d: Deps, merchant_id: str, order_id: str) -> str:
    """`status_path`, making sure its pointer exists (one conditional PutItem).

    For SMS: call this and prefix with `settings.public_url` (the `status_url` context)."""
    token = status_token(d, merchant_id, order_id)
    item = new_status_token(token, merchant_id, order_id, d.now())
    try:
        item.save(condition=StatusTokenItem.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    return f"/s/{token}"


def revoke_status_link(d: Deps, merchant_id: str, order_id: str) -> bool:
    """Turn the order's status link off for good (its page answers 404); False if none.

    A new link for the order needs a new `GENERATION` (the token is derived from it)."""
    item = d.store.get(StatusTokenItem, keys.status_token(status_token(d, merchant_id, order_id)))
    if item is None or item.merchant_id != merchant_id:
        return False
    item.update(actions=[StatusTokenItem.revoked_at.set(d.now())])
    return True


def mask_phone(phone: str | None) -> str:
    if not phone or len(phone) < 6:
        return ""
    return phone[:3] + "•" * (len(phone) - 5) + phone[-2:]


def _parse_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _shipment_view(shipment: ShipmentItem, words: Words) -> dict[str, Any]:
    status = shipment.status or "unknown"
    return {
        "carrier": (shipment.carrier or "").upper() or "—",
        "tracking": shipment.tracking_number,
        "status": words(f"ship.{status}") if words.has(f"ship.{status}") else status,
        "delivered": status == "delivered",
        "problem": status in ("exception", "delivery_failed", "returned_to_sender"),
        "eta": words.date(shipment.estimated_delivery) if shipment.estimated_delivery else "",
        "scans": [
            {
                "at": words.datetime(_parse_at(scan.get("at"))),
                "status": words(f"ship.{scan.get('status')}")
                if words.has(f"ship.{scan.get('status')}")
                else scan.get("status", ""),
                "message": scan.get("message") or "",
                "location": scan.get("location") or "",
            }
            for scan in (shipment.scans or [])[:20]
        ],
        "is_return": bool(shipment.is_return),
    }


def _resolve(d: Deps, token: str) -> tuple[StatusTokenItem, MerchantItem]:
    if not token or len(token) != 22 or not token.replace("-", "").replace("_", "").isalnum():
        raise PageError(404, "malformed status token")
    pointer = d.store.get(StatusTokenItem, keys.status_token(token))
    if pointer is None or pointer.revoked_at is not None:
        raise PageError(404, "unknown or revoked status token")
    merchant, _ = d.store.cached_merchant(pointer.merchant_id)
    if merchant is None or merchant.status != "active":
        raise PageError(404, "merchant gone")
    return pointer, merchant


def _reply_token(d: Deps, token: str) -> str:
    signer = signer_for(d.settings, d.secrets.resolve)
    exp = int(d.now().timestamp()) + REPLY_SECONDS
    return signer.sign("status-reply", {"t": token, "exp": exp})


def post_reply(d: Deps, token: str, request: Request) -> Reply:
    """The customer's message from the status page, handled like an SMS reply (same handler:
    it lands on their open case's timeline, or opens an inquiry); 303 back to the page."""
    from chalicelib.handlers import Delivery, dispatch
    from chalicelib.handlers.messages import SmsReply

    pointer, merchant = _resolve(d, token)
    fields = form(request)
    signer = signer_for(d.settings, d.secrets.resolve)
    signed = signer.verify("status-reply", fields.get("csrf"), int(d.now().timestamp()))
    if signed is None or signed.get("t") != token:
        raise PageError(403, "reply form token missing, expired or for another page")
    body = " ".join(fields.get("message", "").split())[:MAX_REPLY]
    lang = choose_locale(fields.get("lang"), None, None)
    if not body:
        return redirect(request.url(f"/s/{token}?{urlencode({'lang': lang})}"))
    order = d.store.get(OrderItem, keys.order(pointer.merchant_id, pointer.order_id))
    customer = None
    if order is not None and order.customer_id:
        customer = d.store.get(CustomerItem, keys.customer(pointer.merchant_id, order.customer_id))
    if customer is None or not customer.phone:
        raise PageError(400, "this order has no customer to reply as")
    now = d.now()
    event = SmsReply(
        occurred_at=now,
        channel="web",
        sender=customer.phone,
        body=body,
        customer_id=customer.customer_id,
    )
    dedupe = keys.short_hash(token, fields.get("csrf", ""), body, length=24)
    dispatch(event, Delivery(merchant, "status_page", dedupe, now), d.store)
    return redirect(request.url(f"/s/{token}?{urlencode({'lang': lang, 'sent': '1'})}"))


def status_page(d: Deps, token: str, request: Request) -> Reply:
    pointer, merchant = _resolve(d, token)
    items = d.store.collection(keys.order(pointer.merchant_id, pointer.order_id))
    order = next((i for i in items if isinstance(i, OrderItem)), None)
    if order is None:
        raise PageError(404, "order gone")
    refs: dict[str, ItemRef] = {}
    if order.customer_id:
        refs["customer"] = ItemRef(
            CustomerItem, keys.customer(merchant.merchant_id, order.customer_id)
        )
    for number in sorted(order.tracking_numbers or [])[:20]:
        refs[f"ship:{number}"] = ItemRef(ShipmentItem, keys.shipment(merchant.merchant_id, number))
    found = d.store.get_many(refs) if refs else {}
    customer: CustomerItem | None = found.get("customer")
    case_ids = [
        entry["case_id"]
        for entry in ((customer.recent_cases or []) if customer else [])
        if entry.get("order_id") == order.order_id and entry.get("case_id")
    ][:20]
    cases = (
        d.store.get_many(
            {cid: ItemRef(CaseItem, keys.case(merchant.merchant_id, cid)) for cid in case_ids}
        )
        if case_ids
        else {}
    )
    try:
        zone = ZoneInfo(merchant.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    locale = choose_locale(
        request.lang, customer.locale if customer else None, request.headers.get("accept-language")
    )
    words = Words(locale, zone)
    shipments = [
        _shipment_view(found[label], words)
        for label in refs
        if label.startswith("ship:") and found.get(label) is not None
    ]
    returns = [
        {**return_view(case, words, order), "label": _return_label(case, words)}
        for case in cases.values()
        if case is not None and case.case_type == "return"
    ]
    refunds = [
        {
            "amount": words.money((entry.data or {}).get("amount") or "0", order.currency),
            "date": words.date(entry.at),
        }
        for entry in items
        if isinstance(entry, TimelineItem) and entry.kind in _REFUND_KINDS
    ]
    return page(
        request,
        "status.html",
        words,
        brand_of(merchant),
        order_number=order.order_number,
        placed=words.date(order.placed_at),
        shipments=shipments,
        returns=returns,
        refunds=refunds,
        city=(customer.city or "") if customer else "",
        phone=mask_phone(customer.phone) if customer else "",
        self_href=request.url(f"/s/{token}?{urlencode({'lang': words.locale})}"),
        reply_action=request.url(f"/s/{token}/reply")
        if customer is not None and customer.phone
        else None,
        reply_csrf=_reply_token(d, token),
        sent=request.query.get("sent") == "1",
        csat=csat_items(d, token, cases.values()),  # issue 11: rate a settled case once
        csat_action=request.url(f"/s/{token}/csat"),
        rated=request.query.get("rated") == "1",
    )


def _return_label(case: CaseItem, words: Words) -> str:
    code = (case.details or {}).get("return_code") or ""
    if case.status == "approved":
        return words("return.approved", code=code)
    key = f"return.{case.status}"
    return words(key) if words.has(key) else words("return.other")
