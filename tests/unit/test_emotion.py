"""Emotion cues in English and Chinese customer messages, and the priority they earn."""

from __future__ import annotations

import pytest

from chalicelib.policy.emotion import EmotionSignal, detect_emotion, priority_boost


@pytest.mark.parametrize(
    ("text", "level", "cue"),
    [
        ("This is a SCAM, I want a refund now!!!", "angry", "anger:scam"),
        ("I will file a chargeback with my bank", "angry", "anger:chargeback"),
        ("Worst service ever. My lawyer will hear about this.", "angry", "anger:lawyer"),
        ("WHERE IS MY ORDER!!!", "angry", "shouting:ALL CAPS"),
        ("Absolutely unacceptable, I am fed up", "angry", "anger:fed up"),
        ("I'm disappointed, the box arrived damaged", "upset", "anger:disappointed"),
        ("Still waiting for my refund?!", "upset", "punctuation:?!"),
        ("你们是骗子", "angry", "anger:骗子"),
        ("太慢了！！我要投诉", "angry", "punctuation:！！"),
        ("垃圾商品，差评！", "angry", "anger:垃圾"),
        ("我很生气", "upset", "anger:生气"),
        ("有点失望", "upset", "anger:失望"),
        ("再不处理我就打12315", "angry", "anger:12315"),
    ],
)
def test_anger(text: str, level: str, cue: str) -> None:
    signal = detect_emotion(text)
    assert signal.level == level, signal
    assert cue in signal.cues


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("I'm really worried my parcel is lost", "anxiety:worried"),
        ("Please, I need it by Friday, it's urgent", "anxiety:urgent"),
        ("Where is my order???", "anxiety:???"),
        ("我很着急，什么时候能到？", "anxiety:着急"),
        ("担心包裹丢了", "anxiety:担心"),
        ("请马上处理", "anxiety:马上"),
    ],
)
def test_anxiety(text: str, cue: str) -> None:
    signal = detect_emotion(text)
    assert signal.anxious and cue in signal.cues
    assert priority_boost(signal) >= 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hi, could you tell me when my order ships? Thanks",
        "Thank you so much!!! Love it",
        "THANK YOU SO MUCH",
        "Order #123156 arrived, USPS tracking LX123456789CN",
        "Hi, this is Sue. How do I start a return?",
        "No rush, not urgent at all.",
        "I did NOT expect it so soon, great",
        "请问怎么退款？",
        "不着急，慢慢来，谢谢",
        "不用担心，已经收到了",
        "收到了，很满意，好评！",
    ],
)
def test_calm_texts_stay_calm(text: str) -> None:
    signal = detect_emotion(text)
    assert signal == EmotionSignal("calm", False, ())
    assert priority_boost(signal) == 0


def test_priority_boost() -> None:
    assert priority_boost(EmotionSignal("angry", True, ())) == 2
    assert priority_boost(EmotionSignal("angry", False, ())) == 2
    assert priority_boost(EmotionSignal("upset", False, ())) == 1
    assert priority_boost(EmotionSignal("calm", True, ())) == 1
    assert priority_boost(EmotionSignal("calm", False, ())) == 0


def test_refund_now_counts_once() -> None:
    cues = detect_emotion("refund now").cues
    assert "anger:refund now" in cues and "anger:refund" not in cues
