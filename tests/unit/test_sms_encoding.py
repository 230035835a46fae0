"""SMS encoding and segment accounting: GSM-7 vs UCS-2, boundaries, escape and surrogate pairs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.notify.encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsCost,
    forces_ucs2,
    is_gsm7,
    sms_cost,
)

EXTENSION_CHARS = "€{}[]~\\^|"


def test_alphabet_sizes_match_the_spec() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, ESC excluded
    assert set(EXTENSION_CHARS) < GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_empty_text_costs_nothing() -> None:
    assert sms_cost("") == SmsCost("GSM-7", 0, 0)


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_gsm7_segment_boundaries(length: int, segments: int) -> None:
    assert sms_cost("a" * length) == SmsCost("GSM-7", length, segments)


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3)])
def test_chinese_is_ucs2_with_exact_segments(length: int, segments: int) -> None:
    assert sms_cost("中" * length) == SmsCost("UCS-2", length, segments)


def test_one_chinese_character_turns_a_latin_text_into_ucs2() -> None:
    cost = sms_cost("a" * 69 + "中")
    assert cost == SmsCost("UCS-2", 70, 1)
    assert sms_cost("a" * 70 + "中").segments == 2


@pytest.mark.parametrize("char", list(EXTENSION_CHARS))
def test_extension_characters_count_two_septets(char: str) -> None:
    assert sms_cost(char) == SmsCost("GSM-7", 2, 1)
    assert sms_cost("a" * 158 + char) == SmsCost("GSM-7", 160, 1)
    assert sms_cost("a" * 159 + char) == SmsCost("GSM-7", 161, 2)


def test_escape_pair_is_never_split_across_segments() -> None:
    # 152 + 2 + 152 = 306 septets would fit two parts if the pair could straddle; it cannot.
    assert sms_cost("a" * 152 + "€" + "a" * 152) == SmsCost("GSM-7", 306, 3)
    assert sms_cost("a" * 151 + "€" + "a" * 153) == SmsCost("GSM-7", 306, 2)


def test_emoji_is_a_surrogate_pair_of_two_units() -> None:
    assert sms_cost("😀") == SmsCost("UCS-2", 2, 1)
    assert sms_cost("中" * 68 + "😀") == SmsCost("UCS-2", 70, 1)
    assert sms_cost("中" * 69 + "😀").segments == 2


def test_surrogate_pair_is_never_split_across_segments() -> None:
    assert sms_cost("中" * 66 + "😀" + "中" * 66) == SmsCost("UCS-2", 134, 3)
    assert sms_cost("中" * 65 + "😀" + "中" * 67) == SmsCost("UCS-2", 134, 2)


@pytest.mark.parametrize("char", list("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r"))
def test_basic_table_specials_are_one_septet(char: str) -> None:
    assert is_gsm7(char)
    assert sms_cost(char) == SmsCost("GSM-7", 1, 1)


def test_forces_ucs2_names_offenders_once_in_order() -> None:
    assert forces_ucs2("Hello world") == []
    assert forces_ucs2("It’s “done” ✓ ’ 😀") == ["’", "“", "”", "✓", "😀"]
    # Only capital Ç is in the default alphabet; lower-case ç is a classic surprise.
    assert forces_ucs2("Ça va, garçon") == ["ç"]
    assert forces_ucs2("price: 10€ {ok}") == []


@given(st.text(max_size=600))
def test_segments_cover_units_and_never_waste_a_part(text: str) -> None:
    cost = sms_cost(text)
    single, part = (160, 153) if cost.encoding == "GSM-7" else (70, 67)
    assert cost.encoding == ("GSM-7" if not forces_ucs2(text) else "UCS-2")
    if not text:
        assert cost.segments == 0
    elif cost.units <= single:
        assert cost.segments == 1
    else:
        # At least the naive count; a pair pushed to the next part loses at most 1 unit a part.
        assert math.ceil(cost.units / part) <= cost.segments <= math.ceil(cost.units / (part - 1))


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=500))
def test_gsm_only_text_stays_gsm7(text: str) -> None:
    cost = sms_cost(text)
    assert cost.encoding == "GSM-7"
    assert cost.units == len(text) + sum(char in GSM7_EXTENSION for char in text)
