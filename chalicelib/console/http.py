"""What each console route does: request in, `Reply` out (framework-free; app.py adapts).

Every page and action first finds the principal (`auth.principal`): a missing or invalid
session sends a browser to the sign-in page (JSON callers get 401). Every state change
checks the CSRF token, then the role (`roles.require`), then calls the core (`ops.act`,
`merchant_settings.save_section`, `users.create_user_key`) scoped to the principal's
merchant, so another merchant's ids are simply not found (404). Expected failures become a
page or JSON with their 4xx status, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from chalicelib.console import auth, pages, roles
from chalicelib.console import session as sessions
from chalicelib.errors import AftercareError, MalformedPayload, NotFound, Unauthorized
from chalicelib.log import get_logger

__all__ = ["Request", "Reply", "handle", "ROUTES"]

log = get_logger("aftercare.console")
MAX_FORM = 64 * 1024
CASE_ACTION_FIELDS = {
    "assign": ("assignee",),
    "note": ("text",),
    "status": ("status", "note"),
    "approve": ("note",),
    "reject": ("reason",),
    "resolve": ("resolution",),
}


@dataclass
class Request:
    """One HTTP request as the console sees it (header names lower-cased)."""

    method: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes = b""
    params: Mapping[str, str] = field(default_factory=dict)  # path parameters

    @property
    def wants_json(self) -> bool:
        accept = self.headers.get("accept", "")
        kind = self.headers.get("content-type", "")
        return "application/json" in accept or kind.startswith("application/json")

    def form(self) -> dict[str, Any]:
        """The body: JSON object or url-encoded form (last value wins); 400 otherwise."""
        if len(self.body) > MAX_FORM:
            raise MalformedPayload("the form is too large")
        if not self.body.strip():
            return {}
        if self.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(self.body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise MalformedPayload("body is not valid JSON") from exc
            if not isinstance(body, dict):
                raise MalformedPayload("body must be a JSON object")
            return body
        try:
            return dict(parse_qsl(self.body.decode(), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise MalformedPayload("the form is not UTF-8") from exc


@dataclass
class Reply:
    status: int
    body: str | dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _redirect(location: str, cookie: str | None = None) -> Reply:
    headers = {"Location": location, "Cache-Control": "no-store"}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Reply(303, "", headers)


def _page(template: str, status: int = 200, shop: str | None = None, **context: Any) -> Reply:
    return Reply(status, pages.render(template, **context), pages.html_headers(shop))


def _shop_of(who: auth.Principal) -> str | None:
    return who.merchant.shop_domain if who.embedded else None


def _view(d: Any, who: auth.Principal, active: str, **context: Any) -> dict[str, Any]:
    return {
        "who": who,
        "active": active,
        "can": lambda p: roles.allowed(who.role, p),
        "embedded": who.embedded,
        "api_key": d.settings.shopify_api_key if who.embedded else "",
        **context,
    }


# -- sign in / out ---------------------------------------------------------------------


def login_page(d: Any, req: Request) -> Reply:
    try:
        auth.principal(d, req.headers, d.now())
        return _redirect("/console")
    except Unauthorized:
        return _page("login.html", error=None)


def login(d: Any, req: Request) -> Reply:
    from chalicelib.console.users import sign_in

    key = str(req.form().get("key") or "")
    try:
        identity = sign_in(d.store, key)
    except Unauthorized:
        log.info("console sign-in refused")
        return _page("login.html", 401, error="That key is not valid. Check it and try again.")
    made = sessions.issue(identity.merchant.merchant_id, identity.user, identity.role, d.now())
    value = sessions.cookie_value(made, auth.console_keys(d)[0])
    log.info("console sign-in", extra={"merchant_id": made.merchant_id, "role": made.role})
    return _redirect("/console", sessions.set_cookie(value))


def logout(d: Any, req: Request) -> Reply:
    who = auth.principal(d, req.headers, d.now())
    auth.check_csrf(d, who, _csrf(req, req.form()))
    return _redirect("/console/login", sessions.clear_cookie())


def _csrf(req: Request, form: Mapping[str, Any]) -> str | None:
    return req.headers.get("x-csrf-token") or form.get("csrf")


def _who(d: Any, req: Request) -> auth.Principal:
    headers = dict(req.headers)
    token = req.query.get("id_token")  # Shopify admin's first load of an embedded app
    if token and "authorization" not in headers:
        headers["authorization"] = f"Bearer {token}"
    return auth.principal(d, headers, d.now())


def _changing(d: Any, req: Request, permission: str) -> tuple[auth.Principal, dict[str, Any]]:
    """Principal and form of a state change: CSRF first, then the role."""
    who = _who(d, req)
    form = req.form()
    auth.check_csrf(d, who, _csrf(req, form))
    roles.require(who.role, permission)
    return who, form


# -- queue -----------------------------------------------------------------------------

_QUEUE_PARAMS = ("type", "status", "priority", "assignee", "sla", "vip", "high_risk", "page")


def _queue_params(req: Request) -> dict[str, str]:
    return {k: v for k, v in req.query.items() if k in _QUEUE_PARAMS and v}


def _queue_context(
    d: Any, who: auth.Principal, params: dict[str, str], data: dict
) -> dict[str, Any]:
    from chalicelib.policy.case_state import CaseStatus, CaseType

    def query_for(page: int) -> str:
        return urlencode({**params, "page": str(page)})

    return _view(
        d,
        who,
        "queue",
        q=data,
        params=params,
        query_for=query_for,
        types=[t.value for t in CaseType],
        statuses=[s.value for s in CaseStatus],
    )


def queue_page(d: Any, req: Request) -> Reply:
    from chalicelib.console.queue import load_queue

    who = _who(d, req)
    params = _queue_params(req)
    data = load_queue(d.store, who.merchant, params, d.now())
    return _page("queue.html", shop=_shop_of(who), **_queue_context(d, who, params, data))


def queue_json(d: Any, req: Request) -> Reply:
    """The queue as JSON for the refresh: rows, counts, and the rows' HTML (server-escaped)."""
    from chalicelib.console.queue import load_queue

    who = _who(d, req)
    params = _queue_params(req)
    data = load_queue(d.store, who.merchant, params, d.now())
    html = pages.render("_rows.html", **_queue_context(d, who, params, data))
    body = {k: v for k, v in data.items() if k != "items"}
    body["items"] = [row.json() for row in data["items"]]
    body["html"] = html
    return Reply(200, body, {"Cache-Control": "no-store"})


