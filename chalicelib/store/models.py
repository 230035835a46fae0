"""PynamoDB models of the single Aftercare table, its three indexes, and `bind(settings)`.

All items share one table (`pk`/`sk`), so one transaction can write any of them. Money is
kept as decimal strings (PynamoDB's NumberAttribute would pass through float); lists of
sub-records are JSON. Models carry no key logic: constructors in `records.py` and the keys
module build keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynamodb import constants
from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.connection.base import MetaTable
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.store.connection import LeanConnection
from chalicelib.store.merchant_cache import CACHE as MERCHANT_CACHE

if TYPE_CHECKING:
    from chalicelib.config import Settings

__all__ = [
    "BaseItem",
    "MerchantItem",
    "PointerItem",
    "CustomerItem",
    "OrderItem",
    "ShipmentItem",
    "CaseItem",
    "TimelineItem",
    "OutboxItem",
    "ReceiptItem",
    "ReturnCodeItem",
    "PhonePointerItem",
    "MessagePointerItem",
    "RateWindowItem",
    "StatsItem",
    "DigestScheduleItem",
    "OAuthStateItem",
    "CredentialsItem",
    "RefundGuardItem",
    "RefundPointerItem",
    "PrivacyRequestItem",
    "UserKeyItem",
    "OrderNumberItem",
    "StatusTokenItem",
    "SettingsAuditItem",
    "ALL_MODELS",
    "LabelGuardItem",
    "ReturnExpiryItem",
    "OrderLinkItem",
    "bind",
]


class ByMerchantIndex(GlobalSecondaryIndex["BaseItem"]):
    """GSI1: a merchant's cases or notifications in time order."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class CustomerTimelineIndex(GlobalSecondaryIndex["BaseItem"]):
    """GSI2: one customer's timeline across orders, cases and channels."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class OpenCasesIndex(GlobalSecondaryIndex["BaseItem"]):
    """GSI2 on cases, sparse: `OPENCASES#{mid}` / `{queue due iso}#{case_id}` while open."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex["BaseItem"]):
    """GSI3, sparse: only items with work due (outbox sends, SLA checks) carry its keys."""

    class Meta:
        index_name = "due"
        projection = KeysOnlyProjection()

    due_pk = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


class BaseItem(Model):
    """Common keys and table binding of every item."""

    class Meta:
        table_name = "aftercare"
        region = "us-east-1"
        host: str | None = None

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class MerchantItem(BaseItem):
    """A merchant (shop): status, settings and per-partner webhook secrets."""

    merchant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    platform = UnicodeAttribute(default="shopify")
    shop_domain = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="active")  # active | uninstalled
    timezone = UnicodeAttribute(default="UTC")
    locale = UnicodeAttribute(default="en")
    currency = UnicodeAttribute(default="USD")
    api_key_hash = UnicodeAttribute(null=True)
    webhook_secrets = JSONAttribute(default=dict)  # partner -> [current, previous]
    settings = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    uninstalled_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    # Direct writes (outside a unit of work, which does the same) drop this container's
    # cached copy (store/merchant_cache.py), whether or not they succeed.
    def save(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().save(*args, **kwargs)
        finally:
            MERCHANT_CACHE.forget(self.Meta.table_name, self.pk)

    def update(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().update(*args, **kwargs)
        finally:
            MERCHANT_CACHE.forget(self.Meta.table_name, self.pk)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().delete(*args, **kwargs)
        finally:
            MERCHANT_CACHE.forget(self.Meta.table_name, self.pk)


class PointerItem(BaseItem):
    """A lookup pointer to a merchant: by shop domain or by API key hash."""

    merchant_id = UnicodeAttribute()


class CustomerItem(BaseItem):
    """A customer of one merchant: the single home of their personal data."""

    merchant_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)  # E.164, or None when invalid/absent
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    province = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    sms_opt_out = BooleanAttribute(default=False)
    order_ids = UnicodeSetAttribute(default=set)
    spend = UnicodeAttribute(default="0")  # decimal string, shop currency
    complaints = NumberAttribute(default=0)
    returns = NumberAttribute(default=0)
    tier = UnicodeAttribute(default="standard")
    last_agent = UnicodeAttribute(null=True)
    # newest cases first, capped: {case_id, type, order_id, skus, at, outcome} (no personal
    # data); feeds repeat detection and the 90-day return count without a query
    recent_cases = JSONAttribute(default=list)
    # trailing-12-month orders for VIP tiering (issue 7): [{order_id, at, total}], oldest first
    orders_12m = JSONAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    redacted_at = UTCDateTimeAttribute(null=True)  # personal data erased (customers/redact)
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)
    # VIP re-evaluation (issue 7, handlers/tier_review.py): due kind TIER when the oldest
    # order of a VIP's 12-month window leaves it
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    version = VersionAttribute()
    due = DueIndex()


