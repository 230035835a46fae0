"""The outbox sender: takes due notifications, checks, renders, sends, records; never twice.

Each item is claimed with a version-conditioned write (a concurrent sender loses the claim),
then checked (merchant active, valid number, not opted out, inside the recipient's sending
window: otherwise deferred, not dropped), rendered in the customer's language, sent, and
recorded with its timeline entry and counters in one transaction. Retryable provider errors
back off; after `MAX_ATTEMPTS` or a permanent error the item is parked as `failed`, visible
through the API. The window between a successful send and its record is the only place a
crash can cause a resend; the claim's lease bounds it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.errors import MalformedPayload, ProviderError, StaleVersion
from chalicelib.log import bind_context, get_logger
from chalicelib.notify.phone import mask
from chalicelib.notify.quiet_hours import SendingWindow, next_send_time, recipient_zone
from chalicelib.store import keys
from chalicelib.store.models import CustomerItem, MerchantItem, OutboxItem
from chalicelib.store.records import clear_outbox_due, new_timeline_entry, set_outbox_due
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.deps import Deps

__all__ = ["deliver_due", "deliver_one", "MAX_ATTEMPTS", "LEASE", "backoff"]

log = get_logger(__name__)
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """Delay before retry number `attempts` (1, 2, 4, 8 ... minutes, capped at an hour)."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class _Checked:
    customer: CustomerItem | None
    merchant: MerchantItem | None


def deliver_due(deps: Deps, now: datetime, limit: int = 50) -> dict[str, int]:
    """Deliver every outbox item due at `now` (up to `limit`); returns counts by result."""
    results: dict[str, int] = {}
    for item in deps.store.due_outbox(now, limit):
        result = deliver_one(deps, item, now)
        results[result] = results.get(result, 0) + 1
    return results


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
    """Claim, check and send one item; returns sent|deferred|skipped|retry|failed|busy."""
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


def _deliver_checked(deps: Deps, item: OutboxItem, checked: _Checked, now: datetime) -> str:
    merchant, customer = checked.merchant, checked.customer
    if merchant is None or merchant.status != "active":
        return _finish(deps, item, now, "skipped", "merchant is not active")
    if customer is None or not customer.phone:
        return _finish(deps, item, now, "skipped", "no valid phone number for this customer")
    if customer.sms_opt_out:
        return _finish(deps, item, now, "skipped", "customer opted out of SMS")

    settings = merchant.settings or {}
    zone = recipient_zone(customer.country, customer.province, customer.phone, merchant.timezone)
    try:
        window = SendingWindow.from_dict(settings.get("quiet_hours") or {})
    except MalformedPayload as exc:
        return _finish(deps, item, now, "failed", f"merchant quiet-hours setting: {exc.detail}")
    send_at = next_send_time(now, zone, window)
    if send_at > now:
        item.status, item.lease_until, item.last_error = "pending", None, None
        set_outbox_due(item, send_at)
        _commit(deps, item)
        log.info("deferred to the recipient's sending window", extra={"until": send_at.isoformat()})
        return "deferred"

    from chalicelib.notify.templates import render_sms

    try:
        rendered = render_sms(
            item.kind,
            customer.locale or merchant.locale,
            {**(item.context or {}), "zone": zone},
            brand=merchant.name,
            overrides=(settings.get("sms_templates") or {}).get(item.kind),
            default_locale=merchant.locale,
            to=customer.phone,
        )
    except MalformedPayload as exc:  # a merchant's template that cannot render: park, visibly
        return _finish(deps, item, now, "failed", exc.detail)
    provider = deps.sms(settings.get("sms_provider", "sns"))
    item.attempts = (item.attempts or 0) + 1
    try:
        message_id = provider.send(customer.phone, rendered.text, reference=item.outbox_id)
    except ProviderError as exc:
        if exc.retryable and item.attempts < MAX_ATTEMPTS:
            item.status, item.lease_until, item.last_error = "pending", None, exc.detail
            set_outbox_due(item, now + backoff(item.attempts))
            _commit(deps, item)
            return "retry"
        return _finish(deps, item, now, "failed", exc.detail)

    item.provider, item.provider_message_id = provider.name, message_id
    item.text, item.locale = rendered.text, rendered.locale_used
    item.encoding, item.segments = rendered.cost.encoding, rendered.cost.segments
    item.to_masked, item.sent_at = mask(customer.phone), now
    _write_local_log(deps, item)
    return _finish(deps, item, now, "sent", None)


def _finish(deps: Deps, item: OutboxItem, now: datetime, status: str, reason: str | None) -> str:
    """Record a final state with its timeline entry and counters, in one transaction."""
    item.status, item.lease_until, item.last_error = status, None, reason
    clear_outbox_due(item)
    uow = deps.store.unit_of_work()
    uow.save("outbox", item)
    if item.timeline_pk:
        summary = (
            f"SMS sent ({item.kind}, {item.segments} segment(s), {item.encoding})"
            if status == "sent"
            else f"SMS {status} ({item.kind}): {reason}"
        )
        uow.insert(
            "timeline",
            new_timeline_entry(
                item.merchant_id,
                item.timeline_pk,
                cause=item.outbox_id,
                at=now,
                now=now,
                kind=f"sms_{status}",
                source="aftercare",
                summary=summary,
                customer_id=item.customer_id,
                case_id=item.case_id,
                order_id=item.order_id,
                data={"outbox_id": item.outbox_id, "text": item.text or ""},
            ),
        )
    uow.count(item.merchant_id, now, f"sms_{status}")
    if status == "sent":
        uow.count(item.merchant_id, now, "sms_segments", item.segments or 0)
    uow.commit()
    log.info("outbox item finished", extra={"result": status, "reason": reason})
    return status


def _commit(deps: Deps, item: OutboxItem) -> None:
    uow = deps.store.unit_of_work()
    uow.save("outbox", item)
    uow.commit()


def _write_local_log(deps: Deps, item: OutboxItem) -> None:
    """Locally, append each sent message to a JSON-lines file a person can read."""
    path = deps.settings.sms_log_path
    if not path:
        return
    record = {
        "at": keys.iso(item.sent_at) if item.sent_at else None,
        "merchant_id": item.merchant_id,
        "to": item.to_masked,
        "kind": item.kind,
        "locale": item.locale,
        "segments": item.segments,
        "encoding": item.encoding,
        "text": item.text,
    }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
