"""Refund on inspection: what the warehouse's dispositions let the autopilot refund.

Pure: no I/O, no clock. `decide_refund` matches the inspected lines to the return's lines
(by order line id when the warehouse gives it, else by SKU), caps each at the quantity the
customer asked to return, and judges each unit by its disposition:

    resellable     refund the line in full (unit price x quantity)
    needs_repair   refund in full; with a merchant restocking fee (`restocking_fee_percent`
                   > 0) a human refunds the reduced amount (marketplaces refund whole lines)
    scrap          a human decides (merchant setting `scrap`: "review", the default, or
                   "refund" to refund scrapped units in full as well)
    none           (not determined by the warehouse) a human decides

A line the return does not name also goes to a human; units beyond the requested quantity
are not refunded (noted). One line going to a human sends the whole return to review with
no automatic refund, so a customer is never refunded twice for the same parcel. Merchant
settings live under `settings.refund_policy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.errors import MalformedPayload

__all__ = [
    "CaseLine",
    "InspectedLine",
    "RefundSettings",
    "LineVerdict",
    "RefundLine",
    "RefundDecision",
    "decide_refund",
    "REFUND",
    "REVIEW",
]

REFUND = "refund"
REVIEW = "review"
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class CaseLine:
    """A line the customer asked to return, with the price they paid per unit."""

    line_id: str
    sku: str | None
    quantity: int
    unit_price: Decimal | None  # None when the order is not known


@dataclass(frozen=True)
class InspectedLine:
    """Units of one SKU the warehouse received in one state."""

    sku: str | None
    quantity: int
    disposition: str | None  # "resellable" | "needs_repair" | "scrap" | None
    line_id: str | None = None
    note: str = ""


@dataclass(frozen=True)
class RefundSettings:
    """The merchant's refund-on-inspection settings (`settings.refund_policy`)."""

    restocking_fee_percent: Decimal = Decimal(0)
    scrap: str = REVIEW  # "review" | "refund"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> RefundSettings:
        """Raises MalformedPayload naming the setting that is not valid."""
        raw = raw or {}
        try:
            fee = Decimal(str(raw.get("restocking_fee_percent", 0)))
        except InvalidOperation:
            fee = Decimal(-1)
        if not fee.is_finite() or not Decimal(0) <= fee <= Decimal(100):
            raise MalformedPayload("refund_policy.restocking_fee_percent must be 0 to 100")
        scrap = raw.get("scrap", REVIEW)
        if scrap not in (REVIEW, REFUND):
            raise MalformedPayload("refund_policy.scrap must be 'review' or 'refund'")
        return cls(fee, scrap)


@dataclass(frozen=True)
class LineVerdict:
    """What happens to one inspected line (or part of it), and why, in English."""

    sku: str | None
    line_id: str | None
    quantity: int
    disposition: str | None
    verdict: str  # "refund" | "review" | "not_refunded"
    amount: Decimal
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "line_id": self.line_id,
            "quantity": self.quantity,
            "disposition": self.disposition,
            "verdict": self.verdict,
            "amount": str(self.amount),
            "text": self.text,
        }


@dataclass(frozen=True)
class RefundLine:
    """One order line to refund: what the marketplace refund request names."""

    line_id: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class RefundDecision:
    """Refund these lines now (`action` "refund"), or let a human decide ("review")."""

    action: str
    currency: str
    lines: tuple[RefundLine, ...] = ()
    verdicts: tuple[LineVerdict, ...] = ()
    restock: bool = False
    explanation: str = ""
    total: Decimal = field(default=Decimal("0.00"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "currency": self.currency,
            "total": str(self.total),
            "restock": self.restock,
            "lines": [
                {"line_id": ln.line_id, "quantity": ln.quantity, "amount": str(ln.amount)}
                for ln in self.lines
            ],
            "verdicts": [v.to_dict() for v in self.verdicts],
            "explanation": self.explanation,
        }


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT)