class OrderItem(BaseItem):
    """An order: lines, totals and the partner time of its newest update."""

    merchant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    order_number = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    total = UnicodeAttribute()  # decimal string
    currency = UnicodeAttribute()
    line_items = JSONAttribute(default=list)
    status = UnicodeAttribute(default="open")  # open | cancelled
    financial_status = UnicodeAttribute(default="")
    fulfillment_status = UnicodeAttribute(default="")
    placed_at = UTCDateTimeAttribute()
    source_updated_at = UTCDateTimeAttribute()
    delivered_at = UTCDateTimeAttribute(null=True)
    tracking_numbers = UnicodeSetAttribute(default=set)
    returned = JSONAttribute(default=dict)  # line id -> quantity approved for return
    high_risk = BooleanAttribute(null=True)  # issue 7: total above the limit or 2+ complaints
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)
    version = VersionAttribute()


class ShipmentItem(BaseItem):
    """A parcel found by tracking number; kept even before its order is known."""

    merchant_id = UnicodeAttribute()
    tracking_number = UnicodeAttribute()
    carrier = UnicodeAttribute(default="")
    order_id = UnicodeAttribute(null=True)
    order_number = UnicodeAttribute(null=True)  # copied from the order for messages
    customer_id = UnicodeAttribute(null=True)
    is_return = BooleanAttribute(default=False)
    case_id = UnicodeAttribute(null=True)  # a return parcel's return case
    label_url = UnicodeAttribute(null=True)  # a prepaid return label bought for it
    status = UnicodeAttribute(null=True)
    status_at = UTCDateTimeAttribute(null=True)
    last_scan_at = UTCDateTimeAttribute(null=True)
    estimated_delivery = UTCDateTimeAttribute(null=True)
    courier_phone = UnicodeAttribute(null=True)
    scans = JSONAttribute(default=list)
    notified = UnicodeSetAttribute(default=set)  # message kinds already queued
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)
    # stale tracking (chalicelib/stale_tracking.py): on the due index (kind STALE) while in
    # transit, at last_scan_at + threshold; stale_at set when flagged, cleared by a new scan
    stale_at = UTCDateTimeAttribute(null=True)
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    version = VersionAttribute()
    due = DueIndex()


class CaseItem(BaseItem):
    """An after-sales case; its timeline entries share its partition key."""

    merchant_id = UnicodeAttribute()
    case_id = UnicodeAttribute()
    case_type = UnicodeAttribute()
    status = UnicodeAttribute()
    priority = UnicodeAttribute(default="normal")
    category = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(default="")
    assignee = UnicodeAttribute(null=True)
    tags = UnicodeSetAttribute(default=set)
    opened_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    details = JSONAttribute(default=dict)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    # SLA (issue 7, chalicelib/sla_job.py): due times, escalation reached, steps fired once
    first_response_due = UTCDateTimeAttribute(null=True)
    resolution_due = UTCDateTimeAttribute(null=True)
    first_responded_at = UTCDateTimeAttribute(null=True)
    sla_level = NumberAttribute(null=True)  # 0 assignee, 1 senior, 2 supervisor
    sla_fired = UnicodeSetAttribute(null=True)  # step ids, e.g. first_response:breach@...
    vip = BooleanAttribute(null=True)
    high_risk = BooleanAttribute(null=True)
    # console queue (D2): set only while open, by sla_schedule.schedule_case
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    version = VersionAttribute()
    by_merchant = ByMerchantIndex()
    open_queue = OpenCasesIndex()
    due = DueIndex()


