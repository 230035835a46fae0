"""The outbox sender: takes due notifications, checks, renders, sends, records; never twice.

Each item is claimed with a version-conditioned write (a concurrent sender loses the claim),
then checked (merchant active, valid number, not opted out, inside the recipient's sending
window, inside the merchant's rate limit: otherwise deferred, not dropped), rendered in the
customer's language, sent through the merchant's provider, and recorded in one transaction
with its timeline entry, counters, the provider-message-id pointer (delivery receipts follow
it) and the phone pointer's "last texted by" (inbound replies follow it). Retryable provider
errors back off; after `MAX_ATTEMPTS` or a permanent error the item is parked as `failed`,
visible through the API. A provider saying the recipient opted out (Twilio 21610) also marks
the customer opted out. The window between a successful send and its record is the only
place a crash can cause a resend; the claim's lease bounds it.

Exceptions to the checks: `opt_out_confirmed` goes to a customer who just opted out (it is
the confirmation), and the replies to a customer's own keyword (`REPLY_KINDS`) ignore quiet
hours: the customer wrote to us a moment ago.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.errors import MalformedPayload, ProviderError, StaleVersion
from chalicelib.log import bind_context, get_logger
from chalicelib.notify.phone import mask
from chalicelib.notify.providers import RecipientOptedOut
from chalicelib.notify.quiet_hours import SendingWindow, next_send_time, recipient_zone
from chalicelib.notify.rate_limit import sms_limit, take_sms_slot
from chalicelib.store import keys
from chalicelib.store.models import CustomerItem, MerchantItem, OutboxItem, TimelineItem
from chalicelib.store.records import (
    clear_outbox_due,
    message_pointer,
    new_timeline_entry,
    phone_sent_update,
    set_outbox_due,
)
from chalicelib.store.repository import ItemRef
from chalicelib.transient import is_transient

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.unit_of_work import UnitOfWork

__all__ = [
    "deliver_due",
    "deliver_one",
    "channel_sender",
    "CHANNEL_SENDERS",
    "MAX_ATTEMPTS",
    "LEASE",
    "backoff",
    "OPT_OUT_EXEMPT_KINDS",
    "REPLY_KINDS",
]

log = get_logger(__name__)
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
RECORD_ATTEMPTS = 4  # a sent item's record is retried this often on throttling or conflicts
RECORD_PAUSE = 0.05  # seconds, times the attempt number
POINTER_TTL = timedelta(days=30)  # delivery receipts arrive within hours; 30 days is ample
OPT_OUT_EXEMPT_KINDS = frozenset({"opt_out_confirmed"})
REPLY_KINDS = frozenset({"opt_out_confirmed", "opt_in_confirmed", "help"})


def backoff(attempts: int) -> timedelta:
    """Delay before retry number `attempts` (1, 2, 4, 8 ... minutes, capped at an hour)."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class _Checked:
    customer: CustomerItem | None
    merchant: MerchantItem | None


def deliver_due(deps: Deps, now: datetime, limit: int = 50) -> dict[str, int]:
    """Deliver every outbox item due at `now` (up to `limit`); returns counts by result.

    One item's unexpected failure is logged and counted as "error"; the others still go.
    """
    results: dict[str, int] = {}
    due = deps.store.due_outbox(now, limit)
    oldest = min((item.next_attempt_at for item in due if item.next_attempt_at), default=now)
    deps.metrics.outbox_backlog((now - oldest).total_seconds(), len(due))
    for item in due:
        try:
            result = channel_sender(item.channel)(deps, item, now)
        except Exception:
            log.exception("outbox item failed unexpectedly", extra={"outbox_id": item.outbox_id})
            result = "error"
        results[result] = results.get(result, 0) + 1
    return results


# Outbox channel -> the function delivering its items ("module:function", imported on first
# use). Unknown channels fall back to `deliver_one`, which leaves them untouched.
CHANNEL_SENDERS = {
    "marketplace": "chalicelib.notify.marketplace_sender:deliver",
    "email": "chalicelib.notify.ops_email:deliver",  # staff e-mails (SLA escalations)
    "label": "chalicelib.notify.label_sender:deliver",  # prepaid return labels (issue 11)
}


def channel_sender(channel: str) -> Callable[[Deps, OutboxItem, datetime], str]:
    """The deliver function of an outbox `channel` (SMS: `deliver_one`)."""
    import importlib

    module, _, name = CHANNEL_SENDERS.get(channel, "").partition(":")
    return getattr(importlib.import_module(module), name) if module else deliver_one


