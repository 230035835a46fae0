"""The console's static files (CSS, JS) under content-hashed names, with long cache headers.

`url(name)` gives `/console/static/console.<hash>.css`; `serve(hashed)` answers it. A name
whose hash is not the current one is 404, so a cached page never mixes old and new assets.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from chalicelib.errors import NotFound

__all__ = ["url", "serve", "STATIC_DIR", "CACHE_FOREVER"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
CACHE_FOREVER = "public, max-age=31536000, immutable"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@cache
def _hashed() -> dict[str, tuple[str, Path]]:
    """hashed name -> (plain name, path); read once per container."""
    table: dict[str, tuple[str, Path]] = {}
    for path in sorted(STATIC_DIR.iterdir()):
        if path.suffix not in _TYPES:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        table[f"{path.stem}.{digest}{path.suffix}"] = (path.name, path)
    return table


@cache
def url(name: str) -> str:
    """The hashed URL of static file `name` (e.g. console.css)."""
    for hashed, (plain, _) in _hashed().items():
        if plain == name:
            return f"/console/static/{hashed}"
    raise KeyError(name)


def serve(hashed: str) -> tuple[str, dict[str, str]]:
    """(text, headers) of a hashed static name; NotFound for anything else."""
    found = _hashed().get(hashed)
    if found is None:
        raise NotFound("no such file")
    _, path = found
    headers = {
        "Content-Type": _TYPES[path.suffix],
        "Cache-Control": CACHE_FOREVER,
        "X-Content-Type-Options": "nosniff",
    }
    return path.read_text(encoding="utf-8"), headers
