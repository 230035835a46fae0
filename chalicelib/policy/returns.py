"""Return auto-approval: a merchant's rules applied to a return request, every step explained.

`decide(facts, rules)` evaluates every rule of HARD_RULES (a failure: not eligible) then
SOFT_RULES (a failure: a human reviews), so the trace is always complete. The deciding rule is
the first failed hard rule, else the first failed soft one, else none (approved). Each result
carries a message key plus string params (for the portal to translate) and English text.
The window counts calendar days in the shop's time zone, delivery day = day 0: with 7 days, a
parcel delivered on a Monday may be returned until the end of the next Monday. Pure and
deterministic (`now` and the zone are facts). Rule amounts are in the shop currency; the
caller passes facts in that currency.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from chalicelib.errors import MalformedPayload
from chalicelib.events import Money

__all__ = [
    "Outcome",
    "ReturnRules",
    "RequestedLine",
    "ReturnFacts",
    "RuleResult",
    "Decision",
    "decide",
    "HARD_RULES",
    "SOFT_RULES",
    "DEFAULT_REASONS",
    "MESSAGES_EN",
    "ORDER_STATUSES",
    "FULFILLMENT_STATUSES",
]


class Outcome(StrEnum):
    """What the autopilot decided, least to most severe."""

    APPROVED = "approved"
    NEEDS_REVIEW = "needs_review"
    NOT_ELIGIBLE = "not_eligible"


HARD_RULES = (
    "order_active",
    "delivered",
    "return_window",
    "product_returnable",
    "quantity_available",
)
SOFT_RULES = (
    "auto_approve",
    "reason_allowed",
    "value_ceiling",
    "order_value",
    "return_frequency",
    "complaint_history",
)

# "missing_item" is left out: nobody can send back what never arrived; a human decides
# between a reship and a refund.
DEFAULT_REASONS = frozenset(
    {
        "wrong_size",
        "damaged",
        "not_as_described",
        "late",
        "quality",
        "changed_mind",
        "no_reason",
        "other",
    }
)
ORDER_STATUSES = frozenset({"open", "closed", "partially_refunded", "refunded", "cancelled"})
FULFILLMENT_STATUSES = frozenset({"unfulfilled", "partial", "fulfilled"})
_DEAD_ORDER = frozenset({"refunded", "cancelled"})
_ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "XAF", "XOF"})


def _names(value: object, field: str, *, lower: bool = True) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise MalformedPayload(f"{field} must be a list of strings, got {type(value).__name__}")
    out = set()
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise MalformedPayload(f"{field} must hold non-empty strings, got {item!r}")
        out.add(item.strip().lower() if lower else item.strip())
    return frozenset(out)


def _count(value: object, field: str) -> int:
    # DynamoDB hands numbers back as Decimal; an integral one is accepted.
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedPayload(f"{field} must be a whole number >= 0, got {value!r}")
    return value


def _amount(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise MalformedPayload(f"{field} must be a decimal string or integer, got {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MalformedPayload(f"{field} is not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise MalformedPayload(f"{field} must be a finite amount >= 0, got {value!r}")
    return amount


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise MalformedPayload(f"{field} must be true or false, got {value!r}")
    return value


_RULE_CHECKS: Mapping[str, Callable[[object, str], object]] = {
    "window_days": _count,
    "require_delivered": _flag,
    "allowed_reasons": _names,
    "excluded_skus": lambda v, f: _names(v, f, lower=False),
    "excluded_tags": _names,
    "auto_approve": _flag,
    "auto_approve_max_value": _amount,
    "high_value_order_threshold": _amount,
    "max_returns_90d": _count,
    "max_complaints": _count,
}


@dataclass(frozen=True)
class ReturnRules:
    """A merchant's return policy. Amounts are in the shop currency.

    `max_returns_90d` and `max_complaints` are review thresholds: a customer who already has
    that many returns (last 90 days) or complaints goes to a human. Construction validates
    and normalizes (tags and reasons lower-cased); raises MalformedPayload on bad values.
    """

    window_days: int = 7
    require_delivered: bool = True
    allowed_reasons: frozenset[str] = DEFAULT_REASONS
    excluded_skus: frozenset[str] = frozenset()
    excluded_tags: frozenset[str] = frozenset({"final-sale", "hygiene"})
    auto_approve: bool = True
    auto_approve_max_value: Decimal = Decimal("200.00")
    high_value_order_threshold: Decimal = Decimal("5000")
    max_returns_90d: int = 3
    max_complaints: int = 2

    def __post_init__(self) -> None:
        for f in fields(self):
            check = _RULE_CHECKS[f.name]
            object.__setattr__(self, f.name, check(getattr(self, f.name), f.name))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ReturnRules:
        """Rules from stored or submitted settings; missing keys take the defaults.

        Raises MalformedPayload for a non-mapping, an unknown key or a bad value.
        """
        if not isinstance(data, Mapping):
            raise MalformedPayload(f"return rules must be an object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise MalformedPayload(f"unknown return rule setting(s): {', '.join(unknown)}")
        return cls(**data)  # type: ignore[arg-type]  # __post_init__ validates every value

    def to_dict(self) -> dict[str, object]:
        """JSON-ready settings (amounts as strings, sets as sorted lists); `from_dict` inverts."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, Decimal):
                value = str(value)
            out[f.name] = value
        return out


