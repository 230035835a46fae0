"""Weekly KPIs from counters: this week's and last week's `c#<name>` values to a `Digest`.

Pure: a `Counters` mapping per week in, frozen dataclasses out, no I/O and no clock. Every
number the e-mail shows comes from here, so a hand-computed test pins them all. The counter
names and what writes them are listed in docs/digest.md; a KPI whose counters are absent
has no value ("no data"), never zero. Changes are absolute, in the KPI's own unit
(percentage points for rates, hours for times).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from chalicelib.digest.buckets import bucket_counts, quantile

__all__ = ["Counters", "Kpi", "Row", "Digest", "compute", "TOP_SKUS", "TARGETS"]

Counters = Mapping[str, Decimal]
TOP_SKUS = 10
HUNDRED, THOUSAND = Decimal(100), Decimal(1000)
MEDIAN, P90 = Decimal("0.5"), Decimal("0.9")
# Targets from PRODUCT.md (defaults; a merchant's `settings["digest_targets"]` overrides).
TARGETS: Mapping[str, Decimal] = {
    "auto_decided_rate": Decimal(80),
    "complaint_closure_rate": Decimal(90),
    "csat": Decimal(85),
    "damage_per_1000": Decimal(1),
    "frt_p90_hours": Decimal(24),
    "resolution_p90_hours": Decimal(72),
}
# Case types counted as `cases:<type>`; returns are counted as `returns_requested`.
CASE_TYPES = ("return", "exchange", "complaint", "dispute", "shipping_exception", "inquiry")


@dataclass(frozen=True)
class Kpi:
    """One headline number with last week's value, its unit, target and direction."""

    key: str
    label: str
    unit: str  # "%" | "h" | "/1000" | "/100" | "" (a count)
    value: Decimal | None
    previous: Decimal | None
    higher_is_better: bool
    target: Decimal | None = None
    detail: str = ""  # e.g. "41 of 50 returns"
    at_least: bool = False  # a quantile in the open last bucket

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def status(self) -> str:
        """Against the target: "met" or "missed"; "" without a target or a value."""
        if self.target is None or self.value is None:
            return ""
        good = self.value >= self.target if self.higher_is_better else self.value <= self.target
        return "met" if good else "missed"

    @property
    def trend(self) -> str:
        """Versus last week: "better", "worse", "same", or "" with nothing to compare."""
        change = self.change
        if change is None:
            return ""
        if change == 0:
            return "same"
        return "better" if (change > 0) == self.higher_is_better else "worse"


@dataclass(frozen=True)
class Row:
    """One line of a breakdown (a case type, reason, SKU...) with last week's count."""

    key: str
    count: Decimal
    previous: Decimal
    extra: Decimal = Decimal(0)  # second measure (complaints, for the SKU quality report)

    @property
    def change(self) -> Decimal:
        return self.count - self.previous


@dataclass(frozen=True)
class Digest:
    """Everything one weekly e-mail says about one merchant."""

    week: str
    previous_week: str
    kpis: tuple[Kpi, ...]
    cases_by_type: tuple[Row, ...]
    cases_by_category: tuple[Row, ...]
    return_reasons: tuple[Row, ...]
    sla_breaches: tuple[Row, ...]
    quality: tuple[Row, ...]  # SKUs: count = units returned, extra = complaints

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


def _get(counters: Counters, name: str) -> Decimal:
    return Decimal(counters.get(name, 0))


def _family(counters: Counters, prefix: str) -> dict[str, Decimal]:
    return {k[len(prefix) :]: Decimal(v) for k, v in counters.items() if k.startswith(prefix)}


def _ratio(num: Decimal, den: Decimal, scale: Decimal) -> Decimal | None:
    return num * scale / den if den > 0 else None


def _sum(counters: Counters, *names: str) -> Decimal:
    return sum((_get(counters, n) for n in names), Decimal(0))


def _count(counters: Counters, name: str) -> Decimal | None:
    """A counter's value, or None ("no data") when the week never wrote it."""
    return Decimal(counters[name]) if name in counters else None


def _complaints(c: Counters) -> Decimal:
    return _sum(c, "cases:complaint", "cases:dispute")


