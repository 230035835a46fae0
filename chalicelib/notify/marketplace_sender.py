"""Outbox channel "marketplace": push return decisions and refunds to the merchant's platform.

Items (kinds `approve_return`, `decline_return`, `refund`) are written by the return
handlers in the same transaction as the decision; `sender.deliver_due` hands each due item
of this channel to `deliver`. Claim, defer and backoff are the SMS sender's
(`sender._claim`, `sender._defer`, `sender.backoff`, `MAX_ATTEMPTS`): a version-conditioned
claim with a lease, retries with backoff (or exactly what the partner's `Retry-After` or
cost throttle asked for), and after `MAX_ATTEMPTS` or a permanent refusal (`userErrors`) the
item is parked as `failed` with the partner's message, visible in the notifications API and
on the case timeline.

Refund context: `order_id`, `lines` [{`line_id`, `quantity`, optional `amount`}], `restock`
(bool), optional `amount` (WooCommerce), `note`, `location_id` (Shopify restock location),
optional `received_at` (ISO 8601 warehouse receipt time: the start of `RefundLatency`).
A refund is never issued twice: a guard item is written before the first call; a retry that
finds it asks the platform for a refund carrying our marker (the outbox id in its note)
before calling again, and Shopify's `@idempotent` key is the outbox id as well. The refund
id is recorded on a pointer item, so the platform's webhook about it is recognised as ours.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib import partners
from chalicelib.connectors.shopify_payloads import plain_id
from chalicelib.errors import AftercareError, ProviderError, StaleVersion
from chalicelib.log import bind_context, get_logger
from chalicelib.notify.sender import MAX_ATTEMPTS, _claim, _defer, backoff
from chalicelib.store import keys
from chalicelib.store.models import RefundGuardItem
from chalicelib.store.records import (
    clear_outbox_due,
    new_refund_guard,
    new_refund_pointer,
    new_timeline_entry,
)

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.models import CredentialsItem, MerchantItem, OutboxItem

__all__ = ["deliver", "CHANNEL", "KINDS"]

log = get_logger(__name__)
CHANNEL = "marketplace"
KINDS = frozenset({"approve_return", "decline_return", "refund"})
_LABELS = {"approve_return": "Return approval", "decline_return": "Return decline"}


def deliver(deps: Deps, item: OutboxItem, now: datetime) -> str:
    """Claim and perform one marketplace request: sent|retry|failed|skipped|busy."""
    if item.channel != CHANNEL:
        return "other_channel"
    with bind_context(merchant_id=item.merchant_id, outbox_id=item.outbox_id, kind=item.kind):
        if not _claim(deps, item, now):
            return "busy"
        merchant = deps.store.merchant(item.merchant_id)
        if merchant is None or merchant.status != "active":
            return _finish(deps, item, now, "skipped", "merchant is not active")
        if item.kind == "refund" and _refunded_elsewhere(deps, item):
            return _finish(deps, item, now, "skipped", "the case was refunded already")
        item.attempts = (item.attempts or 0) + 1
        try:
            reference = _perform(deps, merchant, item, now)
        except ProviderError as exc:
            if exc.retryable and item.attempts < MAX_ATTEMPTS:
                asked = getattr(exc, "retry_after", None)
                wait = timedelta(seconds=max(1.0, asked)) if asked else backoff(item.attempts)
                _defer(deps, item, now + wait, exc.detail)
                log.info("marketplace call deferred", extra={"seconds": wait.total_seconds()})
                return "retry"
            return _finish(deps, item, now, "failed", exc.detail)
        except (KeyError, TypeError, ValueError, AftercareError) as exc:
            return _finish(deps, item, now, "failed", f"invalid {item.kind} request: {exc}")
        item.provider, item.provider_message_id, item.sent_at = merchant.platform, reference, now
        result = _finish(deps, item, now, "sent", None)
        if item.kind == "refund":
            deps.metrics.refund_latency(refund_latency(item, now), item.merchant_id)
        return result


def refund_latency(item: OutboxItem, now: datetime) -> float:
    """Seconds from the warehouse receipt (context `received_at`, ISO 8601) to the refund at
    `now`; from when the refund was queued when the context does not say."""
    started = item.created_at
    received = (item.context or {}).get("received_at")
    if received:
        with contextlib.suppress(ValueError):
            started = datetime.fromisoformat(str(received).replace("Z", "+00:00"))
    if started.tzinfo is None:
        started = started.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - started).total_seconds())


def _refunded_elsewhere(deps: Deps, item: OutboxItem) -> bool:
    """True when the item's case got its refund another way (e.g. by hand in the shop's
    admin) before this request was ever tried: refunding again would pay twice."""
    if not item.case_id:
        return False
    from chalicelib.store.models import CaseItem

    store = deps.store
    case = store.get(CaseItem, keys.case(item.merchant_id, item.case_id))
    if case is None or case.status != "refunded":
        return False
    return store.get(RefundGuardItem, keys.refund_guard(item.merchant_id, item.outbox_id)) is None


def _perform(deps: Deps, merchant: MerchantItem, item: OutboxItem, now: datetime) -> str:
    """Do the request; returns the platform's reference (return or refund id)."""
    context: dict[str, Any] = dict(item.context or {})
    platform = merchant.platform
    creds = partners.credentials(deps, merchant.merchant_id, platform)
    if item.kind == "refund":
        return _refund(deps, creds, item, context, now)
    if item.kind not in KINDS:
        raise ProviderError(f"unknown marketplace request '{item.kind}'", retryable=False)
    if platform != "shopify":
        raise ProviderError(f"{platform} has no return requests to decide", retryable=False)
    client = partners.shopify_client(deps, creds, now)
    return_id = str(context["return_id"])
    if item.kind == "approve_return":
        client.approve_return(return_id)
    else:
        reason = str(context.get("decline_reason") or "OTHER")
        client.decline_return(return_id, reason, str(context.get("note") or ""))
    return return_id