@dataclass(frozen=True)
class RequestedLine:
    """One order line the customer wants to return, with what the order says about it."""

    sku: str | None
    unit_price: Money
    quantity: int  # requested now
    quantity_purchased: int
    quantity_returned: int = 0  # by earlier returns
    reason: str = "no_reason"  # normalized reason code; "" means no reason given
    tags: tuple[str, ...] = ()  # product tags
    line_id: str = ""

    def __post_init__(self) -> None:
        _check_money(self.unit_price, "unit_price")
        _count(self.quantity_purchased, "quantity_purchased")
        _count(self.quantity_returned, "quantity_returned")
        tags = self.tags
        if (
            _count(self.quantity, "quantity") < 1
            or not isinstance(self.reason, str)
            or isinstance(tags, str)
            or not all(isinstance(t, str) for t in tags)
        ):
            raise MalformedPayload(f"need quantity >= 1, a string reason and string tags: {self!r}")
        object.__setattr__(self, "reason", self.reason.strip().lower() or "no_reason")
        object.__setattr__(self, "tags", tuple(tags))

    @property
    def label(self) -> str:
        """The SKU, else the line id, for explanations."""
        return self.sku or self.line_id or "a line"


def _check_money(value: object, field: str) -> None:
    if not isinstance(value, Money) or not isinstance(value.amount, Decimal):
        raise MalformedPayload(f"{field} must be Money with a Decimal amount, got {value!r}")
    if not value.amount.is_finite() or value.amount < 0:
        raise MalformedPayload(f"{field} must be a finite amount >= 0, got {value}")


@dataclass(frozen=True)
class ReturnFacts:
    """Everything `decide` looks at, gathered by the handler. Statuses are normalized values.

    `tz` is the merchant's time zone: the window counts calendar days there. Raises
    MalformedPayload for naive times, no lines, mixed currencies or unknown statuses.
    """

    now: datetime
    order_total: Money
    lines: tuple[RequestedLine, ...]
    delivered_at: datetime | None = None
    order_status: str = "open"  # one of ORDER_STATUSES
    fulfillment_status: str = "fulfilled"  # one of FULFILLMENT_STATUSES
    customer_returns_90d: int = 0  # earlier returns, this one not counted
    complaints_count: int = 0
    tz: tzinfo = UTC

    def __post_init__(self) -> None:
        for name in ("now", "delivered_at"):
            when = getattr(self, name)
            if when is not None and (when.tzinfo is None or when.utcoffset() is None):
                raise MalformedPayload(f"{name} must be timezone-aware")
        _check_money(self.order_total, "order_total")
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.lines or not all(isinstance(ln, RequestedLine) for ln in self.lines):
            raise MalformedPayload("a return request needs one or more RequestedLine")
        if not isinstance(self.tz, tzinfo):
            raise MalformedPayload(f"tz must be a tzinfo, got {self.tz!r}")
        currencies = {line.unit_price.currency for line in self.lines}
        if currencies != {self.order_total.currency}:
            raise MalformedPayload(
                f"line currencies {sorted(currencies)} differ from the "
                f"order's {self.order_total.currency}"
            )
        if (
            self.order_status not in ORDER_STATUSES
            or self.fulfillment_status not in FULFILLMENT_STATUSES
        ):
            raise MalformedPayload(
                f"unknown order or fulfillment status: {self.order_status!r}, "
                f"{self.fulfillment_status!r}"
            )
        _count(self.customer_returns_90d, "customer_returns_90d")
        _count(self.complaints_count, "complaints_count")

    @property
    def value(self) -> Money:
        """What the requested lines are worth (unit price x quantity requested)."""
        total = sum((ln.unit_price.amount * ln.quantity for ln in self.lines), Decimal(0))
        return Money(total, self.order_total.currency)


