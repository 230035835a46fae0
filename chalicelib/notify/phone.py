"""Phone numbers and contact masking: E.164 normalization, region lookup, masks for logs and pages.

Parsing and validation are libphonenumber's (the `phonenumbers` package): a number is accepted
only when its metadata says it is a valid number for its region, so "+1 555 0100" or a number
with a digit missing is rejected rather than sent to a provider that bills for the attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

__all__ = ["normalize_e164", "mask", "region_of"]

_MAX_RAW_LENGTH = 64  # longer input is not a phone number; libphonenumber also caps at 250
_VISIBLE_DIGITS = 4


def _parse(raw: str, region: str | None) -> PhoneNumber | None:
    """A valid parsed number, or None. (`phonenumbers` is imported on first use: ~30 ms.)"""
    import phonenumbers

    if not isinstance(raw, str) or not raw.strip() or len(raw) > _MAX_RAW_LENGTH:
        return None
    try:
        number = phonenumbers.parse(raw, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalize_e164(raw: str, default_country: str | None) -> str | None:
    """`raw` as E.164 ("+14155550123"), or None when it is not a valid phone number.

    `default_country` (ISO 3166-1 alpha-2, e.g. the shipping country) is used to read numbers
    written without a country code; numbers starting with "+" (or an international prefix the
    country uses, like "00") carry their own. Unparseable, too short/long and numbers invalid
    for their region all give None.
    """
    import phonenumbers

    number = _parse(raw, default_country)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    """The ISO 3166-1 alpha-2 region of a valid E.164 number ("US", "CA", "CN"...), or None."""
    import phonenumbers

    number = _parse(e164, None)
    if number is None:
        return None
    region = phonenumbers.region_code_for_number(number)
    return None if region in (None, "ZZ", "001") else region


def mask(phone_or_email: str) -> str:
    """A form safe for logs and pages: "+1******4567", "b***@hostmail.com".

    Phones keep the country code and the last four digits; e-mails keep the first character
    of the local part and the domain (the stars do not reveal the local part's length).
    Anything else keeps only its last four digits, and only when it has at least eight; short
    or digit-less values are fully masked. Never raises.
    """
    if not isinstance(phone_or_email, str):
        return "***"
    value = phone_or_email.strip()
    if not value:
        return ""
    if "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}" if local else f"***@{domain}"
    digits = "".join(char for char in value if char.isdigit())
    if value.startswith("+"):
        import phonenumbers

        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None:
            national = str(number.national_number)
            hidden = max(len(national) - _VISIBLE_DIGITS, 0)
            if hidden:
                return f"+{number.country_code}{'*' * hidden}{national[-_VISIBLE_DIGITS:]}"
            return f"+{number.country_code}{'*' * len(national)}"
    if len(digits) >= 2 * _VISIBLE_DIGITS:
        return "*" * (len(digits) - _VISIBLE_DIGITS) + digits[-_VISIBLE_DIGITS:]
    return "***"
