"""Digest schedule: enrol a merchant, and claim a due week exactly once.

Each merchant has one `DigestScheduleItem` (`DIGEST#{mid}`) on the sparse due index (kind
DIGEST) at the UTC time its next digest is due (`weeks.due_at`: local Monday 08:00). It is
written with the merchant (`handlers.merchants.create_merchant`). Claiming a due week is ONE
transaction that
- inserts the week's e-mail as an outbox item (channel "email", kind "weekly_digest") whose
  id derives from merchant + week: a second claim of the same week cannot insert it again;
- advances the schedule to the following week (version-conditioned: of two concurrent
  claims exactly one commits).
The e-mail item waits on the DIGEST due index too (not the SMS sender's OUTBOX one), so a
Monday-morning wave of digests never holds up customer SMS; `job` sends it with retries.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.digest.weeks import due_at, first_week, latest_due_week, shift_week, zone
from chalicelib.errors import StaleVersion
from chalicelib.log import get_logger
from chalicelib.store import keys
from chalicelib.store.models import DigestScheduleItem, OutboxItem
from chalicelib.store.records import new_outbox

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store
    from chalicelib.store.unit_of_work import UnitOfWork

__all__ = ["KIND", "new_schedule", "enroll", "claim", "set_due", "clear_due"]

KIND = "weekly_digest"
log = get_logger(__name__)


def set_due(item: DigestScheduleItem | OutboxItem, when: datetime) -> None:
    """Put a schedule or a digest e-mail on the DIGEST due index at `when`."""
    item.due_pk = keys.due_partition(keys.DIGEST_DUE, item.pk)
    item.due_sk = keys.due_sort(when, item.pk)
    if isinstance(item, OutboxItem):
        item.next_attempt_at = when
    else:
        item.due_at = when


def clear_due(item: DigestScheduleItem | OutboxItem) -> None:
    """Take the item off the due index (nothing more to do)."""
    item.due_pk = None
    item.due_sk = None


def new_schedule(merchant_id: str, timezone: str | None, now: datetime) -> DigestScheduleItem:
    """The schedule of a new merchant: first digest for the week running at `now`."""
    week = first_week(now)
    item = DigestScheduleItem(
        pk=keys.digest_schedule(merchant_id),
        sk=keys.META,
        merchant_id=merchant_id,
        week=week,
        due_at=now,
        updated_at=now,
    )
    set_due(item, due_at(week, zone(timezone)))
    return item


def enroll(store: Store, merchant: MerchantItem, now: datetime) -> DigestScheduleItem:
    """(Re)start digests for an existing merchant (a reinstall, or one created before
    digests existed): the next due week from `now` on, keeping the last week sent so no
    week goes out twice. Raises StaleVersion if the schedule changed meanwhile."""
    current = store.get(DigestScheduleItem, keys.digest_schedule(merchant.merchant_id))
    fresh = new_schedule(merchant.merchant_id, merchant.timezone, now)
    if current is None:
        item = fresh
    else:
        item = current
        week = fresh.week
        if current.last_week is not None and week <= current.last_week:
            week = shift_week(current.last_week, 1)
        item.week, item.updated_at = week, now
        set_due(item, due_at(week, zone(merchant.timezone)))
    uow = store.unit_of_work()
    if current is None:
        uow.insert("digest_schedule", item)
    else:
        uow.save("digest_schedule", item)
    uow.commit()
    return item


def claim(
    store: Store, schedule: DigestScheduleItem, merchant: MerchantItem | None, now: datetime
) -> OutboxItem | None:
    """Claim the digest due for `schedule` at `now`, as the module docstring describes.

    Returns the week's e-mail item, or None when nothing was claimed: not due yet, another
    run claimed it first, or the merchant is gone or inactive (its schedule then leaves the
    due index until `enroll` re-arms it). Weeks missed while the job was down are skipped:
    one digest, of the newest due week.
    """
    if schedule.due_at > now:
        return None
    uow = store.unit_of_work()
    if merchant is None or merchant.status != "active":
        clear_due(schedule)
        schedule.updated_at = now
        uow.save("digest_schedule", schedule)
        _commit(uow, schedule)
        return None
    tz = zone(merchant.timezone)
    week = latest_due_week(schedule.week, now, tz)
    item = new_outbox(
        merchant.merchant_id,
        cause=f"{KIND}:{merchant.merchant_id}:{week}",
        kind=KIND,
        now=now,
        customer_id=None,
        context={"week": week},
        channel="email",
    )
    set_due(item, now)
    following = shift_week(week, 1)
    schedule.week, schedule.last_week, schedule.updated_at = following, week, now
    set_due(schedule, due_at(following, tz))
    uow.insert(f"outbox:{KIND}", item)
    uow.save("digest_schedule", schedule)
    return item if _commit(uow, schedule) else None


def _commit(uow: UnitOfWork, schedule: DigestScheduleItem) -> bool:
    try:
        uow.commit()
    except StaleVersion:
        log.info("digest already claimed", extra={"merchant_id": schedule.merchant_id})
        return False
    return True
