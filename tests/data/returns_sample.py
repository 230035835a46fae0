"""Seeded generator of a realistic mix of return requests (`ReturnFacts`) for tests and benches.

The mix is a stated assumption, not measured shop data: mostly ordinary requests (inside the
window, everyday prices, common reasons, customers with a clean history), plus late ones,
final-sale/hygiene items, high-value items or orders, risky customers, requests before
delivery and requests for more than is left to return. Each request carries the `kind` it was
generated as, so a test can check that e.g. every late one is refused.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from chalicelib.events import Money
from chalicelib.policy.returns import RequestedLine, ReturnFacts

__all__ = ["SampleRequest", "MIX", "REASON_WEIGHTS", "NOW", "generate"]

NOW = datetime(2024, 6, 3, 15, 0, tzinfo=UTC)

MIX: tuple[tuple[str, float], ...] = (
    ("ordinary", 0.78),
    ("late", 0.06),
    ("high_value", 0.05),
    ("final_sale", 0.04),
    ("risky", 0.04),
    ("not_delivered", 0.02),
    ("over_quantity", 0.01),
)

# Typical apparel/e-commerce return reasons; "missing_item" needs a human by default.
REASON_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("wrong_size", 34),
    ("no_reason", 16),
    ("not_as_described", 12),
    ("quality", 11),
    ("damaged", 9),
    ("changed_mind", 6),
    ("other", 5),
    ("late", 3),
    ("missing_item", 2),
    ("", 2),
)
# Everyday prices: most items are cheap, a few reach the 200.00 auto-approval ceiling.
PRICE_POINTS = (
    9.99,
    14.5,
    19.99,
    24.99,
    29.9,
    34.99,
    39.0,
    49.99,
    59.0,
    69.99,
    79.0,
    99.0,
    119.0,
    149.0,
    189.0,
)
PRICE_WEIGHTS = (6, 8, 12, 12, 10, 9, 8, 9, 6, 5, 4, 4, 3, 2, 1)
SHOP_ZONES = (
    UTC,
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=8)),
)
BENIGN_TAGS = ("summer", "sale", "new-in", "bestseller", "Cotton")


@dataclass(frozen=True)
class SampleRequest:
    """One generated request and the kind it was generated as."""

    kind: str
    facts: ReturnFacts


def _money(value: float | Decimal) -> Money:
    return Money(Decimal(str(value)).quantize(Decimal("0.01")), "USD")


def _reason(rng: random.Random) -> str:
    names, weights = zip(*REASON_WEIGHTS, strict=True)
    return rng.choices(names, weights)[0]


def _line(rng: random.Random, n: int, price: float | None = None) -> RequestedLine:
    purchased = rng.choices((1, 2, 3), (80, 15, 5))[0]
    return RequestedLine(
        sku=f"SKU-{rng.randrange(1, 400):04d}",
        unit_price=_money(
            price if price is not None else rng.choices(PRICE_POINTS, PRICE_WEIGHTS)[0]
        ),
        quantity=rng.randint(1, purchased),
        quantity_purchased=purchased,
        reason=_reason(rng),
        tags=tuple(rng.sample(BENIGN_TAGS, rng.choice((0, 0, 1, 2)))),
        line_id=f"L{n}",
    )


def _one(rng: random.Random, kind: str, now: datetime) -> ReturnFacts:
    lines = [_line(rng, n) for n in range(rng.choices((1, 2), (85, 15))[0])]
    # Most requests come in the first days after delivery.
    days_ago = rng.choices(range(8), (5, 14, 18, 17, 14, 12, 11, 9))[0]
    delivered: datetime | None = now - timedelta(days=days_ago, hours=rng.uniform(0, 10))
    fulfillment = "fulfilled"
    returns_90d = rng.choices((0, 1, 2), (72, 21, 7))[0]
    complaints = rng.choices((0, 1), (90, 10))[0]
    extra = Decimal(rng.choice((0, 0, 12, 25, 40, 80, 150)))

    if kind == "late":
        delivered = now - timedelta(days=rng.randint(9, 40), hours=rng.uniform(0, 10))
    elif kind == "high_value":
        if rng.random() < 0.5:
            lines[0] = _line(rng, 0, price=rng.choice((249.0, 320.0, 480.0, 899.0, 1299.0)))
        else:
            extra = Decimal(rng.randint(5100, 12000))
    elif kind == "final_sale":
        old = lines[0]
        tag = rng.choice(("final-sale", "Final-Sale", "hygiene"))
        lines[0] = RequestedLine(
            old.sku,
            old.unit_price,
            old.quantity,
            old.quantity_purchased,
            reason=old.reason,
            tags=(*old.tags, tag),
            line_id=old.line_id,
        )
    elif kind == "risky":
        if rng.random() < 0.5:
            returns_90d = rng.randint(3, 8)
        else:
            complaints = rng.randint(2, 5)
    elif kind == "not_delivered":
        delivered = None
        fulfillment = rng.choice(("fulfilled", "partial", "unfulfilled"))
    elif kind == "over_quantity":
        old = lines[0]
        lines[0] = RequestedLine(
            old.sku,
            old.unit_price,
            old.quantity_purchased,
            old.quantity_purchased,
            quantity_returned=1,
            reason=old.reason,
            tags=old.tags,
            line_id=old.line_id,
        )

    value = sum((ln.unit_price.amount * ln.quantity_purchased for ln in lines), Decimal(0))
    return ReturnFacts(
        now=now,
        order_total=_money(value + extra),
        lines=tuple(lines),
        delivered_at=delivered,
        order_status=rng.choices(("open", "closed", "partially_refunded"), (70, 25, 5))[0],
        fulfillment_status=fulfillment,
        customer_returns_90d=returns_90d,
        complaints_count=complaints,
        tz=rng.choice(SHOP_ZONES),
    )


def generate(n: int = 2000, seed: int = 20240603, now: datetime = NOW) -> list[SampleRequest]:
    """`n` requests drawn from `MIX`; the same seed always gives the same list."""
    rng = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    return [SampleRequest(kind, _one(rng, kind, now)) for kind in rng.choices(kinds, weights, k=n)]