def bulk_assign(d: Any, req: Request) -> Reply:
    from chalicelib import ops

    who, form = _changing(d, req, "bulk_assign")
    ids = form.get("case_ids")
    if isinstance(ids, str):
        ids = [i for i in ids.split(",") if i]
    if not isinstance(ids, list) or not ids or len(ids) > 50:
        raise MalformedPayload("pick 1 to 50 cases to assign")
    body = json.dumps({"assignee": form.get("assignee"), "actor": _actor(who)}).encode()
    results = {}
    for case_id in ids:
        try:
            ops.act(d.store, who.merchant, str(case_id), "assign", body, d.now())
            results[str(case_id)] = "assigned"
        except AftercareError as error:
            if isinstance(error, MalformedPayload):
                raise
            results[str(case_id)] = error.code
    if req.wants_json:
        return Reply(200, {"results": results})
    return _redirect("/console")


# -- case ------------------------------------------------------------------------------


def _actor(who: auth.Principal) -> str:
    return who.user.replace(":", "-")[:100]


def case_page(d: Any, req: Request) -> Reply:
    from chalicelib.console.case_view import load_case

    who = _who(d, req)
    data = load_case(d.store, who.merchant, req.params["case_id"], d.now())
    if req.wants_json:
        return Reply(200, data["case"], {"Cache-Control": "no-store"})
    return _page("case.html", shop=_shop_of(who), **_view(d, who, "queue", **data))


def case_action(d: Any, req: Request) -> Reply:
    from chalicelib import ops

    action = req.params["action"]
    if action == "sms":  # POST /console/cases/{id}/sms: queue a templated SMS
        return case_sms_send(d, req)
    if action not in CASE_ACTION_FIELDS:
        raise NotFound(f"unknown action {action!r}")
    case_id = req.params["case_id"]
    who, form = _changing(d, req, action)
    body = {name: form[name] for name in CASE_ACTION_FIELDS[action] if form.get(name)}
    body["actor"] = _actor(who)
    result = ops.act(d.store, who.merchant, case_id, action, json.dumps(body).encode(), d.now())
    if req.wants_json:
        return Reply(200, result)
    return _redirect(f"/console/cases/{case_id}")


def case_sms_preview(d: Any, req: Request) -> Reply:
    from chalicelib.console import case_sms

    who = _who(d, req)
    kind = req.form().get("kind")
    return Reply(200, case_sms.preview(d.store, who.merchant, req.params["case_id"], kind))


def case_sms_send(d: Any, req: Request) -> Reply:
    from chalicelib.console import case_sms

    case_id = req.params["case_id"]
    who, form = _changing(d, req, "note")
    result = case_sms.send(d.store, who.merchant, case_id, form.get("kind"), _actor(who), d.now())
    if req.wants_json:
        return Reply(200, result)
    return _redirect(f"/console/cases/{case_id}")


# -- rules / SLA / messages ------------------------------------------------------------


def rules_page(d: Any, req: Request) -> Reply:
    from chalicelib.console.settings_view import load

    who = _who(d, req)
    roles.require(who.role, "rules")
    return _page(
        "rules.html",
        shop=_shop_of(who),
        **_view(d, who, "rules", saved=req.query.get("saved"), **load(d.store, who.merchant)),
    )


def rules_save(d: Any, req: Request) -> Reply:
    from chalicelib.console.settings_view import save

    who, form = _changing(d, req, "rules")
    saved = save(d, who.merchant, req.params["section"], form, _actor(who))
    if req.wants_json:
        return Reply(200, saved)
    return _redirect(f"/console/rules?saved={req.params['section']}")


