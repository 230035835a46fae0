"""Key formats of the single DynamoDB table: the only place that knows how keys are spelled.

Access patterns (pattern -> key or index -> operation) are listed in docs/storage.md; every
one is a GetItem, a Query on a key or index, a BatchGetItem or a TransactWriteItems.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

__all__ = [
    "META",
    "DUE_SHARDS",
    "merchant",
    "shop_domain",
    "api_key",
    "customer",
    "order",
    "shipment",
    "case",
    "outbox",
    "receipt",
    "return_code",
    "phone",
    "phone_owner",
    "parse_phone_owner",
    "provider_message",
    "rate_window",
    "weekly_stats",
    "digest_schedule",
    "DIGEST_DUE",
    "SLA_DUE",
    "TIER_DUE",
    "STALE_DUE",
    "RETURN_EXPIRY_DUE",
    "label_guard",
    "return_expiry",
    "cases_of",
    "outbox_of",
    "customer_timeline",
    "timeline_sk",
    "due_partition",
    "due_partitions",
    "due_sort",
    "ITEM_SHARDS",
    "merchant_items",
    "merchant_items_partitions",
    "merchant_of_key",
    "oauth_state",
    "credentials",
    "refund_guard",
    "refund_pointer",
    "privacy_request",
    "privacy_requests_of",
    "settings_audit",
    "settings_audit_sort",
    "merchant_slug",
    "order_number",
    "normalize_order_number",
    "status_token",
    "iso",
    "iso_week",
    "normalize_tracking",
    "short_hash",
]

META = "META"
DUE_SHARDS = 4  # the sparse due index is spread over this many partitions per kind


def short_hash(*parts: str, length: int = 16) -> str:
    """A short stable hash of `parts` (for deterministic ids)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def iso(moment: datetime) -> str:
    """Sortable UTC ISO-8601 with microseconds: the time format used inside keys."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_week(moment: datetime) -> str:
    """ISO week label like `2026-W48` (UTC) for the weekly counters."""
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def normalize_tracking(tracking_number: str) -> str:
    """Tracking numbers compare without spaces or dashes and in upper case."""
    return "".join(ch for ch in tracking_number.upper() if ch.isalnum())


def merchant(merchant_id: str) -> str:
    return f"MERCHANT#{merchant_id}"


def shop_domain(domain: str) -> str:
    return f"SHOP#{domain.lower()}"


def api_key(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def customer(merchant_id: str, customer_id: str) -> str:
    return f"CUSTOMER#{merchant_id}#{customer_id}"


def order(merchant_id: str, order_id: str) -> str:
    return f"ORDER#{merchant_id}#{order_id}"


def shipment(merchant_id: str, tracking_number: str) -> str:
    return f"SHIPMENT#{merchant_id}#{normalize_tracking(tracking_number)}"


def case(merchant_id: str, case_id: str) -> str:
    return f"CASE#{merchant_id}#{case_id}"


def outbox(merchant_id: str, outbox_id: str) -> str:
    return f"OUTBOX#{merchant_id}#{outbox_id}"


def receipt(merchant_id: str, source: str, dedupe_key: str) -> str:
    return f"RECEIPT#{merchant_id}#{source}#{dedupe_key}"


def return_code(merchant_id: str, code: str) -> str:
    """Pointer that makes a return code unique per merchant and finds its case."""
    return f"RETURNCODE#{merchant_id}#{code}"


def phone(e164: str) -> str:
    """Pointer from a phone number to the customers (of any merchant) who have it."""
    return f"PHONE#{e164}"


def phone_owner(merchant_id: str, customer_id: str) -> str:
    """One entry of a phone pointer's `owners` set."""
    return f"{merchant_id}#{customer_id}"


def parse_phone_owner(owner: str) -> tuple[str, str]:
    """(merchant_id, customer_id) of a `phone_owner` entry."""
    merchant_id, _, customer_id = owner.partition("#")
    return merchant_id, customer_id


def provider_message(provider: str, message_id: str) -> str:
    """Pointer from an SMS provider's message id to the outbox item it sent."""
    return f"SMSID#{provider}#{message_id}"


def rate_window(merchant_id: str, scope: str, window: str) -> str:
    """Counter of one merchant's sends of `scope` (e.g. "sms") in one time window."""
    return f"RATE#{merchant_id}#{scope}#{window}"


def weekly_stats(merchant_id: str, week: str) -> str:
    return f"STATS#{merchant_id}#{week}"


DIGEST_DUE = "DIGEST"  # due-index kind of weekly-digest work: schedules and their e-mails
SLA_DUE = "SLA"  # due-index kind of open cases at their next SLA / stuck-flow check (issue 7)
TIER_DUE = "TIER"  # due-index kind of VIP customers at their next tier re-evaluation (issue 7)
STALE_DUE = "STALE"  # due-index kind of in-transit shipments at their stale-tracking check


def digest_schedule(merchant_id: str) -> str:
    """A merchant's weekly-digest schedule (next week to send, when); due kind DIGEST_DUE."""
    return f"DIGEST#{merchant_id}"


def cases_of(merchant_id: str) -> str:
    """GSI1 partition: a merchant's cases, sorted by opening time."""
    return f"CASES#{merchant_id}"


def outbox_of(merchant_id: str) -> str:
    """GSI1 partition: a merchant's notifications, sorted by creation time."""
    return f"NOTIFICATIONS#{merchant_id}"


def customer_timeline(merchant_id: str, customer_id: str) -> str:
    """GSI2 partition: every timeline entry of one customer, across cases and orders."""
    return f"TIMELINE#{merchant_id}#{customer_id}"


