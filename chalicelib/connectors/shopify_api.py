"""Shopify outbound client: the Admin GraphQL calls we make (OAuth is in `shopify_oauth`).

GraphQL Admin API:
`POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`. Throttling:
https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits (`extensions.cost`).
`refundCreate` carries `@idempotent(key:)` (mandatory from 2026-04), so a repeated request
returns the first refund instead of a second one. `userErrors` become
`ProviderError(retryable=False)` with Shopify's message. No Shopify type leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chalicelib.connectors.http import PartnerHttp, json_body
from chalicelib.errors import ProviderError

__all__ = [
    "ShopifyAdmin",
    "gid",
    "WEBHOOK_TOPICS",
    "REFUND_MARKER",
    "refund_note",
    "marker_outbox_id",
    "ACCESS_TOKEN_HEADER",
]

ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"
# Topics we subscribe through GraphQL (the three compliance topics are set in the app's
# configuration; Shopify does not allow subscribing to them through the API).
WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "ORDERS_FULFILLED",
    "FULFILLMENTS_CREATE",
    "FULFILLMENTS_UPDATE",
    "REFUNDS_CREATE",
    "RETURNS_REQUEST",
    "RETURNS_APPROVE",
    "RETURNS_DECLINE",
    "RETURNS_CLOSE",
    "RETURNS_CANCEL",
    "APP_UNINSTALLED",
)
REFUND_MARKER = "aftercare-refund:"  # in the refund note: its webhook echo is recognised
_MARKER_RE = re.compile(re.escape(REFUND_MARKER) + r"([0-9a-f]{8,64})")
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_USER_ERRORS = "userErrors { field message }"
_SHOP = "query ShopInfo { shop { name ianaTimezone currencyCode } }"
_WEBHOOK = (
    "mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!)"
    " { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub)"
    f" {{ webhookSubscription {{ id }} {_USER_ERRORS} }} }}"
)
_APPROVE = (
    "mutation ReturnApprove($input: ReturnApproveRequestInput!)"
    f" {{ returnApproveRequest(input: $input) {{ return {{ id status }} {_USER_ERRORS} }} }}"
)
_DECLINE = (
    "mutation ReturnDecline($input: ReturnDeclineRequestInput!)"
    f" {{ returnDeclineRequest(input: $input) {{ return {{ id status }} {_USER_ERRORS} }} }}"
)
_REFUNDS = "query OrderRefunds($id: ID!) { order(id: $id) { refunds(first: 50) { id note } } }"
_SUGGESTED = (
    "query SuggestedRefund($id: ID!, $lines: [RefundLineItemInput!])"
    " { order(id: $id) { suggestedRefund(refundLineItems: $lines) { suggestedTransactions"
    " { gateway kind parentTransaction { id } amountSet { shopMoney { amount currencyCode } } }"
    " } } }"
)
_REFUND = (
    "mutation RefundCreate($input: RefundInput!)"
    ' { refundCreate(input: $input) @idempotent(key: "%s")'
    f" {{ refund {{ id note }} {_USER_ERRORS} }} }}"
)
MAX_THROTTLE_RETRIES = 3


def gid(kind: str, rest_id: str) -> str:
    """The GraphQL global id of a REST id (`gid://shopify/Order/450789469`)."""
    return rest_id if rest_id.startswith("gid://") else f"gid://shopify/{kind}/{rest_id}"


def refund_note(outbox_id: str, note: str = "") -> str:
    """The note we put on a refund: the merchant's text and our marker."""
    return f"{note} ({REFUND_MARKER}{outbox_id})".strip()


def marker_outbox_id(note: str | None) -> str | None:
    """The outbox id inside a refund note we wrote, or None for anyone else's refund."""
    match = _MARKER_RE.search(note or "")
    return match.group(1) if match else None


def _user_errors(payload: Mapping[str, Any] | None, what: str) -> None:
    errors = (payload or {}).get("userErrors") or []
    if errors:
        text = "; ".join(str(e.get("message") or e) for e in errors if isinstance(e, dict))
        raise ProviderError(f"Shopify refused {what}: {text}"[:500], retryable=False)


