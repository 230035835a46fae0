"""The return portal's use cases: lookup form, lookup, line picker, submit, the decision.

Flow (post/redirect/get): `GET /r/{slug}` form -> `POST /r/{slug}/lookup` (rate limited;
the same answer for an unknown order and a wrong contact) sets the signed session cookie and
redirects to `GET /r/{slug}/order` (picker with CSRF token) -> `POST /r/{slug}/returns`
builds a `ReturnRequested` (source "portal") and runs it through `handlers.dispatch` like any
marketplace return: same rule engine, same case, same SMS, same receipt/dedupe. The return id
is derived from the order and the chosen lines, so the same request submitted again is a
duplicate and redirects to the existing return -> `GET /r/{slug}/returns/{case_id}`.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.errors import StaleVersion
from chalicelib.events import ReturnLine, ReturnRequested
from chalicelib.handlers import Delivery, dispatch
from chalicelib.handlers.returns import return_case_id
from chalicelib.pages import csrf, lookup, photos, ratelimit, status
from chalicelib.pages.i18n import Words, choose_locale
from chalicelib.pages.render import brand_of
from chalicelib.pages.signing import Signer, signer_for
from chalicelib.pages.views import return_view
from chalicelib.pages.web import PageError, Reply, Request, form, page, redirect
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, CustomerItem, MerchantItem, OrderItem
from chalicelib.store.records import new_timeline_entry
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.deps import Deps

__all__ = ["lookup_form", "do_lookup", "order_page", "submit_return", "return_page", "REASONS"]

REASONS = ("wrong_size", "damaged", "not_as_described", "quality", "changed_mind", "other")
MAX_NOTE = 500


def _signer(d: Deps) -> Signer:
    return signer_for(d.settings, d.secrets.resolve)


def _zone(merchant: MerchantItem) -> ZoneInfo:
    try:
        return ZoneInfo(merchant.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _merchant(d: Deps, slug: str) -> MerchantItem:
    merchant = lookup.merchant_by_slug(d.store, slug)
    if merchant is None:
        raise PageError(404, f"no portal {slug!r}")
    return merchant


def _words(request: Request, merchant: MerchantItem, customer_locale: str | None = None) -> Words:
    locale = choose_locale(request.lang, customer_locale, request.headers.get("accept-language"))
    return Words(locale, _zone(merchant))


def _href(request: Request, path: str, words: Words) -> str:
    return f"{request.url(path)}?{urlencode({'lang': words.locale})}"


def _reasons(merchant: MerchantItem) -> tuple[str, ...]:
    chosen = (merchant.settings or {}).get("portal_reasons")
    if isinstance(chosen, list) and chosen and all(isinstance(r, str) for r in chosen):
        return tuple(chosen[:12])
    return REASONS


def lookup_form(d: Deps, slug: str, request: Request) -> Reply:
    merchant = _merchant(d, slug)
    words = _words(request, merchant)
    return _lookup_page(request, slug, merchant, words, error=None, status_code=200)


def _lookup_page(
    request: Request,
    slug: str,
    merchant: MerchantItem,
    words: Words,
    *,
    error: str | None,
    status_code: int,
    number: str = "",
) -> Reply:
    return page(
        request,
        "lookup.html",
        words,
        brand_of(merchant),
        status=status_code,
        action=_href(request, f"/r/{slug}/lookup", words),
        error=error,
        number=number[:64],
    )


def do_lookup(d: Deps, slug: str, request: Request) -> Reply:
    """Check order number + contact; 303 to the picker with a session, or the form again."""
    merchant = _merchant(d, slug)
    fields = form(request)
    words = _words(request, merchant, None)
    if fields.get("lang"):
        words = Words(choose_locale(fields["lang"], None, None), _zone(merchant))
    number, contact = fields.get("order_number", "").strip(), fields.get("contact", "").strip()
    now = d.now()
    if not ratelimit.take_lookup_slot(
        d.store, merchant.merchant_id, request.client_ip, number, now
    ):
        return _lookup_page(
            request, slug, merchant, words, error="lookup.rate_limited", status_code=429
        )
    found = lookup.find_order(d.store, merchant.merchant_id, number, contact)
    if found is None:
        return _lookup_page(
            request,
            slug,
            merchant,
            words,
            error="lookup.not_found",
            status_code=200,
            number=number,
        )
    status.status_link(d, merchant.merchant_id, found.order.order_id)  # the order's page exists
    session = csrf.new_session(
        _signer(d), merchant.merchant_id, found.order.order_id, int(now.timestamp())
    )
    return redirect(
        _href(request, f"/r/{slug}/order", words), csrf.session_cookie(session, slug, request.base)
    )


def _session(d: Deps, merchant: MerchantItem, request: Request) -> csrf.Session:
    value = csrf.cookie_value(request.headers.get("cookie"), csrf.SESSION_COOKIE)
    session = csrf.read_session(_signer(d), value, int(d.now().timestamp()))
    if session is None or session.merchant_id != merchant.merchant_id:
        raise PageError(403, "no valid portal session")
    return session


def _order_and_customer(
    d: Deps, merchant_id: str, order_id: str
) -> tuple[OrderItem, CustomerItem | None]:
    order = d.store.get(OrderItem, keys.order(merchant_id, order_id))
    if order is None:
        raise PageError(404, "order gone")
    customer = None
    if order.customer_id:
        customer = d.store.get(CustomerItem, keys.customer(merchant_id, order.customer_id))
    return order, customer


def _lines(order: OrderItem, words: Words) -> list[dict[str, Any]]:
    out = []
    for index, line in enumerate(order.line_items or []):
        bought = int(line.get("quantity") or 0)
        left = max(bought - int((order.returned or {}).get(str(line["line_id"]), 0)), 0)
        out.append(
            {
                "index": index,
                "line_id": str(line["line_id"]),
                "title": line.get("title") or line.get("sku") or str(line["line_id"]),
                "sku": line.get("sku") or "",
                "bought": bought,
                "left": left,
                "price": words.money(line.get("unit_price") or "0", order.currency),
            }
        )
    return out


def order_page(d: Deps, slug: str, request: Request) -> Reply:
    merchant = _merchant(d, slug)
    session = _session(d, merchant, request)
    order, customer = _order_and_customer(d, merchant.merchant_id, session.order_id)
    words = _words(request, merchant, customer.locale if customer else None)
    link = status.status_path(d, merchant.merchant_id, order.order_id)
    return page(
        request,
        "order.html",
        words,
        brand_of(merchant),
        order=order,
        lines=_lines(order, words),
        reasons=_reasons(merchant),
        csrf=csrf.csrf_token(_signer(d), session),
        action=_href(request, f"/r/{slug}/returns", words),
        error=request.query.get("error") == "none",
        status_href=_href(request, link, words),
        photos=bool(d.settings.photos_dir),
        max_photos=photos.MAX_PHOTOS,
    )


def _wanted(fields: dict[str, str], order: OrderItem, reasons: tuple[str, ...]) -> list[ReturnLine]:
    wanted = []
    for index, line in enumerate(order.line_items or []):
        raw = fields.get(f"qty_{index}", "0").strip() or "0"
        if not raw.isdigit() or len(raw) > 3:
            raise PageError(400, "quantity is not a number")
        quantity = int(raw)
        if quantity == 0:
            continue
        reason = fields.get(f"reason_{index}", "")
        if reason not in reasons and reason != "no_reason":
            raise PageError(400, "unknown reason")
        wanted.append(
            ReturnLine(
                line_id=str(line["line_id"]), quantity=quantity, sku=line.get("sku"), reason=reason
            )
        )
    return wanted


def portal_return_id(order_id: str, lines: list[ReturnLine], note: str) -> str:
    """The same order, lines, reasons and note make the same return (so it is decided once)."""
    parts = [order_id, note] + [f"{ln.line_id}:{ln.quantity}:{ln.reason}" for ln in lines]
    return "P-" + keys.short_hash(*parts, length=20)


def submit_return(d: Deps, slug: str, request: Request) -> Reply:
    """Decide the request through the same handler as marketplace returns; 303 to it."""
    merchant = _merchant(d, slug)
    content_type = request.headers.get("content-type", "")
    files: list[bytes] = []
    if content_type.startswith("multipart/form-data"):
        fields, files = photos.parse_multipart(content_type, request.body)
    else:
        fields = form(request)
    value = csrf.cookie_value(request.headers.get("cookie"), csrf.SESSION_COOKIE)
    signer = _signer(d)
    session = csrf.read_session(signer, value, int(d.now().timestamp()))
    if session is None or session.merchant_id != merchant.merchant_id:
        raise PageError(403, "no valid portal session")
    if not csrf.csrf_ok(signer, session, fields.get("csrf")):
        raise PageError(403, "csrf token missing or wrong")
    words = Words(choose_locale(fields.get("lang"), None, None), _zone(merchant))
    order = d.store.get(OrderItem, keys.order(merchant.merchant_id, session.order_id))
    if order is None:
        raise PageError(404, "order gone")
    if files and not d.settings.photos_dir:
        raise PageError(400, "photo upload is not available here")
    uploads = photos.checked_photos(files)  # before anything is decided: a bad file decides nothing
    lines = _wanted(fields, order, _reasons(merchant))
    if not lines:
        return redirect(_href(request, f"/r/{slug}/order", words) + "&error=none")
    note = " ".join(fields.get("note", "").split())[:MAX_NOTE]
    return_id = portal_return_id(order.order_id, lines, note)
    now = d.now()
    event = ReturnRequested(
        occurred_at=now,
        return_id=return_id,
        order_id=order.order_id,
        lines=tuple(lines),
        customer_note=note,
    )
    delivery = Delivery(merchant, "portal", return_id, now)
    outcome = dispatch(event, delivery, d.store)
    d.metrics.decisions([outcome], merchant.merchant_id)  # AutoApprovalDecisions, as Shopify's
    case_id = return_case_id("portal", return_id)
    if uploads and outcome.status == "applied" and d.settings.photos_dir:
        _attach_photos(d, merchant, order, case_id, uploads, delivery)
    return redirect(_href(request, f"/r/{slug}/returns/{quote(case_id)}", words))


def _attach_photos(
    d: Deps,
    merchant: MerchantItem,
    order: OrderItem,
    case_id: str,
    uploads: list[photos.Upload],
    delivery: Delivery,
) -> None:
    """Keep the photos and note them on the case's timeline (one entry per request)."""
    stored = photos.keep(str(d.settings.photos_dir), merchant.merchant_id, case_id, uploads)
    uow = d.store.unit_of_work()
    uow.insert(
        "timeline",
        new_timeline_entry(
            merchant.merchant_id,
            keys.case(merchant.merchant_id, case_id),
            cause=delivery.cause,
            at=delivery.received_at,
            now=delivery.received_at,
            kind="customer_photos",
            source="portal",
            summary=f"Customer attached {len(stored)} photo(s)",
            customer_id=order.customer_id,
            case_id=case_id,
            order_id=order.order_id,
            data={"photos": stored},
        ),
    )
    with suppress(StaleVersion):  # noted by an earlier try of the same request
        uow.commit()


def return_page(d: Deps, slug: str, case_id: str, request: Request) -> Reply:
    merchant = _merchant(d, slug)
    session = _session(d, merchant, request)
    found = d.store.get_many(
        {
            "case": ItemRef(CaseItem, keys.case(merchant.merchant_id, case_id[:64])),
            "order": ItemRef(OrderItem, keys.order(merchant.merchant_id, session.order_id)),
        }
    )
    case: CaseItem | None = found["case"]
    if case is None or case.order_id != session.order_id:
        raise PageError(404, "no such return for this order")
    words = _words(request, merchant)
    link = status.status_path(d, merchant.merchant_id, session.order_id)
    return page(
        request,
        "result.html",
        words,
        brand_of(merchant),
        ret=return_view(case, words, found["order"]),
        order_number=(case.details or {}).get("order_number") or "",
        back=_href(request, f"/r/{slug}/order", words),
        status_href=_href(request, link, words),
    )
