"""The outbox's DynamoDB stream consumer: sends each new outbox item as soon as it is committed.

A transaction that queues a message writes an outbox item; the table's stream
(NEW_AND_OLD_IMAGES) hands that INSERT to this consumer, which sends the item from the
record's new image, with no read to find it. The event source mapping in
`infra/resources.json` filters on `STREAM_FILTER` (INSERTs of `OUTBOX#` items, status
`pending`, on the outbox due index), so other writes never invoke the function; the same
test is applied here again (`is_new_outbox`), for the records the local runner or a test
hands over unfiltered.

Sending is the sweep's (`sender.deliver_due`, every minute): `sender.channel_sender` picks SMS
or marketplace delivery, which claims the item with a version-conditioned write and a lease.
The image is the item as inserted, so when the sweep (or an earlier try of this batch) has
claimed it since, the claim fails its version condition and the item is reported `busy`:
schedule and stream never send one item twice. Items not due yet when they are inserted,
and items deferred while sending (quiet hours, the merchant's rate limit, backoff after a
provider error), stay on the due index for the sweep, which remains the safety net.

An item whose delivery raised unexpectedly does not stop the others; the batch is then
failed (`StreamBatchFailed`), so Lambda bisects it, retries within `MaximumRetryAttempts`
and `MaximumRecordAgeInSeconds`, and finally records the batch in the dead-letter queue.
Whatever happens to the batch, the items stay on the due index and the sweep sends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.log import bind_context, get_logger
from chalicelib.notify.sender import channel_sender
from chalicelib.store import keys
from chalicelib.store.models import OutboxItem

if TYPE_CHECKING:
    from chalicelib.deps import Deps

__all__ = [
    "deliver_records",
    "is_new_outbox",
    "outbox_item",
    "StreamBatchFailed",
    "STREAM_FILTER",
    "OUTBOX_PREFIX",
    "OUTBOX_DUE_PREFIX",
]

log = get_logger(__name__)
OUTBOX_PREFIX = keys.outbox("", "").split("#", 1)[0] + "#"  # "OUTBOX#"
OUTBOX_DUE_PREFIX = keys.due_partitions("OUTBOX")[0].rsplit("#", 1)[0] + "#"  # "DUE#OUTBOX#"
# The event source mapping's FilterCriteria pattern (Lambda event filtering syntax), kept in
# `infra/resources.json`; tests/integration/test_stream_consumer.py checks both agree.
STREAM_FILTER: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {
        "Keys": {"pk": {"S": [{"prefix": OUTBOX_PREFIX}]}},
        "NewImage": {
            "status": {"S": ["pending"]},
            "due_pk": {"S": [{"prefix": OUTBOX_DUE_PREFIX}]},
        },
    },
}


class StreamBatchFailed(RuntimeError):
    """Some items of a stream batch failed unexpectedly: Lambda should retry the batch."""


def is_new_outbox(record: Mapping[str, Any]) -> bool:
    """Whether a stream record is an outbox item's INSERT, pending, on the outbox due index."""
    if record.get("eventName") != "INSERT":
        return False
    change = record.get("dynamodb") or {}
    image = change.get("NewImage") or {}
    pk = ((change.get("Keys") or {}).get("pk") or {}).get("S", "")
    due_pk = (image.get("due_pk") or {}).get("S", "")
    status = (image.get("status") or {}).get("S")
    return (
        pk.startswith(OUTBOX_PREFIX)
        and status == "pending"
        and due_pk.startswith(OUTBOX_DUE_PREFIX)
    )


def outbox_item(record: Mapping[str, Any]) -> OutboxItem | None:
    """The outbox item a stream record inserted, as it was inserted; None for other records."""
    if not is_new_outbox(record):
        return None
    return OutboxItem.from_raw_data(dict(record["dynamodb"]["NewImage"]))


def deliver_records(
    deps: Deps, records: Iterable[Mapping[str, Any]], now: datetime
) -> dict[str, int]:
    """Send the new outbox items among `records` that are due at `now`; counts by result.

    Results are the channel senders' (sent, deferred, busy, retry, failed...), plus
    `ignored` (not a new outbox item) and `not_due` (left to the sweep).
    Raises `StreamBatchFailed` after the whole batch when an item raised unexpectedly.
    """
    results: dict[str, int] = {}
    for record in records:
        item = outbox_item(record)
        if item is None:
            result = "ignored"
        elif item.next_attempt_at > now:
            result = "not_due"
        else:
            try:
                result = channel_sender(item.channel)(deps, item, now)
            except Exception:
                with bind_context(merchant_id=item.merchant_id, outbox_id=item.outbox_id):
                    log.exception("outbox item failed unexpectedly (stream)")
                result = "error"
        results[result] = results.get(result, 0) + 1
    log.info("outbox stream batch", extra={"results": results})
    if results.get("error"):
        raise StreamBatchFailed(f"{results['error']} outbox item(s) failed; see the log above")
    return results