def _refund(
    deps: Deps, creds: CredentialsItem, item: OutboxItem, context: dict[str, Any], now: datetime
) -> str:
    store, mid = deps.store, item.merchant_id
    guard = store.get(RefundGuardItem, keys.refund_guard(mid, item.outbox_id))
    if guard is not None and guard.refund_id:
        return guard.refund_id  # refunded before; only the record of it was lost
    order_id, lines = str(context["order_id"]), list(context.get("lines") or [])
    restock, note = bool(context.get("restock", False)), str(context.get("note") or "")
    if creds.platform == "shopify":
        client: Any = partners.shopify_client(deps, creds, now)
    elif creds.platform == "woocommerce":
        client = partners.woocommerce_client(deps, creds)
    else:
        raise ProviderError(f"refunds through {creds.platform} are not supported", retryable=False)
    earlier = None
    if guard is None:
        guard = new_refund_guard(mid, item.outbox_id, creds.platform, now)
        uow = store.unit_of_work()
        uow.insert("refund_guard", guard)
        try:
            uow.commit()
        except StaleVersion:  # another attempt wrote it meanwhile: look before refunding
            earlier = client.find_refund(order_id, item.outbox_id)
    else:  # an earlier attempt started: it may have refunded without our hearing back
        earlier = client.find_refund(order_id, item.outbox_id)
    if earlier is not None:
        refund_id = earlier
    elif creds.platform == "shopify":
        refund_id = client.create_refund(
            order_id,
            lines,
            restock=restock,
            idempotency_key=item.outbox_id,
            note=note,
            location_id=context.get("location_id"),
        )
    else:
        refund_id = client.create_refund(
            order_id,
            str(context["amount"]),
            marker=item.outbox_id,
            reason=note,
            lines=lines,
            restock=restock,
        )
    refund_id = plain_id(refund_id, "refund id")
    guard.status, guard.refund_id, guard.updated_at = "done", refund_id, now
    uow = store.unit_of_work()
    uow.save("refund_guard", guard)
    pointer = new_refund_pointer(
        mid, refund_id, item.outbox_id, now, order_id=order_id, case_id=item.case_id
    )
    uow.save("refund_pointer", pointer)
    uow.commit()
    return refund_id


def _finish(deps: Deps, item: OutboxItem, now: datetime, status: str, reason: str | None) -> str:
    """Record a final state with its timeline entry and counter, in one transaction."""
    item.status, item.lease_until, item.last_error = status, None, reason
    clear_outbox_due(item)
    uow = deps.store.unit_of_work()
    uow.save("outbox", item)
    label = _LABELS.get(item.kind, "Refund")
    if item.timeline_pk:
        summary = (
            f"{label} sent to the marketplace (reference {item.provider_message_id})"
            if status == "sent"
            else f"{label} {status}: {reason}"
        )
        entry = new_timeline_entry(
            item.merchant_id,
            item.timeline_pk,
            cause=item.outbox_id,
            at=now,
            now=now,
            kind=f"marketplace_{status}",
            source="aftercare",
            summary=summary[:500],
            customer_id=item.customer_id,
            case_id=item.case_id,
            order_id=item.order_id,
            data={"outbox_id": item.outbox_id, "request": item.kind},
        )
        uow.insert("timeline", entry)
    uow.count(item.merchant_id, now, f"marketplace_{item.kind}_{status}")
    uow.commit()
    log.info("marketplace request finished", extra={"result": status, "reason": reason})
    if item.kind == "refund" and item.case_id:  # the case learns the refund's fate
        from chalicelib.handlers.refund_completion import settle_outbox_result

        settle_outbox_result(deps.store, item, status, reason, now)
    return status
