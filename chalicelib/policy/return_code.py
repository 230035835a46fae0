"""Return codes: short, unambiguous codes a customer reads aloud, types or shows as a QR code.

A code is 8 random characters plus 1 check character from a 32-symbol alphabet without
0/O/1/I, shown as `RT-7KQ-M4X-P2Z` (three groups of three). 8 random symbols give 2**40
codes; uniqueness per merchant is the store's job (a conditional put on the code key, retried
with a fresh code on collision), not this module's.

Check character: the 9 symbols, read as elements of GF(32) (modulus x^5 + x^2 + 1), must
satisfy sum(s_i * x^(8-i)) == 0. Every power of x is non-zero, so every single substitution is
caught; x - 1 is non-zero, so every adjacent transposition is caught; x has order 31, so in
fact every transposition of two different symbols within the 9 is caught. Computing it is
Horner's rule with "multiply by x" = shift and conditional XOR (Damm's construction over
GF(32)).

`normalize` accepts what people type: any case, spaces, dashes, dots, the `RT` prefix or not,
and the lookalikes of the excluded symbols (O/0 -> D or Q, I -> J or L, 1 -> L or 7). A
lookalike is only resolved when exactly one candidate passes the check.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
from urllib.parse import quote, unquote

from chalicelib.errors import MalformedPayload

__all__ = [
    "ALPHABET",
    "PREFIX",
    "QR_SCHEME",
    "DATA_LENGTH",
    "new_code",
    "check_char",
    "is_valid",
    "normalize",
    "qr_payload",
    "parse_qr_payload",
]

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PREFIX = "RT"
DATA_LENGTH = 8
QR_SCHEME = "AC1"  # versioned so the drop-off scanner can tell formats apart

_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_MODULUS = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)
_LOOKALIKES = {"O": "DQ", "0": "DQ", "I": "JL", "1": "L7"}
_MAX_LOOKALIKES = 2  # more guesses than that and the check character proves too little
_IGNORED = re.compile(r"[\s\-_.]+")
_GROUP = f"[{ALPHABET}]{{3}}"
_CANONICAL = re.compile(rf"{PREFIX}-{_GROUP}-{_GROUP}-{_GROUP}")


def _times_x(v: int) -> int:
    v <<= 1
    return v ^ _MODULUS if v & 0b100000 else v


def _syndrome(symbols: str) -> int:
    acc = 0
    for ch in symbols:
        acc = _times_x(acc) ^ _VALUE[ch]
    return acc


def check_char(data: str) -> str:
    """The check character for `DATA_LENGTH` alphabet symbols. Raises ValueError otherwise."""
    if len(data) != DATA_LENGTH or any(ch not in _VALUE for ch in data):
        raise ValueError(f"expected {DATA_LENGTH} symbols of {ALPHABET}, got {data!r}")
    return ALPHABET[_times_x(_syndrome(data))]


def _format(symbols: str) -> str:
    return f"{PREFIX}-{symbols[0:3]}-{symbols[3:6]}-{symbols[6:9]}"


def new_code(rand: random.Random | None = None) -> str:
    """A fresh canonical code; `rand` makes it reproducible in tests (default: OS entropy)."""
    rng = rand if rand is not None else secrets.SystemRandom()
    data = "".join(rng.choice(ALPHABET) for _ in range(DATA_LENGTH))
    return _format(data + check_char(data))


def is_valid(code: str) -> bool:
    """True only for a canonical code (`RT-XXX-XXX-XXX`) whose check character matches."""
    if not isinstance(code, str) or not _CANONICAL.fullmatch(code):
        return False
    return _syndrome(code.replace("-", "")[len(PREFIX) :]) == 0


def normalize(user_input: str) -> str | None:
    """The canonical code a person meant, or None when it cannot be told for sure."""
    if not isinstance(user_input, str):
        return None
    text = _IGNORED.sub("", user_input).upper()
    if len(text) == len(PREFIX) + DATA_LENGTH + 1 and text.startswith(PREFIX):
        text = text[len(PREFIX) :]
    if len(text) != DATA_LENGTH + 1:
        return None
    options: list[str] = []
    for ch in text:
        if ch in _VALUE:
            options.append(ch)
        elif ch in _LOOKALIKES:
            options.append(_LOOKALIKES[ch])
        else:
            return None
    if sum(len(o) > 1 for o in options) > _MAX_LOOKALIKES:
        return None
    valid = [c for c in map("".join, itertools.product(*options)) if _syndrome(c) == 0]
    return _format(valid[0]) if len(valid) == 1 else None


def qr_payload(merchant_id: str, code: str) -> str:
    """What the drop-off point scans: `AC1/<merchant id, percent-encoded>/<code>`.

    Raises MalformedPayload for an empty merchant id or a code that is not canonical.
    """
    if not isinstance(merchant_id, str) or not merchant_id.strip():
        raise MalformedPayload("merchant_id must be a non-empty string")
    if not is_valid(code):
        raise MalformedPayload(f"not a valid return code: {code!r}")
    return f"{QR_SCHEME}/{quote(merchant_id, safe='')}/{code}"


def parse_qr_payload(payload: str) -> tuple[str, str]:
    """(merchant id, canonical code) from a scanned payload. Raises MalformedPayload."""
    parts = payload.strip().split("/") if isinstance(payload, str) else []
    if len(parts) != 3 or parts[0] != QR_SCHEME:
        raise MalformedPayload(f"not an Aftercare return QR payload: {payload!r}")
    merchant_id, code = unquote(parts[1]), normalize(parts[2])
    if not merchant_id or code is None:
        raise MalformedPayload(f"damaged return QR payload: {payload!r}")
    return merchant_id, code
