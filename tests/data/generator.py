"""Seeded generator of realistic shop data for tests and benchmarks: who bought what, and after.

`generate(seed, ...)` returns a `Dataset`: merchants, customers with multilingual names and
locales (en, zh-CN, de, es) and valid phone numbers, orders with SKU lines, fulfillments with
carrier tracking numbers, each shipment's carrier update stream, return requests with
complaint texts in the customer's language, warehouse receipts and SMS replies. `happenings`
puts all of it on one time line, as the partners would send it. Pure: no I/O, no clock; the
same seed gives the same data. The mix is a stated assumption, not measured shop data.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.data import vocabulary as vocab
from tests.data.vocabulary import Product

__all__ = [
    "LOCALES",
    "BASE_TIME",
    "Merchant",
    "Customer",
    "OrderLine",
    "Order",
    "Fulfillment",
    "TrackingUpdate",
    "ReturnRequest",
    "WarehouseReceipt",
    "SmsReply",
    "Happening",
    "Dataset",
    "generate",
    "happenings",
    "complaint",
]

LOCALES = ("en", "zh-CN", "de", "es")
BASE_TIME = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # a Monday; order times spread after it


@dataclass(frozen=True)
class Merchant:
    merchant_id: str  # "shp-<subdomain>", as the app derives it
    name: str
    shop_domain: str
    timezone: str
    locale: str
    currency: str
    country: str


@dataclass(frozen=True)
class Customer:
    customer_id: str  # Shopify-style numeric id
    merchant_id: str
    first_name: str
    last_name: str
    email: str
    phone: str | None  # as the customer typed it (valid for `country`), or None
    locale: str
    country: str
    province: str
    city: str
    zip: str
    address1: str


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    product_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Order:
    order_id: str
    order_number: str  # "#1001"
    merchant: Merchant
    customer: Customer
    lines: tuple[OrderLine, ...]
    currency: str
    shipping: Decimal
    created_at: datetime

    @property
    def subtotal(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping


@dataclass(frozen=True)
class Fulfillment:
    fulfillment_id: str
    order: Order = field(repr=False)
    carrier: str
    tracking_number: str
    line_ids: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class TrackingUpdate:
    """One carrier update (EasyPost-style status words) of one shipment."""

    event_id: str
    fulfillment: Fulfillment = field(repr=False)
    at: datetime
    status: str  # pre_transit|in_transit|out_for_delivery|available_for_pickup|delivered|...
    status_detail: str
    message: str
    city: str
    province: str
    country: str
    zip: str


@dataclass(frozen=True)
class ReturnRequest:
    return_id: str
    order: Order
    lines: tuple[tuple[OrderLine, int, str], ...]  # (line, quantity, Shopify reason)
    note: str  # the customer's complaint, in their language
    requested_at: datetime
    return_code: str  # the RMA printed on the return label


@dataclass(frozen=True)
class WarehouseReceipt:
    request: ReturnRequest
    at: datetime
    tracking_number: str


@dataclass(frozen=True)
class SmsReply:
    message_id: str
    customer: Customer
    body: str
    at: datetime


@dataclass(frozen=True)
class Happening:
    """Something a partner reports: `kind` names it, `subject` is the generated record."""

    at: datetime
    kind: str  # order_created, fulfillment, tracking_update, return_requested, ...
    subject: object


@dataclass(frozen=True)
class Dataset:
    merchants: tuple[Merchant, ...]
    customers: tuple[Customer, ...]
    orders: tuple[Order, ...]
    fulfillments: tuple[Fulfillment, ...]
    tracking: dict[str, tuple[TrackingUpdate, ...]]  # tracking number -> updates, in time order
    returns: tuple[ReturnRequest, ...]
    receipts: tuple[WarehouseReceipt, ...]
    sms_replies: tuple[SmsReply, ...]


def _merchant(index: int) -> Merchant:
    slug, name, zone, locale, currency, country = vocab.MERCHANTS[index % len(vocab.MERCHANTS)]
    if index >= len(vocab.MERCHANTS):
        slug, name = f"{slug}-{index}", f"{name} {index}"
    domain = f"{slug}.myshopify.com"
    return Merchant(f"shp-{slug}", name, domain, zone, locale, currency, country)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _phone(rng: random.Random, country: str) -> str:
    code, prefixes, digits = vocab.PHONES[country]
    prefix = rng.choice(prefixes)
    rest = "".join(str(rng.randrange(10)) for _ in range(digits))
    if country == "US":
        return f"+1 {prefix[:3]}-{prefix[3:]}-{rest}"
    if country == "ES":
        return f"+34 {prefix}{rest[:2]} {rest[2:5]} {rest[5:]}"
    return f"+{code} {prefix} {rest[:4]} {rest[4:]}"


def _customer(rng: random.Random, merchant: Merchant, number: int) -> Customer:
    # Most buyers share the shop's market; the rest are cross-border (e.g. zh-CN buyers in US).
    locale = merchant.locale if rng.random() < 0.65 else rng.choice(LOCALES)
    country, province, city, zip_code, street = rng.choice(vocab.PLACES[locale])
    first, last = rng.choice(vocab.FIRST[locale]), rng.choice(vocab.LAST[locale])
    if locale == "es":
        last = f"{last} {rng.choice(vocab.LAST['es'])}"
    user = vocab.PINYIN.get(last, _ascii(last.split()[0])) + "." + (_ascii(first) or "kunde")
    phone = _phone(rng, country) if rng.random() < 0.9 else None
    house = rng.randrange(1, 240)
    address1 = f"{street} {house}" if country in ("DE", "ES") else f"{house} {street}"
    if country == "CN":
        address1 = f"{street}{house}号"
    return Customer(
        customer_id=str(7_000_000_000_000 + number * 7919),
        merchant_id=merchant.merchant_id,
        first_name=first,
        last_name=last,
        email=f"{user}{number}@example.{rng.choice(('com', 'net', 'org'))}",
        phone=phone,
        locale=locale,
        country=country,
        province=province,
        city=city,
        zip=zip_code,
        address1=address1,
    )


def _price(product: Product, currency: str) -> Decimal:
    return (product.price_usd * vocab.CURRENCY_RATE[currency]).quantize(Decimal("0.01"))


def _lines(rng: random.Random, currency: str, first_id: int) -> tuple[OrderLine, ...]:
    count = rng.choices((1, 2, 3, 4), (55, 28, 12, 5))[0]
    products = (
        rng.sample(range(len(vocab.CATALOG)), count)
        if count > 1
        else [rng.choices(range(len(vocab.CATALOG)), vocab.CATALOG_WEIGHTS)[0]]
    )
    lines = []
    for n, index in enumerate(products):
        product = vocab.CATALOG[index]
        sku = product.sku
        if "apparel" in product.tags or "shoes" in product.tags:
            size = (
                rng.choice(vocab.SIZES)
                if "shoes" not in product.tags
                else str(rng.randrange(36, 46))
            )
            sku = f"{sku}-{rng.choice(vocab.COLORS)}-{size}"
        lines.append(
            OrderLine(
                str(first_id + n),
                str(8_000_000_000 + index * 131),
                sku,
                product.title,
                rng.choices((1, 2, 3), (85, 12, 3))[0],
                _price(product, currency),
            )
        )
    return tuple(lines)


def _tracking_number(rng: random.Random, carrier: str) -> str:
    def digits(n: int) -> str:
        return "".join(str(rng.randrange(10)) for _ in range(n))

    alnum = "ABCDEFGHJKLMNPRSTUVWXY0123456789"
    formats = {
        "UPS": lambda: "1Z" + "".join(rng.choice(alnum) for _ in range(6)) + digits(10),
        "USPS": lambda: "9400" + digits(18),
        "FedEx": lambda: digits(12),
        "SF Express": lambda: "SF" + digits(13),
        "China Post": lambda: "E" + rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + digits(9) + "CN",
        "DHL": lambda: "00340434" + digits(12),
        "Hermes": lambda: "H" + digits(19),
        "DPD": lambda: "0" + digits(13),
        "Correos": lambda: "PQ" + "".join(rng.choice(alnum) for _ in range(4)) + digits(14),
        "SEUR": lambda: digits(14),
        "GLS": lambda: digits(11),
    }
    return formats[carrier]()


def _stream(
    rng: random.Random, shipment: Fulfillment, customer: Customer, seq: list[int]
) -> tuple[TrackingUpdate, ...]:
    stories, weights = zip(*vocab.STORIES, strict=True)
    story = rng.choices(stories, weights)[0]
    hubs = rng.randrange(1, 4)
    steps = ["pre_transit", *(["in_transit"] * hubs), *story[1:]]
    at, updates = shipment.created_at, []
    for status in steps:
        at += timedelta(hours=rng.uniform(2, 30) if status == "in_transit" else rng.uniform(1, 6))
        detail, message = vocab.DETAILS[status]
        if status == "in_transit":
            detail, message = rng.choice(vocab.IN_TRANSIT)
        if status in ("pre_transit", "in_transit"):
            _, province, city, zip_code, _ = rng.choice(vocab.PLACES[customer.locale])
        else:
            province, city, zip_code = customer.province, customer.city, customer.zip
        seq[0] += 1
        updates.append(
            TrackingUpdate(
                f"evt_{customer.merchant_id[-6:]}{seq[0]:010x}",
                shipment,
                at,
                status,
                detail,
                message,
                city,
                province,
                customer.country,
                zip_code,
            )
        )
    return tuple(updates)


def complaint(rng: random.Random, topic: str, locale: str, order_number: str) -> str:
    """A customer's complaint about `topic` in `locale`, naming the order."""
    return rng.choice(vocab.COMPLAINTS[topic][locale]).format(order=order_number)