MESSAGES_EN: Mapping[str, str] = {
    "returns.order_active.ok": "order is {status}",
    "returns.order_active.dead": "order is {status}, nothing left to return",
    "returns.delivered.ok": "delivered on {date}",
    "returns.delivered.in_transit": "shipped, not delivered yet",
    "returns.delivered.required": "not delivered yet; returns open on delivery",
    "returns.delivered.not_shipped": "nothing shipped yet; cancel the order instead",
    "returns.return_window.ok": "within {window} days (delivered {days:plural:day} ago)",
    "returns.return_window.not_started": "window of {window} days starts at delivery",
    "returns.return_window.late": "outside the {window}-day window "
    "(delivered {days:plural:day} ago)",
    "returns.product_returnable.ok": "no excluded products",
    "returns.product_returnable.sku": "{item} is excluded from returns",
    "returns.product_returnable.tag": "{item} is tagged {tag}, excluded from returns",
    "returns.quantity_available.ok": "quantities available",
    "returns.quantity_available.exceeds": "{item}: {requested} requested, only {available} "
    "of {purchased} left to return",
    "returns.auto_approve.ok": "auto-approval on",
    "returns.auto_approve.off": "auto-approval is switched off",
    "returns.reason_allowed.ok": "reason allowed ({reasons})",
    "returns.reason_allowed.manual": "reason {reason} needs a human",
    "returns.value_ceiling.ok": "value {value} <= {limit}",
    "returns.value_ceiling.over": "value {value} > {limit}",
    "returns.order_value.ok": "order total {total} <= {limit}",
    "returns.order_value.over": "high-value order: total {total} > {limit}",
    "returns.return_frequency.ok": "{count:plural:earlier return} in 90 days (review at {limit})",
    "returns.return_frequency.over": "frequent returner: {count:plural:earlier return} "
    "in 90 days (review at {limit})",
    "returns.complaint_history.ok": "{count:plural:past complaint} (review at {limit})",
    "returns.complaint_history.over": "risky customer: {count:plural:past complaint} "
    "(review at {limit})",
}


class _English(string.Formatter):
    """str.format plus `{n:plural:word}` -> "1 word" / "2 words"."""

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec.startswith("plural:"):
            word = format_spec.removeprefix("plural:")
            return f"{value} {word}{'' if str(value) == '1' else 's'}"
        return super().format_field(value, format_spec)


_EN = _English()


@dataclass(frozen=True)
class RuleResult:
    """One rule's verdict: a message key + string params (translatable) and English text."""

    rule: str
    passed: bool
    verdict: Outcome  # what a failure of this rule means
    key: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        """The English rendering of `key` with `params`."""
        return _EN.format(MESSAGES_EN[self.key], **dict(self.params))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the case timeline."""
        return {
            "rule": self.rule,
            "passed": self.passed,
            "verdict": self.verdict.value,
            "key": self.key,
            "params": dict(self.params),
            "text": self.text,
        }


@dataclass(frozen=True)
class Decision:
    """The outcome, the rule that decided it (None when approved) and the full trace."""

    outcome: Outcome
    trace: tuple[RuleResult, ...]
    deciding_rule: str | None

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """The rules that did not pass, in evaluation order."""
        return tuple(r for r in self.trace if not r.passed)

    def explain(self) -> str:
        """One line: outcome, deciding rule and why; for approvals every passed check."""
        if self.deciding_rule is None:
            return f"{self.outcome.value}: " + "; ".join(r.text for r in self.trace)
        decisive = next(r for r in self.trace if r.rule == self.deciding_rule)
        line = f"{self.outcome.value} by {decisive.rule}: {decisive.text}"
        others = [r.rule for r in self.failed if r is not decisive]
        return line + (f" (also failed: {', '.join(others)})" if others else "")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the case timeline."""
        return {
            "outcome": self.outcome.value,
            "deciding_rule": self.deciding_rule,
            "explanation": self.explain(),
            "trace": [r.to_dict() for r in self.trace],
        }


def _money(amount: Decimal, currency: str) -> str:
    places = Decimal(1) if currency in _ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    shown = amount.quantize(places) if amount == amount.quantize(places) else amount
    return f"{shown} {currency}"


