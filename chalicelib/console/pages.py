"""Rendering console pages: the Jinja2 environment (autoescaped), filters and HTML headers.

Jinja2 is imported on first render (cold start). Pages carry no inline script or style, so
the Content-Security-Policy allows only this origin's files; a page served inside Shopify
admin may be framed by that shop and admin.shopify.com, any other page by nobody.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.console import assets

__all__ = ["render", "html_headers", "csp", "duration", "LOCALE"]

LOCALE: ContextVar[str] = ContextVar("console_locale", default="en")  # set per request

TEMPLATES = Path(__file__).resolve().parent / "templates"
APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"


def duration(seconds: int) -> str:
    """'2h 05m', '3d 4h', '12m' (sign dropped; the caller shows 'overdue')."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def _when(value: str | datetime | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.strftime("%b %d, %H:%M UTC")


def _label(value: str | None) -> str:
    from chalicelib.console.i18n import translator

    return translator(LOCALE.get())((value or "").replace("_", " "))


@cache
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset"] = assets.url
    env.filters["duration"] = duration
    env.filters["when"] = _when
    env.filters["label"] = _label
    return env


def render(template: str, **context: Any) -> str:
    """The page `template` rendered with `context` (every value autoescaped)."""
    context.setdefault("embedded", None)
    context.setdefault("who", None)
    context.setdefault("active", "")
    context.setdefault("api_key", "")
    from chalicelib.console.i18n import translator

    context["lang"] = LOCALE.get()
    context["t"] = translator(context["lang"])
    return _environment().get_template(template).render(**context)


def csp(shop: str | None = None) -> str:
    """The page's Content-Security-Policy: no inline code; framing only inside Shopify admin."""
    frame = f"https://{shop} https://admin.shopify.com" if shop else "'none'"
    scripts = f"'self' {APP_BRIDGE}" if shop else "'self'"
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
        f"frame-ancestors {frame}"
    )


def html_headers(shop: str | None = None) -> dict[str, str]:
    """Headers of every console HTML page (never cached: it shows customer data)."""
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": csp(shop),
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if not shop:
        headers["X-Frame-Options"] = "DENY"
    return headers
