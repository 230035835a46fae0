"""Warehouse condition tables: every row checked on its own, plus key normalization and misses."""

from __future__ import annotations

import pytest

from chalicelib.events import Disposition
from chalicelib.policy.dispositions import (
    DISPOSITION_TABLES,
    normalize_disposition,
    normalize_key,
)

R, N, S = Disposition.RESELLABLE, Disposition.NEEDS_REPAIR, Disposition.SCRAP

# One row per table entry, written out so a changed meaning shows up as a failing row.
ROWS = [
    ("shiphero", "good", R),
    ("shiphero", "new", R),
    ("shiphero", "like_new", R),
    ("shiphero", "sellable", R),
    ("shiphero", "resellable", R),
    ("shiphero", "restock", R),
    ("shiphero", "restocked", R),
    ("shiphero", "damaged", N),
    ("shiphero", "defective", N),
    ("shiphero", "needs_repair", N),
    ("shiphero", "repair", N),
    ("shiphero", "refurbish", N),
    ("shiphero", "unsellable", S),
    ("shiphero", "destroyed", S),
    ("shiphero", "scrap", S),
    ("shiphero", "dispose", S),
    ("shiphero", "disposed", S),
    ("shiphero", "trash", S),
    ("shipbob", "restock", R),
    ("shipbob", "quarantine", N),
    ("shipbob", "dispose", S),
    ("generic", "resellable", R),
    ("generic", "needs_repair", N),
    ("generic", "scrap", S),
]


@pytest.mark.parametrize(("wms", "word", "expected"), ROWS)
def test_each_row_maps_to_its_disposition(wms: str, word: str, expected: Disposition) -> None:
    assert normalize_disposition(wms, word) is expected


def test_every_table_row_has_a_row_test() -> None:
    in_tables = {(wms, key) for wms, table in DISPOSITION_TABLES.items() for key in table}
    assert in_tables == {(wms, word) for wms, word, _ in ROWS}


@pytest.mark.parametrize(
    ("wms", "word", "expected"),
    [
        ("shiphero", "Like New", R),
        ("shiphero", "like-new", R),
        ("shiphero", "  DAMAGED  ", N),
        ("shiphero", "Needs  Repair", N),
        ("shipbob", "Restock", R),
        ("shipbob", "Quarantine", N),
        ("shipbob", "Dispose", S),
        ("generic", "NEEDS_REPAIR", N),
    ],
)
def test_case_spacing_and_hyphens_do_not_matter(wms: str, word: str, expected: Disposition) -> None:
    assert normalize_disposition(wms, word) is expected


@pytest.mark.parametrize(
    ("wms", "word"),
    [
        ("shiphero", "excellent"),
        ("shiphero", "open box"),
        ("shipbob", "Default"),  # the merchant's default action says nothing about the item
        ("shipbob", "2"),
        ("generic", "broken"),
        ("generic", "resell able"),
    ],
)
def test_unknown_words_are_undetermined_not_guessed(wms: str, word: str) -> None:
    assert normalize_disposition(wms, word) is None


@pytest.mark.parametrize("word", [None, "", "   "])
def test_absent_or_blank_is_undetermined(word: str | None) -> None:
    assert normalize_disposition("shiphero", word) is None


def test_unknown_wms_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no disposition table"):
        normalize_disposition("acme_wms", "good")


def test_normalize_key() -> None:
    assert normalize_key(" Like - New ") == "like_new"


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        DISPOSITION_TABLES["shipbob"]["default"] = R  # type: ignore[index]
