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
