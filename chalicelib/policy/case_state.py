"""Case lifecycle: types, statuses, allowed transitions per type (as data), priority, category.

Pure: no I/O, no clock. `TRANSITIONS` is the single source of truth for what may follow
what; `transition` is the only gate handlers use to move a case, and it raises
`errors.InvalidTransition` naming both states and the targets that are allowed.

Status meanings shared by every type:
  new                 created, nobody (human or autopilot) has acted yet
  open                someone is working on it
  awaiting_customer   we asked the customer something (photos, details); their move
  pending_review      a human must decide (return/exchange/dispute)
  approved/rejected   the decision
  in_transit_back     the customer's parcel is on its way to the warehouse
  received/inspected  the warehouse has it / has checked it
  replacement_sent    exchange: the new item left the warehouse
  refund_pending      money is owed; refunded: the marketplace confirmed it
  resolved            settled without money (or the fix was delivered); may be reopened
  closed/cancelled    terminal: archived after settling / withdrawn, duplicate or moot

A case is *open* (counts in queues and SLA) until it is settled: rejected, refunded,
resolved, closed or cancelled. Rejected and resolved cases can still be reopened.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from chalicelib.errors import InvalidTransition, MalformedPayload

__all__ = [
    "CaseType",
    "CaseStatus",
    "Priority",
    "Category",
    "TRANSITIONS",
    "INITIAL_STATUS",
    "TERMINAL_STATUSES",
    "SETTLED_STATUSES",
    "statuses_of",
    "allowed_targets",
    "can_transition",
    "transition",
    "is_open",
    "is_terminal",
    "raise_priority",
    "category_for_reason",
]


class CaseType(StrEnum):
    """What a case is about."""

    RETURN = "return"
    EXCHANGE = "exchange"
    COMPLAINT = "complaint"
    DISPUTE = "dispute"
    SHIPPING_EXCEPTION = "shipping_exception"
    INQUIRY = "inquiry"


class CaseStatus(StrEnum):
    """Where a case stands. Each case type uses the subset its transition table names."""

    NEW = "new"
    OPEN = "open"
    AWAITING_CUSTOMER = "awaiting_customer"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_TRANSIT_BACK = "in_transit_back"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REPLACEMENT_SENT = "replacement_sent"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Priority(StrEnum):
    """How urgently a case needs a human, lowest first."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for LOW up to 3 for URGENT; compare priorities by rank, never by value."""
        return _PRIORITY_ORDER.index(self)


_PRIORITY_ORDER: tuple[Priority, ...] = (
    Priority.LOW,
    Priority.NORMAL,
    Priority.HIGH,
    Priority.URGENT,
)


class Category(StrEnum):
    """The problem type, for routing and the weekly report."""

    WRONG_SIZE = "wrong_size"
    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"
    LATE = "late"
    MISSING_ITEM = "missing_item"
    QUALITY = "quality"
    CHANGED_MIND = "changed_mind"  # "no reason" returns
    OTHER = "other"


_S = CaseStatus

# Allowed moves per case type. Comments say why a less obvious edge exists.
_RETURN: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.NEW: frozenset(
        {_S.APPROVED, _S.PENDING_REVIEW, _S.REJECTED, _S.AWAITING_CUSTOMER, _S.CANCELLED}
    ),
    _S.AWAITING_CUSTOMER: frozenset(
        {_S.PENDING_REVIEW, _S.APPROVED, _S.REJECTED, _S.CANCELLED, _S.CLOSED}
    ),  # closed: no reply in time
    _S.PENDING_REVIEW: frozenset({_S.APPROVED, _S.REJECTED, _S.AWAITING_CUSTOMER, _S.CANCELLED}),
    # received without a carrier scan (drop-off at the counter); refund_pending: returnless
    # refund; cancelled: the customer never sent the parcel and the approval expired
    _S.APPROVED: frozenset({_S.IN_TRANSIT_BACK, _S.RECEIVED, _S.REFUND_PENDING, _S.CANCELLED}),
    _S.IN_TRANSIT_BACK: frozenset({_S.RECEIVED, _S.PENDING_REVIEW}),  # review: parcel lost
    _S.RECEIVED: frozenset({_S.INSPECTED, _S.REFUND_PENDING}),  # refund on receipt
    # rejected: failed inspection; pending_review: the dispositions allow no automatic refund
    _S.INSPECTED: frozenset({_S.REFUND_PENDING, _S.REJECTED, _S.PENDING_REVIEW}),
    _S.REFUND_PENDING: frozenset({_S.REFUNDED, _S.PENDING_REVIEW}),  # review: refund failed
    _S.REFUNDED: frozenset({_S.CLOSED}),
    _S.REJECTED: frozenset({_S.PENDING_REVIEW, _S.CLOSED}),  # appeal reopens review
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}

