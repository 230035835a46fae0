"""Carrier status normalization, update ordering and message selection (pure policy)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.events import TrackingStatus as S
from chalicelib.policy import tracking
from chalicelib.policy.tracking import (
    MEANINGFUL,
    carrier_name,
    message_kind,
    normalize,
    should_advance,
)
from tests.support import utc

# Every row of every table, written out independently of the tables themselves.
STATUS_ROWS = [
    ("easypost", "unknown", S.UNKNOWN),
    ("easypost", "pre_transit", S.LABEL_CREATED),
    ("easypost", "in_transit", S.IN_TRANSIT),
    ("easypost", "out_for_delivery", S.OUT_FOR_DELIVERY),
    ("easypost", "delivered", S.DELIVERED),
    ("easypost", "available_for_pickup", S.AVAILABLE_FOR_PICKUP),
    ("easypost", "return_to_sender", S.RETURNED_TO_SENDER),
    ("easypost", "failure", S.EXCEPTION),
    ("easypost", "cancelled", S.EXCEPTION),
    ("easypost", "error", S.UNKNOWN),
    ("shippo", "UNKNOWN", S.UNKNOWN),
    ("shippo", "PRE_TRANSIT", S.LABEL_CREATED),
    ("shippo", "TRANSIT", S.IN_TRANSIT),
    ("shippo", "DELIVERED", S.DELIVERED),
    ("shippo", "RETURNED", S.RETURNED_TO_SENDER),
    ("shippo", "FAILURE", S.EXCEPTION),
    ("aftership", "Pending", S.UNKNOWN),
    ("aftership", "InfoReceived", S.LABEL_CREATED),
    ("aftership", "InTransit", S.IN_TRANSIT),
    ("aftership", "OutForDelivery", S.OUT_FOR_DELIVERY),
    ("aftership", "AttemptFail", S.DELIVERY_FAILED),
    ("aftership", "Delivered", S.DELIVERED),
    ("aftership", "AvailableForPickup", S.AVAILABLE_FOR_PICKUP),
    ("aftership", "Exception", S.EXCEPTION),
    ("aftership", "Expired", S.UNKNOWN),
    ("generic", "label_created", S.LABEL_CREATED),
    ("generic", "in_transit", S.IN_TRANSIT),
    ("generic", "out_for_delivery", S.OUT_FOR_DELIVERY),
    ("generic", "available_for_pickup", S.AVAILABLE_FOR_PICKUP),
    ("generic", "delivered", S.DELIVERED),
    ("generic", "delivery_failed", S.DELIVERY_FAILED),
    ("generic", "exception", S.EXCEPTION),
    ("generic", "returned_to_sender", S.RETURNED_TO_SENDER),
    ("generic", "unknown", S.UNKNOWN),
]

SUBSTATUS_ROWS = [
    ("shippo", "TRANSIT", "out_for_delivery", S.OUT_FOR_DELIVERY),
    ("shippo", "TRANSIT", "delivery_attempted", S.DELIVERY_FAILED),
    ("shippo", "TRANSIT", "notice_left", S.DELIVERY_FAILED),
    ("shippo", "TRANSIT", "location_inaccessible", S.DELIVERY_FAILED),
    ("shippo", "TRANSIT", "reschedule_delivery", S.DELIVERY_FAILED),
    ("shippo", "TRANSIT", "pickup_available", S.AVAILABLE_FOR_PICKUP),
    ("shippo", "TRANSIT", "package_damaged", S.EXCEPTION),
    ("shippo", "TRANSIT", "address_issue", S.EXCEPTION),
    ("shippo", "TRANSIT", "contact_carrier", S.EXCEPTION),
    ("shippo", "TRANSIT", "package_held", S.EXCEPTION),
    ("shippo", "FAILURE", "package_undeliverable", S.DELIVERY_FAILED),
    ("shippo", "FAILURE", "package_lost", S.EXCEPTION),
    ("shippo", "FAILURE", "package_disposed", S.EXCEPTION),
    ("aftership", "Exception", "Exception_010", S.RETURNED_TO_SENDER),
    ("aftership", "Exception", "Exception_011", S.RETURNED_TO_SENDER),
]


@pytest.mark.parametrize(("carrier", "status", "expected"), STATUS_ROWS)
def test_status_table_row(carrier: str, status: str, expected: S) -> None:
    assert normalize(carrier, status) is expected


@pytest.mark.parametrize(("carrier", "status", "substatus", "expected"), SUBSTATUS_ROWS)
def test_substatus_table_row(carrier: str, status: str, substatus: str, expected: S) -> None:
    assert normalize(carrier, status, substatus) is expected


def test_every_table_row_is_tested_above() -> None:
    tested = {(c, s.casefold()) for c, s, _ in STATUS_ROWS}
    in_tables = {(c, s) for c, table in tracking.STATUS_TABLES.items() for s in table}
    assert tested == in_tables
    tested_sub = {(c, s.casefold(), sub.casefold()) for c, s, sub, _ in SUBSTATUS_ROWS}
    in_sub_tables = {(c, *k) for c, table in tracking.SUBSTATUS_TABLES.items() for k in table}
    assert tested_sub == in_sub_tables


@pytest.mark.parametrize(
    ("carrier", "status", "substatus", "expected"),
    [
        ("shippo", "TRANSIT", "package_departed", S.IN_TRANSIT),  # known, not a refinement
        ("shippo", "TRANSIT", "some_future_code", S.IN_TRANSIT),  # unknown substatus
        ("shippo", "DELIVERED", "information_received", S.DELIVERED),  # Shippo's doc sample
        ("shippo", "DELIVERED", "out_for_delivery", S.DELIVERED),  # refinement of other parent
        ("aftership", "Exception", "Exception_007", S.EXCEPTION),
        ("aftership", "InTransit", "Exception_011", S.IN_TRANSIT),
        ("aftership", "Delivered", "Delivered_002", S.DELIVERED),
        ("easypost", "in_transit", "arrived_at_facility", S.IN_TRANSIT),
    ],
)
def test_substatus_refines_only_under_its_parent(
    carrier: str, status: str, substatus: str, expected: S
) -> None:
    assert normalize(carrier, status, substatus) is expected


@pytest.mark.parametrize(
    ("carrier", "status"),
    [
        ("easypost", "in transit"),
        ("easypost", "teleported"),
        ("shippo", ""),
        ("aftership", "Lost"),
        ("dhl", "delivered"),  # no table for this source
        ("", "delivered"),
    ],
)
def test_unknown_values_are_unknown(carrier: str, status: str) -> None:
    assert normalize(carrier, status) is S.UNKNOWN


@pytest.mark.parametrize(
    ("carrier", "status", "substatus", "expected"),
    [
        ("EasyPost", " Delivered ", None, S.DELIVERED),
        ("SHIPPO", "transit", "OUT_FOR_DELIVERY", S.OUT_FOR_DELIVERY),
        ("aftership", "EXCEPTION", "exception_011", S.RETURNED_TO_SENDER),
    ],
)
def test_lookup_ignores_case_and_blanks(
    carrier: str, status: str, substatus: str | None, expected: S
) -> None:
    assert normalize(carrier, status, substatus) is expected


@given(st.text(), st.text(), st.none() | st.text())
def test_normalize_never_raises(carrier: str, status: str, substatus: str | None) -> None:
    assert isinstance(normalize(carrier, status, substatus), S)


def test_normalize_survives_non_strings() -> None:
    assert normalize(None, 3, {"code": "x"}) is S.UNKNOWN  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("usps", "USPS"),
        ("FedEx", "FedEx"),
        ("dhl_express", "DHL Express"),
        ("la_poste", "la_poste"),
        (None, ""),
        ("", ""),
    ],
)
def test_carrier_name(code: str | None, name: str) -> None:
    assert carrier_name(code) == name


# --- ordering ---------------------------------------------------------------------------

T0 = utc(2025, 3, 4, 9)
LATER = T0 + timedelta(hours=1)
EARLIER = T0 - timedelta(hours=1)
KNOWN = [s for s in S if s is not S.UNKNOWN]
NON_TERMINAL = [s for s in KNOWN if s not in tracking.TERMINAL]


def test_first_update_always_advances() -> None:
    for status in S:
        assert should_advance(None, None, status, T0)


@pytest.mark.parametrize("current", NON_TERMINAL)
@pytest.mark.parametrize("new", NON_TERMINAL)
def test_newer_non_terminal_wins_older_loses(current: S, new: S) -> None:
    assert should_advance(current, T0, new, LATER)
    assert not should_advance(current, T0, new, EARLIER)


def test_equal_times_break_ties_by_progress() -> None:
    assert should_advance(S.IN_TRANSIT, T0, S.OUT_FOR_DELIVERY, T0)
    assert not should_advance(S.OUT_FOR_DELIVERY, T0, S.IN_TRANSIT, T0)


@pytest.mark.parametrize("status", list(S))
def test_a_replay_does_not_advance(status: S) -> None:
    assert not should_advance(status, T0, status, T0)


@pytest.mark.parametrize("current", KNOWN)
def test_unknown_never_overrides_a_known_status(current: S) -> None:
    assert not should_advance(current, T0, S.UNKNOWN, LATER)


@pytest.mark.parametrize("new", KNOWN)
def test_any_known_status_replaces_unknown_even_if_older(new: S) -> None:
    assert should_advance(S.UNKNOWN, T0, new, EARLIER)


@pytest.mark.parametrize("new", NON_TERMINAL + [S.UNKNOWN])
def test_delivered_stays_delivered(new: S) -> None:
    assert not should_advance(S.DELIVERED, T0, new, LATER)


@pytest.mark.parametrize("at", [EARLIER, LATER])
def test_delivered_may_become_returned_to_sender(at: datetime) -> None:
    assert should_advance(S.DELIVERED, T0, S.RETURNED_TO_SENDER, at)


@pytest.mark.parametrize("new", [s for s in S if s is not S.RETURNED_TO_SENDER])
def test_returned_to_sender_is_never_left(new: S) -> None:
    # A "delivered" after a return is the parcel reaching the merchant, not the customer.
    assert not should_advance(S.RETURNED_TO_SENDER, T0, new, LATER)


@pytest.mark.parametrize("new", NON_TERMINAL)
def test_current_without_time_yields_to_a_timed_update(new: S) -> None:
    assert should_advance(S.LABEL_CREATED, None, new, EARLIER)


def test_newer_repeat_of_a_terminal_status_refreshes_its_time() -> None:
    assert should_advance(S.DELIVERED, T0, S.DELIVERED, LATER)
    assert not should_advance(S.DELIVERED, T0, S.DELIVERED, EARLIER)


def _fold(updates: list[tuple[S, datetime]]) -> tuple[S | None, datetime | None]:
    current: S | None = None
    current_at: datetime | None = None
    for status, at in updates:
        if should_advance(current, current_at, status, at):
            current, current_at = status, at
    return current, current_at


updates_strategy = st.lists(
    st.tuples(
        st.sampled_from(list(S)),
        st.integers(min_value=0, max_value=48).map(lambda h: T0 + timedelta(hours=h)),
    ),
    min_size=1,
    max_size=12,
)


@given(updates_strategy, st.data())
def test_any_replay_order_ends_where_time_order_ends(
    updates: list[tuple[S, datetime]], data: st.DataObject
) -> None:
    in_order = _fold(sorted(updates, key=lambda u: u[1]))
    shuffled = _fold(data.draw(st.permutations(updates)))
    assert shuffled == in_order


@given(updates_strategy)
def test_once_delivered_only_a_return_follows(updates: list[tuple[S, datetime]]) -> None:
    current: S | None = None
    current_at: datetime | None = None
    delivered = False
    for status, at in updates:
        if should_advance(current, current_at, status, at):
            current, current_at = status, at
        delivered = delivered or current is S.DELIVERED
        if delivered:
            assert current in (S.DELIVERED, S.RETURNED_TO_SENDER)


def test_a_realistic_late_replay_does_not_undo_delivery() -> None:
    timeline = [
        (S.LABEL_CREATED, utc(2025, 3, 4, 9)),
        (S.IN_TRANSIT, utc(2025, 3, 4, 18)),
        (S.OUT_FOR_DELIVERY, utc(2025, 3, 6, 7)),
        (S.DELIVERED, utc(2025, 3, 6, 13)),
    ]
    late = [timeline[3], timeline[0], timeline[2], timeline[1]]
    assert _fold(late) == (S.DELIVERED, utc(2025, 3, 6, 13))


# --- messages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (S.IN_TRANSIT, "shipment_in_transit"),
        (S.OUT_FOR_DELIVERY, "shipment_out_for_delivery"),
        (S.AVAILABLE_FOR_PICKUP, "shipment_available_for_pickup"),
        (S.DELIVERED, "shipment_delivered"),
        (S.DELIVERY_FAILED, "shipment_delivery_failed"),
        (S.EXCEPTION, "shipment_exception"),
        (S.RETURNED_TO_SENDER, "shipment_returned_to_sender"),
        (S.LABEL_CREATED, None),
        (S.UNKNOWN, None),
    ],
)
def test_message_kind(status: S, kind: str | None) -> None:
    assert message_kind(status) == kind
    assert (status in MEANINGFUL) is (kind is not None)
