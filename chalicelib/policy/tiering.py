"""Customer tiers, order risk and case routing: VIP, high-risk orders, who answers a case.

Pure: no I/O; every decision is a frozen dataclass carrying its reasons.

Rules (PRODUCT.md, defaults in `TierRules`, merchants may tune):
- VIP: trailing-12-month spend above `vip_spend_threshold` (strictly above), or at least
  `vip_min_orders` orders in that window. Spend is compared only when it is in the rules'
  currency (`TierRules.currency`, None = the shop currency the stats are kept in).
- High-risk order: total above `high_risk_order_value`, or the customer has at least
  `high_risk_complaints` past complaints; a high-risk order gets a proactive check-in.
- Routing: VIP -> priority queue and a VIP-dedicated agent; a returning customer keeps the
  agent they had when that agent is available (and, for a VIP, dedicated or no dedicated
  agent is free); an angry or anxious customer needs a senior (senior or supervisor) and
  the history attached. Among equals the lowest sufficient role is preferred (supervisors
  are kept free), then the order the caller gave (pass agents least busy first). With no
  suitable agent available the case waits in its queue for the required role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from chalicelib.events import Money
from chalicelib.policy.emotion import EmotionSignal

__all__ = [
    "CustomerStats",
    "TierRules",
    "TierDecision",
    "RiskDecision",
    "Agent",
    "CaseFacts",
    "Routing",
    "customer_tier",
    "order_risk",
    "route",
]

Role = Literal["agent", "senior", "supervisor"]
_RANK: dict[str, int] = {"agent": 0, "senior": 1, "supervisor": 2}


@dataclass(frozen=True)
class CustomerStats:
    """A customer's trailing-12-month figures, kept by the store from events."""

    spend_12m: Money
    order_count: int
    complaint_count: int = 0
    returns_count: int = 0


