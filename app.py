"""Aftercare's routing table: HTTP routes and schedules, each a few lines into `chalicelib`.

No business logic here. Every route hands lower-cased headers and the raw body to the core
and turns its result, or its `AftercareError`, into a JSON response in one place (`_respond`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice, Rate, Response

from chalicelib import api, inbound, transient
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
        except Exception as error:
            if transient.is_transient(error):  # nothing committed: the caller retries (issue 9)
                log.warning("transient failure, retry asked", extra={"error": type(error).__name__})
                body = {"error": "temporarily_unavailable", "detail": "retry later"}
                retry = {"Retry-After": str(transient.RETRY_AFTER_SECONDS)}
                return Response(body=body, status_code=503, headers=retry)
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
    return _respond(lambda: api.list_cases(*_merchant(), _query(), deps().now()))


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


def _case_action(case_id: str, action: str) -> Response:
    from chalicelib import ops

    return _respond(lambda: ops.act(*_merchant(), case_id, action, _raw_body(), deps().now()))


@app.route("/api/cases/{case_id}/assign", methods=["POST"])
def assign_case(case_id: str) -> Response:
    return _case_action(case_id, "assign")


@app.route("/api/cases/{case_id}/note", methods=["POST"])
def note_case(case_id: str) -> Response:
    return _case_action(case_id, "note")


@app.route("/api/cases/{case_id}/status", methods=["POST"])
def set_case_status(case_id: str) -> Response:
    return _case_action(case_id, "status")


@app.route("/api/cases/{case_id}/approve", methods=["POST"])
def approve_case(case_id: str) -> Response:
    return _case_action(case_id, "approve")


@app.route("/api/cases/{case_id}/reject", methods=["POST"])
def reject_case(case_id: str) -> Response:
    return _case_action(case_id, "reject")


@app.route("/api/cases/{case_id}/resolve", methods=["POST"])
def resolve_case(case_id: str) -> Response:
    return _case_action(case_id, "resolve")


@app.route("/api/customers/{customer_id}/timeline", methods=["GET"])
def customer_timeline(customer_id: str) -> Response:
    return _respond(lambda: api.customer_timeline(*_merchant(), customer_id, _query()))


# --- SMS provider webhooks: delivery receipts and customer replies (issue 6) ----------------


@app.route("/webhooks/sms/{provider}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def sms_webhook(provider: str) -> Response:
    from chalicelib import inbound_sms

    response = _respond(
        lambda: inbound_sms.receive_sms(deps(), provider, _headers(), _raw_body(), _query())
    )
    if response.status_code == 200 and provider == "twilio":  # Twilio expects TwiML back
        response.body = inbound_sms.TWIML_EMPTY
        response.headers = {**(response.headers or {}), "Content-Type": "text/xml"}
    return response


@app.schedule("cron(0/15 * * * ? *)", name="send_weekly_digests")
def send_weekly_digests(event: Any) -> dict[str, int]:
    """Weekly digests whose merchant-local Monday 08:00 has come (see chalicelib/digest)."""
    from chalicelib.digest.job import run_weekly_digests, time_budget

    d = deps()
    return run_weekly_digests(d, d.now(), budget_seconds=time_budget(event.context))


# --- Marketplaces (issue 3): install flows, WooCommerce/BigCommerce webhooks, privacy -------


def _browser(work: Callable[[], Any]) -> Response:
    """Install flows answer the merchant's browser: a redirect or an HTML page, never JSON."""
    from chalicelib import install, install_pages

    request = app.current_request
    correlation_id = request.headers.get("x-request-id") or request.context.get("requestId", "")
    with bind_context(correlation_id=correlation_id, path=request.path):
        try:
            result = work()
        except AftercareError as error:
            log.info("install refused", extra={"code": error.code, "status": error.http_status})
            page = install_pages.error_page(error)
            return Response(page, status_code=error.http_status, headers=install_pages.HTML_HEADERS)
        except Exception:
            log.exception("install failed unexpectedly")
            page = install_pages.error_page(None)
            return Response(page, status_code=500, headers=install_pages.HTML_HEADERS)
    if isinstance(result, install.Redirect):
        headers = {"Location": result.location, "Cache-Control": "no-store"}
        if result.cookie:
            headers["Set-Cookie"] = install_pages.state_cookie(result.cookie)
        return Response(body="", status_code=302, headers=headers)
    page = install_pages.installed_page(result)
    return Response(page, status_code=200, headers=install_pages.HTML_HEADERS)


@app.route("/install/shopify", methods=["GET"])
def shopify_install() -> Response:
    from chalicelib import install

    return _browser(lambda: install.begin_shopify(deps(), _query()))


