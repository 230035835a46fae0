"""Transient AWS failures: recognise them, so callers answer "retry later" instead of a 500.

DynamoDB throttling (after botocore's own retries), a transaction still conflicting after
the handler's retries, a DynamoDB/SSM endpoint that times out or is unreachable: nothing was
committed (a transaction is all-or-nothing), so the right answer to a partner is 503 with
`Retry-After`: every partner retries a 5xx, and the idempotency receipt makes the retry safe.
Classified by class name and error code, so importing this module imports no AWS SDK.
"""

from __future__ import annotations

__all__ = ["TRANSIENT_CODES", "is_transient", "RETRY_AFTER_SECONDS"]

RETRY_AFTER_SECONDS = 5
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
        "ThrottledException",
    }
)
_TRANSIENT_CLASSES = frozenset(
    {
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "EndpointConnectionError",
        "ConnectionClosedError",
    }
)


def _code(error: BaseException) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    code = getattr(error, "cause_response_code", None)  # PynamoDB's wrapped errors
    return str(code) if code else None


def is_transient(error: BaseException) -> bool:
    """True when `error` (or what caused it) is a throttle, conflict or timeout of AWS."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in _TRANSIENT_CLASSES or _code(current) in TRANSIENT_CODES:
            return True
        reasons = getattr(current, "cancellation_reasons", None) or []
        codes = {getattr(reason, "code", None) for reason in reasons}
        if codes & {"ThrottlingError", "TransactionConflict"}:
            return True
        current = getattr(current, "cause", None) or current.__cause__ or current.__context__
    return False
