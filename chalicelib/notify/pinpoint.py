"""AWS End User Messaging SMS provider: `pinpoint-sms-voice-v2` `SendTextMessage`, transactional.

API: https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_SendTextMessage.html
(JSON 1.0 protocol, `X-Amz-Target: PinpointSMSVoiceV2.SendTextMessage`). Each message names
our configuration set (its event destination carries delivery events) and origination
identity (phone number, sender id or pool) when configured, and carries the outbox id in
`Context` so delivery events can be traced back.

Errors: throttling, service quota, internal errors and network failures are retryable; a
`ConflictException` with reason `DESTINATION_PHONE_NUMBER_OPTED_OUT` is `RecipientOptedOut`;
validation, access and missing-resource errors are permanent. The client makes one attempt
per call (botocore's own retries could send twice): the outbox sender owns retries.
moto has no backend for this service: tests run it against `tests/stubs/sms_voice.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.errors import ProviderError
from chalicelib.log import mask_text
from chalicelib.notify.providers import RecipientOptedOut

if TYPE_CHECKING:
    from chalicelib.config import Settings

__all__ = ["EndUserMessagingSms", "build", "OPTED_OUT_REASONS"]

OPTED_OUT_REASONS = frozenset({"DESTINATION_PHONE_NUMBER_OPTED_OUT"})
_RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "ServiceQuotaExceededException", "InternalServerException"}
)


class EndUserMessagingSms:
    """Sends transactional SMS through AWS End User Messaging SMS."""

    name = "pinpoint"

    def __init__(
        self, client: Any, origination_identity: str = "", configuration_set: str = ""
    ) -> None:
        self._client = client
        self._origination_identity = origination_identity
        self._configuration_set = configuration_set

    def send(self, to: str, text: str, *, reference: str) -> str:
        """Send one message; returns its MessageId. Raises `ProviderError`."""
        from botocore.exceptions import BotoCoreError, ClientError

        params: dict[str, Any] = {
            "DestinationPhoneNumber": to,
            "MessageBody": text,
            "MessageType": "TRANSACTIONAL",
            "Context": {"outbox_id": reference},
        }
        if self._origination_identity:
            params["OriginationIdentity"] = self._origination_identity
        if self._configuration_set:
            params["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_text_message(**params)
        except ClientError as exc:
            raise _error(exc.response) from exc
        except BotoCoreError as exc:  # timeouts, connection errors
            raise ProviderError(f"End User Messaging unreachable: {type(exc).__name__}") from exc
        message_id = response.get("MessageId")
        if not isinstance(message_id, str) or not message_id:
            raise ProviderError("End User Messaging answered without a MessageId", retryable=False)
        return message_id


def _error(response: dict[str, Any]) -> ProviderError:
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    reason = str(response.get("Reason") or error.get("Reason") or "")
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    message = mask_text(str(error.get("Message", ""))[:300])
    detail = f"End User Messaging {code}{f' {reason}' if reason else ''}: {message}".rstrip(": ")
    if reason in OPTED_OUT_REASONS:
        return RecipientOptedOut(detail)
    return ProviderError(detail, retryable=code in _RETRYABLE_CODES or status >= 500)


def build(settings: Settings) -> EndUserMessagingSms:
    """The provider from settings (endpoint, origination identity, configuration set)."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "pinpoint-sms-voice-v2",
        region_name=settings.region,
        endpoint_url=settings.sms_voice_endpoint,
        config=Config(
            connect_timeout=3,
            read_timeout=5,
            retries={"total_max_attempts": 1, "mode": "standard"},
        ),
    )
    return EndUserMessagingSms(
        client, settings.sms_origination_identity, settings.sms_configuration_set
    )