def rules_try(d: Any, req: Request) -> Reply:
    """The "try it" panels: a return decision, or SLA due times, under the edited settings."""
    from chalicelib.console import try_it

    who = _who(d, req)
    roles.require(who.role, "rules")
    run = {"returns": try_it.try_return, "sla": try_it.try_sla}.get(req.params["section"])
    if run is None:
        raise NotFound("nothing to try for this section")
    return Reply(200, run(d.store, who.merchant, req.form(), d.now()))


# -- insights --------------------------------------------------------------------------


def insights_page(d: Any, req: Request) -> Reply:
    from chalicelib.console.insights import load_insights

    who = _who(d, req)
    data = load_insights(d.store, who.merchant, d.now())
    return _page("insights.html", shop=_shop_of(who), **_view(d, who, "insights", **data))


def insights_csv(d: Any, req: Request) -> Reply:
    from chalicelib.console.insights import csv_text, load_insights

    who = _who(d, req)
    data = load_insights(d.store, who.merchant, d.now())
    headers = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="aftercare-weekly.csv"',
        "Cache-Control": "no-store",
    }
    return Reply(200, csv_text(data["trend"]), headers)


# -- users -----------------------------------------------------------------------------


def users_page(d: Any, req: Request, *, new_key: str = "", status: int = 200) -> Reply:
    from chalicelib.console.users import list_user_keys

    who = _who(d, req)
    roles.require(who.role, "users")
    users = sorted(list_user_keys(d.store, who.merchant.merchant_id), key=lambda u: u.created_at)
    context = _view(d, who, "users", users=users, new_key=new_key, all_roles=roles.ROLES)
    return _page("users.html", status, shop=_shop_of(who), **context)


def users_create(d: Any, req: Request) -> Reply:
    from chalicelib.console.users import create_user_key

    who, form = _changing(d, req, "users")
    key, item = create_user_key(
        d.store,
        who.merchant.merchant_id,
        str(form.get("name") or ""),
        str(form.get("role") or ""),
        who.user,
        d.now(),
    )
    if req.wants_json:
        return Reply(200, {"key": key, "name": item.name, "role": item.role})
    return users_page(d, req, new_key=key)


def static(d: Any, req: Request) -> Reply:
    from chalicelib.console import assets

    text, headers = assets.serve(req.params["name"])
    return Reply(200, text, headers)


ROUTES: dict[str, Callable[[Any, Request], Reply]] = {
    "login_page": login_page,
    "login": login,
    "logout": logout,
    "queue_page": queue_page,
    "queue_json": queue_json,
    "bulk_assign": bulk_assign,
    "case_page": case_page,
    "case_action": case_action,
    "case_sms_preview": case_sms_preview,
    "rules_page": rules_page,
    "rules_save": rules_save,
    "rules_try": rules_try,
    "insights_page": insights_page,
    "insights_csv": insights_csv,
    "users_page": users_page,
    "users_create": users_create,
    "static": static,
    "messages_page": lambda d, r: _messages("messages_page")(d, r),
    "template_preview": lambda d, r: _messages("template_preview")(d, r),
    "template_save": lambda d, r: _messages("template_save")(d, r),
    "retry": lambda d, r: _messages("retry")(d, r),
}


def _messages(name: str) -> Callable[[Any, Request], Reply]:
    from chalicelib.console import messages

    return getattr(messages, name)


def _error(req: Request, error: AftercareError | None) -> Reply:
    status = error.http_status if error else 500
    if req.wants_json:
        body = (
            {"error": error.code, "detail": error.detail}
            if error
            else {"error": "internal_error", "detail": ""}
        )
        return Reply(status, body, {"Cache-Control": "no-store"})
    if status == 401 and req.method == "GET":
        return _redirect("/console/login")
    text = (error.detail or error.code) if error else "Something went wrong on our side."
    title = {401: "Please sign in", 403: "Not allowed", 404: "Not found"}.get(
        status, "Cannot do that"
    )
    return _page("error.html", status, title=title, text=text)


def handle(d: Any, route: str, req: Request) -> Reply:
    """Run console route `route`; every expected failure becomes its 4xx page or JSON."""
    from chalicelib.console import i18n

    locale = i18n.choose(
        req.query.get("lang"), req.headers.get("cookie"), req.headers.get("accept-language")
    )
    pages.LOCALE.set(locale)
    reply = _run(d, route, req)
    if req.query.get("lang") in i18n.LOCALES and "Set-Cookie" not in reply.headers:
        reply.headers["Set-Cookie"] = i18n.lang_cookie(locale)
    return reply


def _run(d: Any, route: str, req: Request) -> Reply:
    try:
        return ROUTES[route](d, req)
    except AftercareError as error:
        log.info("console refused", extra={"code": error.code, "status": error.http_status})
        return _error(req, error)
    except Exception:
        log.exception("console failed unexpectedly")
        return _error(req, None)