def generate(
    seed: int = 20261123, merchants: int = 3, orders_per_merchant: int = 50, first_merchant: int = 0
) -> Dataset:
    """A reproducible shop world: same arguments, same data.

    Merchants are numbered from `first_merchant`; ids of orders, customers and shipments are
    derived from that number, so datasets with different `first_merchant` never share a key.
    """
    rng = random.Random(seed)
    shops = tuple(_merchant(i) for i in range(first_merchant, first_merchant + merchants))
    customers: list[Customer] = []
    orders: list[Order] = []
    fulfillments: list[Fulfillment] = []
    tracking: dict[str, tuple[TrackingUpdate, ...]] = {}
    returns: list[ReturnRequest] = []
    receipts: list[WarehouseReceipt] = []
    replies: list[SmsReply] = []
    seq = [0]
    for m, shop in enumerate(shops, start=first_merchant):
        pool = [
            _customer(rng, shop, m * 100_000 + n)
            for n in range(max(1, orders_per_merchant * 2 // 3))
        ]
        customers.extend(pool)
        for n in range(orders_per_merchant):
            # Repeat buyers exist: customers are drawn with replacement.
            buyer = rng.choice(pool)
            created = BASE_TIME + timedelta(minutes=rng.uniform(0, 7 * 24 * 60))
            order_id = str(5_500_000_000_000 + (m * 100_000 + n) * 104_729)
            order = Order(
                order_id,
                f"#{1001 + n}",
                shop,
                buyer,
                _lines(rng, shop.currency, 1_400_000_000_000 + (m * 100_000 + n) * 8),
                shop.currency,
                rng.choice((Decimal("0.00"), _price(vocab.CATALOG[5], shop.currency))),
                created,
            )
            orders.append(order)
            if rng.random() < 0.05:
                continue  # not shipped yet
            carriers, weights = zip(*vocab.CARRIERS[buyer.country], strict=True)
            parts = (
                [order.lines]
                if len(order.lines) == 1 or rng.random() < 0.9
                else [order.lines[:1], order.lines[1:]]
            )
            delivered_at = None
            for k, part in enumerate(parts):
                carrier = rng.choices(carriers, weights)[0]
                shipment = Fulfillment(
                    str(4_100_000_000_000 + (m * 100_000 + len(fulfillments)) * 9973),
                    order,
                    carrier,
                    _tracking_number(rng, carrier),
                    tuple(line.line_id for line in part),
                    created + timedelta(hours=rng.uniform(3, 48) + k),
                )
                fulfillments.append(shipment)
                stream = _stream(rng, shipment, buyer, seq)
                tracking[shipment.tracking_number] = stream
                if stream[-1].status == "delivered":
                    delivered_at = stream[-1].at
            if delivered_at is not None and rng.random() < 0.12:
                returns.append(_return(rng, order, delivered_at, m * 100_000 + len(returns)))
                if rng.random() < 0.7:
                    receipts.append(
                        WarehouseReceipt(
                            returns[-1],
                            returns[-1].requested_at + timedelta(days=rng.uniform(3, 9)),
                            _tracking_number(rng, rng.choice(carriers)),
                        )
                    )
            if buyer.phone and rng.random() < 0.08:
                seq[0] += 1
                replies.append(
                    SmsReply(
                        f"SM{m:08x}{seq[0]:024x}",
                        buyer,
                        rng.choice(vocab.SMS_REPLIES[buyer.locale]),
                        created + timedelta(days=rng.uniform(1, 6)),
                    )
                )
    return Dataset(
        shops,
        tuple(customers),
        tuple(orders),
        tuple(fulfillments),
        tracking,
        tuple(returns),
        tuple(receipts),
        tuple(replies),
    )


def _return(rng: random.Random, order: Order, delivered_at: datetime, n: int) -> ReturnRequest:
    names, topics, weights = zip(*vocab.RETURN_REASONS, strict=True)
    picked = rng.sample(
        order.lines, rng.choices((1, 2), (80, 20))[0] if len(order.lines) > 1 else 1
    )
    reasons = [rng.choices(range(len(names)), weights)[0] for _ in picked]
    lines = tuple(
        (line, rng.randint(1, line.quantity), names[r])
        for line, r in zip(picked, reasons, strict=True)
    )
    note = complaint(rng, topics[reasons[0]], order.customer.locale, order.order_number)
    code = "RC-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(5))
    return ReturnRequest(
        str(120_000_000_000 + n * 6_151),
        order,
        lines,
        note,
        delivered_at + timedelta(days=rng.uniform(1, 20)),
        code,
    )


def happenings(data: Dataset) -> list[Happening]:
    """Everything partners report about `data`, in time order (ties keep a stable order)."""
    found = [Happening(o.created_at, "order_created", o) for o in data.orders]
    found += [Happening(f.created_at, "fulfillment", f) for f in data.fulfillments]
    found += [Happening(u.at, "tracking_update", u) for s in data.tracking.values() for u in s]
    found += [Happening(r.requested_at, "return_requested", r) for r in data.returns]
    found += [Happening(r.at, "warehouse_receipt", r) for r in data.receipts]
    found += [Happening(s.at, "sms_reply", s) for s in data.sms_replies]
    return sorted(found, key=lambda h: h.at)
