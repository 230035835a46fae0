"""Finding things for the customer pages: slug -> merchant, order number + contact -> order.

The contact check compares normalized values in constant time (e-mail: trimmed, lower case;
phone: E.164 with the customer's country, else digits only) and always does the same work, so
"no such order" and "wrong contact" look the same from outside, in answer and in timing shape.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from chalicelib.errors import StaleVersion
from chalicelib.notify.phone import normalize_e164
from chalicelib.store import keys
from chalicelib.store.models import (
    CustomerItem,
    MerchantItem,
    OrderItem,
    OrderNumberItem,
    PointerItem,
)
from chalicelib.store.records import slug_pointer
from chalicelib.store.repository import ItemRef, Store

__all__ = ["Found", "merchant_by_slug", "find_order", "claim_slug", "contact_matches"]

_SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class Found:
    order: OrderItem
    customer: CustomerItem | None


def _valid_slug(slug: str) -> bool:
    return 0 < len(slug) <= 64 and set(slug.lower()) <= _SLUG_CHARS


def merchant_by_slug(store: Store, slug: str) -> MerchantItem | None:
    """The active merchant whose portal is `/r/{slug}` (pointer GetItem + cached merchant)."""
    if not _valid_slug(slug):
        return None
    pointer = store.get(PointerItem, keys.merchant_slug(slug))
    if pointer is None:
        return None
    merchant, _ = store.cached_merchant(pointer.merchant_id)
    return merchant if merchant is not None and merchant.status == "active" else None


def claim_slug(store: Store, slug: str, merchant_id: str) -> bool:
    """Give `slug` to the merchant; False when another merchant has it (True if it is theirs)."""
    if not _valid_slug(slug):
        raise ValueError(f"invalid slug {slug!r}")
    uow = store.unit_of_work()
    uow.insert("slug", slug_pointer(slug, merchant_id))
    try:
        uow.commit()
    except StaleVersion:
        pointer = store.get(PointerItem, keys.merchant_slug(slug))
        return pointer is not None and pointer.merchant_id == merchant_id
    return True


def _norm_email(value: str) -> str:
    return value.strip().lower()


def _norm_phone(value: str, country: str | None) -> str:
    e164 = normalize_e164(value, country) if value.strip() else None
    return e164 or "".join(ch for ch in value if ch.isdigit())


def contact_matches(customer: CustomerItem | None, contact: str) -> bool:
    """Does `contact` (an e-mail or a phone number) match the order's customer?"""
    contact = contact.strip()[:200]
    email = _norm_email(customer.email or "") if customer else ""
    phone = (customer.phone or "") if customer else ""
    country = customer.country if customer else None
    given_email = _norm_email(contact)
    given_phone = _norm_phone(contact, country) if "@" not in contact else ""
    ok_email = hmac.compare_digest(given_email.encode(), email.encode()) and bool(email)
    ok_phone = hmac.compare_digest(given_phone.encode(), phone.encode()) and bool(phone)
    return bool(contact) and (ok_email or ok_phone)


def find_order(store: Store, merchant_id: str, number: str, contact: str) -> Found | None:
    """The order with `number` if `contact` is its customer's e-mail or phone, else None.

    Round trips: GetItem on the order-number pointer, then one BatchGetItem (order, customer).
    """
    if not keys.normalize_order_number(number) or len(number) > 64:
        contact_matches(None, contact)
        return None
    pointer = store.get(OrderNumberItem, keys.order_number(merchant_id, number))
    if pointer is None:
        contact_matches(None, contact)
        return None
    refs = {"order": ItemRef(OrderItem, keys.order(merchant_id, pointer.order_id))}
    if pointer.customer_id:
        refs["customer"] = ItemRef(CustomerItem, keys.customer(merchant_id, pointer.customer_id))
    found = store.get_many(refs)
    order, customer = found["order"], found.get("customer")
    if order is None or customer is None or customer.redacted_at is not None:
        contact_matches(None, contact)
        return None
    return Found(order, customer) if contact_matches(customer, contact) else None
