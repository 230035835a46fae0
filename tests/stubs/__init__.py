"""Local HTTP stubs of providers moto cannot play: each speaks its provider's wire protocol.

A stub records every request it accepted and can be told to fail the next calls with a given
HTTP status and error body, so tests exercise the real client code (requests, botocore) end
to end over loopback. Start one with `with SmsVoiceStub() as stub: ...` (see `base.py`).
"""

from tests.stubs.base import StubServer
from tests.stubs.sms_voice import SmsVoiceStub
from tests.stubs.twilio_api import TwilioApiStub

__all__ = ["StubServer", "SmsVoiceStub", "TwilioApiStub"]