@app.route("/oauth/shopify/callback", methods=["GET"])
def shopify_oauth_callback() -> Response:
    from chalicelib import install, install_pages

    cookie = install_pages.cookie_state(_headers().get("cookie"))
    return _browser(lambda: install.finish_shopify(deps(), _query(), cookie))


@app.route("/install/woocommerce", methods=["GET"])
def woocommerce_connect() -> Response:
    from chalicelib import install_stores

    return _browser(lambda: install_stores.begin_woocommerce(deps(), _query()))


@app.route("/oauth/woocommerce/callback", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def woocommerce_keys_callback() -> Response:
    from chalicelib import install_stores

    return _respond(lambda: install_stores.woocommerce_callback(deps(), _raw_body()))


@app.route("/install/woocommerce/return", methods=["GET"])
def woocommerce_connect_return() -> Response:
    from chalicelib import install_stores

    return _browser(lambda: install_stores.woocommerce_return(deps(), _query()))


@app.route("/oauth/bigcommerce/callback", methods=["GET"])
def bigcommerce_install_callback() -> Response:
    from chalicelib import install_stores

    return _browser(lambda: install_stores.bigcommerce_callback(deps(), _query()))


@app.route(
    "/webhooks/woocommerce/{merchant_id}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES
)
def woocommerce_webhook(merchant_id: str) -> Response:
    return _respond(
        lambda: inbound.receive_woocommerce(deps(), merchant_id, _headers(), _raw_body())
    )


@app.route(
    "/webhooks/bigcommerce/{merchant_id}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES
)
def bigcommerce_webhook(merchant_id: str) -> Response:
    return _respond(
        lambda: inbound.receive_bigcommerce(deps(), merchant_id, _headers(), _raw_body())
    )


@app.route("/api/privacy/requests", methods=["GET"])
def list_privacy_requests() -> Response:
    from chalicelib.handlers import privacy

    return _respond(lambda: privacy.list_privacy_requests(*_merchant()))


@app.route("/api/privacy/requests/{request_id}", methods=["GET"])
def get_privacy_request(request_id: str) -> Response:
    from chalicelib.handlers import privacy

    return _respond(lambda: privacy.get_privacy_request(*_merchant(), request_id))


# --- Outbox stream consumer (issue 13): new outbox items are sent as soon as they commit ----

# Chalice needs an ARN here when the app is loaded; the packaged template replaces it with
# the table's `StreamArn` (infra/resources.json, merged by `chalice package`), where the
# mapping's retries, dead-letter queue and filter are set too (docs/deploy.md).
OUTBOX_STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/aftercare/stream/set-by-infra"


@app.on_dynamodb_record(
    stream_arn=OUTBOX_STREAM_ARN,
    batch_size=25,
    starting_position="LATEST",
    name="send_outbox_stream",
    maximum_batching_window_in_seconds=0,
)
def send_outbox_stream(event: Any) -> dict[str, int]:
    from chalicelib.notify.stream_consumer import deliver_records

    d = deps()
    return deliver_records(d, event.to_dict().get("Records", []), d.now())


# --- Merchant settings, SMS templates and small ops lookups (issues 5, 6, 7) ---------------


@app.route("/api/settings", methods=["GET"])
def get_settings() -> Response:
    from chalicelib import settings_api

    return _respond(lambda: settings_api.get_settings(*_merchant()))


@app.route("/api/settings/audit", methods=["GET"])
def settings_audit() -> Response:
    from chalicelib import settings_api

    return _respond(lambda: settings_api.list_audit(*_merchant(), _query()))


@app.route("/api/settings/{section}", methods=["PUT"])
def put_settings_section(section: str) -> Response:
    from chalicelib import settings_api

    return _respond(
        lambda: settings_api.put_section(
            *_merchant(), section, _headers(), _raw_body(), deps().now()
        )
    )


@app.route("/api/settings/returns/try", methods=["POST"])
def try_return_rules() -> Response:
    from chalicelib import settings_api

    return _respond(lambda: settings_api.try_return(*_merchant(), _raw_body(), deps().now()))


@app.route("/api/settings/sla/try", methods=["POST"])
def try_sla_policy() -> Response:
    from chalicelib import settings_api

    return _respond(lambda: settings_api.try_sla(*_merchant(), _raw_body(), deps().now()))


@app.route("/api/templates", methods=["GET"])
def list_sms_templates() -> Response:
    from chalicelib import templates_api

    return _respond(lambda: templates_api.list_templates(*_merchant()))


@app.route("/api/templates/{kind}/{locale}", methods=["PUT", "DELETE"])
def sms_template(kind: str, locale: str) -> Response:
    from chalicelib import templates_api

    if app.current_request.method == "DELETE":
        return _respond(
            lambda: templates_api.delete_template(
                *_merchant(), kind, locale, _headers(), deps().now()
            )
        )
    return _respond(
        lambda: templates_api.put_template(
            *_merchant(), kind, locale, _headers(), _raw_body(), deps().now()
        )
    )


@app.route("/api/templates/{kind}/{locale}/preview", methods=["POST"])
def preview_sms_template(kind: str, locale: str) -> Response:
    from chalicelib import templates_api

    return _respond(lambda: templates_api.preview(*_merchant(), kind, locale, _raw_body()))


@app.route("/api/returns/{code}", methods=["GET"])
def return_by_code(code: str) -> Response:
    from chalicelib import ops_lookup

    return _respond(lambda: ops_lookup.return_by_code(*_merchant(), code))


@app.route("/api/notifications/{outbox_id}/retry", methods=["POST"])
def retry_notification(outbox_id: str) -> Response:
    from chalicelib import ops_lookup

    return _respond(lambda: ops_lookup.retry_notification(*_merchant(), outbox_id, deps().now()))


# --- Customer pages (issue 11): return portal /r/{slug} and order status page /s/{token} ----

PAGE_FORM_TYPES = ["application/x-www-form-urlencoded"]
PAGE_UPLOAD_TYPES = [*PAGE_FORM_TYPES, "multipart/form-data"]  # the return form with photos
if "multipart/form-data" not in app.api.binary_types:  # photo bytes must arrive untouched
    app.api.binary_types.append("multipart/form-data")


def _customer_page(module: str, name: str, *args: str) -> Response:
    """Run one customer page (chalicelib/pages) and answer with its HTML or redirect."""
    from importlib import import_module

    from chalicelib.pages.web import Request, answer, base_of

    raw = app.current_request
    context = raw.context or {}
    full_path = context.get("path") or raw.path
    request = Request(
        raw.method,
        full_path,
        dict(raw.query_params or {}),
        _headers(),
        _raw_body() if raw.method == "POST" else b"",
        (context.get("identity") or {}).get("sourceIp") or "",
        base_of(full_path, raw.path, dict(raw.uri_params or {})),
    )
    handler = getattr(import_module(f"chalicelib.pages.{module}"), name)
    home = request.url(f"/r/{args[0]}") if module == "portal" and args else None
    reply = answer(request, lambda: handler(deps(), *args, request), home)
    return Response(body=reply.body, status_code=reply.status, headers=reply.headers)


@app.route("/r/{slug}", methods=["GET"])
def portal_lookup_form(slug: str) -> Response:
    return _customer_page("portal", "lookup_form", slug)


@app.route("/r/{slug}/lookup", methods=["POST"], content_types=PAGE_FORM_TYPES)
def portal_lookup(slug: str) -> Response:
    return _customer_page("portal", "do_lookup", slug)


@app.route("/r/{slug}/order", methods=["GET"])
def portal_order(slug: str) -> Response:
    return _customer_page("portal", "order_page", slug)


@app.route("/r/{slug}/returns", methods=["POST"], content_types=PAGE_UPLOAD_TYPES)
def portal_submit_return(slug: str) -> Response:
    return _customer_page("portal", "submit_return", slug)


@app.route("/r/{slug}/returns/{case_id}", methods=["GET"])
def portal_return(slug: str, case_id: str) -> Response:
    return _customer_page("portal", "return_page", slug, case_id)


@app.route("/s/{token}", methods=["GET"])
def order_status_page(token: str) -> Response:
    return _customer_page("status", "status_page", token)


@app.route("/s/{token}/reply", methods=["POST"], content_types=PAGE_FORM_TYPES)
def order_status_reply(token: str) -> Response:
    return _customer_page("status", "post_reply", token)


# --- SLA escalation (issue 7): due cases only, from the sparse due index ---------------------


@app.schedule(Rate(5, unit=Rate.MINUTES), name="escalate_sla")
def escalate_sla(event: Any) -> dict[str, int]:
    from chalicelib.sla_job import escalate_due

    d = deps()
    return escalate_due(d, d.now())


# --- Merchant console (issue 12): server-rendered pages over the ops API and settings -------

CONSOLE_FORMS = ["application/x-www-form-urlencoded", "application/json"]


def _console(route: str, **params: str) -> Response:
    from chalicelib.console import http as console

    request = app.current_request
    req = console.Request(request.method, _headers(), _query(), _raw_body(), params)
    reply = console.handle(deps(), route, req)
    return Response(body=reply.body, status_code=reply.status, headers=reply.headers)


@app.route("/console", methods=["GET"])
def console_queue() -> Response:
    return _console("queue_page")


@app.route("/console/login", methods=["GET"])
def console_login_page() -> Response:
    return _console("login_page")


@app.route("/console/login", methods=["POST"], content_types=CONSOLE_FORMS)
def console_login() -> Response:
    return _console("login")


@app.route("/console/logout", methods=["POST"], content_types=CONSOLE_FORMS)
def console_logout() -> Response:
    return _console("logout")


@app.route("/console/api/queue", methods=["GET"])
def console_queue_json() -> Response:
    return _console("queue_json")


@app.route("/console/bulk-assign", methods=["POST"], content_types=CONSOLE_FORMS)
def console_bulk_assign() -> Response:
    return _console("bulk_assign")


@app.route("/console/cases/{case_id}", methods=["GET"])
def console_case(case_id: str) -> Response:
    return _console("case_page", case_id=case_id)


@app.route("/console/cases/{case_id}/sms/preview", methods=["POST"], content_types=CONSOLE_FORMS)
def console_case_sms_preview(case_id: str) -> Response:
    return _console("case_sms_preview", case_id=case_id)


@app.route("/console/cases/{case_id}/{action}", methods=["POST"], content_types=CONSOLE_FORMS)
def console_case_action(case_id: str, action: str) -> Response:
    return _console("case_action", case_id=case_id, action=action)


@app.route("/console/rules", methods=["GET"])
def console_rules() -> Response:
    return _console("rules_page")


@app.route("/console/rules/{section}", methods=["POST"], content_types=CONSOLE_FORMS)
def console_rules_save(section: str) -> Response:
    return _console("rules_save", section=section)


@app.route("/console/insights", methods=["GET"])
def console_insights() -> Response:
    return _console("insights_page")


@app.route("/console/insights.csv", methods=["GET"])
def console_insights_csv() -> Response:
    return _console("insights_csv")


@app.route("/console/users", methods=["GET"])
def console_users() -> Response:
    return _console("users_page")


@app.route("/console/users", methods=["POST"], content_types=CONSOLE_FORMS)
def console_users_create() -> Response:
    return _console("users_create")


@app.route("/console/static/{name}", methods=["GET"])
def console_static(name: str) -> Response:
    return _console("static", name=name)


@app.route("/console/messages", methods=["GET"])
def console_messages() -> Response:
    return _console("messages_page")


@app.route(
    "/console/messages/{kind}/{locale}/preview", methods=["POST"], content_types=CONSOLE_FORMS
)
def console_template_preview(kind: str, locale: str) -> Response:
    return _console("template_preview", kind=kind, locale=locale)


@app.route("/console/messages/{kind}/{locale}", methods=["POST"], content_types=CONSOLE_FORMS)
def console_template_save(kind: str, locale: str) -> Response:
    return _console("template_save", kind=kind, locale=locale)


@app.route("/console/outbox/{outbox_id}/retry", methods=["POST"], content_types=CONSOLE_FORMS)
def console_retry(outbox_id: str) -> Response:
    return _console("retry", outbox_id=outbox_id)


@app.route("/console/rules/try/{section}", methods=["POST"], content_types=CONSOLE_FORMS)
def console_rules_try(section: str) -> Response:
    return _console("rules_try", section=section)


# --- Stale tracking (issue 4): in-transit shipments due on the sparse index ----------------


@app.schedule(Rate(15, unit=Rate.MINUTES), name="flag_stale_tracking")
def flag_stale_tracking(event: Any) -> dict[str, int]:
    from chalicelib.stale_tracking import flag_stale

    d = deps()
    return flag_stale(d, d.now())


# --- Customer pages completion (issue 11, B2): status-page CSAT, return approval expiry ----


@app.route("/s/{token}/csat", methods=["POST"], content_types=PAGE_FORM_TYPES)
def order_status_csat(token: str) -> Response:
    return _customer_page("csat", "post_csat", token)


@app.schedule(Rate(1, unit=Rate.HOURS), name="expire_returns")
def expire_returns(event: Any) -> dict[str, int]:
    from chalicelib.return_expiry import expire_due

    d = deps()
    return expire_due(d, d.now())


# --- VIP re-evaluation (issue 7): due customers only, from the sparse due index ------------


@app.schedule(Rate(1, unit=Rate.HOURS), name="reevaluate_tiers")
def reevaluate_tiers(event: Any) -> dict[str, int]:
    from chalicelib.handlers.tier_review import reevaluate_due

    d = deps()
    return reevaluate_due(d, d.now())