def _result(rule: str, passed: bool, key: str, **params: object) -> RuleResult:
    verdict = Outcome.NOT_ELIGIBLE if rule in HARD_RULES else Outcome.NEEDS_REVIEW
    return RuleResult(
        rule,
        passed,
        verdict,
        f"returns.{rule}.{key}",
        tuple((k, str(v)) for k, v in params.items()),
    )


def _check(rule: str, passed: bool, fail_key: str, **params: object) -> RuleResult:
    return _result(rule, passed, "ok" if passed else fail_key, **params)


def _hard_rules(f: ReturnFacts, r: ReturnRules) -> list[RuleResult]:
    out = [_check("order_active", f.order_status not in _DEAD_ORDER, "dead", status=f.order_status)]
    if f.delivered_at is not None:
        out.append(
            _result(
                "delivered", True, "ok", date=f.delivered_at.astimezone(f.tz).date().isoformat()
            )
        )
        elapsed = f.now.astimezone(f.tz).date() - f.delivered_at.astimezone(f.tz).date()
        days = max(0, elapsed.days)  # calendar days in the shop's zone; a future date is 0
        out.append(
            _check("return_window", days <= r.window_days, "late", window=r.window_days, days=days)
        )
    else:  # nothing shipped: cancel, not return; shipped: as the merchant requires
        key = (
            "not_shipped"
            if f.fulfillment_status == "unfulfilled"
            else "required"
            if r.require_delivered
            else "in_transit"
        )
        out.append(_result("delivered", key == "in_transit", key))
        out.append(_result("return_window", True, "not_started", window=r.window_days))
    out.append(_first_excluded(f.lines, r) or _result("product_returnable", True, "ok"))
    short = next(
        (ln for ln in f.lines if ln.quantity > ln.quantity_purchased - ln.quantity_returned), None
    )
    out.append(
        _result("quantity_available", True, "ok")
        if short is None
        else _result(
            "quantity_available",
            False,
            "exceeds",
            item=short.label,
            requested=short.quantity,
            purchased=short.quantity_purchased,
            available=max(0, short.quantity_purchased - short.quantity_returned),
        )
    )
    return out


def _first_excluded(lines: Iterable[RequestedLine], r: ReturnRules) -> RuleResult | None:
    for line in lines:
        if line.sku is not None and line.sku.strip() in r.excluded_skus:
            return _result("product_returnable", False, "sku", item=line.label)
        tag = next(
            (t for t in sorted({t.strip().lower() for t in line.tags}) if t in r.excluded_tags),
            None,
        )
        if tag is not None:
            return _result("product_returnable", False, "tag", item=line.label, tag=tag)
    return None


def _soft_rules(f: ReturnFacts, r: ReturnRules) -> list[RuleResult]:
    cur = f.order_total.currency
    manual = next((ln.reason for ln in f.lines if ln.reason not in r.allowed_reasons), None)
    value, total = f.value.amount, f.order_total.amount
    return [
        _check("auto_approve", r.auto_approve, "off"),
        _result(
            "reason_allowed", True, "ok", reasons=", ".join(sorted({ln.reason for ln in f.lines}))
        )
        if manual is None
        else _result("reason_allowed", False, "manual", reason=manual),
        _check(
            "value_ceiling",
            value <= r.auto_approve_max_value,
            "over",
            value=_money(value, cur),
            limit=_money(r.auto_approve_max_value, cur),
        ),
        _check(
            "order_value",
            total <= r.high_value_order_threshold,
            "over",
            total=_money(total, cur),
            limit=_money(r.high_value_order_threshold, cur),
        ),
        _check(
            "return_frequency",
            f.customer_returns_90d < r.max_returns_90d,
            "over",
            count=f.customer_returns_90d,
            limit=r.max_returns_90d,
        ),
        _check(
            "complaint_history",
            f.complaints_count < r.max_complaints,
            "over",
            count=f.complaints_count,
            limit=r.max_complaints,
        ),
    ]


def decide(facts: ReturnFacts, rules: ReturnRules | None = None) -> Decision:
    """Apply `rules` (the defaults when None) to `facts`; never raises for valid inputs."""
    rules = rules if rules is not None else ReturnRules()
    trace = tuple(_hard_rules(facts, rules) + _soft_rules(facts, rules))
    for verdict in (Outcome.NOT_ELIGIBLE, Outcome.NEEDS_REVIEW):
        failed = next((r for r in trace if not r.passed and r.verdict is verdict), None)
        if failed is not None:
            return Decision(verdict, trace, failed.rule)
    return Decision(Outcome.APPROVED, trace, None)
