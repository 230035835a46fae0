"""The weekly-digest job: claim merchants whose digest is due, then build and e-mail each one.

`run_weekly_digests` is what the schedule in `app.py` calls. One run:
1. reads the digest work due now from the sparse due index (`Store.due_digest_work`), so an
   idle run costs four empty keys-only Queries, whatever the number of merchants or cases;
2. claims each due schedule (`schedule.claim`: the week's e-mail item and the schedule's
   advance in one transaction; never twice for a week);
3. delivers each pending digest e-mail until the time budget is spent (the rest waits on the
   index for the next run). Delivery is the outbox's: a lease claim (version-conditioned),
   then a constant read (merchant + two weekly counter items), render, send through SES,
   record. A retryable failure backs off and retries on a later run; after `MAX_ATTEMPTS`,
   or a permanent failure, the item is parked as `failed`, visible in GET /api/notifications.
   A crash between the send and its record can resend once after the lease, as for SMS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from chalicelib.digest.schedule import KIND, claim, clear_due, set_due
from chalicelib.digest.weeks import shift_week
from chalicelib.errors import ProviderError, StaleVersion
from chalicelib.log import bind_context, get_logger
from chalicelib.notify.phone import mask
from chalicelib.store.models import DigestScheduleItem, MerchantItem, OutboxItem

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.deps import Deps
    from chalicelib.digest.render import Rendered
    from chalicelib.notify.email import Email
    from chalicelib.store.repository import Store

__all__ = [
    "run_weekly_digests",
    "deliver_digest",
    "build_digest",
    "digest_email",
    "recipients",
    "time_budget",
    "MAX_ATTEMPTS",
    "LEASE",
    "BATCH",
]

log = get_logger(__name__)
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=10)
BATCH = 200  # due items read per run; the rest wait for the next run
SendEmail = Callable[["Settings", "Email", MerchantItem], str]


def backoff(attempts: int) -> timedelta:
    """Delay before retry number `attempts`: 15, 30, 60, 120 minutes (a run every 15 min)."""
    return timedelta(minutes=15 * 2 ** max(0, attempts - 1))


def time_budget(context: Any, default: float = 20.0, reserve: float = 10.0) -> float:
    """Seconds a run may spend starting deliveries: the Lambda's remaining time less a
    reserve for the last one (`reserve`, at most a third of it), or `default` without a
    Lambda context."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return default
    seconds = remaining() / 1000
    return max(0.0, seconds - min(reserve, seconds / 3))


def recipients(merchant: MerchantItem) -> tuple[str, ...]:
    """Who gets the digest: `settings["digest_recipients"]` (a list), else the merchant's
    `support_email`; nobody when digests are off (`settings["digest_enabled"]` false)."""
    settings = merchant.settings or {}
    if settings.get("digest_enabled") is False:
        return ()
    chosen = settings.get("digest_recipients") or settings.get("support_email") or ()
    listed = [chosen] if isinstance(chosen, str) else list(chosen)
    return tuple(str(a).strip() for a in listed if isinstance(a, str) and "@" in a)


def _targets(merchant: MerchantItem) -> dict[str, Decimal]:
    """The merchant's own KPI targets (`settings["digest_targets"]`), invalid ones ignored."""
    own = (merchant.settings or {}).get("digest_targets") or {}
    targets = {}
    for key, value in own.items() if isinstance(own, dict) else ():
        try:
            targets[str(key)] = Decimal(str(value))
        except InvalidOperation:
            log.info("ignoring a digest target that is not a number", extra={"target": key})
    return targets


def build_digest(store: Store, merchant: MerchantItem, week: str) -> Rendered:
    """The rendered digest of `merchant` for `week`: one BatchGetItem of two counter items.

    Raises ImportError when Pillow or Jinja2 is missing.
    """
    from chalicelib.digest.charts import draw_charts
    from chalicelib.digest.metrics import compute
    from chalicelib.digest.render import TITLES, label, render

    previous = shift_week(week, -1)
    counters = store.weekly_counters(merchant.merchant_id, [week, previous])
    digest = compute(week, previous, counters[week], counters[previous], _targets(merchant))
    return render(digest, merchant.name, draw_charts(digest, label, TITLES))


def digest_email(rendered: Rendered, to: tuple[str, ...]) -> Email:
    """The e-mail of `rendered`: HTML with inline chart images, text, and the CSV."""
    from chalicelib.notify.email import Attachment, Email

    ids = rendered.image_ids()
    images = tuple(
        Attachment(f"{chart.name}.png", chart.png, "image/png", content_id=ids[chart.name])
        for chart in rendered.charts
    )
    table = Attachment(rendered.csv_name, rendered.csv, "text/csv")
    return Email(to, rendered.subject, rendered.text, rendered.html, (*images, table))


