"""Aftercare's routing table: HTTP routes and schedules, each a few lines into `chalicelib`.

No business logic here. Every route hands lower-cased headers and the raw body to the core
and turns its result, or its `AftercareError`, into a JSON response in one place (`_respond`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice, Rate, Response

from chalicelib import api, inbound
from chalicelib.deps import deps
from chalicelib.errors import AftercareError
from chalicelib.log import bind_context, get_logger

app = Chalice(app_name="aftercare")
log = get_logger("aftercare.app")

# Partners send JSON; WooCommerce's ping is form-encoded. Anything is verified before parsing.
WEBHOOK_CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "application/octet-stream",
]


def _headers() -> dict[str, str]:
    return {name.lower(): value for name, value in app.current_request.headers.items()}


def _raw_body() -> bytes:
    return app.current_request.raw_body or b""


def _respond(work: Callable[[], Any]) -> Response:
    """Run `work`; map its result to 200 and each expected failure to its status, never a 500."""
    request = app.current_request
    correlation_id = request.headers.get("x-request-id") or request.context.get("requestId", "")
    with bind_context(correlation_id=correlation_id, path=request.path):
        try:
            return Response(body=work(), status_code=200)
        except AftercareError as error:
            log.info("request refused", extra={"code": error.code, "status": error.http_status})
            body = {"error": error.code, "detail": error.detail}
            status = 200 if error.http_status == 200 else error.http_status
            return Response(body=body, status_code=status)
        except Exception:
            log.exception("unexpected error")
            return Response(body={"error": "internal_error", "detail": ""}, status_code=500)


@app.route("/webhooks/shopify", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def shopify_webhook() -> Response:
    return _respond(lambda: inbound.receive_shopify(deps(), _headers(), _raw_body()))


@app.route(
    "/webhooks/carriers/{carrier}/{merchant_id}",
    methods=["POST"],
    content_types=WEBHOOK_CONTENT_TYPES,
)
def carrier_webhook(carrier: str, merchant_id: str) -> Response:
    return _respond(
        lambda: inbound.receive_partner(
            deps(), "carriers", carrier, merchant_id, _headers(), _raw_body()
        )
    )


@app.route(
    "/webhooks/warehouse/{wms}/{merchant_id}",
    methods=["POST"],
    content_types=WEBHOOK_CONTENT_TYPES,
)
def warehouse_webhook(wms: str, merchant_id: str) -> Response:
    return _respond(
        lambda: inbound.receive_partner(
            deps(), "warehouse", wms, merchant_id, _headers(), _raw_body()
        )
    )


def _query() -> dict[str, str]:
    return dict(app.current_request.query_params or {})


def _merchant() -> Any:
    d = deps()
    return d.store, api.authenticate(d.store, app.current_request.headers.get("authorization"))


@app.route("/api/cases", methods=["GET"])
def list_cases() -> Response:
    return _respond(lambda: api.list_cases(*_merchant(), _query()))


@app.route("/api/cases/{case_id}", methods=["GET"])
def get_case(case_id: str) -> Response:
    return _respond(lambda: api.get_case(*_merchant(), case_id))


@app.route("/api/notifications", methods=["GET"])
def list_notifications() -> Response:
    return _respond(lambda: api.list_notifications(*_merchant(), _query()))


@app.schedule(Rate(1, unit=Rate.MINUTES), name="send_outbox")
def send_outbox(event: Any) -> dict[str, int]:
    from chalicelib.notify.sender import deliver_due

    d = deps()
    return deliver_due(d, d.now())