def _claim(deps: Deps, item: OutboxItem, now: datetime) -> bool:
    if item.status == "sending" and item.lease_until and item.lease_until > now:
        return False
    if item.status not in ("pending", "sending"):
        return False
    item.status, item.lease_until = "sending", now + LEASE
    uow = deps.store.unit_of_work()
    uow.save("outbox", item)
    try:
        uow.commit()
    except StaleVersion:
        return False
    return True


def deliver_one(deps: Deps, item: OutboxItem, now: datetime) -> str:
    """Claim, check and send one item.

    Returns sent|deferred|rate_limited|skipped|retry|failed|busy, or other_channel for an
    item another sender owns (e.g. channel "marketplace"), which is left untouched.
    """
    if item.channel != "sms":
        return "other_channel"
    with bind_context(merchant_id=item.merchant_id, outbox_id=item.outbox_id):
        if not _claim(deps, item, now):
            return "busy"
        found = deps.store.get_many(
            {
                "merchant": ItemRef(MerchantItem, keys.merchant(item.merchant_id)),
                "customer": ItemRef(
                    CustomerItem, keys.customer(item.merchant_id, item.customer_id or "-")
                ),
            }
        )
        return _deliver_checked(deps, item, _Checked(found["customer"], found["merchant"]), now)


def _defer(deps: Deps, item: OutboxItem, until: datetime, error: str | None) -> None:
    item.status, item.lease_until, item.last_error = "pending", None, error
    set_outbox_due(item, until)
    uow = deps.store.unit_of_work()
    uow.save("outbox", item)
    uow.commit()


def _deliver_checked(deps: Deps, item: OutboxItem, checked: _Checked, now: datetime) -> str:
    merchant, customer = checked.merchant, checked.customer
    if merchant is None or merchant.status != "active":
        return _finish(deps, item, now, "skipped", "merchant is not active")
    if customer is None or not customer.phone:
        return _finish(deps, item, now, "skipped", "no valid phone number for this customer")
    if customer.sms_opt_out and item.kind not in OPT_OUT_EXEMPT_KINDS:
        return _finish(deps, item, now, "skipped", "customer opted out of SMS")

    settings = merchant.settings or {}
    zone = recipient_zone(customer.country, customer.province, customer.phone, merchant.timezone)
    if item.kind not in REPLY_KINDS:
        try:
            window = SendingWindow.from_dict(settings.get("quiet_hours") or {})
        except MalformedPayload as exc:
            reason = f"merchant quiet-hours setting: {exc.detail}"
            return _finish(deps, item, now, "failed", reason)
        send_at = next_send_time(now, zone, window)
        if send_at > now:
            _defer(deps, item, send_at, None)
            log.info("deferred to the recipient's window", extra={"until": send_at.isoformat()})
            return "deferred"

    from chalicelib.notify.templates import render_sms

    try:
        rendered = render_sms(
            item.kind,
            customer.locale or merchant.locale,
            {**(item.context or {}), "zone": zone, **_status_url(deps, item)},
            brand=merchant.name,
            overrides=(settings.get("sms_templates") or {}).get(item.kind),
            default_locale=merchant.locale,
            to=customer.phone,
        )
    except MalformedPayload as exc:  # a merchant's template that cannot render: park, visibly
        return _finish(deps, item, now, "failed", exc.detail)
    try:
        provider = deps.sms(settings.get("sms_provider", "sns"))
    except ValueError as exc:  # unknown or unconfigured provider: park, visibly
        return _finish(deps, item, now, "failed", str(exc))
    next_window = take_sms_slot(
        deps.store, merchant.merchant_id, sms_limit(settings, deps.settings), now
    )
    if next_window is not None:
        _defer(deps, item, next_window, None)
        log.info("merchant SMS rate limit reached", extra={"until": next_window.isoformat()})
        return "rate_limited"

    item.attempts = (item.attempts or 0) + 1
    try:
        message_id = provider.send(customer.phone, rendered.text, reference=item.outbox_id)
    except RecipientOptedOut as exc:
        return _finish(deps, item, now, "failed", exc.detail, opted_out=customer)
    except ProviderError as exc:
        if exc.retryable and item.attempts < MAX_ATTEMPTS:
            _defer(deps, item, now + backoff(item.attempts), exc.detail)
            return "retry"
        return _finish(deps, item, now, "failed", exc.detail)

    item.provider, item.provider_message_id = provider.name, message_id
    item.text, item.locale = rendered.text, rendered.locale_used
    item.encoding, item.segments = rendered.cost.encoding, rendered.cost.segments
    item.to_masked, item.sent_at = mask(customer.phone), now
    _write_local_log(deps, item)
    return _finish(deps, item, now, "sent", None, phone=customer.phone)


