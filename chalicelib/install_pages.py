"""The pages a merchant's browser sees during an install: result, error, state cookie.

Plain HTML with large type and plain language (no script, nothing external); every value is
escaped. The API key appears once, on the page that issues it, and is never logged.
"""

from __future__ import annotations

import html
from http.cookies import CookieError, SimpleCookie

from chalicelib.errors import AftercareError
from chalicelib.install import STATE_COOKIE, STATE_TTL, Installed

__all__ = ["installed_page", "error_page", "state_cookie", "cookie_state", "HTML_HEADERS"]

HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",  # the page may hold an API key
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_STYLE = (
    "body{font:1.25rem/1.6 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
    "code{font-size:1.1rem;background:#f1f1f1;padding:.4rem;display:block;word-break:break-all}"
)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def installed_page(result: Installed) -> str:
    """The success page; shows the API key when one was issued (this is the only time)."""
    parts = [f"<p>{html.escape(result.detail)}.</p>"]
    parts.append(f"<p>Your merchant id: <strong>{html.escape(result.merchant_id)}</strong></p>")
    if result.api_key:
        parts.append(
            "<p>Your API key is shown <strong>only this once</strong>. Copy it now and keep it"
            f" safe:</p><code>{html.escape(result.api_key)}</code>"
        )
    else:
        parts.append("<p>Your existing API key keeps working.</p>")
    return _page("Aftercare is ready", "".join(parts))


def error_page(error: AftercareError | None) -> str:
    """A refusal explained in plain words (the error's own detail), or a generic failure."""
    if error is None:
        text = "Something went wrong on our side. Please try again in a few minutes."
    else:
        text = error.detail or error.code
    return _page("The installation did not complete", f"<p>{html.escape(text)}</p>")


def state_cookie(nonce: str) -> str:
    """The Set-Cookie value binding an install to the browser that started it."""
    seconds = int(STATE_TTL.total_seconds())
    return (
        f"{STATE_COOKIE}={nonce}; Path=/oauth/shopify; Max-Age={seconds}; HttpOnly; Secure;"
        " SameSite=Lax"
    )


def cookie_state(header: str | None) -> str | None:
    """The state nonce from a request's Cookie header, if present."""
    if not header:
        return None
    try:
        jar = SimpleCookie(header)
    except CookieError:
        return None
    morsel = jar.get(STATE_COOKIE)
    return morsel.value if morsel else None