@dataclass(frozen=True)
class TierRules:
    """Thresholds for VIP and high-risk decisions. Raises `ValueError` for negative values."""

    vip_spend_threshold: Decimal = Decimal("10000")
    vip_min_orders: int = 5
    high_risk_order_value: Decimal = Decimal("5000")
    high_risk_complaints: int = 2
    currency: str | None = None

    def __post_init__(self) -> None:
        for name in ("vip_spend_threshold", "vip_min_orders", "high_risk_order_value"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.high_risk_complaints < 1:
            raise ValueError("high_risk_complaints must be at least 1")


@dataclass(frozen=True)
class TierDecision:
    """The customer's tier and why."""

    tier: Literal["vip", "standard"]
    reasons: tuple[str, ...]

    @property
    def vip(self) -> bool:
        """True for the VIP tier."""
        return self.tier == "vip"


@dataclass(frozen=True)
class RiskDecision:
    """Whether an order is high-risk (so it gets a proactive check-in) and why."""

    high_risk: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Agent:
    """Someone who can take a case."""

    agent_id: str
    role: Role = "agent"
    available: bool = True
    vip_dedicated: bool = False

    def __post_init__(self) -> None:
        if self.role not in _RANK:
            raise ValueError(f"agent {self.agent_id}: unknown role {self.role!r}")


@dataclass(frozen=True)
class CaseFacts:
    """What routing looks at: the customer's tier, the message's emotion, their last agent."""

    vip: bool = False
    emotion: EmotionSignal | None = None
    previous_agent_id: str | None = None


@dataclass(frozen=True)
class Routing:
    """Where a case goes: queue, agent (None = waits in the queue), required role, reasons."""

    queue: Literal["priority", "standard"]
    agent_id: str | None
    min_role: Role
    attach_history: bool
    reasons: tuple[str, ...]


def customer_tier(stats: CustomerStats, rules: TierRules | None = None) -> TierDecision:
    """VIP when spend is above the threshold or the order count reaches the minimum."""
    rules = rules or TierRules()
    spend = stats.spend_12m
    reasons = []
    comparable = rules.currency is None or spend.currency == rules.currency
    by_spend = comparable and spend.amount > rules.vip_spend_threshold
    by_orders = stats.order_count >= rules.vip_min_orders
    if by_spend:
        reasons.append(f"12-month spend {spend} above {rules.vip_spend_threshold}")
    if by_orders:
        reasons.append(f"{stats.order_count} orders in 12 months (VIP from {rules.vip_min_orders})")
    if not comparable:
        reasons.append(f"spend in {spend.currency} not compared with a {rules.currency} threshold")
    if not (by_spend or by_orders):
        reasons.append(
            f"12-month spend {spend} not above {rules.vip_spend_threshold} and "
            f"{stats.order_count} orders below {rules.vip_min_orders}"
        )
    return TierDecision("vip" if by_spend or by_orders else "standard", tuple(reasons))


def order_risk(order_total: Money, complaints: int, rules: TierRules | None = None) -> RiskDecision:
    """High-risk when the order total is above the limit or past complaints reach the limit."""
    rules = rules or TierRules()
    reasons = []
    comparable = rules.currency is None or order_total.currency == rules.currency
    if comparable and order_total.amount > rules.high_risk_order_value:
        reasons.append(f"order total {order_total} above {rules.high_risk_order_value}")
    if complaints >= rules.high_risk_complaints:
        reasons.append(
            f"{complaints} past complaints (high risk from {rules.high_risk_complaints})"
        )
    if reasons:
        return RiskDecision(True, (*reasons, "proactive check-in before problems arise"))
    why = f"order total {order_total} and {complaints} past complaint(s) within limits"
    if not comparable:
        why += f" (total in {order_total.currency} not compared with {rules.currency})"
    return RiskDecision(False, (why,))


def route(facts: CaseFacts, agents: Sequence[Agent]) -> Routing:
    """Pick the queue and agent for a case (see the module docstring for the order of rules)."""
    emotion = facts.emotion
    needs_senior = emotion is not None and (emotion.level == "angry" or emotion.anxious)
    min_role: Role = "senior" if needs_senior else "agent"
    queue: Literal["priority", "standard"] = "priority" if facts.vip else "standard"
    reasons = [f"{'VIP' if facts.vip else 'standard'} customer -> {queue} queue"]
    if emotion is not None and needs_senior:
        mood = " and ".join(m for m in (emotion.level, "anxious" * emotion.anxious) if m != "calm")
        reasons.append(f"customer sounds {mood} ({', '.join(emotion.cues)}) -> senior agent")

    def fits(agent: Agent) -> bool:
        return agent.available and _RANK[agent.role] >= _RANK[min_role]

    ranked = sorted((a for a in agents if fits(a)), key=lambda a: _RANK[a.role])
    previous = next((a for a in agents if a.agent_id == facts.previous_agent_id), None)
    if facts.previous_agent_id is not None and (previous is None or not fits(previous)):
        state = "unknown" if previous is None else "unavailable or not senior enough"
        reasons.append(f"previous agent {facts.previous_agent_id} {state}")
        previous = None
    dedicated = [a for a in ranked if a.vip_dedicated]

    choice: Agent | None = None
    if facts.vip and previous is not None and previous.vip_dedicated:
        choice, why = previous, "returning VIP keeps their dedicated agent"
    elif facts.vip and dedicated:
        choice, why = dedicated[0], "VIP gets a dedicated agent"
    elif previous is not None:
        choice, why = previous, "returning customer continues with their previous agent"
        if facts.vip:
            why += " (no dedicated VIP agent free)"
    elif ranked:
        choice, why = ranked[0], f"first available {ranked[0].role}"
        if facts.vip:
            why += " (no dedicated VIP agent free)"
    else:
        why = f"no available {min_role}; waits in the {queue} queue"
    if choice is not None:
        why = f"{why}: {choice.agent_id}"
    reasons.append(why)
    attach = needs_senior or facts.previous_agent_id is not None
    if attach:
        reasons.append("history attached")
    return Routing(
        queue, None if choice is None else choice.agent_id, min_role, attach, tuple(reasons)
    )