class TimelineItem(BaseItem):
    """One timeline entry, in its case's or order's partition, indexed per customer."""

    merchant_id = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    recorded_at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()  # e.g. order_placed, shipment_update, sms_sent, case_opened
    source = UnicodeAttribute()  # e.g. shopify, easypost, system, agent:<id>
    summary = UnicodeAttribute()
    data = JSONAttribute(default=dict)
    case_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    by_customer = CustomerTimelineIndex()


class OutboxItem(BaseItem):
    """A notification to send, written with its cause; the sender moves it to a final state."""

    merchant_id = UnicodeAttribute()
    outbox_id = UnicodeAttribute()
    channel = UnicodeAttribute(default="sms")  # sms | email
    kind = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    case_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    timeline_pk = UnicodeAttribute(null=True)  # where to record the send on a timeline
    context = JSONAttribute(default=dict)
    status = UnicodeAttribute(default="pending")  # pending|sending|sent|delivered|skipped|failed
    attempts = NumberAttribute(default=0)
    next_attempt_at = UTCDateTimeAttribute()
    lease_until = UTCDateTimeAttribute(null=True)
    provider = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    to_masked = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    encoding = UnicodeAttribute(null=True)
    segments = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    version = VersionAttribute()
    by_merchant = ByMerchantIndex()
    due = DueIndex()


class ReceiptItem(BaseItem):
    """Idempotency receipt of one processed delivery; expires by TTL."""

    received_at = UTCDateTimeAttribute()
    expires = TTLAttribute()
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)

    def __init__(
        self,
        hash_key: Any = None,
        range_key: Any = None,
        _user_instantiated: bool = True,
        **attributes: Any,
    ) -> None:
        super().__init__(hash_key, range_key, _user_instantiated, **attributes)
        # Receipts are built in one place (`UnitOfWork.add_receipt`); indexing them here keeps
        # every receipt findable by its merchant for shop/redact without touching that code.
        if _user_instantiated and self.gsi1pk is None and getattr(self, "pk", None):
            from chalicelib.store import keys

            owner = keys.merchant_of_key(self.pk)
            if owner:
                self.gsi1pk, self.gsi1sk = keys.merchant_items(owner, self.pk), self.pk


class ReturnCodeItem(BaseItem):
    """A return code's pointer to its case; inserting it is what makes the code unique."""

    merchant_id = UnicodeAttribute()
    case_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)


class PhonePointerItem(BaseItem):
    """Who has this phone number (`merchant#customer` entries) and who texted it last.

    Inbound SMS find their customer here; the merchant with the most recent outbound SMS to
    the number wins when several merchants share it. Holds personal data (the number is the
    key): a customer redaction removes its owner entry.
    """

    owners = UnicodeSetAttribute(default=set)
    last_merchant_id = UnicodeAttribute(null=True)
    last_customer_id = UnicodeAttribute(null=True)
    last_sent_at = UTCDateTimeAttribute(null=True)


class MessagePointerItem(BaseItem):
    """An SMS provider's message id -> the outbox item it sent (for delivery receipts)."""

    merchant_id = UnicodeAttribute()
    outbox_id = UnicodeAttribute()
    expires = TTLAttribute(null=True)


class RateWindowItem(BaseItem):
    """How many sends of one kind a merchant made in one window; expires by TTL."""

    used = NumberAttribute(default=0)
    expires = TTLAttribute(null=True)


class StatsItem(BaseItem):
    """Per-merchant, per-ISO-week counters, incremented at event time (attributes `c#<name>`)."""


class DigestScheduleItem(BaseItem):
    """When a merchant's next weekly digest is due and for which week; on the due index
    (kind DIGEST) while the merchant gets digests. Claiming a week advances it in the same
    transaction that inserts that week's e-mail (an outbox item with a week-derived id)."""

    merchant_id = UnicodeAttribute()
    week = UnicodeAttribute()  # ISO week (UTC) of the next digest, e.g. 2026-W48
    due_at = UTCDateTimeAttribute()
    last_week = UnicodeAttribute(null=True)  # the week most recently claimed
    updated_at = UTCDateTimeAttribute()
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    version = VersionAttribute()
    due = DueIndex()


