"""Sample cases for the local console: ~12 realistic cases of the sample merchant.

Different types, statuses and priorities, one VIP, one breached, one return waiting for
review with its rule trace, customers (one zh-CN, one opted out of SMS), orders, timelines,
and 12 weeks of counters for the insights view. Idempotent: nothing is written when the
first sample case exists. Also creates a sample agent key (documented, fake).

Times are relative to the `now` given (the run command passes the real clock, tests the fixed
one). The local stack keeps its data between runs, so `refresh_sample_times` (called by the
run command when the sample exists already) moves the open sample cases, their due times and
their seeded timeline entries to the current time again: the queue never opens with every
sample case long breached.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.api import hash_api_key
from chalicelib.digest.sample import SAMPLE_WEEK, sample_counters
from chalicelib.digest.weeks import shift_week, week_of, week_start
from chalicelib.errors import StaleVersion
from chalicelib.handlers.sla_schedule import place_in_queue
from chalicelib.policy import case_state
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, TimelineItem, UserKeyItem
from chalicelib.store.records import (
    clear_outbox_due,
    new_case,
    new_customer,
    new_order,
    new_outbox,
    new_timeline_entry,
)
from chalicelib.store.repository import Store

__all__ = ["seed_console_sample", "refresh_sample_times", "AGENT_KEY", "CASES"]

AGENT_KEY = "uk_shp-aftercare-demo.agent_demo_key_NOT_A_SECRET"

CUSTOMERS: dict[str, dict[str, Any]] = {
    "c-ava": {
        "first_name": "Ava",
        "phone": "+15550100101",
        "locale": "en",
        "tier": "vip",
        "spend": "2840.00",
        "order_ids": {"o-1001", "o-0870", "o-0712"},
    },
    "c-liwei": {
        "first_name": "李伟",
        "phone": "+15550100102",
        "locale": "zh-CN",
        "spend": "312.50",
        "order_ids": {"o-1002"},
    },
    "c-marco": {
        "first_name": "Marco",
        "phone": "+15550100103",
        "locale": "en",
        "spend": "96.00",
        "order_ids": {"o-1003"},
        "complaints": 2,
    },
    "c-jade": {
        "first_name": "Jade",
        "email": "jade@example.com",
        "locale": "en",
        "sms_opt_out": True,
        "spend": "154.90",
        "order_ids": {"o-1004"},
    },
    "c-omar": {
        "first_name": "Omar",
        "phone": "+15550100105",
        "locale": "en",
        "spend": "58.00",
        "order_ids": {"o-1005"},
    },
}

ORDERS: dict[str, dict[str, Any]] = {
    "o-1001": ("#2001", "c-ava", "248.00", [("1", "COAT-WOOL-M", "Wool coat, M", 1, "248.00")]),
    "o-1002": (
        "#2002",
        "c-liwei",
        "64.50",
        [("1", "茶杯-青花", "Blue-and-white teacup", 3, "21.50")],
    ),
    "o-1003": ("#2003", "c-marco", "96.00", [("1", "KETTLE-1L", "Kettle 1 L", 1, "96.00")]),
    "o-1004": ("#2004", "c-jade", "154.90", [("1", "JEANS-32-BLUE", "Jeans 32 blue", 2, "77.45")]),
    "o-1005": ("#2005", "c-omar", "58.00", [("1", "MUG-CERAMIC-12", "Ceramic mug", 2, "29.00")]),
}

# id, type, status, priority, subject, customer, order, opened (hours ago), extra
CASES: list[tuple[str, str, str, str, str, str | None, str | None, float, dict[str, Any]]] = [
    (
        "RT-DEMO-0001",
        "return",
        "pending_review",
        "high",
        "Return: wool coat too small",
        "c-ava",
        "o-1001",
        3,
        {"vip": True, "first_response_due_h": 1.5, "review": True},
    ),
    (
        "CP-DEMO-0002",
        "complaint",
        "new",
        "urgent",
        "Kettle arrived with a cracked lid",
        "c-marco",
        "o-1003",
        30,
        {"breach": True, "emotion": "angry", "high_risk": True},
    ),
    (
        "RT-DEMO-0003",
        "return",
        "pending_review",
        "normal",
        "退货：茶杯有裂纹",
        "c-liwei",
        "o-1002",
        5,
        {"review": True},
    ),
    (
        "SE-DEMO-0004",
        "shipping_exception",
        "open",
        "high",
        "Parcel stuck in customs 6 days",
        "c-jade",
        "o-1004",
        20,
        {"assignee": "maya", "due_h": 1.2},
    ),
    ("IQ-DEMO-0005", "inquiry", "new", "low", "Do you ship to Canada?", "c-omar", None, 2, {}),
    (
        "DP-DEMO-0006",
        "dispute",
        "pending_review",
        "urgent",
        "Chargeback: item not received",
        "c-omar",
        "o-1005",
        26,
        {"assignee": "li", "high_risk": True, "due_h": -3},
    ),
    (
        "CP-DEMO-0007",
        "complaint",
        "open",
        "normal",
        "Mug handle glued crooked",
        "c-omar",
        "o-1005",
        9,
        {"assignee": "maya", "emotion": "frustrated"},
    ),
    (
        "EX-DEMO-0008",
        "exchange",
        "approved",
        "normal",
        "Exchange jeans 32 -> 34",
        "c-jade",
        "o-1004",
        40,
        {"assignee": "sam", "due_h": 30},
    ),
    (
        "IQ-DEMO-0009",
        "inquiry",
        "awaiting_customer",
        "normal",
        "Gift wrapping for order #2002",
        "c-liwei",
        "o-1002",
        12,
        {"assignee": "li", "due_h": 1.7},
    ),
    (
        "CP-DEMO-0010",
        "complaint",
        "new",
        "high",
        "Wrong colour sent (ordered black)",
        "c-ava",
        "o-1001",
        1,
        {"vip": True, "emotion": "disappointed"},
    ),
    (
        "RT-DEMO-0011",
        "return",
        "in_transit_back",
        "normal",
        "Return: mug set, changed mind",
        "c-omar",
        "o-1005",
        70,
        {"assignee": "sam", "due_h": 50},
    ),
    (
        "SE-DEMO-0012",
        "shipping_exception",
        "new",
        "normal",
        "Tracking not updated for 4 days",
        "c-marco",
        "o-1003",
        6,
        {},
    ),
    (
        "CP-DEMO-0013",
        "complaint",
        "resolved",
        "normal",
        "Late delivery (resolved with coupon)",
        "c-ava",
        "o-1001",
        120,
        {"assignee": "maya"},
    ),
]


def _trace(order_number: str) -> dict[str, Any]:
    return {
        "outcome": "needs_review",
        "deciding_rule": "value_limit",
        "explanation": "needs_review by value_limit: value above the auto-approval limit",
        "decided_by": "autopilot",
        "trace": [
            {"rule": "window", "passed": True, "text": "asked 6 days after delivery (limit 30)"},
            {"rule": "final_sale", "passed": True, "text": "no final-sale items"},
            {"rule": "returns_90d", "passed": True, "text": "1 return in 90 days (limit 3)"},
            {
                "rule": "value_limit",
                "passed": False,
                "text": f"order {order_number}: value above the 200.00 auto-approval limit",
            },
        ],
    }


def _case(mid: str, spec: tuple, now: datetime) -> tuple[CaseItem, list]:
    case_id, ctype, status, prio, subject, cust, order_id, hours, extra = spec
    opened = now - timedelta(hours=hours)
    details: dict[str, Any] = {"source": "storefront"}
    if order_id:
        details["order_number"] = ORDERS[order_id][0]
    if ctype in ("return", "exchange") and order_id:
        line = ORDERS[order_id][3][0]
        details["lines"] = [
            {"line_id": line[0], "sku": line[1], "quantity": 1, "reason": "wrong_size"}
        ]
    if extra.get("review"):
        details["decision"] = _trace(ORDERS[order_id][0])
    if extra.get("emotion"):
        details["emotion"] = extra["emotion"]
    case = new_case(
        mid,
        case_id,
        ctype,
        status,
        opened,
        priority=prio,
        subject=subject,
        customer_id=cust,
        order_id=order_id,
        assignee=extra.get("assignee"),
        details=details,
    )
    case.updated_at = opened
    case.vip = bool(extra.get("vip")) or None
    case.high_risk = bool(extra.get("high_risk")) or None
    if extra.get("first_response_due_h"):
        case.first_response_due = opened + timedelta(hours=extra["first_response_due_h"])
    if extra.get("due_h") is not None:
        case.resolution_due = now + timedelta(hours=extra["due_h"])
    if extra.get("breach"):
        case.first_response_due = opened + timedelta(hours=4)
        case.sla_level = 1
    place_in_queue(case)  # the queue reads the sparse open-cases index
    entries = [
        new_timeline_entry(
            mid,
            case.pk,
            cause=f"seed:{case_id}",
            at=opened,
            now=opened,
            kind="case_opened",
            source="storefront",
            summary=f"{ctype.replace('_', ' ').capitalize()} opened: {subject}",
            customer_id=cust,
            case_id=case_id,
            order_id=order_id,
            data={"text": _said(case_id)} if _said(case_id) else {},
        )
    ]
    if extra.get("review"):
        entries.append(
            new_timeline_entry(
                mid,
                case.pk,
                cause=f"seed:{case_id}:decide",
                at=opened + timedelta(seconds=2),
                now=opened,
                kind="return_decided",
                source="autopilot",
                summary=details["decision"]["explanation"],
                customer_id=cust,
                case_id=case_id,
                order_id=order_id,
                data={"outcome": "needs_review", "deciding_rule": "value_limit"},
            )
        )
    if extra.get("assignee"):
        entries.append(
            new_timeline_entry(
                mid,
                case.pk,
                cause=f"seed:{case_id}:assign",
                at=opened + timedelta(minutes=20),
                now=opened,
                kind="assigned",
                source=f"agent:{extra['assignee']}",
                summary=f"Assigned to {extra['assignee']} (was nobody)",
                customer_id=cust,
                case_id=case_id,
                order_id=order_id,
            )
        )
    return case, entries


def _said(case_id: str) -> str:
    return {
        "CP-DEMO-0002": "The lid was cracked straight out of the box. I need this fixed today!",
        "RT-DEMO-0003": "三个茶杯中有一个有裂纹，想退货。",
        "RT-DEMO-0001": "Lovely coat but a size too small. Can I return it?",
        "DP-DEMO-0006": "Bank chargeback: cardholder says the parcel never arrived.",
    }.get(case_id, "")


def _people(mid: str, now: datetime) -> list:
    items = []
    for cid, fields in CUSTOMERS.items():
        customer = new_customer(mid, cid, now)
        for name, value in fields.items():
            setattr(customer, name, value)
        items.append(customer)
    for oid, (number, cid, total, lines) in ORDERS.items():
        items.append(
            new_order(
                mid,
                oid,
                order_number=number,
                customer_id=cid,
                total=total,
                currency="USD",
                line_items=[
                    {
                        "line_id": ln[0],
                        "sku": ln[1],
                        "title": ln[2],
                        "quantity": ln[3],
                        "unit_price": ln[4],
                    }
                    for ln in lines
                ],
                placed_at=now - timedelta(days=12),
                source_updated_at=now - timedelta(days=12),
                delivered_at=now - timedelta(days=6),
                fulfillment_status="fulfilled",
            )
        )
    return items


def _counters(store: Store, mid: str, now: datetime) -> None:
    """12 weeks of counters shaped like the digest sample, scaled to vary week by week."""
    sample = sample_counters()
    this = week_of(now)
    for back in range(12):
        week = shift_week(this, -back)
        source = sample[SAMPLE_WEEK] if back % 2 == 0 else sample[shift_week(SAMPLE_WEEK, -1)]
        scale = Decimal(1) + Decimal((back * 7) % 5) / 10
        uow = store.unit_of_work()
        for name, value in source.items():
            uow.count(
                mid, week_start(week) + timedelta(days=2), name, (value * scale).to_integral()
            )
        uow.commit()


# case, kind, status, text, encoding, segments, error, hours ago
MESSAGES = [
    (
        "RT-DEMO-0003",
        "return_needs_review",
        "delivered",
        "【Aftercare Demo Shop】我们已收到您对订单 #2002 的退货申请，"
        "将在 24 小时内审核。回复 TD 退订",
        "UCS-2",
        2,
        None,
        4.9,
    ),
    (
        "CP-DEMO-0013",
        "return_received",
        "sent",
        "Aftercare Demo Shop: we received your parcel for order #2001. Reply STOP to opt out.",
        "GSM-7",
        1,
        None,
        100,
    ),
    (
        "SE-DEMO-0012",
        "shipment_exception",
        "failed",
        "Aftercare Demo Shop: there is a problem with the delivery of order #2003. We are on it.",
        "GSM-7",
        1,
        "provider error 30003: unreachable destination handset (5 attempts)",
        5.5,
    ),
]


def _outbox(mid: str, now: datetime) -> list:
    items = []
    for case_id, kind, status, text, encoding, segments, error, hours in MESSAGES:
        spec = next(c for c in CASES if c[0] == case_id)
        at = now - timedelta(hours=hours)
        item = new_outbox(
            mid,
            cause=f"seed:{case_id}:{kind}",
            kind=kind,
            now=at,
            customer_id=spec[5],
            context={"order_number": ORDERS[spec[6]][0]},
            case_id=case_id,
            order_id=spec[6],
        )
        item.status, item.text, item.encoding, item.segments = status, text, encoding, segments
        item.provider, item.to_masked, item.last_error = (
            "sns",
            "***" + CUSTOMERS[spec[5]]["phone"][-4:],
            error,
        )
        item.attempts = 5 if status == "failed" else 1
        item.sent_at = None if status == "failed" else at
        item.locale = "zh-CN" if encoding == "UCS-2" else "en"
        clear_outbox_due(item)
        items.append(item)
    return items


def seed_console_sample(store: Store, merchant_id: str, now: datetime) -> bool:
    """Write the sample cases (once); True when written."""
    if store.get(CaseItem, keys.case(merchant_id, CASES[0][0])) is not None:
        return False
    for item in _people(merchant_id, now):
        uow = store.unit_of_work()
        uow.save("seed", item)
        uow.commit()
    for spec in CASES:
        case, entries = _case(merchant_id, spec, now)
        uow = store.unit_of_work()
        uow.insert("case", case)
        for entry in entries:
            uow.save("entry", entry)
        try:
            uow.commit()
        except StaleVersion:
            continue
    for item in _outbox(merchant_id, now):
        uow = store.unit_of_work()
        uow.save("outbox", item)
        uow.commit()
    _counters(store, merchant_id, now)
    agent = UserKeyItem(
        pk=keys.merchant(merchant_id),
        sk=keys.user_key(hash_api_key(AGENT_KEY)),
        merchant_id=merchant_id,
        name="Demo agent",
        role="agent",
        key_hint=AGENT_KEY[-4:],
        created_by="seed",
        created_at=now,
    )
    uow = store.unit_of_work()
    uow.save("user_key", agent)
    uow.commit()
    return True


def refresh_sample_times(store: Store, merchant_id: str, now: datetime) -> int:
    """Re-time the open sample cases to `now` (opening, due times, queue place, seeded timeline
    entries), as if seeded now; settled ones are left alone. Returns how many moved."""
    moved = 0
    for spec in CASES:
        stored = store.get(CaseItem, keys.case(merchant_id, spec[0]))
        if stored is None or not case_state.is_open(stored.status):
            continue
        fresh, entries = _case(merchant_id, spec, now)
        for name in ("opened_at", "first_response_due", "resolution_due", "gsi1sk"):
            setattr(stored, name, getattr(fresh, name))
        stored.updated_at = max(stored.updated_at, fresh.opened_at)
        place_in_queue(stored)
        ids, sks = {e.entry_id for e in entries}, {e.sk for e in entries}
        for old in TimelineItem.query(stored.pk, TimelineItem.sk.startswith("TL#")):
            if old.entry_id in ids and old.sk not in sks:
                old.delete()
        uow = store.unit_of_work()
        uow.save("case", stored)
        for entry in entries:
            uow.save("entry", entry)
        try:
            uow.commit()
        except StaleVersion:
            continue
        moved += 1
    return moved
