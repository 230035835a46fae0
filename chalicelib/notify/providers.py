"""SMS providers behind one small interface; Amazon SNS here, more in their own modules.

A provider sends one text to one E.164 number and returns the provider's message id, or
raises `ProviderError` saying whether a retry may help. Clients are built with the
configured endpoint (moto server locally) and bounded timeouts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.errors import ProviderError

if TYPE_CHECKING:
    from chalicelib.config import Settings

__all__ = ["SmsProvider", "SnsSms", "RecipientOptedOut", "build_provider", "PROVIDERS"]

# SNS error codes after which the same request can never succeed.
_PERMANENT_SNS_ERRORS = frozenset(
    {"InvalidParameter", "InvalidParameterValue", "OptedOut", "AuthorizationError"}
)


class RecipientOptedOut(ProviderError):
    """The provider refuses because the recipient opted out with it (e.g. Twilio 21610):
    never retried, and the sender records the customer as opted out."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail, retryable=False)


class SmsProvider(Protocol):
    """Sends one SMS; returns the provider message id or raises `ProviderError`."""

    name: str

    def send(self, to: str, text: str, *, reference: str) -> str: ...


class SnsSms:
    """Amazon SNS `Publish` to a phone number, as a transactional SMS."""

    name = "sns"

    def __init__(self, client: Any, sender_id: str | None = None) -> None:
        self._client = client
        self._sender_id = sender_id

    def send(self, to: str, text: str, *, reference: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        attributes = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        }
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {
                "DataType": "String",
                "StringValue": self._sender_id,
            }
        try:
            response = self._client.publish(
                PhoneNumber=to, Message=text, MessageAttributes=attributes
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "OptedOut":
                raise RecipientOptedOut("SNS OptedOut: the number opted out of SMS") from exc
            raise ProviderError(
                f"SNS {code}: {exc.response.get('Error', {}).get('Message', '')}",
                retryable=code not in _PERMANENT_SNS_ERRORS,
            ) from exc
        except BotoCoreError as exc:  # timeouts, connection errors
            raise ProviderError(f"SNS unreachable: {exc}", retryable=True) from exc
        return str(response["MessageId"])


def _aws_client(service: str, settings: Settings) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint,
        config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2}),
    )


# Provider name (a merchant's `settings["sms_provider"]`) -> module with `build(settings)`.
PROVIDERS = {
    "sns": None,
    "twilio": "chalicelib.notify.twilio",
    "pinpoint": "chalicelib.notify.pinpoint",  # AWS End User Messaging SMS
}


def build_provider(name: str, settings: Settings) -> SmsProvider:
    """The provider called `name`; raises `ValueError` for an unknown or unconfigured one."""
    if name == "sns":
        return SnsSms(_aws_client("sns", settings))
    if name in PROVIDERS:
        import importlib

        return importlib.import_module(str(PROVIDERS[name])).build(settings)
    raise ValueError(f"unknown SMS provider '{name}'")
