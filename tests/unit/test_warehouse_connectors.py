"""Warehouse (WMS) connectors: ShipHero, ShipBob and our generic format.

Each documented fixture parses into the expected `ReturnReceived` (lines, dispositions, ids,
UTC time); each verification failure is its own test; random JSON objects make `parse` raise
`MalformedPayload` or nothing else.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.connectors import aftercare_signature, generic_wms, shipbob, shiphero
from chalicelib.connectors.base import body_digest
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import Disposition, Ignored, ReceivedLine, ReturnReceived
from tests.signing import (
    FAKE_GENERIC_WMS_SECRET,
    FAKE_SHIPBOB_SECRET,
    FAKE_SHIPHERO_SECRET,
    sign_generic_wms,
    sign_shipbob,
    sign_shiphero,
)
from tests.support import load_fixture, utc

R, N, S = Disposition.RESELLABLE, Disposition.NEEDS_REPAIR, Disposition.SCRAP
NOW = utc(2025, 3, 5, 16, 45)
T = int(NOW.timestamp())
OTHER_SHIPBOB_SECRET = "whsec_b3RoZXItZmFrZS1zaGlwYm9iLWtleQ=="  # base64("other-fake-shipbob-key")


def _json(partner: str, name: str) -> dict[str, Any]:
    return json.loads(load_fixture(partner, name))


def _bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def _only(events: list[Any]) -> Any:
    assert len(events) == 1
    return events[0]


# --- ShipHero -------------------------------------------------------------------------------


def test_shiphero_received_return_splits_restocked_and_damaged_units() -> None:
    body = load_fixture("shiphero", "return_update_received.json")
    event = _only(shiphero.parse(sign_shiphero(body), body, now=NOW))
    line_id = "Order #243-355933727"
    assert event == ReturnReceived(
        NOW,
        warehouse_return_id="3394303",
        lines=(
            ReceivedLine("CUTENESS", 2, R, line_id),
            ReceivedLine("CUTENESS", 1, N, line_id, note="Damaged"),
        ),
        return_code=None,
        order_id="Order #243",
        tracking_number="420856539274890326147006581374",
        inspected=True,
    )


def test_shiphero_documented_pending_return_is_ignored() -> None:
    body = load_fixture("shiphero", "return_update.json")
    event = _only(shiphero.parse({}, body, now=NOW))
    assert event == Ignored(NOW, topic="Return Update", reason="no units received yet")


def test_shiphero_other_webhook_types_are_ignored() -> None:
    body = load_fixture("shiphero", "inventory_update.json")
    assert _only(shiphero.parse({}, body, now=NOW)) == Ignored(NOW, topic="Inventory Update")


def test_shiphero_test_delivery_is_ignored() -> None:
    data = _json("shiphero", "return_update_received.json") | {"test": "1"}
    assert _only(shiphero.parse({}, _bytes(data), now=NOW)).reason == "test delivery"


def test_shiphero_unrestocked_units_without_condition_stay_undetermined() -> None:
    data = _json("shiphero", "return_update_received.json")
    del data["items"][0]["condition"]
    data["items"][0]["restock"] = 5  # more than received: clamped to the received 3
    data["items"][1].update(quantity_received=1, restock=0)
    event = _only(shiphero.parse({}, _bytes(data), now=NOW))
    assert [(x.sku, x.quantity, x.disposition) for x in event.lines] == [
        ("CUTENESS", 3, R),
        ("CUTENESS-XL", 1, None),
    ]
    assert event.inspected is False


def test_shiphero_occurred_at_defaults_to_the_utc_clock() -> None:
    body = load_fixture("shiphero", "return_update_received.json")
    assert _only(shiphero.parse({}, body)).occurred_at.tzinfo is UTC


def test_shiphero_verify_accepts_the_right_and_a_rotated_secret() -> None:
    body = load_fixture("shiphero", "return_update_received.json")
    headers = sign_shiphero(body)
    shiphero.verify(headers, body, [FAKE_SHIPHERO_SECRET])
    shiphero.verify(headers, body, ["new_fake_secret", FAKE_SHIPHERO_SECRET])
    shiphero.verify(sign_shiphero(body, "new_fake_secret"), body, ["new_fake_secret", "old"])


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        (sign_shiphero(b"{}", "wrong_secret"), b"{}", "does not match"),
        ({}, b"{}", "missing X-Shiphero-Hmac-Sha256"),
        (sign_shiphero(b'{"a": 1}'), b'{"a": 2}', "does not match"),
        ({"x-shiphero-hmac-sha256": "not base64!"}, b"{}", "not base64"),
    ],
    ids=["wrong-secret", "missing-header", "tampered-body", "not-base64"],
)
def test_shiphero_verify_refuses(headers: dict[str, str], body: bytes, message: str) -> None:
    with pytest.raises(BadSignature, match=message):
        shiphero.verify(headers, body, [FAKE_SHIPHERO_SECRET])


def test_shiphero_verify_needs_a_secret_and_refuses_a_bare_string() -> None:
    body = b"{}"
    with pytest.raises(BadSignature, match="no signing secret"):
        shiphero.verify(sign_shiphero(body), body, ["", ""])
    with pytest.raises(TypeError):
        shiphero.verify(sign_shiphero(body), body, FAKE_SHIPHERO_SECRET)


def test_shiphero_delivery_id_is_the_message_id_else_the_body_digest() -> None:
    body = b'{"webhook_type": "Return Update"}'
    assert shiphero.delivery_id(sign_shiphero(body, message_id="m-1"), body) == "m-1"
    assert shiphero.delivery_id({}, body) == body_digest(body)


# --- ShipBob --------------------------------------------------------------------------------


def test_shipbob_completed_return_has_one_line_per_action() -> None:
    body = load_fixture("shipbob", "return_completed.json")
    event = _only(shipbob.parse(sign_shipbob(body, topic="return.completed"), body))
    photo = "https://example.com/returns/1045877/tee-{}.jpg"
    unopened = "Unopened, original packaging"
    assert event == ReturnReceived(
        utc(2025, 3, 5, 16, 42) + timedelta(seconds=10),
        warehouse_return_id="1045877",
        lines=(
            ReceivedLine("TEE-BLU-M", 1, R, None, unopened, (photo.format(1),)),
            ReceivedLine("TEE-BLU-M", 1, S, None, "Stained", (photo.format(2),)),
            ReceivedLine("JKT-BLK-L", 1, N, None, "Zipper broken", ()),
        ),
        return_code="RC-7Q2K9",
        order_id="5512345678901",
        tracking_number="9400111899562537866361",
        inspected=True,
    )
    assert event.occurred_at.tzinfo is UTC


def test_shipbob_arrived_return_is_received_not_inspected() -> None:
    body = load_fixture("shipbob", "return_arrived.json")
    event = _only(shipbob.parse({"x-webhook-topic": "return.updated"}, body))
    assert event.lines == (ReceivedLine("TEE-BLU-M", 2),)
    assert (event.occurred_at, event.inspected) == (utc(2025, 3, 4, 11, 20), False)
    assert (event.return_code, event.order_id) == ("RC-7Q2K9", None)
    assert event.tracking_number == "9400111899562537866361"


def test_shipbob_default_action_leaves_the_line_undetermined() -> None:
    data = _json("shipbob", "return_completed.json")
    data["inventory"][1]["action_taken"][0]["action"] = "Default"
    event = _only(shipbob.parse({"x-webhook-topic": "return.completed"}, _bytes(data)))
    assert event.lines[2].disposition is None
    assert event.inspected is False


def test_shipbob_return_under_a_data_envelope_parses_the_same() -> None:
    data = _json("shipbob", "return_completed.json")
    headers = {"x-webhook-topic": "return.completed"}
    assert shipbob.parse(headers, _bytes({"data": data})) == shipbob.parse(headers, _bytes(data))


@pytest.mark.parametrize(
    ("topic", "fixture", "status", "reason"),
    [
        ("order.shipment.tracking_received", "tracking_received.json", None, "topic not handled"),
        ("return.created", "return_arrived.json", "AwaitingArrival", "status awaitingarrival"),
        ("return.updated", "return_arrived.json", "Cancelled", "status cancelled"),
    ],
)
def test_shipbob_other_topics_and_statuses_are_ignored(
    topic: str, fixture: str, status: str | None, reason: str
) -> None:
    data = _json("shipbob", fixture)
    if status:
        data["status"] = status
    headers = sign_shipbob(_bytes(data), timestamp=T, topic=topic)
    event = _only(shipbob.parse(headers, _bytes(data)))
    assert isinstance(event, Ignored)
    assert (event.occurred_at, event.topic) == (NOW, topic)
    assert event.reason.endswith(reason)


def test_shipbob_verify_accepts_the_right_and_rotated_secrets() -> None:
    body = load_fixture("shipbob", "return_completed.json")
    headers = sign_shipbob(body, timestamp=T)
    shipbob.verify(headers, body, [FAKE_SHIPBOB_SECRET], now=NOW)
    shipbob.verify(headers, body, [OTHER_SHIPBOB_SECRET, FAKE_SHIPBOB_SECRET], now=NOW)
    # The sender signs with old and new secret while rotating: any v1 entry may match.
    old = sign_shipbob(body, OTHER_SHIPBOB_SECRET, timestamp=T)["webhook-signature"]
    both = headers | {"webhook-signature": f"{old} {headers['webhook-signature']}"}
    shipbob.verify(both, body, [FAKE_SHIPBOB_SECRET], now=NOW)


def _shipbob_case(**change: Any) -> tuple[dict[str, str], bytes]:
    body = b'{"id": 1}'
    headers = sign_shipbob(body, timestamp=T)
    return {k: v for k, v in (headers | change).items() if v is not None}, body


@pytest.mark.parametrize(
    ("headers", "body", "now", "message"),
    [
        (sign_shipbob(b"{}", OTHER_SHIPBOB_SECRET, timestamp=T), b"{}", NOW, "does not match"),
        (*_shipbob_case(**{"webhook-signature": None}), NOW, "missing webhook-signature"),
        (*_shipbob_case(**{"webhook-id": None}), NOW, "missing webhook-id"),
        (*_shipbob_case(**{"webhook-timestamp": None}), NOW, "missing webhook-timestamp"),
        (sign_shipbob(b'{"id": 1}', timestamp=T), b'{"id": 2}', NOW, "does not match"),
        (*_shipbob_case(**{"webhook-id": "msg_other"}), NOW, "does not match"),
        (*_shipbob_case(), NOW + timedelta(seconds=301), "outside the 300s tolerance"),
        (*_shipbob_case(), NOW - timedelta(seconds=301), "outside the 300s tolerance"),
        (*_shipbob_case(**{"webhook-signature": "v2,abc"}), NOW, "no v1 signature"),
    ],
    ids=[
        "wrong-secret",
        "missing-signature",
        "missing-id",
        "missing-timestamp",
        "tampered-body",
        "other-message-id",
        "stale",
        "from-the-future",
        "no-v1",
    ],
)
def test_shipbob_verify_refuses(
    headers: dict[str, str], body: bytes, now: Any, message: str
) -> None:
    with pytest.raises(BadSignature, match=message):
        shipbob.verify(headers, body, [FAKE_SHIPBOB_SECRET], now=now)


def test_shipbob_verify_accepts_the_edge_of_the_window() -> None:
    headers, body = _shipbob_case()
    shipbob.verify(headers, body, [FAKE_SHIPBOB_SECRET], now=NOW + timedelta(seconds=300))


def test_shipbob_verify_refuses_a_secret_that_is_not_whsec_base64() -> None:
    headers, body = _shipbob_case()
    with pytest.raises(BadSignature, match="not whsec_<base64>"):
        shipbob.verify(headers, body, ["whsec_not base64!"], now=NOW)


def test_shipbob_delivery_id_is_the_webhook_id() -> None:
    headers, body = _shipbob_case()
    assert shipbob.delivery_id(headers, body) == headers["webhook-id"]


# --- Generic WMS ----------------------------------------------------------------------------


def test_generic_received_fixture() -> None:
    body = load_fixture("generic_wms", "return_received.json")
    event = _only(generic_wms.parse(sign_generic_wms(body), body))
    assert event == ReturnReceived(
        utc(2025, 3, 4, 9, 15),
        warehouse_return_id="WH-2025-000913",
        lines=(
            ReceivedLine("MUG-WHT-12OZ", 2),
            ReceivedLine("COASTER-SET-4", 1, None, note="box dented"),
        ),
        return_code="RC-4F8ZT",
        order_id="5512345678901",
        tracking_number="1Z999AA10123456784",
        inspected=False,
    )
    assert event.occurred_at.tzinfo is UTC


def test_generic_inspected_fixture() -> None:
    body = load_fixture("generic_wms", "return_inspected.json")
    event = _only(generic_wms.parse({}, body))
    photos = (
        "https://wms.example.com/photos/913-1.jpg",
        "https://wms.example.com/photos/913-2.jpg",
    )
    assert event.lines == (
        ReceivedLine("MUG-WHT-12OZ", 1, R),
        ReceivedLine("MUG-WHT-12OZ", 1, S, note="handle snapped", photo_urls=photos),
        ReceivedLine("COASTER-SET-4", 1, N, note="one coaster chipped, set incomplete"),
    )
    assert (event.warehouse_return_id, event.return_code) == ("RC-4F8ZT", "RC-4F8ZT")
    assert event.occurred_at == utc(2025, 3, 5, 14, 2) + timedelta(seconds=31)
    assert event.inspected is True


def test_generic_unknown_event_is_ignored() -> None:
    data = _json("generic_wms", "return_received.json") | {"event": "return.cancelled"}
    assert _only(generic_wms.parse({}, _bytes(data))) == Ignored(
        utc(2025, 3, 4, 9, 15), topic="return.cancelled"
    )


def _inspected_with(**line_change: Any) -> bytes:
    data = _json("generic_wms", "return_inspected.json")
    data["lines"][0].update(line_change)
    return _bytes(data)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_inspected_with(disposition=None), "required on every line"),
        (_inspected_with(disposition="broken"), "must be resellable, needs_repair or scrap"),
        (_inspected_with(quantity=0), "from 1 to 100000"),
        (_inspected_with(quantity=1.5), "from 1 to 100000"),
        (
            b'{"event": "return.received", "occurred_at": "2025-03-04T10:15:00Z", "return_code":'
            b' "RC", "lines": [{"sku": "A", "quantity": 1e999999}]}',
            "from 1 to 100000",
        ),
        (_inspected_with(quantity="2"), "must be an integer"),
        (_inspected_with(sku=""), "'sku'"),
        (_inspected_with(photos=["ftp://x/a.jpg"]), "http"),
        (_inspected_with(photos=["https://x/a.jpg"] * 21), "at most 20"),
        (_inspected_with(note="x" * 1001), "at most 1000"),
        (b'{"event": "return.received", "return_code": "RC", "lines": []}', "occurred_at"),
        (
            b'{"event": "return.received", "occurred_at": "2025-03-04T10:15:00Z", "return_code":'
            b' "RC", "lines": []}',
            "1 to 200",
        ),
        (b'{"event": "return.received", "occurred_at": "yesterday"}', "ISO-8601"),
        (b"[]", "JSON object"),
    ],
)
def test_generic_malformed_bodies_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        generic_wms.parse({}, body)


def test_generic_verify_accepts_the_right_and_rotated_secrets() -> None:
    body = load_fixture("generic_wms", "return_inspected.json")
    headers = sign_generic_wms(body, timestamp=T)
    generic_wms.verify(headers, body, [FAKE_GENERIC_WMS_SECRET], now=NOW)
    generic_wms.verify(headers, body, ["new_fake_secret", FAKE_GENERIC_WMS_SECRET], now=NOW)
    old = sign_generic_wms(body, "old_fake_secret", timestamp=T)["x-aftercare-signature"]
    both = {"x-aftercare-signature": f"{old},{headers['x-aftercare-signature'].split(',')[1]}"}
    generic_wms.verify(both, body, [FAKE_GENERIC_WMS_SECRET], now=NOW)


@pytest.mark.parametrize(
    ("headers", "body", "now", "message"),
    [
        (sign_generic_wms(b"{}", "wrong_secret", T), b"{}", NOW, "does not match"),
        ({}, b"{}", NOW, "missing X-Aftercare-Signature"),
        (sign_generic_wms(b'{"a": 1}', timestamp=T), b'{"a": 2}', NOW, "does not match"),
        (sign_generic_wms(b"{}", timestamp=T), b"{}", NOW + timedelta(seconds=301), "tolerance"),
        (sign_generic_wms(b"{}", timestamp=T), b"{}", NOW - timedelta(seconds=301), "tolerance"),
        ({"x-aftercare-signature": "v1=00ff"}, b"{}", NOW, "exactly one t="),
        ({"x-aftercare-signature": f"t={T},t={T},v1=00"}, b"{}", NOW, "exactly one t="),
        ({"x-aftercare-signature": f"t={T},v1=zz"}, b"{}", NOW, "no hex v1"),
        ({"x-aftercare-signature": "t=١٢٣,v1=00"}, b"{}", NOW, "not a Unix timestamp"),
    ],
    ids=[
        "wrong-secret",
        "missing-header",
        "tampered-body",
        "stale",
        "from-the-future",
        "no-timestamp",
        "two-timestamps",
        "not-hex",
        "non-ascii-digits",
    ],
)
def test_generic_verify_refuses(
    headers: dict[str, str], body: bytes, now: Any, message: str
) -> None:
    with pytest.raises(BadSignature, match=message):
        generic_wms.verify(headers, body, [FAKE_GENERIC_WMS_SECRET], now=now)


def test_sign_timestamped_matches_the_independent_test_signer() -> None:
    body = load_fixture("generic_wms", "return_received.json")
    expected = sign_generic_wms(body, timestamp=T)["x-aftercare-signature"]
    assert aftercare_signature.sign_timestamped(body, FAKE_GENERIC_WMS_SECRET, T) == expected


def test_generic_delivery_id_is_the_body_digest() -> None:
    body = load_fixture("generic_wms", "return_received.json")
    assert generic_wms.delivery_id(sign_generic_wms(body), body) == body_digest(body)


@pytest.mark.parametrize("number", [b"1e999999", b"Infinity", b"-1", b"2.5", b'"lots"'])
def test_partner_unit_counts_are_bounded_whole_numbers(number: bytes) -> None:
    # A huge exponent must be refused before it becomes a million-digit integer.
    shiphero_body = (
        b'{"webhook_type": "Return Update", "return_id": 1, "items": [{"quantity_received": '
        + number
        + b"}]}"
    )
    shipbob_body = (
        b'{"id": 1, "status": "Completed", "inventory": [{"action_taken": '
        b'[{"action": "Restock", "quantity_processed": ' + number + b"}]}]}"
    )
    with pytest.raises(MalformedPayload, match="whole number"):
        shiphero.parse({}, shiphero_body, now=NOW)
    with pytest.raises(MalformedPayload, match="whole number"):
        shipbob.parse({"x-webhook-topic": "return.completed"}, shipbob_body)


# --- Random JSON: MalformedPayload or nothing ------------------------------------------------

_KEYS = st.sampled_from(
    [
        "webhook_type",
        "return_id",
        "items",
        "quantity",
        "quantity_received",
        "restock",
        "condition",
        "sku",
        "test",
        "partner_order_id",
        "id",
        "status",
        "inventory",
        "action_taken",
        "action",
        "quantity_processed",
        "image_url",
        "completed_date",
        "arrived_date",
        "reference_id",
        "data",
        "event",
        "occurred_at",
        "lines",
        "disposition",
        "photos",
        "note",
        "return_code",
    ]
) | st.text(max_size=6)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "Return Update",
            "Completed",
            "Arrived",
            "return.inspected",
            "return.received",
            "Restock",
            "Dispose",
            "scrap",
            "1e999999",
            "Infinity",
            "-1",
            "2",
            "2025-03-04T10:15:00Z",
            "https://x.example/a.jpg",
        ]
    )
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=25,
)


@st.composite
def _mutated(draw: st.DrawFn, original: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        node: Any = data
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            if isinstance(node[key], (dict, list)) and draw(st.booleans()):
                node = node[key]
                continue
            node[key] = draw(_VALUES)
            break
    return data


def _objects(partner: str, name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(_KEYS, _VALUES, max_size=8) | _mutated(_json(partner, name))


_HEADERS = st.fixed_dictionaries(
    {
        "x-webhook-topic": st.sampled_from(
            ["return.completed", "return.updated", "order.shipped", ""]
        ),
        "webhook-timestamp": st.sampled_from([str(T), "abc", "", "9" * 40]),
    }
)
_PARSERS = {
    "shiphero": lambda headers, body: shiphero.parse(headers, body, now=NOW),
    "shipbob": shipbob.parse,
    "generic_wms": generic_wms.parse,
}
_FIXTURES = {
    "shiphero": "return_update_received.json",
    "shipbob": "return_completed.json",
    "generic_wms": "return_inspected.json",
}


@pytest.mark.parametrize("partner", sorted(_PARSERS))
def test_random_json_objects_raise_malformed_payload_or_nothing(partner: str) -> None:
    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=_objects(partner, _FIXTURES[partner]), headers=_HEADERS)
    def check(data: dict[str, Any], headers: dict[str, str]) -> None:
        try:
            events = _PARSERS[partner](headers, json.dumps(data).encode())
        except MalformedPayload:
            return
        assert all(event.occurred_at.tzinfo is not None for event in events)

    check()