# key -> (label, unit, higher is better, value of one week, detail of one week)
_Rate = Callable[[Counters], Decimal | None]
_RATES: dict[str, tuple[str, str, bool, _Rate, Callable[[Counters], str]]] = {
    "auto_decided_rate": (
        "Returns decided automatically",
        "%",
        True,
        lambda c: _ratio(
            _sum(c, "returns_auto_approved", "returns_rejected"),
            _get(c, "returns_requested"),
            HUNDRED,
        ),
        lambda c: (
            f"{_sum(c, 'returns_auto_approved', 'returns_rejected')} of "
            f"{_get(c, 'returns_requested')} returns"
        ),
    ),
    "auto_approval_rate": (
        "Returns auto-approved",
        "%",
        True,
        lambda c: _ratio(_get(c, "returns_auto_approved"), _get(c, "returns_requested"), HUNDRED),
        lambda c: f"{_get(c, 'returns_auto_approved')} of {_get(c, 'returns_requested')} returns",
    ),
    "complaint_closure_rate": (
        "Complaint closure rate",
        "%",
        True,
        lambda c: _ratio(_get(c, "closed:complaint"), _get(c, "cases:complaint"), HUNDRED),
        lambda c: f"{_get(c, 'closed:complaint')} closed, {_get(c, 'cases:complaint')} opened",
    ),
    "repeat_complaint_rate": (
        "Repeat complaint rate",
        "%",
        False,
        lambda c: _ratio(_get(c, "repeat_complaints"), _complaints(c), HUNDRED),
        lambda c: f"{_get(c, 'repeat_complaints')} of {_complaints(c)} complaints and disputes",
    ),
    "csat": (
        "CSAT",
        "/100",
        True,
        lambda c: _ratio(_get(c, "csat_sum"), _get(c, "csat_count"), Decimal(20)),
        lambda c: (
            f"average {_get(c, 'csat_sum') / _get(c, 'csat_count'):.2f} of 5, "
            f"{_get(c, 'csat_count')} ratings"
        ),
    ),
    "damage_per_1000": (
        "Damaged parcels per 1,000",
        "/1000",
        False,
        lambda c: _ratio(_get(c, "parcels_damaged"), _get(c, "shipments"), THOUSAND),
        lambda c: f"{_get(c, 'parcels_damaged')} of {_get(c, 'shipments')} parcels",
    ),
    "lost_per_1000": (
        "Lost parcels per 1,000",
        "/1000",
        False,
        lambda c: _ratio(_get(c, "parcels_lost"), _get(c, "shipments"), THOUSAND),
        lambda c: f"{_get(c, 'parcels_lost')} of {_get(c, 'shipments')} parcels",
    ),
    "stale_tracking_rate": (
        "Parcels with stale tracking",
        "%",
        False,
        lambda c: _ratio(_get(c, "tracking_stale"), _get(c, "shipments"), HUNDRED),
        lambda c: f"{_get(c, 'tracking_stale')} of {_get(c, 'shipments')} parcels",
    ),
}
# count KPI -> label (the warehouse flow writes both counters; docs/digest.md)
_COUNTS = {"returns_received": "Returns received", "refunds_issued": "Refunds issued"}
# duration metric -> (label of its times, what one duration is of)
_TIMES = {
    "frt": ("First response", "cases"),
    "resolution": ("Resolution", "cases"),
    "refund": ("Refund cycle", "refunds"),
}


def _rate_kpis(now: Counters, before: Counters, targets: Mapping[str, Decimal]) -> list[Kpi]:
    return [
        Kpi(
            key,
            label,
            unit,
            value(now),
            value(before),
            higher,
            targets.get(key),
            detail(now) if value(now) is not None else "",
        )
        for key, (label, unit, higher, value, detail) in _RATES.items()
    ]


def _time_kpis(now: Counters, before: Counters, targets: Mapping[str, Decimal]) -> list[Kpi]:
    kpis = []
    for metric, (label, of) in _TIMES.items():
        counts_now, counts_before = bucket_counts(metric, now), bucket_counts(metric, before)
        for name, q in (("median", MEDIAN), ("p90", P90)):
            this, last = quantile(counts_now, q), quantile(counts_before, q)
            key = f"{metric}_{name}_hours"
            kpis.append(
                Kpi(
                    key,
                    f"{label}, {name}",
                    "h",
                    this.hours if this else None,
                    last.hours if last else None,
                    False,
                    targets.get(key),
                    f"{sum(counts_now)} {of}" if this else "",
                    this.at_least if this else False,
                )
            )
    return kpis


def _rows(now: Mapping[str, Decimal], before: Mapping[str, Decimal]) -> tuple[Row, ...]:
    """One row per key seen in either week, largest this week first, then by name."""
    rows = [Row(k, now.get(k, Decimal(0)), before.get(k, Decimal(0))) for k in {*now, *before}]
    return tuple(sorted(rows, key=lambda r: (-r.count, -r.previous, r.key)))


def _case_types(c: Counters) -> dict[str, Decimal]:
    found = _family(c, "cases:")
    if "returns_requested" in c:
        found["return"] = _get(c, "returns_requested")
    return found


def _quality(now: Counters, before: Counters) -> tuple[Row, ...]:
    """SKUs by units returned plus complaints this week, the top TOP_SKUS."""
    returned, complained = _family(now, "sku:"), _family(now, "complaint_sku:")
    returned_before = _family(before, "sku:")
    rows = [
        Row(
            sku,
            returned.get(sku, Decimal(0)),
            returned_before.get(sku, Decimal(0)),
            complained.get(sku, Decimal(0)),
        )
        for sku in {*returned, *complained}
    ]
    rows.sort(key=lambda r: (-(r.count + r.extra), -r.extra, r.key))
    return tuple(rows[:TOP_SKUS])


def compute(
    week: str,
    previous_week: str,
    now: Counters,
    before: Counters,
    targets: Mapping[str, Decimal] | None = None,
) -> Digest:
    """The digest of `week` from its counters (`now`) and those of `previous_week`."""
    goals = {**TARGETS, **(targets or {})}
    kpis = _time_kpis(now, before, goals) + _rate_kpis(now, before, goals)
    breaches_now, breaches_before = _family(now, "sla_breach:"), _family(before, "sla_breach:")
    total_now, total_before = sum(breaches_now.values()), sum(breaches_before.values())
    kpis.append(
        Kpi(
            "sla_breaches",
            "SLA breaches",
            "",
            Decimal(total_now),
            Decimal(total_before),
            False,
            goals.get("sla_breaches"),
            ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(breaches_now.items())),
        )
    )
    for key, label in _COUNTS.items():
        kpis.append(
            Kpi(key, label, "", _count(now, key), _count(before, key), True, goals.get(key))
        )
    return Digest(
        week=week,
        previous_week=previous_week,
        kpis=tuple(kpis),
        cases_by_type=_rows(_case_types(now), _case_types(before)),
        cases_by_category=_rows(_family(now, "category:"), _family(before, "category:")),
        return_reasons=_rows(_family(now, "reason:"), _family(before, "reason:")),
        sla_breaches=_rows(breaches_now, breaches_before),
        quality=_quality(now, before),
    )
