"""HTML of the customer pages: one Jinja2 environment (autoescape on), the brand, headers.

Templates live in `pages/templates/`; every page extends `base.html` (brand bar, language
switch, footer). The only inline element CSP has to allow is our `<style>`, by a per-response
nonce; no script at all. Personal pages are `no-store`; framing is refused.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

    from chalicelib.store.models import MerchantItem

__all__ = ["render_page", "security_headers", "brand_of"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOR = "#1f5f5b"


@lru_cache(maxsize=1)
def _env() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def _css() -> str:
    return (_TEMPLATES / "pages.css").read_text(encoding="utf-8")


def brand_of(merchant: MerchantItem | None) -> dict[str, str]:
    """Brand name and colour from the merchant's settings (`brand: {name, color}`)."""
    brand = ((merchant.settings or {}).get("brand") or {}) if merchant is not None else {}
    color = str(brand.get("color") or "")
    return {
        "name": str(brand.get("name") or (merchant.name if merchant else "") or "Aftercare"),
        "color": color if _COLOR.match(color) else DEFAULT_COLOR,
    }


def security_headers(nonce: str, *, personal: bool = True) -> dict[str, str]:
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store" if personal else "public, max-age=300",
    }


def render_page(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """(html, nonce) of `template` with `context` (needs `t`, `brand`, `lang_links`)."""
    nonce = secrets.token_urlsafe(16)
    html = _env().get_template(template).render(css=_css(), nonce=nonce, **context)
    return html, nonce
