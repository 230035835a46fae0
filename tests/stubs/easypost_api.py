"""A stub of EasyPost's Shipment API (create, retrieve, buy), speaking EasyPost's JSON.

HTTP Basic auth with the API key as user name (https://docs.easypost.com/docs/authentication).
`POST /v2/shipments` answers 201 with a Shipment (`shp_...`) and three rates; `GET
/v2/shipments/{id}` the Shipment; `POST /v2/shipments/{id}/buy` {"rate": {"id"}} the bought
Shipment (`tracking_code`, `selected_rate`, `postage_label.label_url`). Buying a bought
shipment is refused like EasyPost does (422 `SHIPMENT.POSTAGE.EXISTS`); errors are
`{"error": {"code", "message", "errors"}}`. `purchases` counts labels actually bought.
"""

from __future__ import annotations

import base64
import itertools
import re
import uuid
from typing import Any

from tests.stubs.marketplace_base import MarketplaceStub, Reply, Request

__all__ = ["EasyPostStub", "FAKE_API_KEY"]

FAKE_API_KEY = "EZTK_fake_test_key_do_not_use"
_SHIPMENT = re.compile(r"^/v2/shipments/(shp_\w+)$")
_BUY = re.compile(r"^/v2/shipments/(shp_\w+)/buy$")
_RATES = (
    ("USPS", "Priority", "8.15"),
    ("USPS", "GroundAdvantage", "5.93"),
    ("UPS", "Ground", "9.40"),
)


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message, "errors": []}})


class EasyPostStub(MarketplaceStub):
    """One fake EasyPost account; `shipments` by id, `purchases` lists bought shipment ids."""

    def __init__(self, api_key: str = FAKE_API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.shipments: dict[str, dict[str, Any]] = {}
        self.purchases: list[str] = []
        self._ids = itertools.count(1)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, _ = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.api_key

    def handle(self, request: Request) -> Reply:
        if not self._authorized(request):
            return _error(401, "APIKEY.INACTIVE", "This api key is no longer active.")
        if request.path == "/v2/shipments" and request.method == "POST":
            return self._create(request.json() or {})
        match = _SHIPMENT.match(request.path)
        if match and request.method == "GET":
            shipment = self.shipments.get(match.group(1))
            if shipment is None:
                return _error(404, "NOT_FOUND", "The requested resource could not be found.")
            return Reply(200, shipment)
        match = _BUY.match(request.path)
        if match and request.method == "POST":
            return self._buy(match.group(1), request.json() or {})
        return _error(404, "NOT_FOUND", "The requested resource could not be found.")

    def _create(self, body: dict[str, Any]) -> Reply:
        shipment = body.get("shipment") or {}
        for name in ("to_address", "from_address", "parcel"):
            if not isinstance(shipment.get(name), dict):
                return _error(422, "SHIPMENT.INVALID_PARAMS", f"Missing required param {name}.")
        number = next(self._ids)
        sid = f"shp_{number:032x}"
        to, home = shipment["to_address"], shipment["from_address"]
        if shipment.get("is_return"):  # EasyPost swaps the addresses of a return
            to, home = home, to
        self.shipments[sid] = {
            "id": sid,
            "object": "Shipment",
            "mode": "test",
            "is_return": bool(shipment.get("is_return")),
            "reference": shipment.get("reference"),
            "to_address": to,
            "from_address": home,
            "parcel": shipment["parcel"],
            "rates": [
                {
                    "id": f"rate_{number:04d}{index}",
                    "object": "Rate",
                    "carrier": carrier,
                    "service": service,
                    "rate": rate,
                    "currency": "USD",
                    "shipment_id": sid,
                }
                for index, (carrier, service, rate) in enumerate(_RATES)
            ],
            "selected_rate": None,
            "postage_label": None,
            "tracking_code": None,
        }
        return Reply(201, self.shipments[sid])

    def _buy(self, sid: str, body: dict[str, Any]) -> Reply:
        shipment = self.shipments.get(sid)
        if shipment is None:
            return _error(404, "NOT_FOUND", "The requested resource could not be found.")
        if shipment["postage_label"]:
            return _error(
                422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment."
            )
        rate_id = (body.get("rate") or {}).get("id")
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if rate is None:
            return _error(422, "SHIPMENT.RATE.INVALID", "Invalid rate.")
        shipment["selected_rate"] = rate
        shipment["tracking_code"] = "9434" + str(uuid.uuid4().int)[:18]  # unique per label
        shipment["postage_label"] = {
            "object": "PostageLabel",
            "label_url": f"https://easypost-files.s3.amazonaws.com/files/postage_label/{sid}.png",
            "label_file_type": "image/png",
        }
        self.purchases.append(sid)
        return Reply(200, shipment)
