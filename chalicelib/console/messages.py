"""The messages view: SMS templates per event and locale with live preview, and the outbox.

Built on `templates_api` (list, preview with encoding and segments, save an override:
validated, version-conditioned, audited) and `ops_lookup.retry_notification` (a failed,
parked message back to pending, once). Reads: the cached merchant (templates live in its
settings) and one Query of the newest outbox items (gsi1 `NOTIFICATIONS#{mid}`).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.console import roles
from chalicelib.console.http import Reply, Request, _changing, _page, _redirect, _view, _who
from chalicelib.errors import MalformedPayload

__all__ = ["messages_page", "template_preview", "template_save", "retry"]

OUTBOX_SHOWN = "50"


def _actor_headers(actor: str) -> dict[str, str]:
    return {"x-actor": actor}


def messages_page(d: Any, req: Request) -> Reply:
    from chalicelib import api, templates_api
    from chalicelib.notify.templates import KINDS

    who = _who(d, req)
    merchant = d.store.merchant(who.merchant.merchant_id) or who.merchant  # fresh version
    listed = templates_api.list_templates(d.store, merchant)
    kind = req.query.get("kind") or next(iter(KINDS))
    if kind not in KINDS:
        raise MalformedPayload(f"unknown message kind {kind!r}")
    editors = []
    for item in listed["items"]:
        if item["kind"] != kind:
            continue
        text = item["override"] if item["override"] is not None else item["default"] or ""
        shown = templates_api.preview(d.store, merchant, kind, item["locale"], b"{}")
        editors.append({**item, "text": text, "preview": shown})
    outbox = api.list_notifications(d.store, who.merchant, {"limit": OUTBOX_SHOWN})["items"]
    context = _view(
        d,
        who,
        "messages",
        kinds=list(KINDS),
        kind=kind,
        editors=editors,
        version=listed["version"],
        outbox=outbox,
        saved=req.query.get("saved"),
        can_edit=roles.allowed(who.role, "rules"),
    )
    shop = who.merchant.shop_domain if who.embedded else None
    return _page("messages.html", shop=shop, **context)


def template_preview(d: Any, req: Request) -> Reply:
    """Render unsaved text (JSON `{"text": ...}`): text, encoding, segments, warnings."""
    from chalicelib import templates_api

    who = _who(d, req)
    body = req.form()
    raw = json.dumps({"text": body["text"]} if body.get("text") else {}).encode()
    result = templates_api.preview(
        d.store, who.merchant, req.params["kind"], req.params["locale"], raw
    )
    return Reply(200, result, {"Cache-Control": "no-store"})


def template_save(d: Any, req: Request) -> Reply:
    from chalicelib import templates_api
    from chalicelib.console.http import _actor

    who, form = _changing(d, req, "rules")
    kind, locale = req.params["kind"], req.params["locale"]
    raw = json.dumps({"text": form.get("text"), "version": form.get("version")}).encode()
    result = templates_api.put_template(
        d.store, who.merchant, kind, locale, _actor_headers(_actor(who)), raw, d.now()
    )
    if req.wants_json:
        return Reply(200, result)
    return _redirect(f"/console/messages?kind={kind}&saved={locale}")


def retry(d: Any, req: Request) -> Reply:
    from chalicelib import ops_lookup

    who, _ = _changing(d, req, "status")
    result = ops_lookup.retry_notification(d.store, who.merchant, req.params["outbox_id"], d.now())
    if req.wants_json:
        return Reply(200, result)
    return _redirect("/console/messages#outbox")
