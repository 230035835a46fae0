"""Emotion cues: anger, anxiety and urgency in English and Chinese customer text, by rules.

Pure and deterministic: keyword lists plus punctuation rules, no model. The result is an
`EmotionSignal(level, anxious, cues)`; every cue that counted is listed as `kind:text` so an
agent (and the weekly emotion trend) can see why.

How a text is scored:
1. Negated phrases are removed first, so "no rush", "not urgent", "not angry", "don't
   worry", 不着急, 不急, 别着急, 不用担心, 不生气 do not count.
2. Anger keywords add points (English matched as whole words, case-insensitive; Chinese as
   substrings):
   - 4: scam, fraud, lawyer, attorney, lawsuit, "sue you", "will sue", chargeback,
     "report you", furious, pissed; 骗子, 诈骗, 骗人, 律师, 起诉, 愤怒, 气死,
     12315 (China's consumer-complaint hotline).
   - 3: worst, unacceptable, ridiculous, disgusting, angry, "refund now", "fed up";
     垃圾, 生气, 差评, 恶心, 受够, 曝光.
   - 2: terrible, horrible, awful, useless, disappointed, frustrated, annoyed, "never
     again", "waste of money", "too slow"; 投诉, 太差, 太慢, 失望, 不满, 离谱, 无语.
   - 1: refund, "still waiting", "still not", "no response"; 退款, 还没.
3. Intensity adds points: a run of 3+ "!" (or 2+ fullwidth "！") +2; "?!" or "？！" +1;
   SHOUTING +2 (two or more ALL-CAPS words of 3+ letters that are not known acronyms like
   USPS or SKU, or mostly capital letters over 8+ letters). Intensity does not count on its
   own when the text also thanks or praises (thanks, love, great, 谢谢, 感谢, 满意, 好评...),
   so "Thank you!!!" stays calm.
4. Level: 4+ points = "angry", 2-3 = "upset", else "calm" (a calm text lists no anger cues:
   a lone "refund" or 退款 is a question, not a mood).
5. Anxiety/urgency sets `anxious` (the level is unchanged): worried, anxious, nervous,
   urgent, asap, "as soon as possible", emergency, immediately, "right now", "need it by",
   "is it lost", "3+ ?"; 着急, 担心, 焦虑, 紧急, 急用, 很急, 马上, 尽快, 赶紧, 丢了, 怎么还没.

`priority_boost` turns a signal into steps of priority: angry 2, upset 1, anxious at least 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["EmotionSignal", "detect_emotion", "priority_boost"]

Level = Literal["calm", "upset", "angry"]

_NEGATED_EN = re.compile(
    r"\b(?:no (?:rush|hurry|worries|problem)|not (?:urgent|angry|upset|worried|a scam)"
    r"|don'?t worry|not in a hurry)\b",
    re.IGNORECASE,
)
_NEGATED_ZH = ("不着急", "不急", "别着急", "不用着急", "不用担心", "别担心", "不担心", "不生气")

_ANGER_EN: dict[str, int] = {
    "scam": 4, "scammer": 4, "scammers": 4, "fraud": 4, "lawyer": 4, "attorney": 4,
    "lawsuit": 4, "sue you": 4, "will sue": 4, "chargeback": 4, "report you": 4,
    "furious": 4, "pissed": 4,
    "worst": 3, "unacceptable": 3, "ridiculous": 3, "disgusting": 3, "angry": 3,
    "refund now": 3, "fed up": 3,
    "terrible": 2, "horrible": 2, "awful": 2, "useless": 2, "disappointed": 2,
    "frustrated": 2, "annoyed": 2, "never again": 2, "waste of money": 2, "too slow": 2,
    "refund": 1, "still waiting": 1, "still not": 1, "no response": 1,
}  # fmt: skip
_ANGER_ZH: dict[str, int] = {
    "骗子": 4, "诈骗": 4, "骗人": 4, "律师": 4, "起诉": 4, "愤怒": 4, "气死": 4,
    "垃圾": 3, "生气": 3, "差评": 3, "恶心": 3, "受够": 3, "曝光": 3,
    "投诉": 2, "太差": 2, "太慢": 2, "失望": 2, "不满": 2, "离谱": 2, "无语": 2,
    "退款": 1, "还没": 1,
}  # fmt: skip
_ANXIETY_EN = (
    "worried", "worry", "anxious", "nervous", "urgent", "urgently", "asap",
    "as soon as possible", "emergency", "immediately", "right now", "need it by", "is it lost",
)  # fmt: skip
_ANXIETY_ZH = (
    "着急", "担心", "焦虑", "紧急", "急用", "很急", "马上", "尽快", "赶紧", "丢了", "怎么还没",
)  # fmt: skip
_POSITIVE_EN = re.compile(
    r"\b(?:thanks?|thank you|love|great|awesome|amazing|appreciate|perfect|happy)\b",
    re.IGNORECASE,
)
_POSITIVE_ZH = ("谢谢", "感谢", "喜欢", "满意", "好评", "太棒", "辛苦")
_ACRONYMS = frozenset(
    {"USPS", "UPS", "DHL", "FEDEX", "EMS", "SKU", "SMS", "USA", "ETA", "ASAP", "API", "PDF",
     "RMA", "GPS", "TV", "LED", "USB", "XXL", "XL", "EU", "UK", "CEO", "FAQ", "ID", "OK"}
)  # fmt: skip


def _phrase(words: str) -> re.Pattern[str]:
    return re.compile(r"\b" + r"\s+".join(map(re.escape, words.split())) + r"\b", re.IGNORECASE)


_ANGER_EN_RE = {word: (_phrase(word), points) for word, points in _ANGER_EN.items()}
_ANXIETY_EN_RE = {word: _phrase(word) for word in _ANXIETY_EN}
_HOTLINE = re.compile(r"(?<!\d)12315(?!\d)")  # China's consumer-complaint hotline
_BANG_RUN = re.compile(r"(?:[!！]{3,}|！{2,})")
_INTERROBANG = re.compile(r"[?？][!！]|[!！][?？]")
_QUESTION_RUN = re.compile(r"[?？]{3,}")
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class EmotionSignal:
    """How a message sounds: `level` of anger, whether it is anxious/urgent, and why."""

    level: Level
    anxious: bool
    cues: tuple[str, ...]


def _shouting(text: str) -> bool:
    words = _WORD.findall(text)
    loud = [w for w in words if len(w) >= 3 and w.isupper() and w not in _ACRONYMS]
    letters = [c for w in words if w.upper() not in _ACRONYMS for c in w]
    upper = sum(c.isupper() for c in letters)
    return len(loud) >= 2 or (len(letters) >= 8 and upper / len(letters) >= 0.7 and loud != [])


def detect_emotion(text: str) -> EmotionSignal:
    """Score `text` by the rules in the module docstring. Empty text is calm."""
    cleaned = _NEGATED_EN.sub(" ", text)
    for phrase in _NEGATED_ZH:
        cleaned = cleaned.replace(phrase, " ")
    cues: list[str] = []
    points = 0
    for word, (pattern, value) in _ANGER_EN_RE.items():
        if pattern.search(cleaned):
            cues.append(f"anger:{word}")
            points += value
    for word, value in _ANGER_ZH.items():
        if word in cleaned:
            cues.append(f"anger:{word}")
            points += value
    if _HOTLINE.search(cleaned):
        cues.append("anger:12315")
        points += 4
    # "refund now" already counts "refund": keep the stronger phrase only.
    if "anger:refund now" in cues and "anger:refund" in cues:
        cues.remove("anger:refund")
        points -= _ANGER_EN["refund"]

    intensity: list[tuple[str, int]] = []
    if match := _BANG_RUN.search(cleaned):
        intensity.append((f"punctuation:{match.group()}", 2))
    if match := _INTERROBANG.search(cleaned):
        intensity.append((f"punctuation:{match.group()}", 1))
    if _shouting(cleaned):
        intensity.append(("shouting:ALL CAPS", 2))
    positive = bool(_POSITIVE_EN.search(cleaned)) or any(w in cleaned for w in _POSITIVE_ZH)
    if intensity and (points or not positive):
        cues.extend(cue for cue, _ in intensity)
        points += sum(value for _, value in intensity)

    anxiety = [f"anxiety:{w}" for w, pattern in _ANXIETY_EN_RE.items() if pattern.search(cleaned)]
    anxiety += [f"anxiety:{w}" for w in _ANXIETY_ZH if w in cleaned]
    if match := _QUESTION_RUN.search(cleaned):
        anxiety.append(f"anxiety:{match.group()}")
    level: Level = "angry" if points >= 4 else "upset" if points >= 2 else "calm"
    if level == "calm":
        cues = []
    cues.extend(anxiety)
    return EmotionSignal(level=level, anxious=bool(anxiety), cues=tuple(cues))


def priority_boost(signal: EmotionSignal) -> int:
    """Priority steps to add: angry 2, upset 1, calm 0; an anxious customer gets at least 1."""
    boost = {"calm": 0, "upset": 1, "angry": 2}[signal.level]
    return max(boost, 1) if signal.anxious else boost
