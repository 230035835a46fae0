"""What the routes hand the customer pages and get back, and the error page.

`Request` is the few things a page needs from Chalice's request; `Reply` is a page or a
redirect with its headers. `PageError` is a refusal with its status (404 unknown slug or
token, 403 CSRF/session, 400 junk form, 413 upload, 429 rate limit); `answer` turns it, or any
unexpected failure, into a page in the customer's language, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from chalicelib.errors import AftercareError
from chalicelib.log import get_logger
from chalicelib.pages.i18n import LOCALES, Words, choose_locale
from chalicelib.pages.render import brand_of, render_page, security_headers

__all__ = [
    "Request",
    "Reply",
    "PageError",
    "answer",
    "page",
    "redirect",
    "lang_links",
    "form",
    "base_of",
]

log = get_logger(__name__)
MAX_FORM_BYTES = 16 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    client_ip: str = ""
    base: str = ""  # the API Gateway stage prefix ("/api") when served without a custom domain

    def url(self, path: str) -> str:
        """`path` (like "/r/shop") as this deployment serves it."""
        return self.base + path

    @property
    def lang(self) -> str | None:
        return self.query.get("lang") or None


@dataclass
class Reply:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class PageError(AftercareError):
    """A refusal shown as a page: `http_status` and the message key `error.<status>`."""

    code = "page_error"

    def __init__(self, status: int, detail: str = "", *, message: str | None = None) -> None:
        super().__init__(detail or f"page refused with {status}")
        self.http_status = status
        self.message = message or f"error.{status}"


def base_of(full_path: str, resource_path: str, params: dict[str, str]) -> str:
    """The prefix in front of the route (the stage, e.g. "/api"), or "" when there is none
    or the paths do not line up."""
    filled = resource_path
    for name, value in params.items():
        filled = filled.replace("{" + name + "}", value)
    if full_path != filled and full_path.endswith(filled) and full_path.startswith("/"):
        prefix = full_path[: -len(filled)]
        if prefix and "/" not in prefix[1:] and prefix[1:].replace("-", "").isalnum():
            return prefix
    return ""


def lang_links(path: str, query: dict[str, str]) -> list[tuple[str, str]]:
    """The language switch: this page in each locale (other query values kept)."""
    links = []
    for code in LOCALES:
        params = {**{k: v for k, v in query.items() if k != "lang"}, "lang": code}
        links.append((code, f"{path}?{urlencode(params)}"))
    return links


def page(
    request: Request,
    template: str,
    words: Words,
    brand: dict[str, str],
    status: int = 200,
    **context: object,
) -> Reply:
    html, nonce = render_page(
        template,
        {
            "t": words,
            "brand": brand,
            "lang_links": lang_links(request.path, request.query),
            **context,
        },
    )
    return Reply(status, html, security_headers(nonce))


def redirect(location: str, *cookies: str) -> Reply:
    headers = {"Location": location, "Cache-Control": "no-store"}
    if cookies:
        headers["Set-Cookie"] = cookies[0]  # one cookie per response is all the pages need
    return Reply(303, "", headers)


def form(request: Request) -> dict[str, str]:
    """An url-encoded form body as single values; junk or oversized bodies are a 400."""
    ctype = request.headers.get("content-type", "")
    if len(request.body) > MAX_FORM_BYTES:
        raise PageError(413, "form too large")
    if ctype and not ctype.startswith("application/x-www-form-urlencoded"):
        raise PageError(400, f"unexpected content type {ctype}")
    try:
        text = request.body.decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=200, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PageError(400, "unreadable form") from exc
    return {key: values[0] for key, values in parsed.items() if values}


def error_reply(request: Request, status: int, message: str, home: str | None) -> Reply:
    words = Words(choose_locale(request.lang, None, request.headers.get("accept-language")))
    return page(
        request,
        "error.html",
        words,
        brand_of(None),
        status=status,
        message=message,
        home=home,
    )


def answer(request: Request, work: Callable[[], Reply], home: str | None = None) -> Reply:
    """Run a page; refusals become their error page, anything unexpected a plain 500 page."""
    try:
        return work()
    except PageError as error:
        log.info("page refused", extra={"status": error.http_status, "detail": error.detail})
        return error_reply(request, error.http_status, error.message, home)
    except AftercareError as error:
        log.info("page refused", extra={"code": error.code, "status": error.http_status})
        status = error.http_status if 400 <= error.http_status < 600 else 400
        key = f"error.{status}" if status in (400, 403, 404, 413, 503) else "error.400"
        return error_reply(request, status, key, home)
    except Exception:
        log.exception("customer page failed")
        return error_reply(request, 500, "error.500", home)
