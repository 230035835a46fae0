"""VIP routing at case creation, and the customer figures it reads.

Customer figures (issue 7): each order placed adds `{order_id, at, total}` to the customer's
`orders_12m` list (once per order; entries older than 12 months are dropped whenever the
list is written). A customer stored before the list existed falls back to their lifetime
`spend` and order count. Complaints are counted on the customer by `cases.open_case`.

When a complaint, dispute or inquiry opens (`route_new_case`, called by `open_case` before
the case is written), the pure policy decides (`policy/tiering.py`, `policy/emotion.py`):
- VIP (12-month spend above `tiers.vip_spend_threshold`, default 10,000, or at least
  `tiers.vip_min_orders`, default 5, orders in 12 months, counted at the case's opening):
  `vip` flag and tag, priority queue, SLA times the policy's `vip_multiplier` (shorter);
- high risk (order total above `tiers.high_risk_order_value`, default 5,000, or the
  customer's past complaints >= `tiers.high_risk_complaints`, default 2): `high_risk` flag
  and tag on the case (and `high_risk` on the order when the order is written);
- angry or anxious wording raises the priority (`emotion.priority_boost`) and needs a senior;
- the assignee (`tiering.route` over the settings API's `agents` section): a VIP gets the
  `priority_agent`, an angry or anxious customer one of the `senior_agents`, a returning
  customer their last agent when that agent is on the roster (`priority_agent`,
  `senior_agents` or `team`) and not in `agents.unavailable`; other cases wait unassigned
  in their queue. The customer's `last_agent` and `tier` are updated (an ops `assign` also
  sets `last_agent`, `ops.py`).

The tier of a new case is computed from the dated 12-month list at the moment it opens.
Open cases follow tier changes (`handlers/tier_review.py`): an order that makes a VIP
re-routes their open cases at once, and a VIP sits on the due index (kind TIER) until the
oldest order of their window leaves it (`review_tier`), when the hourly job looks again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from chalicelib.events import Money
from chalicelib.log import get_logger
from chalicelib.policy import case_state
from chalicelib.policy.emotion import detect_emotion, priority_boost
from chalicelib.policy.stuck_flows import moment
from chalicelib.policy.tier_review import next_review
from chalicelib.policy.tiering import (
    Agent,
    CaseFacts,
    CustomerStats,
    TierDecision,
    TierRules,
    customer_tier,
    order_risk,
    route,
)
from chalicelib.store import keys
from chalicelib.store.models import CaseItem

if TYPE_CHECKING:
    from chalicelib.store.models import CustomerItem, MerchantItem, OrderItem

__all__ = [
    "WINDOW",
    "tier_rules",
    "record_order",
    "customer_stats",
    "order_is_high_risk",
    "route_new_case",
    "agents_of",
    "review_tier",
]

log = get_logger(__name__)
WINDOW = timedelta(days=365)
_RULE_FIELDS = {
    "vip_spend_threshold": Decimal,
    "vip_min_orders": int,
    "high_risk_order_value": Decimal,
    "high_risk_complaints": int,
}


def tier_rules(merchant: MerchantItem) -> TierRules:
    """The merchant's thresholds (`settings.tiers`), defaults when absent or invalid."""
    raw = (merchant.settings or {}).get("tiers")
    if not isinstance(raw, Mapping):
        return TierRules()
    try:
        values: dict[str, Any] = {
            name: cast(str(raw[name]))
            for name, cast in _RULE_FIELDS.items()
            if raw.get(name) is not None
        }
        if isinstance(raw.get("currency"), str):
            values["currency"] = raw["currency"]
        return TierRules(**values)
    except (ValueError, TypeError, InvalidOperation) as exc:
        log.warning("invalid tiers setting; defaults used", extra={"why": str(exc)})
        return TierRules()


def record_order(
    customer: CustomerItem, order_id: str, placed_at: datetime, total: Decimal, now: datetime
) -> None:
    """Add the order to the customer's 12-month list (once) and drop entries past 12 months."""
    horizon = keys.iso(now - WINDOW)
    kept = [e for e in customer.orders_12m or [] if e["at"] >= horizon]
    if not any(e["order_id"] == order_id for e in kept):
        kept.append({"order_id": order_id, "at": keys.iso(placed_at), "total": str(total)})
    customer.orders_12m = sorted(kept, key=lambda e: e["at"])


def customer_stats(customer: CustomerItem, currency: str, now: datetime) -> CustomerStats:
    """The customer's trailing-12-month spend and order count at `now`, and complaints."""
    complaints = int(customer.complaints or 0)
    if customer.orders_12m is None:  # stored before the dated list: lifetime figures
        spend = Decimal(customer.spend or "0")
        return CustomerStats(Money(spend, currency), len(customer.order_ids or ()), complaints)
    low, high = keys.iso(now - WINDOW), keys.iso(now)
    window = [e for e in customer.orders_12m if low <= e["at"] <= high]
    spend = sum((Decimal(e["total"]) for e in window), Decimal(0))
    return CustomerStats(Money(spend, currency), len(window), complaints)


