"""Sign test requests like the partners do, over the exact bytes sent, with obviously fake secrets.

One helper per partner returns the headers to send. Overrides (secret, timestamp) let a test
build each verification failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

FAKE_SHOPIFY_SECRET = "shpss_fake_local_secret_do_not_use"
FAKE_EASYPOST_SECRET = "easypost_fake_webhook_secret"


def _b64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- Marketplaces: Shopify, WooCommerce, BigCommerce -------------------------------------
FAKE_WOOCOMMERCE_SECRET = "wc_fake_webhook_secret_do_not_use"
FAKE_BIGCOMMERCE_SECRET = "bc_fake_header_secret_do_not_use"


def shopify_headers(
    body: bytes,
    topic: str,
    shop: str = "aftercare-demo.myshopify.com",
    secret: str = FAKE_SHOPIFY_SECRET,
    webhook_id: str | None = None,
) -> dict[str, str]:
    """Headers of a Shopify webhook delivery of `body` (lower-case names, as the route sees)."""
    return {
        "x-shopify-hmac-sha256": _b64_hmac(secret, body),
        "x-shopify-topic": topic,
        "x-shopify-shop-domain": shop,
        "x-shopify-webhook-id": webhook_id or "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "x-shopify-triggered-at": "2023-03-29T18:00:27.877041743Z",
        "x-shopify-api-version": "2026-07",
        "content-type": "application/json",
    }


def sign_shopify_query(params: dict[str, str], secret: str = FAKE_SHOPIFY_SECRET) -> dict[str, str]:
    """`params` plus the hex `hmac` Shopify adds to install and OAuth-callback redirects."""
    pairs = sorted(
        f"{k.replace('%', '%25').replace('=', '%3D').replace('&', '%26')}="
        f"{v.replace('%', '%25').replace('&', '%26')}"
        for k, v in params.items()
        if k not in ("hmac", "signature")
    )
    return {**params, "hmac": _hex_hmac(secret, "&".join(pairs).encode())}


def woocommerce_headers(
    body: bytes, topic: str, secret: str = FAKE_WOOCOMMERCE_SECRET
) -> dict[str, str]:
    """Headers of a WooCommerce webhook delivery of `body` (lower-case names)."""
    resource, _, event = topic.partition(".")
    return {
        "x-wc-webhook-signature": _b64_hmac(secret, body),
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-resource": resource,
        "x-wc-webhook-event": event,
        "x-wc-webhook-id": "17",
        "x-wc-webhook-delivery-id": "a3f1b7c2d4e5f60718293a4b5c6d7e8f",
        "x-wc-webhook-source": "https://shop.example.com/",
        "content-type": "application/json",
    }


def bigcommerce_headers(secret: str = FAKE_BIGCOMMERCE_SECRET) -> dict[str, str]:
    """Headers of a BigCommerce webhook delivery: the secret header we registered (lower-case)."""
    return {"x-aftercare-secret": secret, "content-type": "application/json"}


FAKE_SHIPHERO_SECRET = "shiphero_fake_webhook_secret_do_not_use"
# "whsec_" + base64(b"shipbob-fake-signing-key-not-real"): the Standard Webhooks secret form.
FAKE_SHIPBOB_SECRET = "whsec_c2hpcGJvYi1mYWtlLXNpZ25pbmcta2V5LW5vdC1yZWFs"
FAKE_GENERIC_WMS_SECRET = "generic_wms_fake_secret_do_not_use"


def _unix_now() -> int:
    import time

    return int(time.time())


def sign_shiphero(
    body: bytes,
    secret: str = FAKE_SHIPHERO_SECRET,
    message_id: str = "fake-shiphero-message-0001",
) -> dict[str, str]:
    """Headers of a ShipHero delivery: base64 HMAC-SHA256 of the body (lower-case names)."""
    return {
        "x-shiphero-hmac-sha256": _b64_hmac(secret, body),
        "x-shiphero-message-id": message_id,
        "content-type": "application/json",
    }


def sign_shipbob(
    body: bytes,
    secret: str = FAKE_SHIPBOB_SECRET,
    msg_id: str = "msg_fake2YcL1Qw0000000000000001",
    timestamp: int | None = None,
    topic: str | None = None,
) -> dict[str, str]:
    """Headers of a ShipBob (Standard Webhooks) delivery: v1 over "id.timestamp.body"."""
    sent_at = _unix_now() if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{sent_at}.".encode() + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": f"v1,{signature}",
        "content-type": "application/json",
    }
    if topic is not None:
        headers["x-webhook-topic"] = topic
    return headers


def sign_generic_wms(
    body: bytes, secret: str = FAKE_GENERIC_WMS_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Headers of a generic WMS delivery: `X-Aftercare-Signature: t=<unix>,v1=<hex>`."""
    sent_at = _unix_now() if timestamp is None else timestamp
    digest = _hex_hmac(secret, f"{sent_at}.".encode() + body)
    return {"x-aftercare-signature": f"t={sent_at},v1={digest}", "content-type": "application/json"}


# --- Carriers: EasyPost, Shippo, AfterShip, generic (our format) -------------------------
FAKE_SHIPPO_SECRET = "shippo_fake_hmac_secret_do_not_use"
FAKE_AFTERSHIP_SECRET = "aftership_fake_webhook_secret_do_not_use"
FAKE_GENERIC_CARRIER_SECRET = "aftercare_fake_carrier_secret_do_not_use"


def sign_easypost(body: bytes, secret: str = FAKE_EASYPOST_SECRET) -> dict[str, str]:
    """EasyPost's `X-Hmac-Signature` for `body`: hex HMAC-SHA256, secret NFKD-normalized."""
    import unicodedata

    digest = _hex_hmac(unicodedata.normalize("NFKD", secret), body)
    return {"x-hmac-signature": f"hmac-sha256-hex={digest}", "content-type": "application/json"}


def sign_aftership(body: bytes, secret: str = FAKE_AFTERSHIP_SECRET) -> dict[str, str]:
    """AfterShip's `aftership-hmac-sha256` for `body`: base64 HMAC-SHA256 under the secret."""
    return {"aftership-hmac-sha256": _b64_hmac(secret, body), "content-type": "application/json"}


def _timestamped(body: bytes, secret: str, timestamp: int | None) -> str:
    import time

    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_hex_hmac(secret, f'{t}.'.encode() + body)}"


def sign_shippo(
    body: bytes, secret: str = FAKE_SHIPPO_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Shippo's `Shippo-Auth-Signature: t=<unix>,v1=<hex HMAC of "<t>.<body>">` for `body`."""
    return {"shippo-auth-signature": _timestamped(body, secret, timestamp)}


def sign_generic(
    body: bytes, secret: str = FAKE_GENERIC_CARRIER_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Our `X-Aftercare-Signature: t=<unix>,v1=<hex HMAC of "<t>.<body>">` for `body`."""
    return {"x-aftercare-signature": _timestamped(body, secret, timestamp)}
