"""Outbox channel "email" for staff notices (kind `sla_escalation`): send through SES once.

The SLA job (`sla_job.py`) writes each escalation e-mail as an outbox item (channel
"email") in the same transaction that records the escalation, on the OUTBOX due index at
the notice time (the next business opening when the step happened outside hours). The
outbox sweep (`sender.deliver_due`) and the stream consumer hand it here through
`sender.CHANNEL_SENDERS`. Claim, lease and backoff are the SMS sender's. Context:
`to` (addresses), `subject`, `text`. Weekly digest e-mails (also channel "email") live on
the DIGEST due index and are sent by `digest.job`; this sender leaves other kinds alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.errors import ProviderError, StaleVersion
from chalicelib.log import bind_context, get_logger
from chalicelib.notify.email import Email, send_email
from chalicelib.notify.sender import MAX_ATTEMPTS, _claim, _defer, backoff
from chalicelib.store.records import clear_outbox_due

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.models import OutboxItem

__all__ = ["deliver", "CHANNEL", "KINDS"]

log = get_logger(__name__)
CHANNEL = "email"
KINDS = frozenset({"sla_escalation"})


def deliver(deps: Deps, item: OutboxItem, now: datetime) -> str:
    """Claim and send one staff e-mail: sent|retry|failed|skipped|busy|other_channel."""
    if item.channel != CHANNEL or item.kind not in KINDS:
        return "other_channel"
    with bind_context(merchant_id=item.merchant_id, outbox_id=item.outbox_id, kind=item.kind):
        if not _claim(deps, item, now):
            return "busy"
        merchant = deps.store.merchant(item.merchant_id)
        if merchant is None or merchant.status != "active":
            return _finish(deps, item, now, "skipped", "merchant is not active")
        context = dict(item.context or {})
        to = tuple(str(address) for address in context.get("to") or ())
        if not to:
            return _finish(deps, item, now, "skipped", "no recipient address")
        item.attempts = (item.attempts or 0) + 1
        email = Email(to, str(context.get("subject") or ""), str(context.get("text") or ""))
        try:
            item.provider_message_id = send_email(deps.settings, email, merchant)
        except ProviderError as exc:
            if exc.retryable and item.attempts < MAX_ATTEMPTS:
                _defer(deps, item, now + backoff(item.attempts), exc.detail)
                return "retry"
            return _finish(deps, item, now, "failed", exc.detail)
        item.provider, item.sent_at = "ses", now
        return _finish(deps, item, now, "sent", None)


def _finish(deps: Deps, item: OutboxItem, now: datetime, status: str, reason: str | None) -> str:
    item.status, item.lease_until, item.last_error = status, None, reason
    clear_outbox_due(item)
    uow = deps.store.unit_of_work()
    uow.save("outbox", item)
    uow.count(item.merchant_id, now, f"email_{status}")
    try:
        uow.commit()
    except StaleVersion:  # the lease ran out and another sender took over: it records
        log.warning("ops e-mail record lost to a concurrent sender")
    log.info("ops e-mail finished", extra={"result": status, "reason": reason})
    return status