def open_cases_of(merchant_id: str) -> str:
    """GSI2 partition, sparse: a merchant's open cases only, sorted by queue due time (D2)."""
    return f"OPENCASES#{merchant_id}"


def timeline_sk(at: datetime, entry_id: str) -> str:
    return f"TL#{iso(at)}#{entry_id}"


def due_partition(kind: str, item_pk: str) -> str:
    """Sparse due index partition for `kind` (e.g. OUTBOX, SLA), sharded by the item key."""
    shard = int(hashlib.sha256(item_pk.encode()).hexdigest(), 16) % DUE_SHARDS
    return due_partitions(kind)[shard]


def due_partitions(kind: str) -> list[str]:
    """Every shard of the due index for `kind`: what a scheduled job queries."""
    return [f"DUE#{kind}#{shard}" for shard in range(DUE_SHARDS)]


def due_sort(due_at: datetime, item_pk: str) -> str:
    return f"{iso(due_at)}#{item_pk}"


# --- Marketplace install, refunds and privacy (issue 3) -----------------------------------
ITEM_SHARDS = 8  # a merchant's item index (gsi1) is spread over this many partitions


def merchant_items(merchant_id: str, item_pk: str) -> str:
    """GSI1 partition listing `item_pk` among its merchant's items (shop/redact finds them)."""
    shard = int(hashlib.sha256(item_pk.encode()).hexdigest(), 16) % ITEM_SHARDS
    return merchant_items_partitions(merchant_id)[shard]


def merchant_items_partitions(merchant_id: str) -> list[str]:
    """Every shard of a merchant's item index: what an erasure of the shop queries."""
    return [f"ITEMS#{merchant_id}#{shard}" for shard in range(ITEM_SHARDS)]


def merchant_of_key(pk: str) -> str | None:
    """The merchant id inside a `PREFIX#{merchant_id}#...` key (receipts, orders...), or None."""
    parts = pk.split("#", 2)
    return parts[1] if len(parts) == 3 and parts[1] else None


def oauth_state(platform: str, nonce: str) -> str:
    """A single-use install/connect state nonce (expires by TTL)."""
    return f"OAUTHSTATE#{platform}#{nonce}"


def credentials(merchant_id: str) -> str:
    """A merchant's marketplace API credentials (tokens): read only by outbound calls."""
    return f"CREDENTIALS#{merchant_id}"


def refund_guard(merchant_id: str, outbox_id: str) -> str:
    """Idempotency guard of one outbound refund, written before the partner is called."""
    return f"REFUNDGUARD#{merchant_id}#{outbox_id}"


def refund_pointer(merchant_id: str, refund_id: str) -> str:
    """A refund we issued, by the partner's refund id: recognises its webhook echo."""
    return f"REFUND#{merchant_id}#{refund_id}"


def privacy_request(merchant_id: str, request_id: str) -> str:
    return f"PRIVACY#{merchant_id}#{request_id}"


def privacy_requests_of(merchant_id: str) -> str:
    """GSI1 partition: a merchant's privacy requests (data exports), newest last."""
    return f"PRIVACYREQUESTS#{merchant_id}"


USER_KEY_PREFIX = "USERKEY#"


def user_key(key_hash: str) -> str:
    """Sort key of a console user key in its merchant's partition (issue 12)."""
    return f"{USER_KEY_PREFIX}{key_hash}"


# --- Customer pages (issue 11): portal slug, order numbers, status links --------------------


def merchant_slug(slug: str) -> str:
    """Pointer from a merchant's public portal slug (`/r/{slug}`) to its merchant id."""
    return f"SLUG#{slug.lower()}"


def normalize_order_number(number: str) -> str:
    """Order numbers compare without `#`, spaces or dashes and in upper case."""
    return "".join(ch for ch in number.upper() if ch.isalnum())


def order_number(merchant_id: str, number: str) -> str:
    """Pointer from the order number a customer knows to the order (and its customer)."""
    return f"ORDERNO#{merchant_id}#{normalize_order_number(number)}"


def status_token(token: str) -> str:
    """Pointer from a status-page token (`/s/{token}`) to its merchant and order."""
    return f"STATUS#{token}"


# --- Merchant settings API (issues 5-7) ----------------------------------------------------


def settings_audit(merchant_id: str) -> str:
    """Partition of a merchant's settings changes (one item per saved section)."""
    return f"SETTINGSAUDIT#{merchant_id}"


def settings_audit_sort(at: datetime, version: int) -> str:
    """Sort key of one settings change: newest last, unique per merchant version."""
    return f"{iso(at)}#{version:010d}"


def order_link(merchant_id: str, order_id: str) -> str:
    """Shipments waiting for an order that has not arrived yet (out-of-order webhooks)."""
    return f"ORDERLINK#{merchant_id}#{order_id}"


# --- Return labels and approval expiry (issue 11, B2) ---------------------------------------
RETURN_EXPIRY_DUE = "RETURNEXP"  # due-index kind of approved returns at reminder / expiry


def label_guard(merchant_id: str, outbox_id: str) -> str:
    """Purchase guard of one prepaid return label (one per `buy_return_label` outbox item)."""
    return f"LABELGUARD#{merchant_id}#{outbox_id}"


def return_expiry(merchant_id: str, case_id: str) -> str:
    """An approved return's expiry clock (due kind RETURN_EXPIRY_DUE)."""
    return f"RETURNEXP#{merchant_id}#{case_id}"
