"""The one error family: every failure a caller can act on, with its HTTP status and a stable code.

The core raises these; `app.py` turns them into JSON responses in one place. Nothing here
imports Chalice, so policy and handlers stay framework-free.
"""

from __future__ import annotations

__all__ = [
    "AftercareError",
    "BadSignature",
    "MalformedPayload",
    "UnknownMerchant",
    "NotFound",
    "Unauthorized",
    "Forbidden",
    "PayloadTooLarge",
    "Conflict",
    "InvalidTransition",
    "Duplicate",
    "StaleVersion",
    "RateLimited",
    "ProviderError",
]


class AftercareError(Exception):
    """Base of every expected failure; `http_status` and `code` travel to the response."""

    http_status: int = 500
    code: str = "internal_error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail


class BadSignature(AftercareError):
    """A request's signature is missing, malformed, stale or does not match."""

    http_status = 401
    code = "bad_signature"


class Unauthorized(AftercareError):
    """An API call without valid credentials."""

    http_status = 401
    code = "unauthorized"


class Forbidden(AftercareError):
    """Valid credentials that may not do this."""

    http_status = 403
    code = "forbidden"


class MalformedPayload(AftercareError):
    """A verified body that cannot be understood (bad JSON, missing or wrong-typed fields)."""

    http_status = 400
    code = "malformed_payload"


class UnknownMerchant(AftercareError):
    """The request names a merchant we do not have (or one that is inactive)."""

    http_status = 404
    code = "unknown_merchant"


class NotFound(AftercareError):
    """The requested resource does not exist for this merchant."""

    http_status = 404
    code = "not_found"


class PayloadTooLarge(AftercareError):
    """The body exceeds the accepted size; rejected before it is parsed."""

    http_status = 413
    code = "payload_too_large"


class Conflict(AftercareError):
    """The change conflicts with the current state."""

    http_status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    """A case cannot move from its current state to the requested one."""

    code = "invalid_transition"


class Duplicate(AftercareError):
    """The event was already processed (idempotency receipt exists). Answered as 200."""

    http_status = 200
    code = "duplicate"


class StaleVersion(Conflict):
    """Another writer changed the item since it was read; the caller may re-read and retry."""

    code = "stale_version"


class RateLimited(AftercareError):
    """Too many requests; the caller should retry later."""

    http_status = 429
    code = "rate_limited"


class ProviderError(AftercareError):
    """A partner or provider API failed; `retryable` says whether a later attempt may succeed."""

    http_status = 502
    code = "provider_error"

    def __init__(self, detail: str = "", *, retryable: bool = True) -> None:
        super().__init__(detail)
        self.retryable = retryable
