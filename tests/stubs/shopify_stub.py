"""A stub of Shopify's OAuth token endpoint and the Admin GraphQL calls Aftercare makes,
speaking Shopify's wire format.

- `POST /admin/oauth/access_token`: JSON `{client_id, client_secret, code, expiring}` (an
  authorization code, single use) or `{..., grant_type: refresh_token, refresh_token}`;
  answers `{access_token, scope, expires_in, refresh_token, refresh_token_expires_in}` or
  `{"error", "error_description"}` with 400.
- `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`: `shop`,
  `webhookSubscriptionCreate`, `returnApproveRequest`, `returnDeclineRequest`,
  `order.suggestedRefund`, `order.refunds`, `refundCreate @idempotent(key:)`. Every answer
  carries `extensions.cost`; `throttle_next` answers Shopify's THROTTLED error instead.
Shapes follow https://shopify.dev/docs/api/admin-graphql (2026-07) and the OAuth docs.
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

from tests.stubs.marketplace_base import MarketplaceStub, Reply, Request

__all__ = ["ShopifyStub", "FAKE_CLIENT_ID", "ALL_SCOPES"]

FAKE_CLIENT_ID = "shopify_fake_client_id_do_not_use"
ALL_SCOPES = "write_orders,write_returns"  # Shopify lists write scopes only (read implied)
_KEY = re.compile(r'@idempotent\(key:\s*"([^"]+)"\)')
_INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def _cost(available: float = 1990.0, requested: int = 10) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested if available >= requested else None,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": available,
                "restoreRate": 100.0,
            },
        }
    }


class ShopifyStub(MarketplaceStub):
    """One fake shop: codes to exchange, tokens, webhooks, returns and orders with refunds."""

    def __init__(self, client_secret: str) -> None:
        super().__init__()
        self.client_secret = client_secret
        self.codes: dict[str, str] = {}  # code -> granted scopes
        self.tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.webhooks: dict[str, str] = {}  # topic -> uri
        self.returns: dict[str, str] = {}  # return gid -> status
        self.orders: dict[str, dict[str, Any]] = {}  # order gid -> {"lines": {...}, "refunds"}
        self.refund_keys: dict[str, str] = {}  # idempotency key -> refund gid
        self.honour_idempotency = True
        self.refunds_created = 0
        self._ids = itertools.count(1001)
        self._throttles: list[dict[str, Any]] = []

    # -- test set-up -------------------------------------------------------------------

    def grant(self, code: str, scopes: str = ALL_SCOPES) -> str:
        self.codes[code] = scopes
        return code

    def add_return(self, return_id: str, status: str = "REQUESTED") -> None:
        self.returns[f"gid://shopify/Return/{return_id}"] = status

    def add_order(self, order_id: str, lines: dict[str, tuple[int, str]]) -> None:
        """An order with line id -> (quantity, unit price)."""
        self.orders[f"gid://shopify/Order/{order_id}"] = {"lines": dict(lines), "refunds": []}

    def throttle_next(self, available: float, requested: int = 500) -> None:
        """Answer the next GraphQL request with a THROTTLED error (it is not executed)."""
        self._throttles.append(_cost(available, requested))

    def refunds_of(self, order_id: str) -> list[dict[str, Any]]:
        return self.orders[f"gid://shopify/Order/{order_id}"]["refunds"]

    # -- wire ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path == "/admin/oauth/access_token":
            return self._token(request.json() or {})
        if re.fullmatch(r"/admin/api/[0-9]{4}-[0-9]{2}/graphql\.json", request.path):
            token = request.headers.get("x-shopify-access-token", "")
            if token not in self.tokens:
                return Reply(401, {"errors": _INVALID_TOKEN})
            if self._throttles:
                extensions = self._throttles.pop(0)
                error = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
                return Reply(200, {"errors": [error], "extensions": extensions})
            body = request.json() or {}
            data = self._graphql(body.get("query", ""), body.get("variables") or {})
            return Reply(200, {"data": data, "extensions": _cost()})
        return Reply(404, {"errors": "Not Found"})

    def _issue(self, scopes: str) -> Reply:
        access, refresh = f"shpat_fake_{next(self._ids)}", f"shprt_fake_{next(self._ids)}"
        self.tokens.add(access)
        self.refresh_tokens.add(refresh)
        body = {
            "access_token": access,
            "scope": scopes,
            "expires_in": 3600,
            "refresh_token": refresh,
            "refresh_token_expires_in": 7776000,
        }
        return Reply(200, body)

    def _token(self, body: dict[str, Any]) -> Reply:
        if body.get("client_id") != FAKE_CLIENT_ID or body.get("client_secret") != (
            self.client_secret
        ):
            return Reply(400, {"error": "invalid_client", "error_description": "bad client"})
        if body.get("grant_type") == "refresh_token":
            token = body.get("refresh_token")
            if token not in self.refresh_tokens:
                return Reply(400, {"error": "invalid_grant", "error_description": "bad token"})
            self.refresh_tokens.discard(token)
            return self._issue(ALL_SCOPES)
        scopes = self.codes.pop(str(body.get("code")), None)
        if scopes is None or body.get("expiring") != "1":
            detail = "The authorization code was not found or was already used"
            return Reply(400, {"error": "invalid_request", "error_description": detail})
        return self._issue(scopes)

    def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if "webhookSubscriptionCreate" in query:
            topic, uri = variables["topic"], variables["sub"]["uri"]
            if topic in self.webhooks:
                taken = {
                    "field": ["webhookSubscription", "uri"],
                    "message": "Address for this topic has already been taken",
                }
                return {
                    "webhookSubscriptionCreate": {
                        "webhookSubscription": None,
                        "userErrors": [taken],
                    }
                }
            self.webhooks[topic] = uri
            subscription = {"id": f"gid://shopify/WebhookSubscription/{next(self._ids)}"}
            return {
                "webhookSubscriptionCreate": {"webhookSubscription": subscription, "userErrors": []}
            }
        if "shop {" in query:
            shop = {
                "name": "Aftercare Test Shop",
                "ianaTimezone": "America/New_York",
                "currencyCode": "USD",
            }
            return {"shop": shop}
        if "returnApproveRequest" in query or "returnDeclineRequest" in query:
            return self._decide(query, variables["input"])
        if "suggestedRefund" in query:
            return {"order": self._suggested(variables["id"], variables.get("lines") or [])}
        if "refundCreate" in query:
            return {"refundCreate": self._refund(query, variables["input"])}
        if "refunds(first" in query:
            order = self.orders.get(variables["id"])
            return {"order": {"refunds": order["refunds"]} if order else None}
        raise AssertionError(f"the stub does not know this query: {query[:80]}")

    def _decide(self, query: str, decision: dict[str, Any]) -> dict[str, Any]:
        approve = "returnApproveRequest" in query
        name = "returnApproveRequest" if approve else "returnDeclineRequest"
        status = self.returns.get(decision["id"])
        if status is None:
            error = {"field": ["input", "id"], "message": "Return does not exist."}
            return {name: {"return": None, "userErrors": [error]}}
        if status != "REQUESTED":
            verb = "approvable" if approve else "declinable"
            message = (
                f"Return is not {verb}. Only returns with status REQUESTED can be {verb[:-4]}ed."
            )
            return {
                name: {
                    "return": None,
                    "userErrors": [{"field": ["input", "id"], "message": message}],
                }
            }
        self.returns[decision["id"]] = "OPEN" if approve else "DECLINED"
        result = {"id": decision["id"], "status": self.returns[decision["id"]]}
        return {name: {"return": result, "userErrors": []}}

    def _amount(self, order: dict[str, Any], lines: list[dict[str, Any]]) -> Decimal:
        total = Decimal(0)
        for line in lines:
            line_id = line["lineItemId"].rsplit("/", 1)[-1]
            total += Decimal(order["lines"][line_id][1]) * int(line["quantity"])
        return total

    def _suggested(self, order_gid: str, lines: list[dict[str, Any]]) -> dict[str, Any] | None:
        order = self.orders.get(order_gid)
        if order is None:
            return None
        money = {"shopMoney": {"amount": str(self._amount(order, lines)), "currencyCode": "USD"}}
        transaction = {
            "gateway": "bogus",
            "kind": "SUGGESTED_REFUND",
            "parentTransaction": {"id": "gid://shopify/OrderTransaction/1"},
            "amountSet": money,
        }
        return {"suggestedRefund": {"suggestedTransactions": [transaction]}}

    def _refund(self, query: str, refund: dict[str, Any]) -> dict[str, Any]:
        match = _KEY.search(query)
        key = match.group(1) if match else None
        if key and self.honour_idempotency and key in self.refund_keys:
            existing = self.refund_keys[key]
            found = next(
                r for o in self.orders.values() for r in o["refunds"] if r["id"] == existing
            )
            return {"refund": found, "userErrors": []}
        order = self.orders.get(refund["orderId"])
        if order is None:
            return {
                "refund": None,
                "userErrors": [{"field": ["orderId"], "message": "Order does not exist"}],
            }
        for index, line in enumerate(refund.get("refundLineItems") or []):
            line_id = line["lineItemId"].rsplit("/", 1)[-1]
            refunded = sum(
                int(rl["quantity"])
                for r in order["refunds"]
                for rl in r["lines"]
                if rl["lineItemId"] == line["lineItemId"]
            )
            if (
                line_id not in order["lines"]
                or refunded + int(line["quantity"]) > order["lines"][line_id][0]
            ):
                field = ["refundLineItems", str(index), "quantity"]
                message = "Quantity cannot refund more items than were purchased"
                return {"refund": None, "userErrors": [{"field": field, "message": message}]}
        created = {
            "id": f"gid://shopify/Refund/{next(self._ids)}",
            "note": refund.get("note"),
            "lines": refund.get("refundLineItems") or [],
            "transactions": refund.get("transactions") or [],
        }
        order["refunds"].append(created)
        self.refunds_created += 1
        if key:
            self.refund_keys[key] = created["id"]
        return {"refund": {"id": created["id"], "note": created["note"]}, "userErrors": []}
