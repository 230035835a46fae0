"""Case state machine: every legal and illegal move of every case type, against a written spec."""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from chalicelib.errors import InvalidTransition, MalformedPayload
from chalicelib.policy.case_state import (
    INITIAL_STATUS,
    SETTLED_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    CaseStatus,
    CaseType,
    Category,
    Priority,
    allowed_targets,
    can_transition,
    category_for_reason,
    is_open,
    is_terminal,
    raise_priority,
    statuses_of,
    transition,
)

# The lifecycle as the product describes it, written out by hand (independent of the table).
_RETURN_LIKE_HEAD = """
    new               -> approved pending_review rejected awaiting_customer cancelled
    awaiting_customer -> pending_review approved rejected cancelled closed
    pending_review    -> approved rejected awaiting_customer cancelled
    in_transit_back   -> received pending_review
    refund_pending    -> refunded pending_review
    refunded          -> closed
    rejected          -> pending_review closed
    closed            ->
    cancelled         ->
"""
_CONVERSATION = """
    new               -> open awaiting_customer resolved cancelled
    open              -> awaiting_customer refund_pending resolved cancelled
    awaiting_customer -> open resolved closed
    refund_pending    -> refunded
    refunded          -> closed
    resolved          -> open closed
    closed            ->
    cancelled         ->
"""
SPEC = {
    "return": _RETURN_LIKE_HEAD
    + """
    approved          -> in_transit_back received refund_pending cancelled
    received          -> inspected refund_pending
    inspected         -> refund_pending rejected pending_review
    """,
    "exchange": _RETURN_LIKE_HEAD
    + """
    approved          -> in_transit_back received cancelled
    received          -> inspected replacement_sent
    inspected         -> replacement_sent refund_pending rejected
    replacement_sent  -> resolved
    resolved          -> closed
    """,
    "complaint": _CONVERSATION,
    "shipping_exception": _CONVERSATION,
    "dispute": """
    new               -> open pending_review awaiting_customer cancelled
    open              -> pending_review awaiting_customer approved rejected cancelled
    awaiting_customer -> open pending_review closed
    pending_review    -> approved rejected awaiting_customer
    approved          -> refund_pending resolved
    refund_pending    -> refunded
    refunded          -> closed
    rejected          -> open closed
    resolved          -> open closed
    closed            ->
    cancelled         ->
    """,
    "inquiry": """
    new               -> open awaiting_customer resolved cancelled
    open              -> awaiting_customer resolved cancelled
    awaiting_customer -> open resolved closed
    resolved          -> open closed
    closed            ->
    cancelled         ->
    """,
}


def _parse(text: str) -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for line in filter(str.strip, text.splitlines()):
        src, _, targets = line.partition("->")
        table[src.strip()] = set(targets.split())
    return table


EXPECTED = {kind: _parse(text) for kind, text in SPEC.items()}
SOURCES = list(itertools.product(CaseType, CaseStatus))  # x every target status = every move


def test_spec_covers_every_case_type_and_matches_the_table() -> None:
    assert set(EXPECTED) == {t.value for t in CaseType}
    for kind in CaseType:
        actual = {s.value: {t.value for t in dsts} for s, dsts in TRANSITIONS[kind].items()}
        assert actual == EXPECTED[kind.value], kind


def _check_move(kind: CaseType, src: CaseStatus, dst: CaseStatus) -> None:
    spec = EXPECTED[kind.value]
    legal = dst.value in spec.get(src.value, set())
    assert can_transition(kind, src, dst) is legal
    if legal:
        assert transition(kind, src, dst) is dst
        assert transition(kind.value, src.value, dst.value) is dst  # stored strings work too
        return
    with pytest.raises(InvalidTransition) as caught:
        transition(kind, src, dst)
    message = str(caught.value)
    assert caught.value.http_status == 409 and caught.value.code == "invalid_transition"
    if src.value not in spec:
        assert f"{kind.value} cases have no status '{src.value}'" == message
        return
    assert f"from '{src.value}' to '{dst.value}'" in message
    assert kind.value in message
    allowed_part = message.rsplit(": ", 1)[1]
    if spec[src.value]:
        assert allowed_part.split(", ") == sorted(spec[src.value])
    else:
        assert allowed_part == "none, it is terminal"