class OAuthStateItem(BaseItem):
    """A single-use install/connect state nonce: consumed by a conditional delete; TTL."""

    platform = UnicodeAttribute()
    subject = UnicodeAttribute()  # the shop domain or store URL the flow was started for
    merchant_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires = TTLAttribute()
    used = BooleanAttribute(default=False)
    data = JSONAttribute(default=dict)  # e.g. the API key to show once after a connect


class CredentialsItem(BaseItem):
    """A merchant's marketplace API credentials. Secrets: never logged, never sent to clients.

    Stored in the table (encrypted at rest by DynamoDB); KMS envelope encryption per item
    is the production follow-up (docs/install.md).
    """

    merchant_id = UnicodeAttribute()
    platform = UnicodeAttribute()  # shopify | woocommerce | bigcommerce
    account = UnicodeAttribute()  # shop domain, store URL or store hash
    access_token = UnicodeAttribute()  # Shopify/BigCommerce token; WooCommerce consumer key
    secret = UnicodeAttribute(null=True)  # WooCommerce consumer secret
    refresh_token = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    refresh_expires_at = UTCDateTimeAttribute(null=True)
    scopes = JSONAttribute(default=list)
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)
    version = VersionAttribute()

    def __repr__(self) -> str:  # tokens never reach a log line or a traceback
        return f"CredentialsItem({self.merchant_id}, {self.platform})"


class RefundGuardItem(BaseItem):
    """One outbound refund's idempotency guard: written before the partner call, completed
    with the partner's refund id after it; a retry reads it instead of refunding again."""

    merchant_id = UnicodeAttribute()
    outbox_id = UnicodeAttribute()
    platform = UnicodeAttribute()
    status = UnicodeAttribute(default="started")  # started | done
    refund_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)


class RefundPointerItem(BaseItem):
    """A refund we issued, keyed by the partner's refund id: its webhook echo is ours."""

    merchant_id = UnicodeAttribute()
    outbox_id = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    case_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)


class PrivacyRequestItem(BaseItem):
    """A customer data request answered for the merchant: the assembled document (personal
    data; deleted by that customer's redaction and by shop/redact)."""

    merchant_id = UnicodeAttribute()
    request_id = UnicodeAttribute()
    kind = UnicodeAttribute(default="data_request")
    customer_id = UnicodeAttribute(null=True)
    document = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_merchant = ByMerchantIndex()


class UserKeyItem(BaseItem):
    """A console user's sign-in key (issue 12), in its merchant's partition
    (`MERCHANT#{id}` / `USERKEY#{sha256 of the key}`): a name and a role, never the key."""

    merchant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()  # agent | senior | supervisor | admin
    key_hint = UnicodeAttribute(default="")  # last 4 characters, to tell keys apart
    created_by = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


class OrderNumberItem(BaseItem):
    """The order number a customer knows -> the order and its customer (portal lookup)."""

    merchant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)


class StatusTokenItem(BaseItem):
    """A status-page token -> its order; `revoked_at` set turns the link off for good."""

    merchant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)


class OrderLinkItem(BaseItem):
    """Shipments that came before their order (webhooks arrive out of order): the order
    takes them over when it arrives (`handlers/order_links.py`, issue 9)."""

    merchant_id = UnicodeAttribute()
    tracking_numbers = UnicodeSetAttribute(default=set)
    delivered_at = UTCDateTimeAttribute(null=True)
    expires = TTLAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)


class SettingsAuditItem(BaseItem):
    """One saved merchant settings section: who, when, and the section before and after.

    Partition `SETTINGSAUDIT#{merchant}` (newest first by sort key); listed in the merchant's
    item index (gsi1 `ITEMS#...`) so shop/redact removes it with the shop."""

    merchant_id = UnicodeAttribute()
    section = UnicodeAttribute()
    actor = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    merchant_version = NumberAttribute()  # the merchant item's version after the change
    before = JSONAttribute(default=dict)
    after = JSONAttribute(default=dict)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)


