"""SMS cost accounting: which encoding a text needs (GSM-7 or UCS-2) and how many segments it costs.

Rules (3GPP TS 23.038, formerly GSM 03.38, and the concatenated-SMS user data header):
- GSM-7 is used when every character is in the default alphabet or its extension table. A
  basic character costs one septet; an extension character (``^ { } \\ [ ~ ] |``, ``€`` and form
  feed) is sent as ESC + code and costs two. One message holds 160 septets; a concatenated
  message's parts hold 153 each (the header takes the rest), and an escape pair is never split
  across two parts.
- Any other character forces UCS-2 for the whole text. Units are UTF-16 code units: 70 in one
  message, 67 per part when concatenated; a character outside the BMP (most emoji) is a
  surrogate pair, costs 2 and is never split across parts.
- National language shift tables are not used (carriers support them unevenly).

Pure functions; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SmsCost",
    "sms_cost",
    "forces_ucs2",
    "is_gsm7",
]

Encoding = Literal["GSM-7", "UCS-2"]

# The default alphabet, in code order 0x00..0x7F, without ESC (0x1B), which is not a character.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Reached through ESC: two septets each. "\f" is the page-break control (0x1B 0x0A).
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsCost:
    """What a text costs: its encoding, size in that encoding's units, and billed segments.

    `units` are septets for GSM-7 and UTF-16 code units for UCS-2. An empty text costs 0
    segments (nothing is sent).
    """

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(char: str) -> bool:
    """True if `char` (one character) can be sent in GSM-7, from either table."""
    return char in GSM7_BASIC or char in GSM7_EXTENSION


def forces_ucs2(text: str) -> list[str]:
    """The distinct characters of `text` that GSM-7 cannot carry, in order of first appearance.

    An empty list means the text goes out as GSM-7. Used to warn template authors (a curly
    quote or an emoji silently more than doubles a message's cost).
    """
    seen: dict[str, None] = {}
    for char in text:
        if not is_gsm7(char):
            seen.setdefault(char, None)
    return list(seen)


def sms_cost(text: str) -> SmsCost:
    """The encoding, unit count and segment count of `text` as one (possibly concatenated) SMS."""
    if all(is_gsm7(char) for char in text):
        weights = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return SmsCost("GSM-7", sum(weights), _segments(weights, _GSM7_SINGLE, _GSM7_PART))
    weights = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SmsCost("UCS-2", sum(weights), _segments(weights, _UCS2_SINGLE, _UCS2_PART))


def _segments(weights: Iterable[int], single: int, part: int) -> int:
    """Parts needed for characters of the given unit weights; a character never straddles two."""
    weights = list(weights)
    total = sum(weights)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for weight in weights:
        if used + weight > part:
            parts, used = parts + 1, 0
        used += weight
    return parts
