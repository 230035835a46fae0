"""Constructors of new items with their keys and index attributes filled in.

Handlers create items only through these, so key spelling stays in the store. Ids that must
be stable under re-delivery (outbox, timeline, per-shipment cases) are derived from their
cause with `keys.short_hash`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.store import keys
from chalicelib.store.models import (
    CaseItem,
    CredentialsItem,
    CustomerItem,
    MerchantItem,
    MessagePointerItem,
    OAuthStateItem,
    OrderItem,
    OrderNumberItem,
    OutboxItem,
    PhonePointerItem,
    PointerItem,
    PrivacyRequestItem,
    RefundGuardItem,
    RefundPointerItem,
    ReturnCodeItem,
    ShipmentItem,
    StatusTokenItem,
    TimelineItem,
)

if TYPE_CHECKING:
    from pynamodb.expressions.update import Action

_Indexed = TypeVar("_Indexed", bound=Any)

__all__ = [
    "order_number_pointer",
    "slug_pointer",
    "new_status_token",
    "new_merchant",
    "api_key_pointer",
    "new_customer",
    "new_order",
    "new_shipment",
    "new_case",
    "new_timeline_entry",
    "new_outbox",
    "new_return_code",
    "message_pointer",
    "phone_owner_update",
    "phone_sent_update",
    "set_outbox_due",
    "clear_outbox_due",
    "new_oauth_state",
    "new_credentials",
    "new_refund_guard",
    "new_refund_pointer",
    "new_privacy_request",
    "new_settings_audit",
]


def _indexed(item: _Indexed) -> _Indexed:
    """`item` listed in its merchant's item index (gsi1 `ITEMS#...`), for shop/redact."""
    item.gsi1pk = keys.merchant_items(item.merchant_id, item.pk)
    item.gsi1sk = item.pk
    return item


def new_merchant(merchant_id: str, name: str, now: datetime, **fields: Any) -> MerchantItem:
    return MerchantItem(
        pk=keys.merchant(merchant_id),
        sk=keys.META,
        merchant_id=merchant_id,
        name=name,
        created_at=now,
        **fields,
    )


def api_key_pointer(key_hash: str, merchant_id: str) -> PointerItem:
    return PointerItem(pk=keys.api_key(key_hash), sk=keys.META, merchant_id=merchant_id)


def new_customer(merchant_id: str, customer_id: str, now: datetime) -> CustomerItem:
    return _indexed(
        CustomerItem(
            pk=keys.customer(merchant_id, customer_id),
            sk=keys.META,
            merchant_id=merchant_id,
            customer_id=customer_id,
            updated_at=now,
        )
    )


def new_order(merchant_id: str, order_id: str, **fields: Any) -> OrderItem:
    return _indexed(
        OrderItem(
            pk=keys.order(merchant_id, order_id),
            sk=keys.META,
            merchant_id=merchant_id,
            order_id=order_id,
            **fields,
        )
    )


def new_shipment(merchant_id: str, tracking_number: str, now: datetime) -> ShipmentItem:
    return _indexed(
        ShipmentItem(
            pk=keys.shipment(merchant_id, tracking_number),
            sk=keys.META,
            merchant_id=merchant_id,
            tracking_number=keys.normalize_tracking(tracking_number),
            updated_at=now,
        )
    )


def new_case(
    merchant_id: str, case_id: str, case_type: str, status: str, now: datetime, **fields: Any
) -> CaseItem:
    return CaseItem(
        pk=keys.case(merchant_id, case_id),
        sk=keys.META,
        merchant_id=merchant_id,
        case_id=case_id,
        case_type=case_type,
        status=status,
        opened_at=now,
        updated_at=now,
        gsi1pk=keys.cases_of(merchant_id),
        gsi1sk=f"{keys.iso(now)}#{case_id}",
        **fields,
    )