def run_weekly_digests(
    deps: Deps, now: datetime, *, budget_seconds: float = 20.0, send: SendEmail | None = None
) -> dict[str, int]:
    """Claim due digests and deliver pending ones within `budget_seconds`; counts by result."""
    started = time.monotonic()
    store, results = deps.store, {}
    work = store.due_digest_work(now, BATCH)
    schedules = [item for item in work if isinstance(item, DigestScheduleItem)]
    pending = [item for item in work if isinstance(item, OutboxItem)]
    if schedules:
        refs = {s.merchant_id: _merchant_ref(s.merchant_id) for s in schedules}
        merchants = dict(zip(refs, store.get_many_chunked(refs), strict=True))
        for schedule in schedules:
            item = claim(store, schedule, merchants[schedule.merchant_id], now)
            _tally(results, "claimed" if item else "not_claimed")
            if item is not None:
                pending.append(item)
    for item in pending:
        if time.monotonic() - started > budget_seconds:
            _tally(results, "left_for_next_run")
            continue
        try:
            result = deliver_digest(deps, item, now, send=send)
        except Exception:  # one digest's bug must not stop the others
            log.exception("digest delivery failed", extra={"outbox_id": item.outbox_id})
            result = "error"
        _tally(results, result)
    return results


def _merchant_ref(merchant_id: str) -> Any:
    from chalicelib.store import keys
    from chalicelib.store.repository import ItemRef

    return ItemRef(MerchantItem, keys.merchant(merchant_id))


def _tally(results: dict[str, int], result: str) -> None:
    results[result] = results.get(result, 0) + 1


def _lease(store: Store, item: OutboxItem, now: datetime) -> bool:
    if item.status == "sending" and item.lease_until and item.lease_until > now:
        return False
    if item.status not in ("pending", "sending"):
        return False
    item.status, item.lease_until = "sending", now + LEASE
    set_due(item, now + LEASE)  # a crash mid-send: picked up again when the lease ends
    return _save(store, item)


def _save(store: Store, item: OutboxItem) -> bool:
    uow = store.unit_of_work()
    uow.save("outbox", item)
    try:
        uow.commit()
    except StaleVersion:
        return False
    return True


def deliver_digest(
    deps: Deps, item: OutboxItem, now: datetime, *, send: SendEmail | None = None
) -> str:
    """Build and send one digest e-mail; returns sent|retry|failed|skipped|busy."""
    with bind_context(merchant_id=item.merchant_id, outbox_id=item.outbox_id):
        if item.channel != "email" or item.kind != KIND or not _lease(deps.store, item, now):
            return "busy"
        merchant = deps.store.merchant(item.merchant_id)
        if merchant is None or merchant.status != "active":
            return _finish(deps.store, item, now, "skipped", "merchant is not active")
        to = recipients(merchant)
        if not to:
            off = (merchant.settings or {}).get("digest_enabled") is False
            why = "digests are turned off" if off else "no digest_recipients configured"
            return _finish(deps.store, item, now, "skipped", why)
        week = (item.context or {}).get("week")
        if not isinstance(week, str):
            return _finish(deps.store, item, now, "failed", "the item names no week")
        item.attempts = (item.attempts or 0) + 1
        try:
            email = digest_email(build_digest(deps.store, merchant, week), to)
            message_id = (send or _ses_send)(deps.settings, email, merchant)
        except ProviderError as exc:
            return _retry_or_fail(deps.store, item, now, exc.detail, exc.retryable)
        except Exception as exc:  # a rendering bug: retried, then parked, never lost silently
            log.exception("digest could not be built")
            return _retry_or_fail(deps.store, item, now, f"{type(exc).__name__}: {exc}", True)
        item.provider, item.provider_message_id = "ses", message_id
        item.text, item.locale, item.sent_at = email.subject, "en", now
        item.to_masked = ", ".join(mask(address) for address in to)
        return _finish(deps.store, item, now, "sent", None)


def _ses_send(settings: Settings, email: Email, merchant: MerchantItem) -> str:
    from chalicelib.notify.email import send_email

    return send_email(settings, email, merchant)


def _retry_or_fail(
    store: Store, item: OutboxItem, now: datetime, reason: str, retryable: bool
) -> str:
    if retryable and item.attempts < MAX_ATTEMPTS:
        item.status, item.lease_until, item.last_error = "pending", None, reason
        set_due(item, now + backoff(item.attempts))
        _save(store, item)
        log.info("digest send will be retried", extra={"attempts": item.attempts})
        return "retry"
    return _finish(store, item, now, "failed", reason)


def _finish(store: Store, item: OutboxItem, now: datetime, status: str, reason: str | None) -> str:
    item.status, item.lease_until, item.last_error = status, None, reason
    clear_due(item)
    if not _save(store, item):
        log.info("digest record lost a race; the item's lease was taken over")
    log.info("digest finished", extra={"result": status, "reason": reason})
    return status