def _match(
    line: InspectedLine, case_lines: Sequence[CaseLine], remaining: dict[str, int]
) -> list[tuple[CaseLine | None, int]]:
    """Split `line`'s units over the case lines it matches: [(case line or None, units)]."""
    if line.line_id is not None and any(c.line_id == line.line_id for c in case_lines):
        candidates = [c for c in case_lines if c.line_id == line.line_id]
    else:
        candidates = [c for c in case_lines if line.sku is not None and c.sku == line.sku]
    parts: list[tuple[CaseLine | None, int]] = []
    left = line.quantity
    for case_line in candidates:
        take = min(left, remaining[case_line.line_id])
        if take > 0:
            parts.append((case_line, take))
            remaining[case_line.line_id] -= take
            left -= take
    if left > 0:
        parts.append((None, left))
    return parts


def _judge(
    line: InspectedLine, case_line: CaseLine, units: int, settings: RefundSettings
) -> tuple[str, str]:
    """(verdict, reason) for `units` of a matched line."""
    disposition = line.disposition
    if case_line.unit_price is None:
        return REVIEW, "the order is not known, so its price is not either"
    if disposition == "resellable":
        return REFUND, "resellable: refunded in full"
    if disposition == "needs_repair":
        if settings.restocking_fee_percent > 0:
            fee = settings.restocking_fee_percent.normalize()
            return REVIEW, f"needs repair: a {fee}% restocking fee applies, refunded by hand"
        return REFUND, "needs repair: refunded in full"
    if disposition == "scrap":
        if settings.scrap == REFUND:
            return REFUND, "scrap: refunded in full (shop setting)"
        return REVIEW, "scrap: no automatic refund, a human decides"
    return REVIEW, "the warehouse gave no condition: a human decides"


def decide_refund(
    case_lines: Iterable[CaseLine],
    inspected: Iterable[InspectedLine],
    currency: str,
    settings: RefundSettings,
) -> RefundDecision:
    """The refund the inspected lines allow (see the module docstring)."""
    case_lines = tuple(case_lines)
    remaining = {c.line_id: c.quantity for c in case_lines}
    verdicts: list[LineVerdict] = []
    refund_units: dict[str, int] = {}
    dispositions: set[str | None] = set()
    for line in inspected:
        for case_line, units in _match(line, case_lines, remaining):
            if case_line is None:
                asked = any(c.sku == line.sku or c.line_id == line.line_id for c in case_lines)
                verdict, why = (
                    ("not_refunded", "more units than the customer asked to return")
                    if asked
                    else (REVIEW, "not part of this return: a human decides")
                )
                amount = Decimal("0.00")
            else:
                verdict, why = _judge(line, case_line, units, settings)
                price = case_line.unit_price or Decimal(0)
                amount = _money(price * units) if verdict == REFUND else Decimal("0.00")
                if verdict == REFUND:
                    refund_units[case_line.line_id] = refund_units.get(case_line.line_id, 0) + units
                    dispositions.add(line.disposition)
            line_id = case_line.line_id if case_line else line.line_id
            verdicts.append(
                LineVerdict(line.sku, line_id, units, line.disposition, verdict, amount, why)
            )
    by_id = {c.line_id: c for c in case_lines}
    lines = tuple(
        RefundLine(line_id, units, _money((by_id[line_id].unit_price or Decimal(0)) * units))
        for line_id, units in refund_units.items()
    )
    total = _money(sum((ln.amount for ln in lines), Decimal(0)))
    described = "; ".join(
        f"{v.quantity} x {v.sku or v.line_id or '?'} ({v.disposition or 'no condition'}): {v.text}"
        for v in verdicts
    )
    if not verdicts:
        return RefundDecision(REVIEW, currency, explanation="no inspected units: a human decides")
    if any(v.verdict == REVIEW for v in verdicts):
        return RefundDecision(
            REVIEW,
            currency,
            verdicts=tuple(verdicts),
            explanation=f"Review needed, no automatic refund. {described}",
        )
    if not lines:
        return RefundDecision(
            REVIEW,
            currency,
            verdicts=tuple(verdicts),
            explanation=f"Nothing to refund automatically. {described}",
        )
    requested = sum(c.quantity for c in case_lines)
    refunded = sum(ln.quantity for ln in lines)
    partial = f" ({refunded} of {requested} units received)" if refunded < requested else ""
    return RefundDecision(
        REFUND,
        currency,
        lines=lines,
        verdicts=tuple(verdicts),
        restock=dispositions == {"resellable"},
        explanation=f"Refund of {total} {currency}{partial}. {described}",
        total=total,
    )
