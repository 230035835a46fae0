"""A stub of the BigCommerce calls Aftercare makes, speaking BigCommerce's wire format.

`POST /oauth2/token` (login service) exchanges an install code for
`{access_token, scope, user, context: "stores/{hash}"}`; with `X-Auth-Token`,
`POST /stores/{hash}/v3/hooks` answers `{"data": {...hook}, "meta": {}}` and
`GET /stores/{hash}/v2/orders/{id}` and `.../products` answer the v2 order resources
(https://developer.bigcommerce.com/docs/rest-management/orders,
https://developer.bigcommerce.com/docs/integrations/webhooks).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.stubs.marketplace_base import MarketplaceStub, Reply, Request

__all__ = ["BigCommerceStub", "FAKE_BC_CLIENT_ID", "FAKE_STORE_HASH"]

FAKE_BC_CLIENT_ID = "bc_fake_client_id_do_not_use"
FAKE_STORE_HASH = "abc123fake"
SCOPES = "store_v2_orders_read_only store_v2_default"
_STORE = re.compile(r"^/stores/([a-z0-9]+)/(v2|v3)/(.+)$")


class BigCommerceStub(MarketplaceStub):
    """One fake store: install codes, its token, hooks and orders (with products)."""

    def __init__(self, client_secret: str) -> None:
        super().__init__()
        self.client_secret = client_secret
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (granted scopes, store hash)
        self.stores: set[str] = {FAKE_STORE_HASH}
        self.tokens: set[str] = set()
        self.hooks: list[dict[str, Any]] = []
        self.orders: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        self._ids = itertools.count(18000001)

    def grant(self, code: str, scopes: str = SCOPES, store_hash: str = FAKE_STORE_HASH) -> str:
        self.codes[code] = (scopes, store_hash)
        self.stores.add(store_hash)
        return code

    def token(self) -> str:
        token = f"bc_fake_token_{next(self._ids)}"
        self.tokens.add(token)
        return token

    def handle(self, request: Request) -> Reply:
        if request.path == "/oauth2/token":
            return self._exchange(request.json() or {})
        match = _STORE.match(request.path)
        if not match or match.group(1) not in self.stores:
            return Reply(404, {"status": 404, "title": "Not Found"})
        if request.headers.get("x-auth-token") not in self.tokens:
            return Reply(401, {"status": 401, "title": "Unauthorized"})
        version, rest = match.group(2), match.group(3)
        if version == "v3" and rest == "hooks" and request.method == "POST":
            body = request.json()
            hook = {"id": next(self._ids), "store_hash": match.group(1), **body}
            self.hooks.append(hook)
            return Reply(200, {"data": hook, "meta": {}})
        order = re.fullmatch(r"orders/([0-9]+)(/products)?", rest)
        if version == "v2" and order and order.group(1) in self.orders:
            found, products = self.orders[order.group(1)]
            return Reply(200, products if order.group(2) else found)  # type: ignore[arg-type]
        return Reply(404, [{"status": 404, "message": "The requested resource was not found."}])  # type: ignore[arg-type]

    def _exchange(self, body: dict[str, Any]) -> Reply:
        ok_client = (body.get("client_id"), body.get("client_secret")) == (
            FAKE_BC_CLIENT_ID,
            self.client_secret,
        )
        granted = self.codes.pop(str(body.get("code")), None)
        if not ok_client or granted is None or body.get("grant_type") != "authorization_code":
            return Reply(401, {"error": "Invalid client id, secret or code."})
        return Reply(
            200,
            {
                "access_token": self.token(),
                "scope": granted[0],
                "user": {
                    "id": 24654,
                    "username": "merchant@example.com",
                    "email": "merchant@example.com",
                },
                "owner": {
                    "id": 24654,
                    "username": "merchant@example.com",
                    "email": "merchant@example.com",
                },
                "context": f"stores/{granted[1]}",
                "account_uuid": "00000000-0000-4000-8000-000000000001",
            },
        )
