"""Quiet hours: the recipient's time zone and the next moment a customer SMS may be sent.

A message that falls outside the sending window is deferred to the window's next opening in
the recipient's zone, never dropped. All arithmetic is on real instants (UTC) with wall times
read through `zoneinfo`, so DST days and midnight need no special cases: the window opens at
the first instant whose local wall clock reads at least `start` (on a spring-forward day an
opening inside the skipped hour is the jump itself; on a fall-back day the first 01:30 wins).

Zone choice (`recipient_zone`), most specific first:
1. the subdivision table below for countries spanning several zones (US states and
   territories, Canadian provinces, Australian states) - the shipping address is where the
   customer is, so it beats the phone's area code (people keep numbers when they move);
2. the phone number's zone (libphonenumber) when it names exactly one and the number belongs
   to the same country (or the country is unknown);
3. the country's primary zone: `PRIMARY_ZONES` for countries with several zones (the zone
   most of its people live in; China is one zone, Beijing time), otherwise the single zone
   CLDR (via Babel) lists for the country;
4. `fallback` (the merchant's zone, say), or UTC when that is empty or unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.errors import MalformedPayload

__all__ = [
    "PRIMARY_ZONES",
    "SUBDIVISION_ZONES",
    "SendingWindow",
    "recipient_zone",
    "next_send_time",
]

# fmt: off
# Countries with several zones: the one most of the population lives in.
PRIMARY_ZONES: dict[str, str] = {
    "AR": "America/Argentina/Buenos_Aires", "AU": "Australia/Sydney", "BR": "America/Sao_Paulo",
    "CA": "America/Toronto", "CD": "Africa/Kinshasa", "CL": "America/Santiago",
    "CN": "Asia/Shanghai", "CY": "Asia/Nicosia", "DE": "Europe/Berlin",
    "EC": "America/Guayaquil", "ES": "Europe/Madrid", "FM": "Pacific/Pohnpei",
    "GL": "America/Nuuk", "ID": "Asia/Jakarta", "KI": "Pacific/Tarawa", "KZ": "Asia/Almaty",
    "MH": "Pacific/Majuro", "MN": "Asia/Ulaanbaatar", "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur", "NZ": "Pacific/Auckland", "PF": "Pacific/Tahiti",
    "PG": "Pacific/Port_Moresby", "PS": "Asia/Hebron", "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow", "UA": "Europe/Kyiv", "UM": "Pacific/Wake", "US": "America/New_York",
    "UZ": "Asia/Tashkent",
}

_US_BY_ZONE: dict[str, tuple[str, ...]] = {
    "America/New_York": ("CT", "DC", "DE", "FL", "GA", "KY", "MA", "MD", "ME", "NC", "NH", "NJ",
                         "NY", "OH", "PA", "RI", "SC", "VA", "VT", "WV"),
    "America/Chicago": ("AL", "AR", "IA", "IL", "KS", "LA", "MN", "MO", "MS", "ND", "NE", "OK",
                        "SD", "TN", "TX", "WI"),
    "America/Denver": ("CO", "MT", "NM", "UT", "WY"),
    "America/Los_Angeles": ("CA", "NV", "OR", "WA"),
    "America/Anchorage": ("AK",), "America/Phoenix": ("AZ",), "Pacific/Honolulu": ("HI",),
    "America/Boise": ("ID",), "America/Indiana/Indianapolis": ("IN",),
    "America/Detroit": ("MI",), "America/Puerto_Rico": ("PR",), "Pacific/Guam": ("GU",),
    "America/St_Thomas": ("VI",), "Pacific/Pago_Pago": ("AS",), "Pacific/Saipan": ("MP",),
}
# (country, ISO 3166-2 subdivision code without the country prefix) -> zone. A state that spans
# two zones gets the zone most of its people live in (e.g. TX Central, FL Eastern, ID Boise).
SUBDIVISION_ZONES: dict[tuple[str, str], str] = {
    **{("US", code): zone for zone, codes in _US_BY_ZONE.items() for code in codes},
    ("CA", "AB"): "America/Edmonton", ("CA", "BC"): "America/Vancouver",
    ("CA", "MB"): "America/Winnipeg", ("CA", "NB"): "America/Moncton",
    ("CA", "NL"): "America/St_Johns", ("CA", "NS"): "America/Halifax",
    ("CA", "NT"): "America/Edmonton", ("CA", "NU"): "America/Iqaluit",
    ("CA", "ON"): "America/Toronto", ("CA", "PE"): "America/Halifax",
    ("CA", "QC"): "America/Toronto", ("CA", "SK"): "America/Regina",
    ("CA", "YT"): "America/Whitehorse",
    ("AU", "ACT"): "Australia/Sydney", ("AU", "NSW"): "Australia/Sydney",
    ("AU", "NT"): "Australia/Darwin", ("AU", "QLD"): "Australia/Brisbane",
    ("AU", "SA"): "Australia/Adelaide", ("AU", "TAS"): "Australia/Hobart",
    ("AU", "VIC"): "Australia/Melbourne", ("AU", "WA"): "Australia/Perth",
}
# fmt: on


@lru_cache(maxsize=512)
def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _phone_zone(phone: str, country: str | None) -> str | None:
    import phonenumbers
    from phonenumbers import timezone as phone_tz

    try:
        number = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if country and phonenumbers.region_code_for_number(number) != country:
        return None
    zones = [z for z in phone_tz.time_zones_for_number(number) if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None


def _country_zone(country: str) -> str | None:
    if country in PRIMARY_ZONES:
        return PRIMARY_ZONES[country]
    from babel.core import get_global

    zones = get_global("territory_zones").get(country, [])
    return zones[0] if len(zones) == 1 else None


def recipient_zone(
    country: str | None,
    province: str | None = None,
    phone: str | None = None,
    fallback: str | None = "UTC",
) -> str:
    """The IANA zone to apply quiet hours in, chosen as the module docstring describes.

    `country` is ISO 3166-1 alpha-2, `province` an ISO 3166-2 subdivision code with or without
    the country prefix ("CA", "US-CA"), `phone` any form `phonenumbers` parses. Never raises;
    a zone unknown to this system's tz database is skipped (an unusable `fallback` gives "UTC").
    """
    country = country.strip().upper() if country else None
    candidates: list[str | None] = []
    if country and province:
        code = province.strip().upper().removeprefix(f"{country}-")
        candidates.append(SUBDIVISION_ZONES.get((country, code)))
    if phone:
        candidates.append(_phone_zone(phone, country))
    if country:
        candidates.append(_country_zone(country))
    for zone in (*candidates, fallback):
        if zone and _zone_exists(zone):
            return zone
    return "UTC"


_DEFAULT_START, _DEFAULT_END = time(8, 0), time(21, 0)


def _parse_time(value: Any, name: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            text = value.strip()
            parsed = time.fromisoformat(f"0{text}" if text[1:2] == ":" else text)  # "8:00"
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            return parsed
    raise MalformedPayload(f"sending window {name} must be a local time like '08:00': {value!r}")


@dataclass(frozen=True)
class SendingWindow:
    """Local wall-clock hours in which customer SMS may be sent: [start, end).

    `start` after `end` is a window across midnight (e.g. 20:00-02:00). Raises
    `MalformedPayload` for an empty window (start == end) or a time with a zone.
    """

    start: time = _DEFAULT_START
    end: time = _DEFAULT_END

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise MalformedPayload(f"sending window {name} must be a naive local time")
        if self.start == self.end:
            raise MalformedPayload("sending window is empty: start equals end")

    def contains(self, wall: time) -> bool:
        """True if the local wall time `wall` is inside the window."""
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    @classmethod
    def from_dict(cls, data: Any) -> SendingWindow:
        """Read {"start": "HH:MM", "end": "HH:MM"}; a missing key takes the default.

        Raises `MalformedPayload` for a non-object, unknown keys, unreadable times or an
        empty window.
        """
        if not isinstance(data, dict):
            raise MalformedPayload("sending window must be an object with 'start' and 'end'")
        unknown = set(data) - {"start", "end"}
        if unknown:
            raise MalformedPayload(f"sending window has unknown keys: {sorted(unknown)}")
        start = _parse_time(data.get("start", _DEFAULT_START), "start")
        end = _parse_time(data.get("end", _DEFAULT_END), "end")
        return cls(start=start, end=end)

    def to_dict(self) -> dict[str, str]:
        """{"start": "HH:MM", "end": "HH:MM"} (seconds only when not zero)."""
        spec = "minutes" if self.start.second == self.end.second == 0 else "seconds"
        return {
            "start": self.start.isoformat(timespec=spec),
            "end": self.end.isoformat(timespec=spec),
        }


def _opening(day: date, start: time, zone: ZoneInfo) -> datetime:
    """The UTC instant the window opens on local `day`: the first instant whose wall clock
    reads `start` or later (inside a DST gap, that is the end of the gap)."""
    wall = datetime.combine(day, start)
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # `wall` does not exist: the clock jumps over it. The jump lies between the readings with
    # the offset after (earlier instant) and before (later instant); find it to the second.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = instant
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def next_send_time(
    now_utc: datetime,
    zone: str,
    window: SendingWindow,
    urgent_allowed: bool = False,
    urgent: bool = False,
) -> datetime:
    """When a message due at `now_utc` may go out to a recipient in `zone`, as aware UTC.

    `now_utc` itself when the recipient's wall clock is inside `window` (or when the message is
    `urgent` and the merchant set `urgent_allowed`); otherwise the window's next opening.
    Raises `ValueError` for a naive `now_utc` and `ZoneInfoNotFoundError` for an unknown zone.
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    now = now_utc.astimezone(UTC)
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    if (urgent and urgent_allowed) or window.contains(local.time()):
        return now
    # Openings from yesterday on (a midnight-spanning window opened yesterday); a few days
    # cover zones that skipped a whole calendar day. A window lying wholly inside a DST gap
    # does not happen that day.
    for offset in range(-1, 4):
        opening = _opening(local.date() + timedelta(days=offset), window.start, tz)
        if opening > now and window.contains(opening.astimezone(tz).time()):
            return opening
    raise AssertionError("unreachable: a daily window opens within four days")  # pragma: no cover
