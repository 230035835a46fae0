"""Inbound SMS classification: opt-out, opt-in, help, CSAT scores and ordinary replies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.notify.keywords import (
    HELP_WORDS,
    START_WORDS,
    STOP_WORDS,
    Reply,
    classify_reply,
)


@pytest.mark.parametrize(
    "text",
    [
        "STOP", "stop", " Stop. ", "STOP!", "StopAll", "STOP ALL", "unsubscribe", "Cancel",
        "END", "quit", "optout", "opt-out", "Opt out", "REVOKE", "remove", "arret",
        "ＳＴＯＰ",  # full-width
        "退订", "退订。", "TD", "td", "T", "t",
        "stop texting me", "STOP please", "Unsubscribe me", "退订谢谢",
    ],
)  # fmt: skip
def test_opt_out(text: str) -> None:
    assert classify_reply(text) == Reply("stop")


@pytest.mark.parametrize("text", ["START", "start", "Unstop", "YES", "yes!", " Yes "])
def test_opt_in(text: str) -> None:
    assert classify_reply(text) == Reply("start")


@pytest.mark.parametrize("text", ["HELP", "help?", "Info", "帮助"])
def test_help(text: str) -> None:
    assert classify_reply(text) == Reply("help")


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("1", 1), ("5", 5), (" 4 ", 4), ("3.", 3), ("５", 5), ("5 stars", 5), ("1 star", 1),
        ("4 Stars!", 4), ("3/5", 3), ("4 out of 5", 4), ("5分", 5), ("4星", 4), ("５星", 5),
        ("⭐⭐⭐", 3), ("⭐️⭐️⭐️⭐️⭐️", 5), ("★★", 2),
    ],
)  # fmt: skip
def test_csat_score(text: str, score: int) -> None:
    assert classify_reply(text) == Reply("csat", score)


@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "0", "6", "10", "12", "5 5", "-1",
        "Where is my parcel?", "Cancel my order", "The end of the box was crushed",
        "Stopped at the depot?", "Yes please send a new one", "I need help with my return",
        "Information about my refund", "我的快递到哪了", "Thanks!", "⭐⭐⭐⭐⭐⭐",
    ],
)  # fmt: skip
def test_ordinary_text(text: str) -> None:
    assert classify_reply(text) == Reply("text")


def test_long_message_starting_with_stop_is_still_an_opt_out() -> None:
    assert classify_reply("STOP " + "sending me these. " * 200).kind == "stop"
    assert classify_reply("5 " + "x" * 5000).kind == "text"


def test_keyword_sets_do_not_overlap() -> None:
    assert not STOP_WORDS & START_WORDS
    assert not STOP_WORDS & HELP_WORDS
    assert not START_WORDS & HELP_WORDS


def test_non_string_is_text() -> None:
    assert classify_reply(None) == Reply("text")  # type: ignore[arg-type]


@given(st.text(max_size=200))
def test_never_raises_and_scores_only_csat(text: str) -> None:
    reply = classify_reply(text)
    assert reply.kind in {"stop", "start", "help", "csat", "text"}
    assert (reply.score is not None) == (reply.kind == "csat")
    if reply.score is not None:
        assert 1 <= reply.score <= 5
