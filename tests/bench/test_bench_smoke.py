"""The benchmark command still runs: `python -m bench --size tiny` end to end, well under 60 s.

A smoke test, not a benchmark: it checks that every figure is produced and well formed, not
what the numbers are (CI machines vary). The full run is `python -m bench` (bench/README.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scheduled import sla_job_available

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="DynamoDB Local needs Java")


def test_tiny_bench_run_writes_every_figure(tmp_path):
    out = tmp_path / "results.json"
    run = subprocess.Popen(
        [sys.executable, "-m", "bench", "--size", "tiny", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = run.communicate(timeout=55)
    except subprocess.TimeoutExpired:
        run.terminate()  # SIGTERM: the bench stops DynamoDB Local and moto on its way out
        stdout, stderr = run.communicate(timeout=20)
        pytest.fail(f"the tiny bench run took over 55 s: {stderr[-2000:]}")

    assert run.returncode == 0, stderr[-3000:]
    results = json.loads(out.read_text())
    assert {"machine", "timestamp", "round_trips", "latency", "throughput", "scheduled"} <= set(
        results
    )
    assert results["machine"]["cpu_count"] and results["machine"]["python"]
    rows = {row["event"]: row for row in results["round_trips"]["rows"]}
    for event in ("order created", "tracking update (status advances)"):
        assert rows[event]["implemented"] and rows[event]["write_rounds"] >= 1
    assert rows["duplicate delivery (same tracking update again)"]["items_written"] == 0
    assert results["latency"]["overall"]["app_ms"]["p50"] > 0
    assert results["throughput"]["non_200"] == 0 and results["throughput"]["app_events_per_s"] > 0
    due = results["scheduled"]["outbox_due_query"][0]
    assert due["items_returned"] == results["scheduled"]["items_due"]
    if sla_job_available():  # issue 7's job, measured by the hook once it exists
        sla = results["scheduled"]["sla_escalation"]
        assert sla["due_query"]["items_returned"] == sla["items_due"]
        assert sla["due_query"]["items_read_per_item_due"] <= 1.1
        assert results["scheduled"]["other_jobs"]["SLA escalation"] == "measured"
    assert results["cold_start"]["imports"]["ratio_app_to_boto3"] > 0
    assert "1. DynamoDB calls per webhook" in stdout and "Targets" in stdout
