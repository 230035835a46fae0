"""Ops e-mail through Amazon SES v2 `SendEmail`: HTML and text parts, attachments, inline images.

API: https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html. A message
without attachments goes as `Simple` content (subject, text and HTML bodies); one with
attachments or inline images (the weekly digest's charts, shown by `<img src="cid:...">`)
is built here as raw MIME: multipart/mixed > multipart/alternative (text, and
multipart/related (HTML + inline images)) + attachments.

Sender: a merchant's own address when its domain is verified in SES
(`settings["email_from"]` with `settings["email_from_verified"]` true), otherwise the
platform's `AFTERCARE_EMAIL_FROM` shown as "<merchant> via Aftercare", with replies going to
the merchant's `support_email`. Locally the client talks to moto server; each sent e-mail
is also appended to the local JSON-lines log (`AFTERCARE_SMS_LOG`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ProviderError
from chalicelib.log import get_logger
from chalicelib.notify.phone import mask

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.store.models import MerchantItem

__all__ = ["Attachment", "Email", "SesEmail", "build_mime", "sender_for", "send_email"]

log = get_logger(__name__)
_RETRYABLE = frozenset({"TooManyRequestsException", "LimitExceededException", "Throttling"})


@dataclass(frozen=True)
class Attachment:
    """A file to attach; with `content_id` it is an inline part the HTML shows as cid:<id>."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    content_id: str | None = None


@dataclass(frozen=True)
class Email:
    """One e-mail to one or more recipients."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    reply_to: tuple[str, ...] = ()


def build_mime(email: Email, sender: str) -> bytes:
    """The raw MIME message for `email` from `sender` (RFC 5322, CRLF line ends)."""
    from email import policy

    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    if email.reply_to:
        message["Reply-To"] = ", ".join(email.reply_to)
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message.set_content(email.text)
    inline = [a for a in email.attachments if a.content_id]
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
        html_part = message.get_payload()[-1]
        for item in inline:
            maintype, _, subtype = item.content_type.partition("/")
            html_part.add_related(
                item.content,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                cid=f"<{item.content_id}>",
                filename=item.filename,
                disposition="inline",
            )
    for item in email.attachments:
        if item.content_id and email.html is not None:
            continue
        maintype, _, subtype = item.content_type.partition("/")
        message.add_attachment(
            item.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=item.filename,
        )
    return message.as_bytes()


class SesEmail:
    """Sends `Email`s with an SES v2 client (moto server locally)."""

    def __init__(self, client: Any, configuration_set: str = "") -> None:
        self._client = client
        self._configuration_set = configuration_set

    def send(self, email: Email, sender: str) -> str:
        """Send; returns SES's MessageId. Raises `ProviderError` (retryable when throttled)."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not email.to:
            raise ProviderError("an e-mail needs at least one recipient", retryable=False)
        params: dict[str, Any] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": list(email.to)},
            "Content": self._content(email, sender),
        }
        if email.reply_to:
            params["ReplyToAddresses"] = list(email.reply_to)
        if self._configuration_set:
            params["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_email(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            raise ProviderError(
                f"SES {code}: {error.get('Message', '')}",
                retryable=code in _RETRYABLE or status >= 500,
            ) from exc
        except BotoCoreError as exc:
            raise ProviderError(f"SES unreachable: {type(exc).__name__}") from exc
        return str(response["MessageId"])

    @staticmethod
    def _content(email: Email, sender: str) -> dict[str, Any]:
        if email.attachments:
            return {"Raw": {"Data": build_mime(email, sender)}}
        body: dict[str, Any] = {"Text": {"Data": email.text, "Charset": "UTF-8"}}
        if email.html is not None:
            body["Html"] = {"Data": email.html, "Charset": "UTF-8"}
        return {"Simple": {"Subject": {"Data": email.subject, "Charset": "UTF-8"}, "Body": body}}


def sender_for(merchant: MerchantItem | None, settings: Settings) -> tuple[str, tuple[str, ...]]:
    """(From, Reply-To) for mail on behalf of `merchant` (None: the platform itself)."""
    own = (merchant.settings or {}) if merchant is not None else {}
    if own.get("email_from") and own.get("email_from_verified") is True:
        return str(own["email_from"]), ()
    name, address = parseaddr(settings.email_from)
    if merchant is None:
        return settings.email_from, ()
    display = f"{merchant.name} via {name or 'Aftercare'}"
    reply_to = (str(own["support_email"]),) if own.get("support_email") else ()
    return formataddr((display, address), charset="utf-8"), reply_to


@lru_cache(maxsize=8)
def _ses(settings: Settings) -> SesEmail:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "sesv2",
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint,
        config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2}),
    )
    return SesEmail(client, settings.ses_configuration_set)


def send_email(settings: Settings, email: Email, merchant: MerchantItem | None = None) -> str:
    """Send `email` for `merchant` (or the platform); returns the SES MessageId.

    Raises `ProviderError`.
    """
    sender, reply_to = sender_for(merchant, settings)
    if reply_to and not email.reply_to:
        email = Email(email.to, email.subject, email.text, email.html, email.attachments, reply_to)
    message_id = _ses(settings).send(email, sender)
    log.info("email sent", extra={"message_id": message_id, "to": [mask(a) for a in email.to]})
    if settings.sms_log_path:
        record = {
            "at": datetime.now(UTC).isoformat(),
            "channel": "email",
            "merchant_id": merchant.merchant_id if merchant is not None else None,
            "from": sender,
            "to": [mask(address) for address in email.to],
            "subject": email.subject,
            "text": email.text,
            "attachments": [a.filename for a in email.attachments],
            "message_id": message_id,
        }
        with open(settings.sms_log_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return message_id