class ShopifyAdmin:
    """Calls to one shop. `base_url` is `https://{shop}` unless a test points it at a stub."""

    def __init__(
        self,
        shop: str,
        http: PartnerHttp,
        *,
        api_version: str,
        access_token: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self.shop = shop
        self.http = http
        self.api_version = api_version
        self._token = access_token
        self._base = (base_url or f"https://{shop}").rstrip("/")

    def __repr__(self) -> str:
        return f"ShopifyAdmin({self.shop})"

    # -- GraphQL -------------------------------------------------------------------------

    def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None, *, repeatable: bool = True
    ) -> dict[str, Any]:
        """`data` of one GraphQL request, waiting out cost throttles (or `RetryLater`).

        `repeatable=False` (a refund): an answer lost to a timeout or a 5xx is not retried
        here but raised, so the caller looks for the refund before asking again. Raises
        `ProviderError`: retryable for outages, not for a rejected token or query.
        """
        if not self._token:
            raise ProviderError("no Shopify access token for this shop", retryable=False)
        url = f"{self._base}/admin/api/{self.api_version}/graphql.json"
        headers = {ACCESS_TOKEN_HEADER: self._token, "Accept": "application/json"}
        for _ in range(MAX_THROTTLE_RETRIES + 1):
            # Throttled requests did not run: always repeated. Queries and approve/decline
            # (a second approval is refused, not doubled) are repeated after a lost answer.
            response = self.http.request(
                "POST",
                url,
                json={"query": query, "variables": dict(variables or {})},
                headers=headers,
                safe_to_repeat=repeatable,
            )
            body = json_body(response)
            if response.status_code in (401, 402, 403, 404, 423):
                detail = f"Shopify answered HTTP {response.status_code} for {self.shop}"
                raise ProviderError(detail, retryable=False)
            if response.status_code != 200 or not isinstance(body, dict):
                raise ProviderError(f"Shopify answered HTTP {response.status_code}")
            errors = body.get("errors") or []
            codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
            if "THROTTLED" in codes:
                self.http.wait_or_defer(_throttle_wait(body), "Shopify throttled the request")
                continue
            if errors:
                text = "; ".join(str(e.get("message") or e) for e in errors if isinstance(e, dict))
                retryable = "INTERNAL_SERVER_ERROR" in codes
                raise ProviderError(f"Shopify GraphQL error: {text}"[:500], retryable=retryable)
            return body.get("data") or {}
        raise ProviderError("Shopify kept throttling the request")

    def shop_info(self) -> dict[str, str]:
        """The shop's name, IANA time zone and currency (defaults for a new merchant)."""
        shop = self.graphql(_SHOP).get("shop") or {}
        return {k: str(v) for k, v in shop.items() if isinstance(v, str) and v}

    def register_webhooks(self, uri: str, topics: Iterable[str] = WEBHOOK_TOPICS) -> list[str]:
        """Subscribe `topics` to `uri` (an existing subscription for a topic is kept)."""
        done = []
        for topic in topics:
            data = self.graphql(_WEBHOOK, {"topic": topic, "sub": {"uri": uri, "format": "JSON"}})
            payload = data.get("webhookSubscriptionCreate") or {}
            errors = payload.get("userErrors") or []
            if errors and all("taken" in str(e.get("message", "")).lower() for e in errors):
                errors = []  # "Address for this topic has already been taken": subscribed
            _user_errors({"userErrors": errors}, f"the {topic} webhook")
            done.append(topic)
        return done

    def approve_return(self, return_id: str) -> str:
        """Approve a requested return; returns its new status."""
        data = self.graphql(_APPROVE, {"input": {"id": gid("Return", return_id)}})
        payload = data.get("returnApproveRequest")
        _user_errors(payload, "the return approval")
        return str(((payload or {}).get("return") or {}).get("status") or "OPEN")

    def decline_return(self, return_id: str, reason: str, note: str = "") -> str:
        """Decline a requested return with a `ReturnDeclineReason`; returns its new status."""
        decline: dict[str, Any] = {"id": gid("Return", return_id), "declineReason": reason}
        if note:
            decline["declineNote"] = note[:500]
        data = self.graphql(_DECLINE, {"input": decline})
        payload = data.get("returnDeclineRequest")
        _user_errors(payload, "the return decline")
        return str(((payload or {}).get("return") or {}).get("status") or "DECLINED")

    def find_refund(self, order_id: str, outbox_id: str) -> str | None:
        """The id of a refund on the order that we created for `outbox_id`, if any."""
        order = self.graphql(_REFUNDS, {"id": gid("Order", order_id)}).get("order") or {}
        for refund in order.get("refunds") or []:
            if marker_outbox_id(refund.get("note")) == outbox_id:
                return str(refund.get("id"))
        return None

    def create_refund(
        self,
        order_id: str,
        lines: Sequence[Mapping[str, Any]],
        *,
        restock: bool,
        idempotency_key: str,
        note: str = "",
        location_id: str | None = None,
    ) -> str:
        """Refund `lines` ({line_id, quantity}) through the order's suggested transactions,
        restocking them (`RETURN`) or not; returns the refund's id. The note carries our
        marker; `idempotency_key` makes a repeated request return the same refund."""
        if not _KEY_RE.match(idempotency_key):
            raise ValueError("idempotency key must be 1-64 letters, digits, '-' or '_'")
        refund_lines = []
        for line in lines:
            entry: dict[str, Any] = {
                "lineItemId": gid("LineItem", str(line["line_id"])),
                "quantity": int(line["quantity"]),
                "restockType": "RETURN" if restock else "NO_RESTOCK",
            }
            if restock and location_id:
                entry["locationId"] = gid("Location", location_id)
            refund_lines.append(entry)
        order = gid("Order", order_id)
        suggested = self.graphql(_SUGGESTED, {"id": order, "lines": refund_lines})
        proposal = ((suggested.get("order") or {}).get("suggestedRefund")) or {}
        transactions = [
            {
                "orderId": order,
                "gateway": t.get("gateway"),
                "kind": "REFUND",
                "parentId": (t.get("parentTransaction") or {}).get("id"),
                "amount": ((t.get("amountSet") or {}).get("shopMoney") or {}).get("amount"),
            }
            for t in proposal.get("suggestedTransactions") or []
        ]
        refund_input = {
            "orderId": order,
            "note": refund_note(idempotency_key, note),
            "notify": True,
            "refundLineItems": refund_lines,
            "transactions": transactions,
        }
        data = self.graphql(_REFUND % idempotency_key, {"input": refund_input}, repeatable=False)
        payload = data.get("refundCreate")
        _user_errors(payload, "the refund")
        refund = (payload or {}).get("refund") or {}
        if not refund.get("id"):
            raise ProviderError("Shopify created no refund and gave no reason", retryable=False)
        return str(refund["id"])


def _throttle_wait(body: Mapping[str, Any]) -> float:
    """Seconds until the bucket holds the requested cost again (1 s when not stated)."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost") or 0) - float(status["currentlyAvailable"])
        return max(1.0, needed / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 1.0
