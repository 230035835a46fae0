"""Carrier connectors (EasyPost, Shippo, AfterShip, generic): verify, parse and dedupe keys.

Bodies are the partners' documented examples (tests/fixtures/<partner>/SOURCES.md), signed
over the exact bytes sent with the fake secrets of tests/signing.py.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.connectors import aftership, easypost, generic_carrier, shippo
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import Ignored, ShipmentUpdated
from chalicelib.events import TrackingStatus as S
from tests import signing
from tests.support import load_fixture, utc

NOW = utc(2025, 3, 6, 12)
T = int(NOW.timestamp())
ROTATED = "the_new_secret_after_rotation_do_not_use"


@dataclass(frozen=True)
class Partner:
    name: str
    module: ModuleType
    fixture: tuple[str, str]
    secret: str
    header: str
    sign: Callable[..., dict[str, str]]
    timestamped: bool = False

    def body(self) -> bytes:
        return load_fixture(*self.fixture)

    def headers(self, body: bytes, secret: str | None = None, timestamp: int = T) -> dict[str, str]:
        secret = secret or self.secret
        if self.timestamped:
            return self.sign(body, secret, timestamp)
        return self.sign(body, secret)

    def verify(self, headers: dict[str, str], body: bytes, secrets: list[str]) -> None:
        if self.timestamped:
            self.module.verify(headers, body, secrets, now=NOW)
        else:
            self.module.verify(headers, body, secrets)


EASYPOST = Partner(
    name="easypost",
    module=easypost,
    fixture=("easypost", "tracker_updated.json"),
    secret=signing.FAKE_EASYPOST_SECRET,
    header="x-hmac-signature",
    sign=signing.sign_easypost,
)
SHIPPO = Partner(
    name="shippo",
    module=shippo,
    fixture=("shippo", "track_updated.json"),
    secret=signing.FAKE_SHIPPO_SECRET,
    header="shippo-auth-signature",
    sign=signing.sign_shippo,
    timestamped=True,
)
AFTERSHIP = Partner(
    name="aftership",
    module=aftership,
    fixture=("aftership", "tracking_update.json"),
    secret=signing.FAKE_AFTERSHIP_SECRET,
    header="aftership-hmac-sha256",
    sign=signing.sign_aftership,
)
GENERIC = Partner(
    name="generic",
    module=generic_carrier,
    fixture=("generic_carrier", "shipment_updated.json"),
    secret=signing.FAKE_GENERIC_CARRIER_SECRET,
    header="x-aftercare-signature",
    sign=signing.sign_generic,
    timestamped=True,
)
PARTNERS = [EASYPOST, SHIPPO, AFTERSHIP, GENERIC]
TIMESTAMPED = [p for p in PARTNERS if p.timestamped]
by_name = pytest.mark.parametrize("partner", PARTNERS, ids=lambda p: p.name)


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _fixture_json(partner: Partner) -> dict[str, Any]:
    return json.loads(partner.body())


def _only(events: list[Any]) -> Any:
    assert len(events) == 1
    return events[0]


# --- verify ------------------------------------------------------------------------------


@by_name
def test_verify_passes_with_the_right_secret(partner: Partner) -> None:
    body = partner.body()
    partner.verify(partner.headers(body), body, [partner.secret])


@by_name
def test_verify_passes_with_a_rotated_second_secret(partner: Partner) -> None:
    body = partner.body()
    partner.verify(partner.headers(body, secret=ROTATED), body, [partner.secret, ROTATED])


@by_name
def test_verify_fails_with_a_wrong_secret(partner: Partner) -> None:
    body = partner.body()
    headers = partner.headers(body, secret="not_the_merchant_secret")
    with pytest.raises(BadSignature, match="does not match the body"):
        partner.verify(headers, body, [partner.secret, ROTATED])


@by_name
def test_verify_fails_without_the_header(partner: Partner) -> None:
    body = partner.body()
    headers = {k: v for k, v in partner.headers(body).items() if k != partner.header}
    with pytest.raises(BadSignature, match="missing"):
        partner.verify(headers, body, [partner.secret])


@by_name
def test_verify_fails_on_a_tampered_body(partner: Partner) -> None:
    body = partner.body()
    headers = partner.headers(body)
    tampered = body.replace(b"}", b' , "injected": 1}', 1)
    assert tampered != body
    with pytest.raises(BadSignature, match="does not match the body"):
        partner.verify(headers, tampered, [partner.secret])


@by_name
def test_verify_fails_without_a_configured_secret(partner: Partner) -> None:
    body = partner.body()
    with pytest.raises(BadSignature, match="no signing secret configured"):
        partner.verify(partner.headers(body), body, ["", ""])


@pytest.mark.parametrize(
    ("partner", "value", "message"),
    [
        (EASYPOST, "sha256=abcd", "must start with 'hmac-sha256-hex='"),
        (EASYPOST, "hmac-sha256-hex=zz", "is not hex"),
        (EASYPOST, "hmac-sha256-hex=abcd", "is not a SHA-256 digest"),
        (AFTERSHIP, "not base64 !", "is not base64"),
        (SHIPPO, "v1=abcd", "exactly one t="),
        (SHIPPO, f"t={T},t={T},v1=abcd", "exactly one t="),
        (SHIPPO, f"t={T}", "no v1 signature"),
        (SHIPPO, f"t={T},v1=xyz", "v1 is not hex"),
        (SHIPPO, "t=yesterday,v1=abcd", "not a Unix timestamp"),
        (GENERIC, "v1=abcd", "exactly one t="),
        (GENERIC, f"t={T}", "no hex v1 signature"),
        (GENERIC, "garbage", "exactly one t="),
    ],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "name", None),
)
def test_verify_fails_on_a_malformed_header(partner: Partner, value: str, message: str) -> None:
    body = partner.body()
    with pytest.raises(BadSignature, match=message):
        partner.verify({partner.header: value}, body, [partner.secret])


@pytest.mark.parametrize("partner", TIMESTAMPED, ids=lambda p: p.name)
@pytest.mark.parametrize(
    "skew", [timedelta(minutes=-6), timedelta(minutes=6)], ids=["stale", "future"]
)
def test_verify_fails_outside_the_replay_window(partner: Partner, skew: timedelta) -> None:
    body = partner.body()
    headers = partner.headers(body, timestamp=T + int(skew.total_seconds()))
    with pytest.raises(BadSignature, match="outside"):
        partner.verify(headers, body, [partner.secret])


@pytest.mark.parametrize("partner", TIMESTAMPED, ids=lambda p: p.name)
def test_verify_accepts_the_edge_of_the_window(partner: Partner) -> None:
    body = partner.body()
    partner.verify(partner.headers(body, timestamp=T - 300), body, [partner.secret])


@pytest.mark.parametrize("partner", TIMESTAMPED, ids=lambda p: p.name)
def test_verify_accepts_any_of_several_v1_entries(partner: Partner) -> None:
    body = partner.body()
    good = partner.headers(body)[partner.header]
    headers = {partner.header: f"{good},v1={'00' * 32}"}
    partner.verify(headers, body, [partner.secret])


def test_easypost_normalizes_the_secret_like_its_client_libraries() -> None:
    body = EASYPOST.body()
    decomposed = "se\u0301cret"  # NFKD of "sécret"; built by hand, not by the helper
    digest = hmac.new(decomposed.encode(), body, hashlib.sha256).hexdigest()
    easypost.verify({"x-hmac-signature": f"hmac-sha256-hex={digest}"}, body, ["s\u00e9cret"])


def test_easypost_accepts_an_upper_case_digest() -> None:
    body = EASYPOST.body()
    value = signing.sign_easypost(body)["x-hmac-signature"]
    prefix, _, digest = value.partition("=")
    easypost.verify({"x-hmac-signature": f"{prefix}={digest.upper()}"}, body, [EASYPOST.secret])


# --- parse: documented examples ----------------------------------------------------------


def test_easypost_tracker_updated_becomes_a_shipment_update() -> None:
    event = _only(easypost.parse({}, EASYPOST.body()))
    assert isinstance(event, ShipmentUpdated)
    assert event.carrier == "FedEx"
    assert event.tracking_number == "1"
    assert event.status is S.IN_TRANSIT
    assert event.carrier_status == "in_transit/arrived_at_facility"
    assert event.occurred_at == utc(2024, 8, 2, 18, 50)
    assert event.estimated_delivery == utc(2024, 8, 5)
    assert event.message == "Arrived at FedEx location"
    assert event.location == "EDISON, NJ, 08817, US"
    assert event.source_event_id == "evt_1"
    assert len(event.scans) == 7
    first = event.scans[0]
    assert (first.status, first.carrier_status) == (S.LABEL_CREATED, "pre_transit/label_created")
    assert first.occurred_at == utc(2024, 7, 31, 15)
    assert first.message == "Shipment information sent to FedEx"
    assert first.location == "32837, US"
    assert [s.occurred_at for s in event.scans] == sorted(s.occurred_at for s in event.scans)


def test_easypost_other_events_are_ignored() -> None:
    body = load_fixture("easypost", "batch_created.json")
    event = _only(easypost.parse({}, body))
    assert event == Ignored(
        occurred_at=utc(2015, 12, 3, 19, 9) + timedelta(seconds=19), topic="batch.created"
    )
    assert easypost.delivery_id({}, body) == "evt_..."


def test_easypost_delivered_tracker() -> None:
    data = _fixture_json(EASYPOST)
    data["result"]["status"] = "delivered"
    data["result"]["status_detail"] = "arrived_at_destination"
    data["result"]["tracking_details"] = []
    event = _only(easypost.parse({}, _json(data)))
    assert event.status is S.DELIVERED
    assert event.occurred_at == utc(2024, 8, 2, 19, 26) + timedelta(seconds=51)  # updated_at
    assert event.scans == ()


def test_shippo_track_updated_becomes_a_shipment_update() -> None:
    event = _only(shippo.parse({}, SHIPPO.body()))
    assert isinstance(event, ShipmentUpdated)
    assert event.carrier == "USPS"
    assert event.tracking_number == "9205590164917312751089"
    # The docs' sample pairs DELIVERED with an information_received substatus: the
    # substatus only refines under its own parent, so the status stays DELIVERED.
    assert event.status is S.DELIVERED
    assert event.carrier_status == "DELIVERED/information_received"
    assert event.occurred_at == utc(2016, 7, 23)
    assert event.estimated_delivery == utc(2019, 8, 24, 14, 15) + timedelta(seconds=22)
    assert event.message == "Your shipment has been delivered at the destination mailbox."
    assert event.location == "Las Vegas, NV, 89101, US"
    assert event.source_event_id == "string"
    assert len(event.scans) == 1
    assert event.scans[0].status is S.DELIVERED


def test_shippo_substatus_refines_transit() -> None:
    data = _fixture_json(SHIPPO)
    current = data["data"]["tracking_status"]
    current.update(status="TRANSIT", substatus={"code": "out_for_delivery"})
    data["data"]["tracking_history"] = []
    event = _only(shippo.parse({}, _json(data)))
    assert event.status is S.OUT_FOR_DELIVERY
    assert event.occurred_at == utc(2016, 7, 23)  # tracking_status.status_date
    assert event.scans == ()


def test_shippo_other_events_are_ignored() -> None:
    body = _json(
        {
            "event": "transaction_created",
            "test": True,
            "data": {"object_id": "abc", "object_updated": "2024-01-02T03:04:05Z"},
        }
    )
    event = _only(shippo.parse({}, body))
    assert event == Ignored(
        occurred_at=utc(2024, 1, 2, 3, 4) + timedelta(seconds=5), topic="transaction_created"
    )


def test_shippo_delivery_id_is_the_body_digest() -> None:
    body = SHIPPO.body()
    assert shippo.delivery_id({}, body) == hashlib.sha256(body).hexdigest()


def test_aftership_tracking_update_becomes_a_shipment_update() -> None:
    event = _only(aftership.parse({}, AFTERSHIP.body()))
    assert isinstance(event, ShipmentUpdated)
    assert event.carrier == "USPS"
    assert event.tracking_number == "0000000000000000"
    assert event.status is S.IN_TRANSIT
    assert event.carrier_status == "InTransit/InTransit_001"
    # The checkpoint time has no offset (local wall time), so the event time is `ts`.
    assert event.occurred_at == datetime.fromtimestamp(1712741696, tz=UTC)
    assert event.message == "Departed Shipping Partner Facility, USPS Awaiting Item"
    assert event.source_event_id == "94dadd60-ed26-46d0-aa52-3ced925a50ff"
    scan = _only(list(event.scans))
    assert (scan.status, scan.occurred_at) == (S.IN_TRANSIT, utc(2021, 1, 14, 0, 52))


def test_aftership_checkpoint_with_offset_sets_the_event_time() -> None:
    data = _fixture_json(AFTERSHIP)
    data["msg"]["checkpoints"][0]["checkpoint_time"] = "2024-04-10T01:00:00-07:00"
    data["msg"]["checkpoints"][0]["location"] = "BOCA RATON, FL, 33487, USA"
    data["msg"]["aftership_estimated_delivery_date"] = {"estimated_delivery_date": "2024-04-12"}
    event = _only(aftership.parse({}, _json(data)))
    assert event.occurred_at == utc(2024, 4, 10, 8)
    assert event.location == "BOCA RATON, FL, 33487, USA"
    assert event.estimated_delivery == utc(2024, 4, 12)


def test_aftership_returned_to_sender_subtag() -> None:
    data = _fixture_json(AFTERSHIP)
    data["msg"].update(tag="Exception", subtag="Exception_011", checkpoints=[])
    event = _only(aftership.parse({}, _json(data)))
    assert event.status is S.RETURNED_TO_SENDER
    assert event.message == "In Transit"  # subtag_message when there is no checkpoint


def test_aftership_unreadable_estimate_is_skipped() -> None:
    data = _fixture_json(AFTERSHIP)
    data["msg"]["expected_delivery"] = "soon"
    assert _only(aftership.parse({}, _json(data))).estimated_delivery is None


@pytest.mark.parametrize("topic", ["edd_revise", "tracking_pending_time", "some_future_event"])
def test_aftership_other_events_are_ignored(topic: str) -> None:
    data = _fixture_json(AFTERSHIP)
    data["event"] = topic
    event = _only(aftership.parse({}, _json(data)))
    assert isinstance(event, Ignored) and event.topic == topic


def test_generic_shipment_updated_becomes_a_shipment_update() -> None:
    event = _only(generic_carrier.parse({}, GENERIC.body()))
    assert isinstance(event, ShipmentUpdated)
    assert event.carrier == "Example Express"
    assert event.tracking_number == "EX123456789US"
    assert event.status is S.OUT_FOR_DELIVERY
    assert event.carrier_status == "out_for_delivery"
    assert event.occurred_at == utc(2025, 3, 6, 15, 41)
    assert event.estimated_delivery == utc(2025, 3, 6)
    assert event.message == "With courier for delivery today"
    assert event.location == "Portland, OR, US"
    assert event.source_event_id == "evt_2f6c1e9a7b3d4c58"
    assert [s.status for s in event.scans] == [S.LABEL_CREATED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY]


def test_generic_unknown_status_is_unknown() -> None:
    data = _fixture_json(GENERIC)
    data["data"]["status"] = "teleported"
    assert _only(generic_carrier.parse({}, _json(data))).status is S.UNKNOWN


def test_generic_other_types_are_ignored() -> None:
    data = _fixture_json(GENERIC)
    data["type"] = "shipment.created"
    event = _only(generic_carrier.parse({}, _json(data)))
    assert event == Ignored(
        occurred_at=utc(2025, 3, 6, 17, 5) + timedelta(seconds=12), topic="shipment.created"
    )


# --- delivery ids ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partner", "expected"),
    [
        (EASYPOST, "evt_1"),
        (AFTERSHIP, "94dadd60-ed26-46d0-aa52-3ced925a50ff"),
        (GENERIC, "evt_2f6c1e9a7b3d4c58"),
    ],
    ids=lambda v: getattr(v, "name", v),
)
def test_delivery_id_is_the_partner_event_id(partner: Partner, expected: str) -> None:
    assert partner.module.delivery_id({}, partner.body()) == expected


@by_name
@pytest.mark.parametrize("body", [b"", b"not json", b"[1]", b'{"id": 5, "event_id": null}'])
def test_delivery_id_falls_back_to_the_body_digest(partner: Partner, body: bytes) -> None:
    assert partner.module.delivery_id({}, body) == hashlib.sha256(body).hexdigest()


# --- parse: malformed bodies -------------------------------------------------------------


@by_name
@pytest.mark.parametrize(
    "body", [b"", b"\xff\xfe", b"not json", b"[]", b'"text"', b"{", b"{}", b"[" * 100 + b"]" * 100]
)
def test_unreadable_bodies_are_malformed(partner: Partner, body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        partner.module.parse({}, body)


def _without(data: dict[str, Any], *path: str | int) -> bytes:
    copied = copy.deepcopy(data)
    target: Any = copied
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return _json(copied)


def _with(data: dict[str, Any], value: Any, *path: str | int) -> bytes:
    copied = copy.deepcopy(data)
    target: Any = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return _json(copied)


EP = _fixture_json(EASYPOST)
SH = _fixture_json(SHIPPO)
AS = _fixture_json(AFTERSHIP)
GE = _fixture_json(GENERIC)


@pytest.mark.parametrize(
    ("module", "body"),
    [
        (easypost, _without(EP, "description")),
        (easypost, _without(EP, "result")),
        (easypost, _without(EP, "result", "tracking_code")),
        (easypost, _without(EP, "result", "status")),
        (easypost, _with(EP, "Shipment", "result", "object")),
        (easypost, _with(EP, {"a": 1}, "result", "tracking_details")),
        (easypost, _with(EP, "x", "result", "tracking_details", 0)),
        (easypost, _with(EP, "yesterday", "result", "tracking_details", 0, "datetime")),
        (easypost, _with(EP, [], "result", "tracking_details", 0, "tracking_location", "city")),
        (easypost, _with(EP, "soon", "result", "est_delivery_date")),
        (shippo, _without(SH, "event")),
        (shippo, _without(SH, "data")),
        (shippo, _without(SH, "data", "tracking_number")),
        (shippo, _without(SH, "data", "carrier")),
        (shippo, _with(SH, ["DELIVERED"], "data", "tracking_status")),
        (shippo, _with(SH, None, "data", "tracking_history", 0, "status_date")),
        (shippo, _with(SH, 7, "data", "tracking_history", 0)),
        (shippo, _with(SH, True, "data", "eta")),
        (aftership, _without(AS, "event")),
        (aftership, _without(AS, "msg")),
        (aftership, _without(AS, "msg", "tracking_number")),
        (aftership, _with(AS, "bad", "ts")),
        (aftership, _with(AS, "x", "msg", "checkpoints")),
        (aftership, _with(AS, None, "msg", "checkpoints", 0, "checkpoint_time")),
        (aftership, _with(AS, {"a": 1}, "msg", "tag")),
        (generic_carrier, _without(GE, "id")),
        (generic_carrier, _without(GE, "type")),
        (generic_carrier, _without(GE, "data")),
        (generic_carrier, _without(GE, "data", "status")),
        (generic_carrier, _without(GE, "data", "tracking_number")),
        (generic_carrier, _with(GE, [], "data", "scans")),
        (generic_carrier, _with(GE, "noon", "data", "scans", 0, "occurred_at")),
        (generic_carrier, _with(GE, "tomorrow", "data", "estimated_delivery")),
    ],
    ids=lambda v: v.__name__.rsplit(".", 1)[-1] if isinstance(v, ModuleType) else None,
)
def test_missing_or_wrong_fields_are_malformed(module: ModuleType, body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        module.parse({}, body)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _paths(value, (*prefix, index))


@by_name
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mangled_field_gives_events_or_malformed_payload(
    partner: Partner, data: st.DataObject
) -> None:
    original = _fixture_json(partner)
    path = data.draw(st.sampled_from(list(_paths(original))))
    if path and data.draw(st.booleans()):
        body = _without(original, *path) if isinstance(path[-1], str) else _json(original)
    else:
        value = data.draw(json_values)
        body = _json(value) if not path else _with(original, value, *path)
    try:
        events = partner.module.parse({}, body)
    except MalformedPayload:
        return
    for event in events:
        assert isinstance(event, (ShipmentUpdated, Ignored))
        assert event.occurred_at.tzinfo is not None
    assert isinstance(partner.module.delivery_id({}, body), str)
