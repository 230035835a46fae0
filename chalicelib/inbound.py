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
from chalicelib.metrics import count_rejections

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.models import MerchantItem

__all__ = [
    "receive_partner",
    "receive_shopify",
    "receive_woocommerce",
    "receive_bigcommerce",
    "CARRIERS",
    "WAREHOUSES",
    "shopify_merchant_id",
]

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


def _run(
    deps: Deps,
    connector: ModuleType,
    delivery: Delivery,
    headers: Mapping[str, str],
    raw_body: bytes,
) -> dict[str, Any]:
    return _dispatch_all(deps, delivery, connector.parse(headers, raw_body))


def _dispatch_all(deps: Deps, delivery: Delivery, events: list[Any]) -> dict[str, Any]:
    outcomes = [
        dispatch(event, delivery.for_event(index), deps.store) for index, event in enumerate(events)
    ]
    statuses = [outcome.status for outcome in outcomes]
    log.info("webhook processed", extra={"source": delivery.source, "outcomes": statuses})
    deps.metrics.events(delivery.source, statuses, delivery.merchant_id)
    deps.metrics.decisions(outcomes, delivery.merchant_id)
    return {
        "status": "duplicate" if statuses and set(statuses) == {"duplicate"} else "accepted",
        "events": [
            {"type": type(event).__name__, "outcome": outcome.status, "detail": outcome.detail}
            for event, outcome in zip(events, outcomes, strict=True)
        ],
    }


@count_rejections(route_arg="family")
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
        merchant = _verified_merchant(deps, merchant_id, source, connector, headers, raw_body)
        delivery = Delivery(merchant, source, connector.delivery_id(headers, raw_body), deps.now())
        return _run(deps, connector, delivery, headers, raw_body)


def shopify_merchant_id(shop_domain: str) -> str:
    """Merchant id of a Shopify shop: readable, stable, derived from the verified domain."""
    return "shp-" + shop_domain.split(".", 1)[0].lower()


@count_rejections("shopify")
def receive_shopify(deps: Deps, headers: Mapping[str, str], raw_body: bytes) -> dict[str, Any]:
    """A Shopify webhook: app-secret HMAC first, then the shop from the verified headers."""
    from chalicelib.connectors import shopify

    _check_size(raw_body, deps.settings.max_body_bytes)
    shopify.verify(headers, raw_body, list(deps.secrets.resolve(deps.settings.shopify_api_secrets)))
    domain = shopify.shop_domain(headers)
    merchant_id = shopify_merchant_id(domain)
    with bind_context(merchant_id=merchant_id, source="shopify"):
        # Privacy topics (and a repeated app/uninstalled) still reach an uninstalled shop:
        # shop/redact arrives 48 hours after the uninstall. They change the merchant, so
        # they read it fresh; other topics take it from the container's cache.
        after_uninstall = shopify.COMPLIANCE_TOPICS | {"app/uninstalled"}
        lifecycle_topic = shopify.topic(headers) in after_uninstall
        merchant, _ = deps.store.cached_merchant(merchant_id, refresh=lifecycle_topic)
        inactive_ok = merchant is not None and lifecycle_topic
        if merchant is None or (merchant.status != "active" and not inactive_ok):
            if shopify.topic(headers) in shopify.COMPLIANCE_TOPICS:
                return {
                    "status": "accepted",
                    "events": [],
                    "detail": "nothing stored for this shop",
                }
            raise UnknownMerchant(f"no active merchant for {domain}")
        delivery = Delivery(merchant, "shopify", shopify.delivery_id(headers, raw_body), deps.now())
        return _run(deps, shopify, delivery, headers, raw_body)


def _verified_merchant(
    deps: Deps,
    merchant_id: str,
    source: str,
    connector: ModuleType,
    headers: Mapping[str, str],
    raw_body: bytes,
) -> MerchantItem:
    """The active merchant `merchant_id`, once `connector` verified the request with the
    merchant's `source` secrets. The merchant comes from the container's cache when it can;
    a check that fails against a cached copy reads the merchant again, once, so a secret
    rotated through another container is never refused.

    Raises `UnknownMerchant` or `BadSignature`.
    """
    merchant, cached = deps.store.cached_merchant(merchant_id)
    try:
        return _verify(merchant, merchant_id, source, connector, headers, raw_body)
    except BadSignature:
        if not cached:
            raise
    fresh, _ = deps.store.cached_merchant(merchant_id, refresh=True)
    return _verify(fresh, merchant_id, source, connector, headers, raw_body)


def _verify(
    merchant: MerchantItem | None,
    merchant_id: str,
    source: str,
    connector: ModuleType,
    headers: Mapping[str, str],
    raw_body: bytes,
) -> MerchantItem:
    if merchant is None or merchant.status != "active":
        raise UnknownMerchant(f"no active merchant '{merchant_id}'")
    secrets = list(merchant.webhook_secrets.get(source) or [])
    if not secrets:
        raise BadSignature(f"no {source} webhook secret is configured for this merchant")
    connector.verify(headers, raw_body, secrets)
    return merchant


@count_rejections("woocommerce")
def receive_woocommerce(
    deps: Deps, merchant_id: str, headers: Mapping[str, str], raw_body: bytes
) -> dict[str, Any]:
    """A WooCommerce webhook. Its unsigned `webhook_id=N` ping (sent while a webhook is
    saved, before anything is stored) gets a 200 and does nothing. Order refunds are
    deduplicated per refund id by their handler.

    Raises `PayloadTooLarge`, `UnknownMerchant`, `BadSignature` or `MalformedPayload`.
    """
    from chalicelib.connectors import woocommerce

    _check_size(raw_body, deps.settings.max_body_bytes)
    if woocommerce.is_ping(headers, raw_body):
        return {"status": "accepted", "events": [], "detail": "ping"}
    with bind_context(merchant_id=merchant_id, source="woocommerce"):
        merchant = _verified_merchant(
            deps, merchant_id, "woocommerce", woocommerce, headers, raw_body
        )
        dedupe = woocommerce.delivery_id(headers, raw_body)
        delivery = Delivery(merchant, "woocommerce", dedupe, deps.now())
        return _run(deps, woocommerce, delivery, headers, raw_body)


@count_rejections("bigcommerce")
def receive_bigcommerce(
    deps: Deps, merchant_id: str, headers: Mapping[str, str], raw_body: bytes
) -> dict[str, Any]:
    """A BigCommerce webhook: check our secret header, then complete each light order
    event by fetching the order (`OrderPlaced` / `OrderUpdated`) before dispatching.

    Raises `PayloadTooLarge`, `UnknownMerchant`, `BadSignature`, `MalformedPayload`, or
    `ProviderError` (502: the order could not be fetched; BigCommerce retries).
    """
    from chalicelib.connectors import bigcommerce
    from chalicelib.events import OrderChanged

    _check_size(raw_body, deps.settings.max_body_bytes)
    with bind_context(merchant_id=merchant_id, source="bigcommerce"):
        merchant = _verified_merchant(
            deps, merchant_id, "bigcommerce", bigcommerce, headers, raw_body
        )
        dedupe = bigcommerce.delivery_id(headers, raw_body)
        delivery = Delivery(merchant, "bigcommerce", dedupe, deps.now())
        events = bigcommerce.parse(headers, raw_body)
        if any(isinstance(event, OrderChanged) for event in events):
            from chalicelib.partners import fetch_bigcommerce_order

            events = [
                fetch_bigcommerce_order(deps, merchant, e) if isinstance(e, OrderChanged) else e
                for e in events
            ]
        return _dispatch_all(deps, delivery, events)
