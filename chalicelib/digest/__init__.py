"""The weekly ops digest: KPIs from weekly counters, charts, e-mail rendering and the job.

Importing the package is free: Pillow and Jinja2 load inside the functions that draw and
render. Handlers that count durations import `bucket_counter` from `digest.buckets`.
"""

from chalicelib.digest.buckets import bucket_counter
from chalicelib.digest.job import build_digest, run_weekly_digests
from chalicelib.digest.metrics import Digest, Kpi, Row, compute
from chalicelib.digest.schedule import claim, enroll, new_schedule

__all__ = [
    "Digest",
    "Kpi",
    "Row",
    "bucket_counter",
    "build_digest",
    "claim",
    "compute",
    "enroll",
    "new_schedule",
    "run_weekly_digests",
]