def order_is_high_risk(order: OrderItem, complaints: int, rules: TierRules) -> bool:
    """Whether `order` is high-risk (total above the limit, or past complaints)."""
    total = Money(Decimal(order.total or "0"), order.currency)
    return order_risk(total, complaints, rules).high_risk


def agents_of(merchant: MerchantItem, vip: bool, previous: str | None = None) -> list[Agent]:
    """The agents routing may pick, from the settings API's `agents` section: the
    `senior_agents`, for a VIP the `priority_agent` (as a VIP-dedicated agent), and the
    customer's `previous` agent when on the roster (`priority_agent`, `senior_agents`,
    `team`). Agents listed in `agents.unavailable` are marked unavailable."""
    raw = (merchant.settings or {}).get("agents")
    section = raw if isinstance(raw, Mapping) else {}
    away = {str(name) for name in section.get("unavailable") or []}
    agents = []
    priority = section.get("priority_agent")
    if vip and isinstance(priority, str) and priority:
        agents.append(Agent(priority, "agent", priority not in away, vip_dedicated=True))
    for name in section.get("senior_agents") or []:
        if isinstance(name, str) and name and name != priority:
            agents.append(Agent(name, "senior", name not in away))
    listed = {agent.agent_id for agent in agents}
    roster = {priority, *(section.get("team") or [])} - listed
    if previous and previous in roster:
        agents.append(Agent(previous, "agent", previous not in away))
    return agents


def review_tier(customer: CustomerItem, merchant: MerchantItem, now: datetime) -> TierDecision:
    """Recompute the customer's tier at `now` (sets `tier`) and put a VIP on the due index
    (kind TIER) at the moment the oldest order of their window leaves it; a standard
    customer leaves the index."""
    rules = tier_rules(merchant)
    decision = customer_tier(customer_stats(customer, merchant.currency or "USD", now), rules)
    customer.tier = decision.tier
    times = [t for t in (moment(e.get("at")) for e in customer.orders_12m or []) if t]
    dated = customer.orders_12m is not None  # lifetime figures only: no moment to wait for
    when = next_review(times, decision.vip, now, WINDOW) if dated else None
    if when is None:
        customer.due_pk = customer.due_sk = None
    else:
        customer.due_pk = keys.due_partition(keys.TIER_DUE, customer.pk)
        customer.due_sk = keys.due_sort(when, customer.pk)
    return decision


def route_new_case(
    case: CaseItem,
    merchant: MerchantItem,
    customer: CustomerItem | None,
    order: OrderItem | None,
    text: str,
    now: datetime,
) -> None:
    """Flag, prioritise and assign a new case (see the module docstring); updates the
    customer's `tier` and `last_agent` in memory (the caller saves the customer)."""
    rules = tier_rules(merchant)
    vip, reasons = False, []
    complaints = int(customer.complaints or 0) if customer is not None else 0
    if customer is not None:
        decision = review_tier(customer, merchant, now)
        vip, reasons = decision.vip, list(decision.reasons)
    high_risk = False
    if order is not None:
        risk = order_risk(Money(Decimal(order.total or "0"), order.currency), complaints, rules)
        high_risk, reasons = risk.high_risk, reasons + list(risk.reasons)
    elif complaints >= rules.high_risk_complaints:
        high_risk = True
        reasons.append(
            f"{complaints} past complaints (high risk from {rules.high_risk_complaints})"
        )
    emotion = detect_emotion(text) if text else None
    tags = set(case.tags or ())
    case.vip, case.high_risk = vip, high_risk
    if vip:
        tags.add("vip")
    if high_risk:
        tags.add("high_risk")
    priority = case.priority or "normal"
    for _ in range(priority_boost(emotion) if emotion else 0):
        priority = case_state.raise_priority(priority).value
    case.priority = priority
    previous = customer.last_agent if customer is not None else None
    agents = agents_of(merchant, vip, previous)
    routing = route(CaseFacts(vip, emotion, previous), agents)
    assignee = routing.agent_id
    dedicated = {agent.agent_id for agent in agents if agent.vip_dedicated}
    # seniors are listed for escalations: a calm standard case is not handed to one just
    # because they are the only agents known; it waits in its queue
    if routing.min_role == "agent" and assignee not in dedicated | {previous}:
        assignee = None
    if case.assignee is None and assignee:
        case.assignee = str(assignee)
    if customer is not None and case.assignee:
        customer.last_agent = case.assignee
    case.tags = tags
    case.details = {
        **(case.details or {}),
        "queue": routing.queue,
        "routing": [*reasons, *routing.reasons],
        **({"emotion": {"level": emotion.level, "cues": list(emotion.cues)}} if emotion else {}),
    }
