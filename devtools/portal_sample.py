"""Sample orders for the customer pages, seeded by the run command and used by browser tests.

Two delivered orders of the sample merchant, put through the normal handlers (so they look
exactly like Shopify and EasyPost sent them): #1001 (English, demo@example.com) and #1002
(Chinese, +1 415 555 0199). Each has an item that auto-approves, one over the auto-approval
value (needs review) and a final-sale item (not eligible). Seeding twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from chalicelib.events import (
    CustomerInfo,
    LineItem,
    Money,
    OrderPlaced,
    Scan,
    ShipmentCreated,
    ShipmentUpdated,
    TrackingStatus,
)
from chalicelib.handlers import Delivery, dispatch
from chalicelib.pages.lookup import claim_slug
from chalicelib.store.models import MerchantItem
from chalicelib.store.repository import Store

__all__ = ["SAMPLE_ORDERS", "seed_portal_sample"]

SAMPLE_ORDERS = {
    "1001": {
        "order_id": "7001001",
        "contact": "demo@example.com",
        "customer": CustomerInfo(
            customer_id="9001",
            email="demo@example.com",
            phone="+14155550123",
            first_name="Alex",
            last_name="Rivera",
            locale="en",
            country="US",
            province="NY",
            city="Brooklyn",
        ),
        "titles": ("Merino crew sweater", "Wool overcoat", "Linen socks (final sale)"),
        "tracking": "9400111899223197428490",
    },
    "1002": {
        "order_id": "7001002",
        "contact": "+1 415 555 0199",
        "customer": CustomerInfo(
            customer_id="9002",
            email="wang.fang@example.com",
            phone="+14155550199",
            first_name="芳",
            last_name="王",
            locale="zh-CN",
            country="US",
            province="CA",
            city="San Francisco",
        ),
        "titles": ("美利奴羊毛衫", "羊毛大衣", "亚麻袜（特价不退换）"),
        "tracking": "9400111899223197428506",
    },
}


def _lines(titles: tuple[str, ...], number: str) -> tuple[LineItem, ...]:
    prices = (Decimal("89.00"), Decimal("240.00"), Decimal("12.00"))
    skus = ("SWEATER-M", "COAT-L", "SOCKS-2P")
    return tuple(
        LineItem(
            line_id=f"{number}-{index + 1}",
            sku=skus[index],
            title=title,
            quantity=2 if index == 2 else 1,
            unit_price=Money(prices[index], "USD"),
            tags=("final-sale",) if index == 2 else (),
        )
        for index, title in enumerate(titles)
    )


def seed_portal_sample(store: Store, merchant: MerchantItem, slug: str, now: datetime) -> None:
    """Give the merchant `slug` and seed the sample orders, shipped and delivered 2 days ago."""
    claim_slug(store, slug, merchant.merchant_id)
    placed, delivered = now - timedelta(days=6), now - timedelta(days=2)
    for number, sample in SAMPLE_ORDERS.items():
        lines = _lines(sample["titles"], number)
        total = sum((ln.unit_price.amount * ln.quantity for ln in lines), Decimal(0))
        order_id, tracking = sample["order_id"], sample["tracking"]
        events = [
            OrderPlaced(
                occurred_at=placed,
                order_id=order_id,
                order_number=f"#{number}",
                customer=sample["customer"],
                total=Money(total, "USD"),
                line_items=lines,
                financial_status="paid",
            ),
            ShipmentCreated(
                occurred_at=placed + timedelta(hours=20),
                order_id=order_id,
                fulfillment_id=f"F{order_id}",
                carrier="USPS",
                tracking_number=tracking,
            ),
            ShipmentUpdated(
                occurred_at=delivered,
                carrier="usps",
                tracking_number=tracking,
                status=TrackingStatus.DELIVERED,
                carrier_status="delivered",
                location=f"{sample['customer'].city}, {sample['customer'].province}",
                scans=(
                    Scan(
                        placed + timedelta(days=1),
                        TrackingStatus.IN_TRANSIT,
                        "in_transit",
                        "Departed USPS facility",
                        "Kearny, NJ",
                    ),
                    Scan(
                        delivered - timedelta(hours=5),
                        TrackingStatus.OUT_FOR_DELIVERY,
                        "out_for_delivery",
                        "Out for delivery",
                        f"{sample['customer'].city}, {sample['customer'].province}",
                    ),
                    Scan(
                        delivered,
                        TrackingStatus.DELIVERED,
                        "delivered",
                        "Delivered, front door",
                        f"{sample['customer'].city}, {sample['customer'].province}",
                    ),
                ),
            ),
        ]
        for index, event in enumerate(events):
            delivery = Delivery(merchant, "sample", f"portal-{number}-{index}", now)
            dispatch(event, delivery, store)