class LabelGuardItem(BaseItem):
    """One prepaid return label's purchase guard (issue 11): written before EasyPost is
    called, then carries the shipment id and, once bought, the label; a retried outbox item
    reads it and never buys a second label."""

    merchant_id = UnicodeAttribute()
    outbox_id = UnicodeAttribute()
    case_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="started")  # started | bought
    shipment_id = UnicodeAttribute(null=True)  # EasyPost `shp_...`
    tracking_number = UnicodeAttribute(null=True)
    carrier = UnicodeAttribute(null=True)
    label_url = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)  # ITEMS#{merchant}#{shard}: shop/redact finds it
    gsi1sk = UnicodeAttribute(null=True)
    version = VersionAttribute()


class ReturnExpiryItem(BaseItem):
    """An approved return's expiry clock (issue 11): on the due index (kind RETURNEXP) at the
    reminder time, then at the expiry time; deleted when the parcel is scanned or received.
    A separate item because the case's own due slot belongs to the SLA index."""

    merchant_id = UnicodeAttribute()
    case_id = UnicodeAttribute()
    remind_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    reminded = BooleanAttribute(default=False)
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    version = VersionAttribute()
    due = DueIndex()


ALL_MODELS: tuple[type[BaseItem], ...] = (
    MerchantItem,
    LabelGuardItem,
    ReturnExpiryItem,
    OrderLinkItem,
    PointerItem,
    CustomerItem,
    OrderItem,
    ShipmentItem,
    CaseItem,
    TimelineItem,
    OutboxItem,
    ReceiptItem,
    ReturnCodeItem,
    PhonePointerItem,
    MessagePointerItem,
    RateWindowItem,
    StatsItem,
    DigestScheduleItem,
    OAuthStateItem,
    CredentialsItem,
    RefundGuardItem,
    RefundPointerItem,
    PrivacyRequestItem,
    UserKeyItem,
    OrderNumberItem,
    StatusTokenItem,
    SettingsAuditItem,
)


def _table_meta(table_name: str) -> MetaTable:
    """The table's keys and all three indexes, from every model's schema."""
    attributes: dict[str, dict[str, str]] = {}
    indexes: dict[str, dict[str, Any]] = {}
    key_schema: list[dict[str, str]] = []
    for model in ALL_MODELS:
        schema = model._get_schema()
        key_schema = schema["key_schema"]
        for definition in schema["attribute_definitions"]:
            attributes[definition["AttributeName"]] = definition
        for index in schema["global_secondary_indexes"]:
            indexes[index["index_name"]] = {
                constants.INDEX_NAME: index["index_name"],
                constants.KEY_SCHEMA: index["key_schema"],
            }
    return MetaTable(
        {
            constants.TABLE_NAME: table_name,
            constants.KEY_SCHEMA: key_schema,
            constants.ATTR_DEFINITIONS: list(attributes.values()),
            constants.GLOBAL_SECONDARY_INDEXES: list(indexes.values()),
            constants.LOCAL_SECONDARY_INDEXES: [],
        }
    )


_shared: dict[tuple[str, str, str | None], Connection] = {}


def bind(settings: Settings) -> None:
    """Point every model at the configured table through ONE shared connection.

    PynamoDB gives each model class its own botocore session and client; one shared client
    saves their creation at cold start and shares the HTTP connection pool. No I/O here: the
    client is created on first use.
    """
    BaseItem.Meta.table_name = settings.table_name
    BaseItem.Meta.region = settings.region
    BaseItem.Meta.host = settings.dynamodb_endpoint
    target = (settings.table_name, settings.region, settings.dynamodb_endpoint)
    shared = _shared.get(target)
    if shared is None:
        shared = _shared[target] = LeanConnection(
            region=settings.region,
            host=settings.dynamodb_endpoint,
            connect_timeout_seconds=3,
            read_timeout_seconds=5,
            max_retry_attempts=3,
        )
        shared.add_meta_table(_table_meta(settings.table_name))
    for model in (BaseItem, *ALL_MODELS):
        model._connection = None
        model._get_connection().connection = shared
