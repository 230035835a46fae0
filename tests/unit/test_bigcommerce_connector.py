"""BigCommerce connector: registration-secret header check, dedupe key, light payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.connectors import bigcommerce
from chalicelib.connectors.bigcommerce import OrderChanged
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import AppUninstalled, Event, Ignored, OrderCancelled
from tests.signing import FAKE_BIGCOMMERCE_SECRET, bigcommerce_headers
from tests.support import load_fixture

PREVIOUS_SECRET = "bc_fake_previous_secret_do_not_use"
DOCS_TIME = datetime(2019, 6, 25, 17, 11, 10, tzinfo=UTC)  # created_at 1561482670


def _parse(name: str) -> list:
    body = load_fixture("bigcommerce", name)
    headers = bigcommerce_headers()
    bigcommerce.verify(headers, body, [FAKE_BIGCOMMERCE_SECRET])
    return bigcommerce.parse(headers, body)


# --- verify ---------------------------------------------------------------------------------


def test_registration_headers_match_what_verify_checks() -> None:
    headers = {k.lower(): v for k, v in bigcommerce.registration_headers("s3cret").items()}
    bigcommerce.verify(headers, b"{}", ["s3cret"])


def test_verify_right_and_rotated_secret() -> None:
    bigcommerce.verify(bigcommerce_headers(), b"{}", FAKE_BIGCOMMERCE_SECRET)
    old = bigcommerce_headers(secret=PREVIOUS_SECRET)
    bigcommerce.verify(old, b"{}", [FAKE_BIGCOMMERCE_SECRET, PREVIOUS_SECRET])


@pytest.mark.parametrize(
    "given", ["wrong", FAKE_BIGCOMMERCE_SECRET[:-1], FAKE_BIGCOMMERCE_SECRET + "x", "x" * 500]
)
def test_verify_rejects_a_wrong_secret(given: str) -> None:
    with pytest.raises(BadSignature, match="does not match"):
        bigcommerce.verify(bigcommerce_headers(secret=given), b"{}", [FAKE_BIGCOMMERCE_SECRET])


def test_verify_rejects_a_missing_header_or_no_configured_secret() -> None:
    with pytest.raises(BadSignature, match="missing"):
        bigcommerce.verify({"content-type": "application/json"}, b"{}", [FAKE_BIGCOMMERCE_SECRET])
    with pytest.raises(BadSignature, match="missing"):
        bigcommerce.verify(bigcommerce_headers(secret=""), b"{}", [FAKE_BIGCOMMERCE_SECRET])
    with pytest.raises(BadSignature, match="no signing secret"):
        bigcommerce.verify(bigcommerce_headers(), b"{}", [""])


# --- delivery id ----------------------------------------------------------------------------


def test_delivery_id_is_scope_hash_and_time() -> None:
    body = load_fixture("bigcommerce", "order_updated.json")
    key = bigcommerce.delivery_id(bigcommerce_headers(), body)
    assert key == "store/order/updated:352e4afc6dd3fc85ea26bfdf3f91852604d57528:1561482670"
    # Re-delivery: same key. Next update of the same order (same data hash): new key.
    assert bigcommerce.delivery_id({}, body) == key
    later = json.loads(body) | {"created_at": 1561482671}
    assert bigcommerce.delivery_id({}, json.dumps(later).encode()) != key


def test_delivery_id_falls_back_to_the_body_digest() -> None:
    assert len(bigcommerce.delivery_id({}, b"not json")) == 64
    assert len(bigcommerce.delivery_id({}, b'{"scope": "store/order/created"}')) == 64


# --- parse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "change", "ref_id"),
    [
        ("order_created.json", "created", ""),
        ("order_updated.json", "updated", ""),
        ("order_refund_created.json", "refunded", "3"),
        ("order_message_created.json", "message_created", "3"),
    ],
)
def test_order_scopes_give_order_changed(name: str, change: str, ref_id: str) -> None:
    (event,) = _parse(name)
    assert event == OrderChanged(DOCS_TIME, order_id="250", change=change, ref_id=ref_id)
    assert isinstance(event, Event)


def test_status_update_names_both_statuses() -> None:
    (event,) = _parse("order_status_updated.json")
    assert (event.change, event.previous_status, event.status) == (
        "status_changed",
        "pending",
        "awaiting_fulfillment",
    )


def test_status_update_to_cancelled_also_gives_order_cancelled() -> None:
    payload = json.loads(load_fixture("bigcommerce", "order_status_updated.json"))
    payload["data"]["status"] = {"previous_status_id": 11, "new_status_id": 5}
    body = json.dumps(payload).encode()
    changed, cancelled = bigcommerce.parse(bigcommerce_headers(), body)
    assert changed.status == "cancelled"
    assert cancelled == OrderCancelled(DOCS_TIME, order_id="250")


def test_unknown_status_id_is_kept() -> None:
    payload = json.loads(load_fixture("bigcommerce", "order_status_updated.json"))
    payload["data"]["status"]["new_status_id"] = 42
    body = json.dumps(payload).encode()
    (event,) = bigcommerce.parse(bigcommerce_headers(), body)
    assert event.status == "status_42"


def test_other_scopes_are_ignored_and_uninstall_is_recognised() -> None:
    (event,) = _parse("store_information_updated.json")
    assert event == Ignored(DOCS_TIME, "store/information/updated")
    body = json.dumps({"scope": "store/app/uninstalled", "created_at": 1561482670}).encode()
    assert bigcommerce.parse({}, body) == [AppUninstalled(DOCS_TIME)]


# --- malformed ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"nope", b"[]", b"\xff"])
def test_bad_json_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        bigcommerce.parse(bigcommerce_headers(), body)


@pytest.mark.parametrize(
    "change",
    [
        {"scope": None},
        {"scope": ["store/order/created"]},
        {"created_at": "yesterday"},
        {"created_at": 10**30},
        {"data": None},
        {"data": {"type": "order"}},
        {"data": {"type": "product", "id": 1}},
        {"data": {"type": "order", "id": 250, "status": "shipped"}},
        {"data": {"type": "order", "id": 250, "status": {"new_status_id": "11"}}},
    ],
)
def test_missing_or_wrong_typed_fields_are_malformed(change: dict) -> None:
    payload = json.loads(load_fixture("bigcommerce", "order_status_updated.json")) | change
    body = json.dumps(payload).encode()
    with pytest.raises(MalformedPayload):
        bigcommerce.parse(bigcommerce_headers(), body)


BC_KEYS = st.sampled_from(
    ["scope", "store_id", "data", "type", "id", "status", "previous_status_id",
     "new_status_id", "refund", "refund_id", "message", "hash", "created_at", "producer"]
)  # fmt: skip
bc_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["store/order/statusUpdated", "store/order/refund/created", "order"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(BC_KEYS, children),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(BC_KEYS, bc_like))
def test_random_payloads_raise_only_malformed_payload(data: dict) -> None:
    body = json.dumps(data).encode()
    try:
        events = bigcommerce.parse(bigcommerce_headers(), body)
    except MalformedPayload:
        return
    assert events
    assert isinstance(bigcommerce.delivery_id({}, body), str)