_EXCHANGE: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.NEW: frozenset(
        {_S.APPROVED, _S.PENDING_REVIEW, _S.REJECTED, _S.AWAITING_CUSTOMER, _S.CANCELLED}
    ),
    _S.AWAITING_CUSTOMER: frozenset(
        {_S.PENDING_REVIEW, _S.APPROVED, _S.REJECTED, _S.CANCELLED, _S.CLOSED}
    ),
    _S.PENDING_REVIEW: frozenset({_S.APPROVED, _S.REJECTED, _S.AWAITING_CUSTOMER, _S.CANCELLED}),
    _S.APPROVED: frozenset({_S.IN_TRANSIT_BACK, _S.RECEIVED, _S.CANCELLED}),
    _S.IN_TRANSIT_BACK: frozenset({_S.RECEIVED, _S.PENDING_REVIEW}),
    _S.RECEIVED: frozenset({_S.INSPECTED, _S.REPLACEMENT_SENT}),
    # refund_pending: the replacement is out of stock, so the exchange becomes a refund
    _S.INSPECTED: frozenset({_S.REPLACEMENT_SENT, _S.REFUND_PENDING, _S.REJECTED}),
    _S.REPLACEMENT_SENT: frozenset({_S.RESOLVED}),
    _S.REFUND_PENDING: frozenset({_S.REFUNDED, _S.PENDING_REVIEW}),  # review: refund failed
    _S.REFUNDED: frozenset({_S.CLOSED}),
    _S.RESOLVED: frozenset({_S.CLOSED}),
    _S.REJECTED: frozenset({_S.PENDING_REVIEW, _S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}

# Conversation-shaped cases: complaint, shipping exception (with an optional compensation
# refund) and inquiry (no money). "resolved -> open" is a reopen: the fix did not hold.
_COMPLAINT: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.NEW: frozenset({_S.OPEN, _S.AWAITING_CUSTOMER, _S.RESOLVED, _S.CANCELLED}),
    _S.OPEN: frozenset({_S.AWAITING_CUSTOMER, _S.REFUND_PENDING, _S.RESOLVED, _S.CANCELLED}),
    _S.AWAITING_CUSTOMER: frozenset({_S.OPEN, _S.RESOLVED, _S.CLOSED}),
    _S.REFUND_PENDING: frozenset({_S.REFUNDED}),
    _S.REFUNDED: frozenset({_S.CLOSED}),
    _S.RESOLVED: frozenset({_S.OPEN, _S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}

_DISPUTE: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.NEW: frozenset({_S.OPEN, _S.PENDING_REVIEW, _S.AWAITING_CUSTOMER, _S.CANCELLED}),
    _S.OPEN: frozenset(
        {_S.PENDING_REVIEW, _S.AWAITING_CUSTOMER, _S.APPROVED, _S.REJECTED, _S.CANCELLED}
    ),
    _S.AWAITING_CUSTOMER: frozenset({_S.OPEN, _S.PENDING_REVIEW, _S.CLOSED}),
    _S.PENDING_REVIEW: frozenset({_S.APPROVED, _S.REJECTED, _S.AWAITING_CUSTOMER}),
    _S.APPROVED: frozenset({_S.REFUND_PENDING, _S.RESOLVED}),  # resolved: non-monetary remedy
    _S.REFUND_PENDING: frozenset({_S.REFUNDED}),
    _S.REFUNDED: frozenset({_S.CLOSED}),
    _S.REJECTED: frozenset({_S.OPEN, _S.CLOSED}),  # open: the customer appeals
    _S.RESOLVED: frozenset({_S.OPEN, _S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}

_INQUIRY: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.NEW: frozenset({_S.OPEN, _S.AWAITING_CUSTOMER, _S.RESOLVED, _S.CANCELLED}),
    _S.OPEN: frozenset({_S.AWAITING_CUSTOMER, _S.RESOLVED, _S.CANCELLED}),
    _S.AWAITING_CUSTOMER: frozenset({_S.OPEN, _S.RESOLVED, _S.CLOSED}),
    _S.RESOLVED: frozenset({_S.OPEN, _S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}

TRANSITIONS: Mapping[CaseType, Mapping[CaseStatus, frozenset[CaseStatus]]] = MappingProxyType(
    {
        CaseType.RETURN: MappingProxyType(_RETURN),
        CaseType.EXCHANGE: MappingProxyType(_EXCHANGE),
        CaseType.COMPLAINT: MappingProxyType(_COMPLAINT),
        CaseType.DISPUTE: MappingProxyType(_DISPUTE),
        # cancelled: the exception cleared itself (the parcel was delivered after all)
        CaseType.SHIPPING_EXCEPTION: MappingProxyType(dict(_COMPLAINT)),
        CaseType.INQUIRY: MappingProxyType(_INQUIRY),
    }
)

INITIAL_STATUS = CaseStatus.NEW
TERMINAL_STATUSES: frozenset[CaseStatus] = frozenset({CaseStatus.CLOSED, CaseStatus.CANCELLED})
SETTLED_STATUSES: frozenset[CaseStatus] = TERMINAL_STATUSES | {
    CaseStatus.REJECTED,
    CaseStatus.REFUNDED,
    CaseStatus.RESOLVED,
}


def _case_type(value: CaseType | str) -> CaseType:
    try:
        return CaseType(value)
    except ValueError:
        known = ", ".join(t.value for t in CaseType)
        raise MalformedPayload(f"unknown case type {value!r} (known: {known})") from None


def _status(value: CaseStatus | str) -> CaseStatus:
    try:
        return CaseStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in CaseStatus)
        raise MalformedPayload(f"unknown case status {value!r} (known: {known})") from None


def statuses_of(case_type: CaseType | str) -> frozenset[CaseStatus]:
    """The statuses a case of this type can be in. Raises MalformedPayload for an unknown type."""
    return frozenset(TRANSITIONS[_case_type(case_type)])


def allowed_targets(case_type: CaseType | str, current: CaseStatus | str) -> frozenset[CaseStatus]:
    """Where a case may go next; empty for a terminal status or one its type does not use.

    Raises MalformedPayload for an unknown type or status value.
    """
    return TRANSITIONS[_case_type(case_type)].get(_status(current), frozenset())


def can_transition(
    case_type: CaseType | str, current: CaseStatus | str, target: CaseStatus | str
) -> bool:
    """Whether `transition` would succeed. Raises MalformedPayload for unknown values."""
    return _status(target) in allowed_targets(case_type, current)


def transition(
    case_type: CaseType | str, current: CaseStatus | str, target: CaseStatus | str
) -> CaseStatus:
    """The new status, if a `case_type` case may move from `current` to `target`.

    Raises InvalidTransition (naming both states and the allowed targets) when it may not,
    including `current == target` and statuses the type does not use; MalformedPayload for
    values that are no case type or status at all.
    """
    kind, src, dst = _case_type(case_type), _status(current), _status(target)
    table = TRANSITIONS[kind]
    if src not in table:
        raise InvalidTransition(f"{kind.value} cases have no status {src.value!r}")
    allowed = table[src]
    if dst in allowed:
        return dst
    listed = ", ".join(sorted(s.value for s in allowed)) or "none, it is terminal"
    why = "already there" if src is dst else "not allowed"
    raise InvalidTransition(
        f"{kind.value} case cannot move from {src.value!r} to {dst.value!r} ({why}); "
        f"allowed from {src.value!r}: {listed}"
    )


def is_terminal(status: CaseStatus | str) -> bool:
    """True for closed and cancelled: no case type lets a case leave them."""
    return _status(status) in TERMINAL_STATUSES


def is_open(status: CaseStatus | str) -> bool:
    """True while the case still needs someone to act (it counts in queues and SLA)."""
    return _status(status) not in SETTLED_STATUSES


def raise_priority(priority: Priority | str) -> Priority:
    """One step up (low -> normal -> high -> urgent); urgent stays urgent."""
    current = Priority(priority)
    return _PRIORITY_ORDER[min(current.rank + 1, len(_PRIORITY_ORDER) - 1)]


_REASON_ALIASES = {"no_reason": Category.CHANGED_MIND, "": Category.CHANGED_MIND}


def category_for_reason(reason: str) -> Category:
    """The category of a normalized return/complaint reason code; unknown codes are OTHER."""
    code = reason.strip().lower()
    if code in _REASON_ALIASES:
        return _REASON_ALIASES[code]
    try:
        return Category(code)
    except ValueError:
        return Category.OTHER
