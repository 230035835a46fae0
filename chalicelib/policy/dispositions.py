"""Warehouse condition vocabularies: one table per WMS mapping its words to our `Disposition`.

Pure: no I/O. Connectors never decide what a warehouse word means; they look it up here
with `normalize_disposition(wms, value)`, which returns None for a word the table does not
know (the line stays undetermined and a human decides), never a guess.

Lookup keys are normalized the same way for every WMS: trimmed, case-folded, runs of spaces
and hyphens turned into one underscore ("Like New" -> "like_new").

- `shiphero`: ShipHero's return line `condition` is a free string with no published
  vocabulary (schema: `ReturnLineItem.condition: String`), so the table is our convention
  for the words warehouses use. Restocked units are resellable whatever their condition:
  the connector reads the `restock` count for that, not this table.
- `shipbob`: the documented return actions (`ReturnAction`: Default, Restock, Quarantine,
  Dispose). "Default" means "the merchant's default action", which says nothing about the
  item, so it is deliberately absent. Quarantine holds the unit apart for rework: needs repair.
- `generic`: our documented generic WMS format, which uses our own three values verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from chalicelib.events import Disposition

__all__ = [
    "SHIPHERO_CONDITIONS",
    "SHIPBOB_ACTIONS",
    "GENERIC_DISPOSITIONS",
    "DISPOSITION_TABLES",
    "normalize_key",
    "normalize_disposition",
]

_R = Disposition.RESELLABLE
_N = Disposition.NEEDS_REPAIR
_S = Disposition.SCRAP

SHIPHERO_CONDITIONS: Mapping[str, Disposition] = MappingProxyType(
    {
        "good": _R,
        "new": _R,
        "like_new": _R,
        "sellable": _R,
        "resellable": _R,
        "restock": _R,
        "restocked": _R,
        "damaged": _N,
        "defective": _N,
        "needs_repair": _N,
        "repair": _N,
        "refurbish": _N,
        "unsellable": _S,
        "destroyed": _S,
        "scrap": _S,
        "dispose": _S,
        "disposed": _S,
        "trash": _S,
    }
)

SHIPBOB_ACTIONS: Mapping[str, Disposition] = MappingProxyType(
    {
        "restock": _R,
        "quarantine": _N,
        "dispose": _S,
    }
)

GENERIC_DISPOSITIONS: Mapping[str, Disposition] = MappingProxyType(
    {disposition.value: disposition for disposition in Disposition}
)

DISPOSITION_TABLES: Mapping[str, Mapping[str, Disposition]] = MappingProxyType(
    {
        "shiphero": SHIPHERO_CONDITIONS,
        "shipbob": SHIPBOB_ACTIONS,
        "generic": GENERIC_DISPOSITIONS,
    }
)

_SEPARATORS = re.compile(r"[\s\-]+")


def normalize_key(value: str) -> str:
    """The lookup form of a warehouse word: trimmed, case-folded, spaces/hyphens -> "_"."""
    return _SEPARATORS.sub("_", value.strip().casefold())


def normalize_disposition(wms: str, value: str | None) -> Disposition | None:
    """Our `Disposition` for `wms`'s word `value`; None when absent, blank or not in the table.

    Raises `ValueError` for a `wms` without a table (a programming error, not bad input).
    """
    table = DISPOSITION_TABLES.get(wms)
    if table is None:
        raise ValueError(f"no disposition table for WMS {wms!r}")
    if not value or not value.strip():
        return None
    return table.get(normalize_key(value))
