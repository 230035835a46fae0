"""What the result and status pages show of a return case: outcome, explanation in the
customer's words, return code with its QR code, and the lines with product titles."""

from __future__ import annotations

from datetime import datetime
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
        "prepaid": _label(details, words) if case.status == "approved" else None,
        "lines": [
            {
                "title": titles.get(str(ln["line_id"])) or ln.get("sku") or ln["line_id"],
                "quantity": ln["quantity"],
                "reason": words(f"reason.{ln['reason']}"),
            }
            for ln in details.get("lines", [])
        ],
    }


def _label(details: dict[str, Any], words: Words) -> dict[str, Any] | None:
    """The prepaid label of an approved return: its link, or "being prepared" (issue 11)."""
    url = details.get("label_url")
    expires = details.get("approval_expires_at")
    shown: dict[str, Any] = {
        "expires": words.date(datetime.fromisoformat(expires.replace("Z", "+00:00")))
        if expires
        else None,
        "url": None,
        "preparing": False,
        "carrier": "",
        "tracking": "",
    }
    if url and str(url).startswith("https://"):
        return {
            **shown,
            "url": url,
            "carrier": details.get("return_carrier") or "",
            "tracking": details.get("return_tracking_number") or "",
        }
    if details.get("label_status") == "preparing":
        return {**shown, "preparing": True}
    return shown if expires else None
