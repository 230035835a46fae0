#!/usr/bin/env python3
"""Preview a weekly digest: render any merchant's digest for any week to an HTML file.

    .venv/bin/python scripts/preview_digest.py --merchant shp-aftercare-demo --week 2026-W47
    .venv/bin/python scripts/preview_digest.py --sample          # built-in data, no database

Reads the merchant and its weekly counters like the job does (nothing is sent or written to
the table) from the local run stack (`python3 scripts/dev.py run`: DynamoDB Local on
127.0.0.1:8001, table `aftercare`) unless AFTERCARE_DYNAMODB_ENDPOINT is set, or `--aws`
reads the table named by AFTERCARE_TABLE with your AWS credentials. Writes
`<out>/<merchant>-<week>/index.html` with the charts as PNG files beside it (the e-mail's
cid: references become file names), plus the text part and the CSV, and prints the path.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOCAL_ENV = {
    "AFTERCARE_DYNAMODB_ENDPOINT": "http://127.0.0.1:8001",
    "AFTERCARE_TABLE": "aftercare",
    "AWS_ACCESS_KEY_ID": "fakeLocalAccessKey",
    "AWS_SECRET_ACCESS_KEY": "fakeLocalSecretKey",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--merchant", help="merchant id, e.g. shp-aftercare-demo")
    source.add_argument("--sample", action="store_true", help="the built-in sample weeks")
    parser.add_argument("--week", help="ISO week like 2026-W47 (default: last week, UTC)")
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "digests")
    parser.add_argument("--aws", action="store_true", help="do not default to the local stack")
    return parser.parse_args(argv)


def _render(args: argparse.Namespace):
    from chalicelib.digest.charts import draw_charts
    from chalicelib.digest.metrics import compute
    from chalicelib.digest.render import TITLES, label, render
    from chalicelib.digest.sample import SAMPLE_PREVIOUS_WEEK, SAMPLE_WEEK, sample_counters

    if args.sample:
        counters = sample_counters()
        digest = compute(
            SAMPLE_WEEK,
            SAMPLE_PREVIOUS_WEEK,
            counters[SAMPLE_WEEK],
            counters[SAMPLE_PREVIOUS_WEEK],
        )
        return "sample", render(digest, "Sample Shop", draw_charts(digest, label, TITLES))

    if not args.aws:
        for name, value in LOCAL_ENV.items():
            if not os.environ.get(name):
                os.environ[name] = value
    from chalicelib.deps import deps
    from chalicelib.digest.job import build_digest
    from chalicelib.digest.weeks import week_of

    store = deps().store
    merchant = store.merchant(args.merchant)
    if merchant is None:
        sys.exit(f"no merchant {args.merchant!r} in table {store.table_name}")
    week = args.week or week_of(datetime.now(UTC) - timedelta(days=7))
    return merchant.merchant_id, build_digest(store, merchant, week)


def main(argv: list[str] | None = None) -> Path:
    """Render and write the preview; returns the HTML file's path."""
    args = _arguments(argv)
    from chalicelib.digest.render import preview_html

    name, rendered = _render(args)
    folder = args.out / f"{name}-{rendered.week}"
    folder.mkdir(parents=True, exist_ok=True)
    for chart in rendered.charts:
        (folder / f"{chart.name}.png").write_bytes(chart.png)
    (folder / "digest.txt").write_text(rendered.text, encoding="utf-8")
    (folder / rendered.csv_name).write_bytes(rendered.csv)
    page = folder / "index.html"
    page.write_text(preview_html(rendered), encoding="utf-8")
    print(f"{rendered.subject}\n{page}")
    return page


if __name__ == "__main__":
    main()
