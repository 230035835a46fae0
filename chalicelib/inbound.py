"""The inbound pipeline every webhook takes: size, merchant, verify, parse, dispatch.

Framework-free: `app.py` hands over lower-cased headers and the raw body and turns the
returned dict (or an `AftercareError`) into a response. The body is not parsed before its
signature is verified, and the merchant always comes from the verified request.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from chalicelib.errors import BadSignature, NotFound, PayloadTooLarge, UnknownMerchant
from chalicelib.handlers import dispatch
from chalicelib.handlers.common import Delivery
from chalicelib.log import bind_context, get_logger

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.models import MerchantItem

__all__ = ["receive_partner", "receive_shopify", "CARRIERS", "WAREHOUSES", "shopify_merchant_id"]

log = get_logger(__name__)

# Partner name in the URL -> connector module (imported on first use: cold starts stay light).
CARRIERS = {
    "easypost": "chalicelib.connectors.easypost",
    "shippo": "chalicelib.connectors.shippo",
    "aftership": "chalicelib.connectors.aftership",
    "generic": "chalicelib.connectors.generic_carrier",
}
WAREHOUSES = {
    "shiphero": "chalicelib.connectors.shiphero",
    "shipbob": "chalicelib.connectors.shipbob",
    "generic": "chalicelib.connectors.generic_wms",
}
FAMILIES = {"carriers": CARRIERS, "warehouse": WAREHOUSES}


def _check_size(raw_body: bytes, limit: int) -> None:
    if len(raw_body) > limit:
        raise PayloadTooLarge(f"body of {len(raw_body)} bytes exceeds {limit}")


def _connector(family: str, partner: str) -> tuple[str, ModuleType]:
    """The connector's name (which also names the merchant's secret for it) and its module."""
    modules = FAMILIES[family]
    if partner not in modules:
        raise NotFound(f"unknown {family} partner '{partner}'; known: {', '.join(sorted(modules))}")
    path = modules[partner]
    return path.rsplit(".", 1)[1], importlib.import_module(path)


def _active_merchant(deps: Deps, merchant_id: str) -> MerchantItem:
    merchant = deps.store.merchant(merchant_id)
    if merchant is None or merchant.status != "active":
        raise UnknownMerchant(f"no active merchant '{merchant_id}'")
    return merchant


def _run(
    deps: Deps,
    connector: ModuleType,
    delivery: Delivery,
    headers: Mapping[str, str],
    raw_body: bytes,
) -> dict[str, Any]:
    events = connector.parse(headers, raw_body)
    outcomes = [
        dispatch(event, delivery.for_event(index), deps.store) for index, event in enumerate(events)
    ]
    statuses = [outcome.status for outcome in outcomes]
    log.info("webhook processed", extra={"source": delivery.source, "outcomes": statuses})
    return {
        "status": "duplicate" if statuses and set(statuses) == {"duplicate"} else "accepted",
        "events": [
            {"type": type(event).__name__, "outcome": outcome.status, "detail": outcome.detail}
            for event, outcome in zip(events, outcomes, strict=True)
        ],
    }


def receive_partner(
    deps: Deps,
    family: str,
    partner: str,
    merchant_id: str,
    headers: Mapping[str, str],
    raw_body: bytes,
) -> dict[str, Any]:
    """A carrier or warehouse webhook for the merchant named in the path.

    Raises `PayloadTooLarge`, `NotFound` (unknown partner), `UnknownMerchant`,
    `BadSignature` (before anything is parsed) or `MalformedPayload`.
    """
    _check_size(raw_body, deps.settings.max_body_bytes)
    source, connector = _connector(family, partner)
    with bind_context(merchant_id=merchant_id, source=source):
        merchant = _active_merchant(deps, merchant_id)
        secrets = list(merchant.webhook_secrets.get(source) or [])
        if not secrets:
            raise BadSignature(f"no {source} webhook secret is configured for this merchant")
        connector.verify(headers, raw_body, secrets)
        delivery = Delivery(merchant, source, connector.delivery_id(headers, raw_body), deps.now())
        return _run(deps, connector, delivery, headers, raw_body)


def shopify_merchant_id(shop_domain: str) -> str:
    """Merchant id of a Shopify shop: readable, stable, derived from the verified domain."""
    return "shp-" + shop_domain.split(".", 1)[0].lower()


def receive_shopify(deps: Deps, headers: Mapping[str, str], raw_body: bytes) -> dict[str, Any]:
    """A Shopify webhook: app-secret HMAC first, then the shop from the verified headers."""
    from chalicelib.connectors import shopify

    _check_size(raw_body, deps.settings.max_body_bytes)
    shopify.verify(headers, raw_body, list(deps.settings.shopify_api_secrets))
    domain = shopify.shop_domain(headers)
    merchant_id = shopify_merchant_id(domain)
    with bind_context(merchant_id=merchant_id, source="shopify"):
        merchant = deps.store.merchant(merchant_id)
        if merchant is None or merchant.status != "active":
            if shopify.topic(headers) in shopify.COMPLIANCE_TOPICS:
                return {
                    "status": "accepted",
                    "events": [],
                    "detail": "nothing stored for this shop",
                }
            raise UnknownMerchant(f"no active merchant for {domain}")
        delivery = Delivery(merchant, "shopify", shopify.delivery_id(headers, raw_body), deps.now())
        return _run(deps, shopify, delivery, headers, raw_body)
