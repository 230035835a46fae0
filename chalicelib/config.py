"""Configuration: every environment variable the app reads, in one place, read when used.

`load_settings(environ)` builds a frozen `Settings`; precedence is argument > environment >
documented default. Nothing reads the environment at import time (Chalice's test client
swaps `os.environ` per request). Secrets: in AWS they come from SSM Parameter Store; locally
from the obviously fake values documented in the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Settings", "load_settings", "ENV"]


class ENV:
    """Names of the environment variables."""

    STAGE = "AFTERCARE_STAGE"
    TABLE_NAME = "AFTERCARE_TABLE"
    REGION = "AWS_DEFAULT_REGION"
    DYNAMODB_ENDPOINT = "AFTERCARE_DYNAMODB_ENDPOINT"
    AWS_ENDPOINT = "AFTERCARE_AWS_ENDPOINT"  # SNS/SES/SSM locally (moto server)
    SHOPIFY_API_KEY = "AFTERCARE_SHOPIFY_API_KEY"
    SHOPIFY_API_SECRETS = (
        "AFTERCARE_SHOPIFY_API_SECRETS"  # comma-separated: current first, then previous
    )
    SMS_LOG_PATH = "AFTERCARE_SMS_LOG"  # local only: a JSON-lines copy of every SMS/e-mail sent
    LOG_LEVEL = "AFTERCARE_LOG_LEVEL"
    MAX_BODY_BYTES = "AFTERCARE_MAX_BODY_BYTES"
    RECEIPT_TTL_DAYS = "AFTERCARE_RECEIPT_TTL_DAYS"
    PUBLIC_URL = "AFTERCARE_PUBLIC_URL"
    # Messaging (issue 6). Twilio auth tokens: comma-separated, current first; an entry
    # "ssm:<parameter name>" is read from SSM Parameter Store (decrypted) on first use.
    TWILIO_ACCOUNT_SID = "AFTERCARE_TWILIO_ACCOUNT_SID"
    TWILIO_AUTH_TOKENS = "AFTERCARE_TWILIO_AUTH_TOKENS"
    TWILIO_FROM = "AFTERCARE_TWILIO_FROM"  # E.164 sender number or a Messaging Service SID (MG...)
    TWILIO_API_BASE = "AFTERCARE_TWILIO_API_BASE"  # a local stub in tests
    SMS_VOICE_ENDPOINT = "AFTERCARE_SMS_VOICE_ENDPOINT"  # pinpoint-sms-voice-v2; a stub locally
    SMS_ORIGINATION_IDENTITY = "AFTERCARE_SMS_ORIGINATION_IDENTITY"
    SMS_CONFIGURATION_SET = "AFTERCARE_SMS_CONFIGURATION_SET"
    SMS_RATE_PER_MINUTE = "AFTERCARE_SMS_RATE_PER_MINUTE"  # per merchant; merchants may lower it
    EMAIL_FROM = "AFTERCARE_EMAIL_FROM"  # platform sender when a merchant has no verified one
    SES_CONFIGURATION_SET = "AFTERCARE_SES_CONFIGURATION_SET"
    # Operations (issue 13): secret cache, metrics (CloudWatch EMF) and the stack they belong to.
    SECRETS_TTL_SECONDS = "AFTERCARE_SECRETS_TTL_SECONDS"
    METRICS = "AFTERCARE_METRICS"  # "emf": one metric log line per event set; "off"
    STACK = "AFTERCARE_STACK"  # the CloudFormation stack: the metrics' Stack dimension
    # Marketplaces (issue 3): install flows and outbound partner calls.
    SHOPIFY_SCOPES = "AFTERCARE_SHOPIFY_SCOPES"  # comma-separated scopes the install requests
    SHOPIFY_API_VERSION = "AFTERCARE_SHOPIFY_API_VERSION"
    SHOPIFY_ADMIN_BASE = "AFTERCARE_SHOPIFY_ADMIN_BASE"  # tests: a stub URL; ignored on prod
    PARTNER_ALLOW_HTTP = "AFTERCARE_PARTNER_ALLOW_HTTP"  # "1": http store URLs (stubs); not prod
    PARTNER_TIMEOUT_SECONDS = "AFTERCARE_PARTNER_TIMEOUT_SECONDS"  # read timeout of partner calls
    PARTNER_MAX_WAIT_SECONDS = "AFTERCARE_PARTNER_MAX_WAIT_SECONDS"  # longer waits: outbox defers
    BIGCOMMERCE_CLIENT_ID = "AFTERCARE_BIGCOMMERCE_CLIENT_ID"
    BIGCOMMERCE_CLIENT_SECRETS = "AFTERCARE_BIGCOMMERCE_CLIENT_SECRETS"  # "ssm:<name>" in AWS
    BIGCOMMERCE_API_BASE = "AFTERCARE_BIGCOMMERCE_API_BASE"
    BIGCOMMERCE_LOGIN_BASE = "AFTERCARE_BIGCOMMERCE_LOGIN_BASE"
    # Merchant console (issue 12): HMAC keys of its session cookies, current first ("ssm:<name>"
    # in AWS; a fixed, documented dev key is used off prod when unset).
    CONSOLE_SECRETS = "AFTERCARE_CONSOLE_SECRETS"
    # Customer pages (issue 11): HMAC keys of portal sessions, CSRF and status tokens, current
    # first ("ssm:<name>" in AWS; a fixed, documented dev key is used off prod when unset).
    PAGES_SECRETS = "AFTERCARE_PAGES_SECRETS"
    PHOTOS_DIR = "AFTERCARE_PHOTOS_DIR"  # local only: where portal photos are kept (S3 in AWS)
    # Prepaid return labels (issue 11): EasyPost API keys, current first ("ssm:<name>" in AWS)
    EASYPOST_API_KEYS = "AFTERCARE_EASYPOST_API_KEYS"
    EASYPOST_API_BASE = "AFTERCARE_EASYPOST_API_BASE"  # a local stub in tests


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Hashable, so the composition root can cache per settings."""

    stage: str = "dev"
    table_name: str = "aftercare"
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    aws_endpoint: str | None = None
    shopify_api_key: str = ""
    shopify_api_secrets: tuple[str, ...] = ()
    sms_log_path: str | None = None
    log_level: str = "INFO"
    max_body_bytes: int = 256 * 1024
    receipt_ttl_days: int = 14
    public_url: str = "http://127.0.0.1:8000"
    twilio_account_sid: str = ""
    twilio_auth_tokens: tuple[str, ...] = ()
    twilio_from: str = ""
    twilio_api_base: str = "https://api.twilio.com"
    sms_voice_endpoint: str | None = None
    sms_origination_identity: str = ""
    sms_configuration_set: str = ""
    sms_rate_per_minute: int = 60
    email_from: str = "Aftercare <notifications@aftercare.example>"
    ses_configuration_set: str = ""
    secrets_ttl_seconds: int = 300
    metrics: str = "off"
    stack: str = "local"
    shopify_scopes: tuple[str, ...] = (
        "read_orders",
        "write_orders",
        "read_returns",
        "write_returns",
    )
    shopify_api_version: str = "2026-07"
    shopify_admin_base: str = ""
    partner_allow_http: bool = False
    partner_timeout_seconds: float = 10.0
    partner_max_wait_seconds: float = 5.0
    bigcommerce_client_id: str = ""
    bigcommerce_client_secrets: tuple[str, ...] = ()
    bigcommerce_api_base: str = "https://api.bigcommerce.com"
    bigcommerce_login_base: str = "https://login.bigcommerce.com"
    console_secrets: tuple[str, ...] = ()
    pages_secrets: tuple[str, ...] = ()
    photos_dir: str | None = None
    easypost_api_keys: tuple[str, ...] = ()
    easypost_api_base: str = "https://api.easypost.com"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from `environ` (default: `os.environ` now), then apply `overrides`."""
    env = os.environ if environ is None else environ
    defaults = Settings()
    values: dict[str, object] = {
        "stage": env.get(ENV.STAGE, defaults.stage),
        "table_name": env.get(ENV.TABLE_NAME, defaults.table_name),
        "region": env.get(ENV.REGION, defaults.region),
        "dynamodb_endpoint": env.get(ENV.DYNAMODB_ENDPOINT) or None,
        "aws_endpoint": env.get(ENV.AWS_ENDPOINT) or None,
        "shopify_api_key": env.get(ENV.SHOPIFY_API_KEY, defaults.shopify_api_key),
        "shopify_api_secrets": _split(env.get(ENV.SHOPIFY_API_SECRETS, "")),
        "sms_log_path": env.get(ENV.SMS_LOG_PATH) or None,
        "log_level": env.get(ENV.LOG_LEVEL, defaults.log_level),
        "max_body_bytes": int(env.get(ENV.MAX_BODY_BYTES, defaults.max_body_bytes)),
        "receipt_ttl_days": int(env.get(ENV.RECEIPT_TTL_DAYS, defaults.receipt_ttl_days)),
        "public_url": env.get(ENV.PUBLIC_URL, defaults.public_url),
        "twilio_account_sid": env.get(ENV.TWILIO_ACCOUNT_SID, defaults.twilio_account_sid),
        "twilio_auth_tokens": _split(env.get(ENV.TWILIO_AUTH_TOKENS, "")),
        "twilio_from": env.get(ENV.TWILIO_FROM, defaults.twilio_from),
        "twilio_api_base": env.get(ENV.TWILIO_API_BASE) or defaults.twilio_api_base,
        "sms_voice_endpoint": env.get(ENV.SMS_VOICE_ENDPOINT) or None,
        "sms_origination_identity": env.get(
            ENV.SMS_ORIGINATION_IDENTITY, defaults.sms_origination_identity
        ),
        "sms_configuration_set": env.get(ENV.SMS_CONFIGURATION_SET, defaults.sms_configuration_set),
        "sms_rate_per_minute": int(env.get(ENV.SMS_RATE_PER_MINUTE, defaults.sms_rate_per_minute)),
        "email_from": env.get(ENV.EMAIL_FROM) or defaults.email_from,
        "ses_configuration_set": env.get(ENV.SES_CONFIGURATION_SET, defaults.ses_configuration_set),
        "secrets_ttl_seconds": int(env.get(ENV.SECRETS_TTL_SECONDS, defaults.secrets_ttl_seconds)),
        "metrics": env.get(ENV.METRICS) or defaults.metrics,
        "stack": env.get(ENV.STACK) or defaults.stack,
        "shopify_scopes": _split(env.get(ENV.SHOPIFY_SCOPES, "")) or defaults.shopify_scopes,
        "shopify_api_version": env.get(ENV.SHOPIFY_API_VERSION) or defaults.shopify_api_version,
        "shopify_admin_base": env.get(ENV.SHOPIFY_ADMIN_BASE, defaults.shopify_admin_base),
        "partner_allow_http": env.get(ENV.PARTNER_ALLOW_HTTP, "") == "1",
        "partner_timeout_seconds": float(
            env.get(ENV.PARTNER_TIMEOUT_SECONDS, defaults.partner_timeout_seconds)
        ),
        "partner_max_wait_seconds": float(
            env.get(ENV.PARTNER_MAX_WAIT_SECONDS, defaults.partner_max_wait_seconds)
        ),
        "bigcommerce_client_id": env.get(ENV.BIGCOMMERCE_CLIENT_ID, ""),
        "bigcommerce_client_secrets": _split(env.get(ENV.BIGCOMMERCE_CLIENT_SECRETS, "")),
        "bigcommerce_api_base": env.get(ENV.BIGCOMMERCE_API_BASE) or defaults.bigcommerce_api_base,
        "bigcommerce_login_base": env.get(ENV.BIGCOMMERCE_LOGIN_BASE)
        or defaults.bigcommerce_login_base,
        "console_secrets": _split(env.get(ENV.CONSOLE_SECRETS, "")),
        "pages_secrets": _split(env.get(ENV.PAGES_SECRETS, "")),
        "photos_dir": env.get(ENV.PHOTOS_DIR) or None,
        "easypost_api_keys": _split(env.get(ENV.EASYPOST_API_KEYS, "")),
        "easypost_api_base": env.get(ENV.EASYPOST_API_BASE) or defaults.easypost_api_base,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
