"""Chart fonts: a scalable font that is always there, and Noto CJK for East Asian text when found.

Nothing is bundled. Latin text uses DejaVu Sans when the system has it (Debian, most desktops)
and otherwise Pillow's own scalable default font (`ImageFont.load_default(size=...)`, built
into Pillow >= 10.1 and so present in the Lambda package). A label with East Asian characters
(a SKU named in Chinese) uses Noto Sans CJK when one of the usual font files exists; without
one (the Lambda runtime has none) it is drawn with the Latin font, whose missing glyphs show as
boxes: never an error. Pillow loads inside the functions, so importing this module is free.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

__all__ = ["font_for", "needs_cjk", "LATIN_FILES", "CJK_FILES"]

LATIN_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian, Ubuntu
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",  # Amazon Linux, Fedora
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
)
CJK_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora, Amazon Linux
    "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
    "/opt/fonts/NotoSansCJK-Regular.ttc",  # a Lambda layer, if someone adds one
)
_PREFERRED_CJK = "SC"  # Simplified Chinese glyph shapes first, within a .ttc collection


def needs_cjk(text: str) -> bool:
    """True when `text` holds a wide (East Asian) character: Han, kana, Hangul, full-width."""
    return any(unicodedata.east_asian_width(char) in ("W", "F") for char in text)


def _first(paths: tuple[str, ...]) -> str | None:
    return next((path for path in paths if Path(path).is_file()), None)


@lru_cache(maxsize=16)
def _latin(size: int) -> FreeTypeFont:
    from PIL import ImageFont

    path = _first(LATIN_FILES)
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


@lru_cache(maxsize=1)
def _cjk_face() -> tuple[str, int] | None:
    """(file, index in the collection) of a Noto Sans CJK face, preferring the SC one."""
    from PIL import ImageFont

    path = _first(CJK_FILES)
    if path is None:
        return None
    found: int | None = None
    for index in range(8):
        try:
            family = ImageFont.truetype(path, 10, index=index).getname()[0] or ""
        except OSError:
            break
        if found is None:
            found = index
        if family.endswith(_PREFERRED_CJK):
            return path, index
    return (path, found) if found is not None else None


@lru_cache(maxsize=16)
def _cjk(size: int) -> FreeTypeFont | None:
    from PIL import ImageFont

    face = _cjk_face()
    if face is None:
        return None
    return ImageFont.truetype(face[0], size, index=face[1])


def font_for(text: str, size: int) -> FreeTypeFont:
    """The font to draw `text` at `size` px: Noto CJK for East Asian text when installed."""
    if needs_cjk(text):
        cjk = _cjk(size)
        if cjk is not None:
            return cjk
    return _latin(size)
