"""Inbound SMS keywords: tell an opt-out, opt-in, help request or CSAT score from an ordinary reply.

Keyword sets are the union of what the providers we use act on by default, so our opt-out
record agrees with theirs:
- opt-out: AWS End User Messaging (ARRET, CANCEL, END, OPT-OUT, OPTOUT, QUIT, REMOVE, STOP, TD,
  UNSUBSCRIBE) and Twilio (also STOPALL, REVOKE), plus "STOP ALL", "OPT OUT" and the Chinese
  退订 and T ("回T退订" is a common Chinese opt-out instruction);
- opt-in: START, UNSTOP, YES;  help: HELP, INFO, 帮助.

Matching: the text is NFKC-normalized (full-width "ＳＴＯＰ" and "５" read as ASCII), case-folded,
with whitespace collapsed and punctuation around it ignored. A keyword must be the whole
message ("Stop." is an opt-out, "Cancel my order" is not), except that a message starting with
an unambiguous opt-out word (STOP, STOPALL, UNSUBSCRIBE, OPTOUT, 退订) is an opt-out, as AWS
treats a keyword in first position: a customer who writes "stop texting me" must be honoured.
A bare 1-5 (optionally "stars", "/5", "分", "星", or 1-5 star symbols) is a CSAT score.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = ["Reply", "ReplyKind", "STOP_WORDS", "START_WORDS", "HELP_WORDS", "classify_reply"]

ReplyKind = Literal["stop", "start", "help", "csat", "text"]

STOP_WORDS: frozenset[str] = frozenset(
    {
        "STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT",
        "OPT-OUT", "OPT OUT", "REVOKE", "REMOVE", "ARRET", "TD", "T", "退订",
    }
)  # fmt: skip
START_WORDS: frozenset[str] = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS: frozenset[str] = frozenset({"HELP", "INFO", "帮助"})
_LEADING_STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "OPTOUT"})
_LEADING_STOP_PREFIXES = ("退订",)  # Chinese has no spaces: "退订谢谢"

_MAX_LENGTH = 1600  # ten segments; only the start of a longer text is read
_STAR_SYMBOLS = frozenset("★⭐🌟")
_SCORE = re.compile(r"([1-5])\s*(?:STARS?|/\s*5|OUT OF 5|分|星|颗星)?")
_FIRST_WORD = re.compile(r"[A-Z]+")


@dataclass(frozen=True)
class Reply:
    """What an inbound SMS asks for; `score` is set (1-5) only when `kind` is "csat"."""

    kind: ReplyKind
    score: int | None = None


def _normalize(text: str) -> str:
    """NFKC, upper case, single spaces, no punctuation or spacing at either end."""
    folded = unicodedata.normalize("NFKC", text).upper()
    folded = " ".join(folded.split())
    start, end = 0, len(folded)
    while start < end and _is_edge(folded[start]) and folded[start] not in "-−":  # "-1"
        start += 1
    while end > start and _is_edge(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _is_edge(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "PZC" or char.isspace()


def classify_reply(text: str) -> Reply:
    """Classify an inbound SMS body. Never raises; anything unrecognised is "text"."""
    if not isinstance(text, str):
        return Reply("text")
    normalized = _normalize(text[:_MAX_LENGTH])
    if not normalized:
        return Reply("text")
    if normalized in STOP_WORDS:
        return Reply("stop")
    if normalized in START_WORDS:
        return Reply("start")
    if normalized in HELP_WORDS:
        return Reply("help")
    first = _FIRST_WORD.match(normalized)
    if (first and first.group() in _LEADING_STOP_WORDS) or normalized.startswith(
        _LEADING_STOP_PREFIXES
    ):
        return Reply("stop")
    score = _score(normalized)
    return Reply("csat", score) if score is not None else Reply("text")


def _score(normalized: str) -> int | None:
    match = _SCORE.fullmatch(normalized)
    if match:
        return int(match.group(1))
    compact = normalized.replace(" ", "").replace("\ufe0f", "")
    if compact and len(compact) <= 5 and set(compact) <= _STAR_SYMBOLS:
        return len(compact)
    return None
