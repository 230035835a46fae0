"""EasyPost outbound client: create a return `Shipment`, buy its cheapest rate, read it back.

API v2 (https://docs.easypost.com/docs/shipments, .../shipments/returns): JSON over HTTPS,
HTTP Basic auth with the API key as user name and no password.
- `POST /v2/shipments` {"shipment": {is_return, reference, to_address, from_address,
  parcel}} answers the Shipment with `id` ("shp_...") and `rates[]` ({id, carrier,
  service, rate}).
- `POST /v2/shipments/{id}/buy` {"rate": {"id": ...}} answers the bought Shipment:
  `tracking_code`, `selected_rate.carrier`, `postage_label.label_url`.
- `GET /v2/shipments/{id}`: a retry after an unanswered buy reads whether it was bought.
Errors: `{"error": {"code", "message", "errors"}}`; 4xx other than 408/429 are refusals.
No EasyPost type leaves this module: callers get `Label`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.connectors.http import PartnerHttp, json_body
from chalicelib.errors import ProviderError
from chalicelib.policy.return_labels import cheapest_rate

__all__ = ["EasyPostApi", "Label", "label_of"]


@dataclass(frozen=True)
class Label:
    """A bought label (`tracking_number` set) or a shipment not bought yet (None)."""

    shipment_id: str
    tracking_number: str | None
    carrier: str | None
    label_url: str | None

    @property
    def bought(self) -> bool:
        return bool(self.tracking_number and self.label_url)


def label_of(shipment: Mapping[str, Any]) -> Label:
    """What we keep of an EasyPost Shipment."""
    postage = shipment.get("postage_label") or {}
    selected = shipment.get("selected_rate") or {}
    return Label(
        shipment_id=str(shipment.get("id") or ""),
        tracking_number=shipment.get("tracking_code") or None,
        carrier=selected.get("carrier") or None,
        label_url=postage.get("label_url") or None,
    )


class EasyPostApi:
    """One EasyPost account (the platform's API key)."""

    def __init__(self, api_key: str, http: PartnerHttp, base: str) -> None:
        self._auth = (api_key, "")
        self.http = http
        self.base = base.rstrip("/")

    def __repr__(self) -> str:  # never print the key
        return f"EasyPostApi({self.base})"

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, f"{self.base}{path}", auth=self._auth, **kwargs)
        body = json_body(response)
        if response.status_code in (200, 201) and isinstance(body, dict):
            return body
        error = (body or {}).get("error") if isinstance(body, dict) else None
        message = (error or {}).get("message") if isinstance(error, dict) else None
        status = response.status_code
        detail = f"EasyPost refused {what} (HTTP {status}): {message or ''}".rstrip(": ")
        retryable = status >= 500 or status in (408, 429)
        raise ProviderError(detail[:500], retryable=retryable)

    def create_shipment(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Create the (return) Shipment; answers it with its rates. Costs nothing."""
        return self._call("POST", "/v2/shipments", "the shipment", json=dict(request))

    def shipment_body(self, shipment_id: str) -> dict[str, Any]:
        """The Shipment as EasyPost has it now (bought or not, with its rates)."""
        return self._call("GET", f"/v2/shipments/{shipment_id}", "reading the shipment")

    def buy_cheapest(self, shipment: Mapping[str, Any]) -> Label:
        """Buy the lowest rate of `shipment` (as `create_shipment` answered it)."""
        try:
            rate = cheapest_rate(shipment.get("rates") or [])
        except ValueError as exc:
            raise ProviderError(str(exc), retryable=False) from exc
        body = self._call(
            "POST",
            f"/v2/shipments/{shipment['id']}/buy",
            "the label purchase",
            json={"rate": {"id": rate["id"]}},
        )
        label = label_of(body)
        if not label.bought:
            raise ProviderError("EasyPost answered the purchase without a label", retryable=True)
        return label
