"""Metrics as CloudWatch Embedded Metric Format (EMF): one JSON log line per metric set.

Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
CloudWatch Logs turns each line the Lambda prints into metrics in namespace `Aftercare`: no
API call, no IAM permission, nothing to wait for on the request path. Every set carries the
`Stack` dimension (the CloudFormation stack, so two stacks in one account stay apart) and is
rolled up at `[Stack]` and at `[Stack, <each other dimension>]`; the alarms in
`infra/resources.json` read the `[Stack]` and `[Stack, Reason]` series.

Dimension values are bounded by code (connector names, error codes, provider names, enum
values), never taken from an unverified request: each distinct value is a billed custom
metric. Merchant ids and partner names travel as properties (searchable with Logs Insights,
not dimensions). No personal data is ever written here (these lines bypass the log masking).
Emitting never raises: a metric is not worth a failed webhook.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.errors import AftercareError
from chalicelib.log import get_logger

if TYPE_CHECKING:
    from chalicelib.config import Settings

__all__ = ["Metrics", "NAMESPACE", "ACCEPTED_STATUSES", "SMS_METRICS", "count_rejections", "build"]

log = get_logger(__name__)
NAMESPACE = "Aftercare"
# Handler outcomes that count as an accepted event; "duplicate" is counted apart.
ACCEPTED_STATUSES = frozenset({"applied", "ignored", "stale"})
# Outbox sender result -> metric name (deferrals and lease losses are not counted).
SMS_METRICS = {
    "sent": "SmsSent",
    "failed": "SmsFailed",
    "skipped": "SmsSkipped",
    "retry": "SmsRetried",
}
_PROPERTY_MAX = 64

F = TypeVar("F", bound=Callable[..., Any])


def _stdout(line: str) -> None:
    print(line, file=sys.stdout, flush=True)


class Metrics:
    """Writes EMF lines for one stack; a disabled instance writes nothing."""

    def __init__(
        self,
        stack: str,
        *,
        clock: Callable[[], datetime],
        enabled: bool = True,
        sink: Callable[[str], None] = _stdout,
    ) -> None:
        self.stack = stack
        self.enabled = enabled
        self._clock = clock
        self._sink = sink

    def put(
        self,
        values: Mapping[str, float],
        *,
        units: Mapping[str, str] | None = None,
        dimensions: Mapping[str, str] | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        """One EMF line with `values` (unit "Count" unless `units` says otherwise)."""
        if not self.enabled or not values:
            return
        try:
            self._sink(self._line(values, units or {}, dict(dimensions or {}), properties or {}))
        except Exception:  # a metric must never fail the work it describes
            log.warning("metric not written", exc_info=True)

    def _line(
        self,
        values: Mapping[str, float],
        units: Mapping[str, str],
        dimensions: dict[str, str],
        properties: Mapping[str, Any],
    ) -> str:
        dimensions = {name: value or "none" for name, value in dimensions.items()}
        sets = [["Stack"]] + [["Stack", name] for name in dimensions]
        document: dict[str, Any] = {
            key: str(value)[:_PROPERTY_MAX] for key, value in properties.items() if value
        }
        document.update({"Stack": self.stack, **dimensions})
        document.update(values)
        document["_aws"] = {
            "Timestamp": int(self._clock().timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": sets,
                    "Metrics": [
                        {"Name": name, "Unit": units.get(name, "Count")} for name in values
                    ],
                }
            ],
        }
        return json.dumps(document, separators=(",", ":"), default=str)

    # --- the events we count ---------------------------------------------------------------

    def events(self, source: str, statuses: Iterable[str], merchant_id: str | None = None) -> None:
        """Events of one verified webhook by outcome: `EventsAccepted`, `EventsDuplicate`."""
        statuses = list(statuses)
        self.put(
            {
                "EventsAccepted": sum(status in ACCEPTED_STATUSES for status in statuses),
                "EventsDuplicate": sum(status == "duplicate" for status in statuses),
            },
            dimensions={"Source": source},
            properties={"merchant_id": merchant_id},
        )

    def rejected(self, route: str, reason: str, partner: str | None = None) -> None:
        """A refused webhook (`WebhooksRejected`) by route and error code (`bad_signature`...).

        The partner named in the URL is unverified, so it is a property, not a dimension.
        """
        self.put(
            {"WebhooksRejected": 1},
            dimensions={"Route": route, "Reason": reason},
            properties={"partner": partner},
        )

    def sms(
        self, provider: str, result: str, segments: int = 0, merchant_id: str | None = None
    ) -> None:
        """An outbox SMS result: `SmsSent` + `SmsSegments`, `SmsFailed`, `SmsSkipped`..."""
        name = SMS_METRICS.get(result)
        if name is None:
            return
        values: dict[str, float] = {name: 1}
        if result == "sent":
            values["SmsSegments"] = segments
        self.put(values, dimensions={"Provider": provider}, properties={"merchant_id": merchant_id})

    def auto_approval(self, decision: str, merchant_id: str | None = None) -> None:
        """A return decided by policy (`AutoApprovalDecisions`) by decision (approved...)."""
        self.put(
            {"AutoApprovalDecisions": 1},
            dimensions={"Decision": decision},
            properties={"merchant_id": merchant_id},
        )

    def decisions(self, outcomes: Iterable[Any], merchant_id: str | None = None) -> None:
        """`auto_approval` for each handler `Outcome` that carries an autopilot decision
        (`extra["auto_decision"]`, set by the return-request handler)."""
        for outcome in outcomes:
            decision = (getattr(outcome, "extra", None) or {}).get("auto_decision")
            if decision:
                self.auto_approval(decision, merchant_id)

    def escalation(self, level: int | str, merchant_id: str | None = None) -> None:
        """An SLA escalation (`Escalations`) by level."""
        self.put(
            {"Escalations": 1},
            dimensions={"Level": str(level)},
            properties={"merchant_id": merchant_id},
        )

    def refund_latency(self, seconds: float, merchant_id: str | None = None) -> None:
        """Time from return request (or receipt) to refund, in seconds (`RefundLatency`)."""
        self.put(
            {"RefundLatency": round(seconds, 3)},
            units={"RefundLatency": "Seconds"},
            properties={"merchant_id": merchant_id},
        )

    def outbox_backlog(self, oldest_age_seconds: float, due: int) -> None:
        """One outbox sender run: age of the oldest due item it found (`OutboxOldestDueAge`,
        0 when none was due) and how many were due (`OutboxDue`). Emitted on every run, so
        the outbox-age alarm sees a backlog growing even while each run succeeds."""
        self.put(
            {"OutboxOldestDueAge": round(max(0.0, oldest_age_seconds), 3), "OutboxDue": due},
            units={"OutboxOldestDueAge": "Seconds"},
        )


def build(settings: Settings, clock: Callable[[], datetime]) -> Metrics:
    """The metrics writer for `settings` (`AFTERCARE_METRICS=emf` turns it on)."""
    return Metrics(settings.stack, clock=clock, enabled=settings.metrics == "emf")


def count_rejections(route: str | None = None, *, route_arg: str | None = None) -> Callable[[F], F]:
    """Decorate a webhook entry point `(deps, ...)`: each `AftercareError` it raises with a
    4xx status is counted as `WebhooksRejected` (then re-raised; other errors pass through).

    The route is `route`, or the value of the argument named `route_arg` (a literal the
    routing table passes, e.g. "carriers"); an argument named `partner` becomes a property.
    """

    def decorate(function: F) -> F:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(deps: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return function(deps, *args, **kwargs)
            except AftercareError as error:
                if 400 <= error.http_status < 500:  # a 502 is ours, not a refusal
                    arguments = signature.bind(deps, *args, **kwargs).arguments
                    name = route or str(arguments.get(route_arg or "", "unknown"))
                    deps.metrics.rejected(name, error.code, arguments.get("partner"))
                raise

        return wrapper  # type: ignore[return-value]

    return decorate
