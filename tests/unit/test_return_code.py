"""Return codes: alphabet, check character strength, normalizing what people type, QR payload."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import MalformedPayload
from chalicelib.policy.return_code import (
    ALPHABET,
    DATA_LENGTH,
    check_char,
    is_valid,
    new_code,
    normalize,
    parse_qr_payload,
    qr_payload,
)

CANONICAL = re.compile(r"RT-[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3}")
SAMPLE = [new_code(random.Random(seed)) for seed in range(300)]


def _symbols(code: str) -> str:
    return code.replace("-", "")[2:]


def _code(symbols: str) -> str:
    return f"RT-{symbols[:3]}-{symbols[3:6]}-{symbols[6:]}"


def test_alphabet_has_32_distinct_unambiguous_symbols() -> None:
    assert len(ALPHABET) == 32 == len(set(ALPHABET))
    assert not set(ALPHABET) & set("0O1I")
    assert set(ALPHABET) == set("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")


def test_new_code_shape_and_reproducibility() -> None:
    assert new_code(random.Random(7)) == new_code(random.Random(7))
    assert len(set(SAMPLE)) == len(SAMPLE)
    for code in SAMPLE:
        assert CANONICAL.fullmatch(code), code
        assert is_valid(code)
    assert is_valid(new_code())  # OS entropy by default


def test_check_character_catches_every_single_substitution() -> None:
    for code in SAMPLE:
        symbols = _symbols(code)
        for pos, wrong in ((p, w) for p in range(9) for w in ALPHABET if w != symbols[p]):
            typo = symbols[:pos] + wrong + symbols[pos + 1 :]
            assert not is_valid(_code(typo)), (code, pos, wrong)


def test_check_character_catches_every_transposition() -> None:
    for code in SAMPLE:
        symbols = _symbols(code)
        for i in range(9):
            for j in range(i + 1, 9):  # j == i + 1 are the adjacent ones; the rest come free
                if symbols[i] == symbols[j]:
                    continue
                swapped = list(symbols)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                assert not is_valid(_code("".join(swapped))), (code, i, j)


def test_every_data_string_has_exactly_one_check_character() -> None:
    rng = random.Random(3)
    for _ in range(200):
        data = "".join(rng.choice(ALPHABET) for _ in range(DATA_LENGTH))
        valid = [c for c in ALPHABET if is_valid(_code(data + c))]
        assert valid == [check_char(data)]


@pytest.mark.parametrize("bad", ["", "ABCDEFG", "ABCDEFGH0", "abcdefgh"])
def test_check_char_rejects_bad_data(bad: str) -> None:
    with pytest.raises(ValueError):
        check_char(bad)


def test_is_valid_wants_the_canonical_form() -> None:
    code = SAMPLE[0]
    assert not is_valid(code.lower())
    assert not is_valid(code.replace("-", ""))
    assert not is_valid(code[3:])
    assert not is_valid(None)  # type: ignore[arg-type]


def test_normalize_round_trips_what_people_type() -> None:
    for code in SAMPLE:
        bare = _symbols(code)
        spaced = f" rt {bare[:3]} {bare[3:6]} {bare[6:]} "
        variants = [
            code,
            code.lower(),
            bare,
            bare.lower(),
            spaced,
            f"RT.{bare[:4]}_{bare[4:]}",
            "-".join(bare),
            f"rt-{bare}",
        ]
        for typed in variants:
            assert normalize(typed) == code, typed


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "RT-",
        "hello",
        "RT-ABC-DEF",
        "RT-ABC-DEF-GHJK-LMN",
        "RT-AB!-DEF-GHJ",
        "XX-ABC-DEF-GHJ",
        "RT-ABC-DEF-GH#",
    ],
)
def test_normalize_refuses_junk(junk: str) -> None:
    assert normalize(junk) is None


def test_normalize_refuses_a_typo() -> None:
    symbols = _symbols(SAMPLE[0])
    wrong = next(c for c in ALPHABET if c != symbols[4])
    assert normalize(symbols[:4] + wrong + symbols[5:]) is None


@pytest.mark.parametrize(
    ("seen", "typed"),
    [
        ("D", "O"),
        ("Q", "0"),
        ("D", "0"),
        ("Q", "O"),
        ("L", "I"),
        ("J", "I"),
        ("L", "1"),
        ("7", "1"),
    ],
)
def test_lookalikes_resolve_to_the_original_or_nothing(seen: str, typed: str) -> None:
    rng = random.Random(seen + typed)
    resolved = tried = 0
    for _ in range(400):
        code = new_code(rng)
        symbols = _symbols(code)
        if seen not in symbols:
            continue
        tried += 1
        result = normalize(symbols.replace(seen, typed, 1))
        assert result in (code, None)  # never a different code
        resolved += result == code
    assert tried and resolved / tried > 0.8  # the check character almost always tells


def test_normalize_gives_up_on_too_many_lookalikes() -> None:
    assert normalize("OOO-OOO-OOO") is None


@given(st.text(max_size=30))
def test_normalize_never_raises_and_only_returns_valid_codes(text: str) -> None:
    result = normalize(text)
    assert result is None or is_valid(result)


@pytest.mark.parametrize("merchant", ["m_123", "shop.myshopify.com", "a/b c:d%", "商店"])
def test_qr_payload_round_trip(merchant: str) -> None:
    payload = qr_payload(merchant, SAMPLE[1])
    assert payload.startswith("AC1/") and payload.count("/") == 2 and payload.isascii()
    assert parse_qr_payload(payload) == (merchant, SAMPLE[1])
    typed_code = payload.rsplit("/", 1)[0] + "/" + SAMPLE[1].lower().replace("-", " ")
    assert parse_qr_payload(typed_code) == (merchant, SAMPLE[1])


@pytest.mark.parametrize(
    ("merchant", "code"),
    [("", SAMPLE[0]), ("  ", SAMPLE[0]), ("m1", "RT-AAA-AAA-AAA"), ("m1", "nope")],
)
def test_qr_payload_refuses_bad_input(merchant: str, code: str) -> None:
    with pytest.raises(MalformedPayload):
        qr_payload(merchant, code)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "AC1/m1",
        "AC2/m1/" + SAMPLE[0],
        "AC1//" + SAMPLE[0],
        "AC1/m1/RT-AAA-AAA-AAA",
        "https://example.com/x/y",
    ],
)
def test_parse_qr_payload_refuses_damage(payload: str) -> None:
    with pytest.raises(MalformedPayload):
        parse_qr_payload(payload)
