"""What the result and status pages show of a return case: outcome, explanation in the
customer's words, return code with its QR code, and the lines with product titles."""

from __future__ import annotations

from typing import Any

from chalicelib.pages.i18n import Words, explain
from chalicelib.pages.qr import qr_svg
from chalicelib.store.models import CaseItem, OrderItem

__all__ = ["return_view"]


def return_view(case: CaseItem, words: Words, order: OrderItem | None) -> dict[str, Any]:
    details = case.details or {}
    decision = details.get("decision") or {}
    code = details.get("return_code")
    ordered = (order.line_items or []) if order else []
    titles = {str(ln["line_id"]): ln.get("title") for ln in ordered}
    names = {
        str(ln["sku"]): str(ln["title"]) for ln in ordered if ln.get("sku") and ln.get("title")
    }
    return {
        "case_id": case.case_id,
        "status": case.status,
        "outcome": decision.get("outcome", "needs_review"),
        "explanation": explain(decision, words, names),
        "code": code,
        "qr": qr_svg(details.get("qr_payload") or code, words("result.qr", code=code))
        if code
        else None,
        "lines": [
            {
                "title": titles.get(str(ln["line_id"])) or ln.get("sku") or ln["line_id"],
                "quantity": ln["quantity"],
                "reason": words(f"reason.{ln['reason']}"),
            }
            for ln in details.get("lines", [])
        ],
    }