def new_timeline_entry(
    merchant_id: str,
    owner_pk: str,
    *,
    cause: str,
    at: datetime,
    now: datetime,
    kind: str,
    source: str,
    summary: str,
    customer_id: str | None = None,
    case_id: str | None = None,
    order_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineItem:
    """An entry in the partition `owner_pk` (a case or order), indexed under its customer."""
    entry_id = keys.short_hash(owner_pk, cause, kind)
    entry = TimelineItem(
        pk=owner_pk,
        sk=keys.timeline_sk(at, entry_id),
        merchant_id=merchant_id,
        entry_id=entry_id,
        at=at,
        recorded_at=now,
        kind=kind,
        source=source,
        summary=summary,
        data=data or {},
        case_id=case_id,
        order_id=order_id,
    )
    if customer_id:
        entry.gsi2pk = keys.customer_timeline(merchant_id, customer_id)
        entry.gsi2sk = keys.timeline_sk(at, entry_id)
    return entry


def new_outbox(
    merchant_id: str,
    *,
    cause: str,
    kind: str,
    now: datetime,
    customer_id: str | None,
    context: dict[str, Any],
    channel: str = "sms",
    case_id: str | None = None,
    order_id: str | None = None,
    timeline_pk: str | None = None,
) -> OutboxItem:
    """A notification due now, with an id derived from its cause so it exists at most once."""
    outbox_id = keys.short_hash(cause, kind, channel, length=24)
    pk = keys.outbox(merchant_id, outbox_id)
    item = OutboxItem(
        pk=pk,
        sk=keys.META,
        merchant_id=merchant_id,
        outbox_id=outbox_id,
        channel=channel,
        kind=kind,
        customer_id=customer_id,
        case_id=case_id,
        order_id=order_id,
        timeline_pk=timeline_pk,
        context=context,
        created_at=now,
        next_attempt_at=now,
        gsi1pk=keys.outbox_of(merchant_id),
        gsi1sk=f"{keys.iso(now)}#{outbox_id}",
    )
    set_outbox_due(item, now)
    return item


def new_return_code(merchant_id: str, code: str, case_id: str, now: datetime) -> ReturnCodeItem:
    """The pointer that reserves `code` for one case (insert it: a taken code fails)."""
    return _indexed(
        ReturnCodeItem(
            pk=keys.return_code(merchant_id, code),
            sk=keys.META,
            merchant_id=merchant_id,
            case_id=case_id,
            created_at=now,
        )
    )


def message_pointer(
    provider: str, message_id: str, merchant_id: str, outbox_id: str, expires: datetime
) -> MessagePointerItem:
    """The pointer a delivery receipt follows from the provider's message id to its item."""
    return MessagePointerItem(
        pk=keys.provider_message(provider, message_id),
        sk=keys.META,
        merchant_id=merchant_id,
        outbox_id=outbox_id,
        expires=expires,
    )


def phone_owner_update(
    e164: str, merchant_id: str, customer_id: str
) -> tuple[PhonePointerItem, list[Action]]:
    """Item and actions for `UnitOfWork.update`: add the customer to the number's pointer."""
    item = PhonePointerItem(pk=keys.phone(e164), sk=keys.META)
    return item, [PhonePointerItem.owners.add({keys.phone_owner(merchant_id, customer_id)})]


def phone_sent_update(
    e164: str, merchant_id: str, customer_id: str, at: datetime
) -> tuple[PhonePointerItem, list[Action]]:
    """Item and actions for `UnitOfWork.update`: this merchant texted the number last."""
    item, actions = phone_owner_update(e164, merchant_id, customer_id)
    return item, [
        *actions,
        PhonePointerItem.last_merchant_id.set(merchant_id),
        PhonePointerItem.last_customer_id.set(customer_id),
        PhonePointerItem.last_sent_at.set(at),
    ]


def set_outbox_due(item: OutboxItem, due_at: datetime) -> None:
    """Put the item on the sparse due index at `due_at`."""
    item.next_attempt_at = due_at
    item.due_pk = keys.due_partition("OUTBOX", item.pk)
    item.due_sk = keys.due_sort(due_at, item.pk)


def clear_outbox_due(item: OutboxItem) -> None:
    """Take the item off the due index (final state)."""
    item.due_pk = None
    item.due_sk = None


# --- Marketplace install, refunds and privacy (issue 3) -----------------------------------


def new_oauth_state(
    platform: str, nonce: str, subject: str, now: datetime, ttl: timedelta, **fields: Any
) -> OAuthStateItem:
    """A single-use state nonce for an install/connect flow started for `subject`."""
    return OAuthStateItem(
        pk=keys.oauth_state(platform, nonce),
        sk=keys.META,
        platform=platform,
        subject=subject,
        created_at=now,
        expires=now + ttl,
        **fields,
    )


def new_credentials(
    merchant_id: str, platform: str, account: str, access_token: str, now: datetime, **fields: Any
) -> CredentialsItem:
    return _indexed(
        CredentialsItem(
            pk=keys.credentials(merchant_id),
            sk=keys.META,
            merchant_id=merchant_id,
            platform=platform,
            account=account,
            access_token=access_token,
            updated_at=now,
            **fields,
        )
    )


def new_refund_guard(
    merchant_id: str, outbox_id: str, platform: str, now: datetime
) -> RefundGuardItem:
    return _indexed(
        RefundGuardItem(
            pk=keys.refund_guard(merchant_id, outbox_id),
            sk=keys.META,
            merchant_id=merchant_id,
            outbox_id=outbox_id,
            platform=platform,
            created_at=now,
            updated_at=now,
        )
    )


def new_refund_pointer(
    merchant_id: str, refund_id: str, outbox_id: str, now: datetime, **fields: Any
) -> RefundPointerItem:
    return _indexed(
        RefundPointerItem(
            pk=keys.refund_pointer(merchant_id, refund_id),
            sk=keys.META,
            merchant_id=merchant_id,
            outbox_id=outbox_id,
            created_at=now,
            **fields,
        )
    )


def new_privacy_request(
    merchant_id: str, request_id: str, now: datetime, **fields: Any
) -> PrivacyRequestItem:
    return PrivacyRequestItem(
        pk=keys.privacy_request(merchant_id, request_id),
        sk=keys.META,
        merchant_id=merchant_id,
        request_id=request_id,
        created_at=now,
        gsi1pk=keys.privacy_requests_of(merchant_id),
        gsi1sk=f"{keys.iso(now)}#{request_id}",
        **fields,
    )


# --- Customer pages (issue 11) --------------------------------------------------------------


def order_number_pointer(
    merchant_id: str, number: str, order_id: str, customer_id: str | None
) -> OrderNumberItem:
    """The portal's way from an order number to the order (rewritten with every order update)."""
    return _indexed(
        OrderNumberItem(
            pk=keys.order_number(merchant_id, number),
            sk=keys.META,
            merchant_id=merchant_id,
            order_id=order_id,
            customer_id=customer_id,
        )
    )


def slug_pointer(slug: str, merchant_id: str) -> PointerItem:
    """A merchant's public portal slug (insert it: a taken slug fails)."""
    return PointerItem(pk=keys.merchant_slug(slug), sk=keys.META, merchant_id=merchant_id)


def new_status_token(token: str, merchant_id: str, order_id: str, now: datetime) -> StatusTokenItem:
    """A status-page link of one order (insert it once; revoke by setting `revoked_at`)."""
    return _indexed(
        StatusTokenItem(
            pk=keys.status_token(token),
            sk=keys.META,
            merchant_id=merchant_id,
            order_id=order_id,
            created_at=now,
        )
    )


def new_settings_audit(
    merchant_id: str,
    section: str,
    actor: str,
    at: datetime,
    merchant_version: int,
    before: dict[str, Any],
    after: dict[str, Any],
) -> Any:
    """The audit entry of one saved settings section (insert it with the merchant's save)."""
    from chalicelib.store.models import SettingsAuditItem

    return _indexed(
        SettingsAuditItem(
            pk=keys.settings_audit(merchant_id),
            sk=keys.settings_audit_sort(at, merchant_version),
            merchant_id=merchant_id,
            section=section,
            actor=actor,
            at=at,
            merchant_version=merchant_version,
            before=before,
            after=after,
        )
    )