def _finish(
    deps: Deps,
    item: OutboxItem,
    now: datetime,
    status: str,
    reason: str | None,
    *,
    phone: str | None = None,
    opted_out: CustomerItem | None = None,
) -> str:
    """Record a final state with its timeline entry, counters and pointers, in one transaction.

    `phone` (on "sent") updates the number's pointer; `opted_out` is a customer the provider
    reported as opted out, recorded as such (re-read and retried once if changed meanwhile).
    """
    item.status, item.lease_until, item.last_error = status, None, reason
    clear_outbox_due(item)
    customer = opted_out
    for attempt in (1, 2):
        uow = deps.store.unit_of_work()
        uow.save("outbox", item)
        if item.timeline_pk:
            uow.insert("timeline", _timeline_entry(item, now, status, reason))
        uow.count(item.merchant_id, now, f"sms_{status}")
        if status == "sent":
            uow.count(item.merchant_id, now, "sms_segments", item.segments or 0)
            if item.provider and item.provider_message_id:
                pointer = message_pointer(
                    item.provider,
                    item.provider_message_id,
                    item.merchant_id,
                    item.outbox_id,
                    now + POINTER_TTL,
                )
                uow.save("message_pointer", pointer)
            if phone and item.customer_id:
                uow.update(
                    "phone", *phone_sent_update(phone, item.merchant_id, item.customer_id, now)
                )
        if customer is not None and not customer.sms_opt_out:
            customer.sms_opt_out, customer.updated_at = True, now
            uow.save("customer", customer)
            uow.count(item.merchant_id, now, "sms_opt_outs")
        try:
            _commit_record(uow)
            break
        except StaleVersion:
            if customer is None or attempt == 2:
                raise
            customer = deps.store.get(CustomerItem, customer.pk)
    log.info("outbox item finished", extra={"result": status, "reason": reason})
    deps.metrics.sms(item.provider or "none", status, item.segments or 0, item.merchant_id)
    return status


def _status_url(deps: Deps, item: OutboxItem) -> dict[str, str]:
    """`status_url` for the template: the order's status page (issue 11), when the message
    is about an order. Never blocks a message: without it the SMS simply has no link."""
    if not item.order_id or (item.context or {}).get("status_url"):
        return {}
    from chalicelib.pages.status import status_link

    try:
        path = status_link(deps, item.merchant_id, item.order_id)
    except Exception:  # a pages key that cannot be read now, a throttled PutItem
        log.warning("no status link for this message", exc_info=True)
        return {}
    return {"status_url": deps.settings.public_url.rstrip("/") + path}


def _commit_record(uow: UnitOfWork) -> None:
    """Commit an item's final record, retrying a throttled or conflicting transaction: once
    the provider took the SMS, a record lost to a transient error would mean a resend after
    the lease (issue 9). Nothing was written by a failed attempt, so the same writes retry."""
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            uow.commit()
            return
        except Exception as exc:
            if attempt == RECORD_ATTEMPTS or not is_transient(exc):
                raise
            log.warning("recording the outcome failed; retrying", extra={"attempt": attempt})
            time.sleep(RECORD_PAUSE * attempt)


def _timeline_entry(
    item: OutboxItem, now: datetime, status: str, reason: str | None
) -> TimelineItem:
    summary = (
        f"SMS sent ({item.kind}, {item.segments} segment(s), {item.encoding})"
        if status == "sent"
        else f"SMS {status} ({item.kind}): {reason}"
    )
    return new_timeline_entry(
        item.merchant_id,
        item.timeline_pk or "",
        cause=item.outbox_id,
        at=now,
        now=now,
        kind=f"sms_{status}",
        source="aftercare",
        summary=summary,
        customer_id=item.customer_id,
        case_id=item.case_id,
        order_id=item.order_id,
        data={"outbox_id": item.outbox_id, "message_kind": item.kind, "text": item.text or ""},
    )


def _write_local_log(deps: Deps, item: OutboxItem) -> None:
    """Locally, append each sent message to a JSON-lines file a person can read."""
    path = deps.settings.sms_log_path
    if not path:
        return
    record = {
        "at": keys.iso(item.sent_at) if item.sent_at else None,
        "channel": "sms",
        "merchant_id": item.merchant_id,
        "outbox_id": item.outbox_id,
        "provider": item.provider,
        "to": item.to_masked,
        "kind": item.kind,
        "locale": item.locale,
        "segments": item.segments,
        "encoding": item.encoding,
        "text": item.text,
    }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