@pytest.mark.parametrize(("kind", "src"), SOURCES, ids=[f"{k.value}:{s.value}" for k, s in SOURCES])
def test_every_move_from(kind: CaseType, src: CaseStatus) -> None:
    for dst in CaseStatus:
        try:
            _check_move(kind, src, dst)
        except AssertionError as exc:
            raise AssertionError(f"{kind.value}: {src.value} -> {dst.value}: {exc}") from exc


def test_staying_put_is_reported_as_such() -> None:
    with pytest.raises(InvalidTransition, match="already there"):
        transition(CaseType.RETURN, CaseStatus.APPROVED, CaseStatus.APPROVED)


@pytest.mark.parametrize(
    "bad",
    [("refund", "new", "open"), ("return", "nieuw", "approved"), ("return", "new", "aproved")],
)
def test_unknown_values_are_malformed_not_invalid(bad: tuple[str, str, str]) -> None:
    with pytest.raises(MalformedPayload):
        transition(*bad)


def _reachable(kind: CaseType, start: CaseStatus) -> set[CaseStatus]:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in TRANSITIONS[kind][todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.parametrize("kind", list(CaseType))
def test_graph_is_sound(kind: CaseType) -> None:
    table = TRANSITIONS[kind]
    assert INITIAL_STATUS in table and set(table) >= TERMINAL_STATUSES
    assert statuses_of(kind) == set(table)
    assert _reachable(kind, INITIAL_STATUS) == set(table), "every status is reachable"
    for status, targets in table.items():
        assert targets <= set(table), "targets are statuses of the same type"
        assert status not in targets, "no self-loops"
        assert (not targets) == is_terminal(status)
        assert _reachable(kind, status) & TERMINAL_STATUSES, f"{status} can still finish"
        assert allowed_targets(kind, status) == targets
    for settled in SETTLED_STATUSES & set(table) - TERMINAL_STATUSES:
        assert CaseStatus.CLOSED in table[settled], f"{settled} can be archived"


def test_open_means_not_settled() -> None:
    settled = {"rejected", "refunded", "resolved", "closed", "cancelled"}
    for status in CaseStatus:
        assert is_open(status) is (status.value not in settled)
        assert is_open(status.value) is is_open(status)
    assert {s.value for s in CaseStatus if is_terminal(s)} == {"closed", "cancelled"}


def test_a_status_another_type_does_not_use_has_no_targets() -> None:
    assert allowed_targets(CaseType.INQUIRY, CaseStatus.IN_TRANSIT_BACK) == frozenset()


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[CaseType.RETURN][CaseStatus.NEW] = frozenset()  # type: ignore[index]


def test_case_type_values() -> None:
    assert [t.value for t in CaseType] == [
        "return",
        "exchange",
        "complaint",
        "dispute",
        "shipping_exception",
        "inquiry",
    ]


def test_raise_priority_one_step_and_capped() -> None:
    assert raise_priority(Priority.LOW) is Priority.NORMAL
    assert raise_priority(Priority.NORMAL) is Priority.HIGH
    assert raise_priority(Priority.HIGH) is Priority.URGENT
    assert raise_priority(Priority.URGENT) is Priority.URGENT
    assert raise_priority("normal") is Priority.HIGH
    assert [p.rank for p in Priority] == [0, 1, 2, 3]


def test_categories_and_reasons() -> None:
    assert {c.value for c in Category} == {
        "wrong_size",
        "damaged",
        "not_as_described",
        "late",
        "missing_item",
        "quality",
        "changed_mind",
        "other",
    }
    assert category_for_reason("no_reason") is Category.CHANGED_MIND
    assert category_for_reason("") is Category.CHANGED_MIND
    assert category_for_reason(" Wrong_Size ") is Category.WRONG_SIZE
    assert category_for_reason("smells funny") is Category.OTHER
