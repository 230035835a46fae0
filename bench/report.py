"""The printed table and the JSON results file of a benchmark run, with machine information."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["machine", "targets", "render", "render_latency", "write"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _java() -> str:
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    return (done.stderr or done.stdout).splitlines()[0] if (done.stderr or done.stdout) else "?"


def machine(backend: str) -> dict[str, Any]:
    """Where the numbers were taken."""
    import boto3
    import botocore
    import chalice
    import pynamodb

    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "java": _java(),
        "dynamodb": backend,
        "versions": {
            "boto3": boto3.__version__,
            "botocore": botocore.__version__,
            "pynamodb": pynamodb.__version__,
            "chalice": chalice.__version__,
        },
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 8 with the measured value and whether it is met."""
    found = []
    rows = [r for r in results["round_trips"]["rows"] if r.get("target_met") is not None]
    implemented = [r for r in rows if r.get("implemented")]
    missed = [r["event"] for r in implemented if not r["target_met"]]
    found.append(
        {
            "target": "<= 1 read round + 1 transactional write per inbound event",
            "value": f"{len(implemented) - len(missed)}/{len(implemented)} event types",
            "met": not missed,
            "why_not": "; ".join(sorted({f for r in implemented for f in r["flags"]})),
        }
    )
    overall = results["latency"]["overall"]["ratio"]["p50"]
    found.append(
        {"target": "ack latency p50 app/baseline <= 2", "value": overall, "met": overall <= 2}
    )
    query = results["scheduled"]["outbox_due_query"][0]
    ratio = query["items_read_per_item_returned"]
    found.append(
        {
            "target": "outbox due query: items read / items due <= 1.1",
            "value": ratio,
            "met": ratio is not None and ratio <= 1.1,
        }
    )
    digest = results["scheduled"].get("weekly_digest")
    if digest:
        reads = [run["items_read"] for run in digest["per_digest"]]
        found.append(
            {
                "target": "weekly digest: items read constant as cases grow 10x",
                "value": " -> ".join(map(str, reads)),
                "met": digest["constant"],
            }
        )
    sla = results["scheduled"].get("sla_escalation")
    if sla:
        ratio = sla["due_query"]["items_read_per_item_due"]
        found.append(
            {
                "target": "SLA escalation due query: items read / items due <= 1.1",
                "value": ratio,
                "met": ratio is not None and ratio <= 1.1,
            }
        )
    limit = 600 if results["size"] == "full" else 60
    found.append(
        {
            "target": f"whole run < {limit} s",
            "value": results["duration_s"],
            "met": results["duration_s"] < limit,
        }
    )
    return found


_SHORT = {
    "TransactWriteItems": "TxWrite",
    "BatchGetItem": "BatchGet",
    "GetItem": "Get",
    "UpdateItem": "Update",
    "PutItem": "Put",
}


def _short(shape: str) -> str:
    for long, short in _SHORT.items():
        shape = shape.replace(long, short)
    return shape


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "-" * len(line)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return out


def _latency_lines(lat: dict[str, Any]) -> list[str]:
    out = [
        "2. Ack latency through the HTTP interface (chalice.test.Client, in process) vs a bare "
        "TransactWriteItems of the same items (ms)",
    ]
    rows = [
        [
            r["event"],
            r["samples"],
            "/".join(_fmt(r["app_ms"][p]) for p in ("p50", "p95", "p99")),
            _fmt(r["app_in_dynamodb_calls_ms"]["p50"]),
            "/".join(_fmt(r["baseline_ms"][p]) for p in ("p50", "p95", "p99")),
            "/".join(_fmt(r["ratio"][p]) for p in ("p50", "p95", "p99")),
        ]
        for r in [*lat["rows"], lat["overall"]]
    ]
    out += _table(
        ["event", "n", "app p50/p95/p99", "in DynamoDB p50", "baseline p50/p95/p99", "ratio"],
        rows,
    )
    out.append(
        f"   share of app time spent inside DynamoDB calls: "
        f"{lat['overall']['dynamodb_share_of_app_time']}; p50 per call: "
        + ", ".join(
            f"{_short(name)} {figures['p50']}" for name, figures in lat["app_calls_ms"].items()
        )
    )
    return out


def render_latency(results: dict[str, Any]) -> str:
    """The table of a `--only latency` run: figure 2 and its target."""
    m = results["machine"]
    ratio = results["latency"]["overall"]["ratio"]["p50"]
    return "\n".join(
        [
            f"Aftercare benchmarks: latency only, size {results['size']}, "
            f"{results['timestamp']}, {results['duration_s']} s",
            f"{m['dynamodb']} | Python {m['python']} | {m['cpu_count']} x {m['cpu']}",
            "",
            *_latency_lines(results["latency"]),
            "",
            f"ack latency p50 app/baseline <= 2: {ratio} ({'met' if ratio <= 2 else 'NOT met'})",
        ]
    )


def render(results: dict[str, Any]) -> str:
    """The human-readable table of a run."""
    m = results["machine"]
    out = [
        f"Aftercare benchmarks: size {results['size']}, {results['timestamp']}, "
        f"{results['duration_s']} s",
        f"{m['dynamodb']} | Python {m['python']} | {m['cpu_count']} x {m['cpu']} | "
        f"{m['memory_gb']} GB",
        "",
        f"1. DynamoDB calls per webhook (median of {results['round_trips']['samples']} "
        "deliveries each; capacity units as DynamoDB Local reports them)",
    ]
    rows = []
    notes = []
    for r in results["round_trips"]["rows"]:
        if not r.get("implemented"):
            rows.append([r["event"], r["status"], "", "", "", "", "", ""])
            continue
        met = {True: "yes", False: "NO", None: "n/a"}[r["target_met"]]
        rows.append(
            [
                r["event"],
                r["status"],
                r["read_rounds"],
                f"{r['write_rounds']}" + (" tx" if r["transactional_writes"] else ""),
                f"{r['items_read']}/{r['items_written']}",
                f"{r['read_capacity']}/{r['write_capacity']}",
                _short(r["calls"]),
                met,
            ]
        )
        notes += [f"   {r['event']}: {flag}" for flag in r["flags"]]
    out += _table(
        ["event", "outcome", "reads", "writes", "items r/w", "RCU/WCU", "calls", "1R+1W"], rows
    )
    if notes:
        out += ["", "   not met:", *sorted(set(notes))]
    out += ["", *_latency_lines(results["latency"])]
    t = results["throughput"]
    out += [
        "",
        f"3. Throughput, one sequential client: {t['events']} signed events "
        f"({', '.join(f'{k} {v}' for k, v in t['mix'].items())}), non-200: {t['non_200']}",
        f"   app {t['app_events_per_s']} events/s; baseline {t['baseline_ops_per_s']} ops/s; "
        f"ratio {t['ratio']}",
    ]
    s = results["scheduled"]
    out += [
        "",
        f"4. Scheduled cost: {s['stored_items']} items stored ({s['deferred_items_in_index']} "
        f"deferred to tomorrow), {s['items_due']} due; loaded in {s['load_seconds']} s",
    ]
    rows = [
        [
            f"outbox due query, limit {q['limit']}",
            q["items_returned"],
            q["index_entries_read"],
            q["table_items_read"],
            q["items_read_per_item_returned"],
            q["read_capacity"],
            q["round_trips"],
            q["ms"],
        ]
        for q in s["outbox_due_query"]
    ]
    out += _table(
        ["job", "returned", "index read", "items read", "read/returned", "RCU", "calls", "ms"],
        rows,
    )
    digest = s.get("weekly_digest")
    if digest:
        idle = digest["idle_run"]
        out.append(
            f"   weekly digest job, idle run over all of that: {idle['items_read']} items read "
            f"({_short(idle['calls']) or 'no calls'})"
        )
        for run in digest["per_digest"]:
            out.append(
                f"   weekly digest job, one digest, merchant with {run['cases']} cases: "
                f"{run['items_read']} items read, {run['items_written']} written, "
                f"{run['round_trips']} calls ({_short(run['calls'])}) {run['results']}"
            )
        out.append(f"   digest reads constant as cases grow 10x: {digest['constant']}")
    sla = s.get("sla_escalation")
    if sla:
        find, run = sla["due_query"], sla["run"]
        out.append(
            f"   SLA escalation, {sla['items_due']} cases due among {sla['cases_on_index']} on "
            f"its index: finding them reads {find['index_entries_read']} index entries + "
            f"{find['table_items_read']} items ({find['items_read_per_item_due']} per item due, "
            f"{find['round_trips']} round trips, {find['ms']} ms); the whole run reads "
            f"{run['items_read']} items ({run['items_read_per_item_due']} per item due), writes "
            f"{run['items_written']}, {run['round_trips']} round trips, {run['ms']} ms"
        )
    out += [f"   {job}: {state}" for job, state in s["other_jobs"].items() if state != "measured"]
    c = results["cold_start"]
    imports, package = c["imports"], c["package"]
    out += [
        "",
        f"5. Cold start (python -X importtime, median of {imports['runs']} fresh interpreters)",
        f"   import app {imports['app']['import_ms']} ms, import boto3 "
        f"{imports['boto3']['import_ms']} ms: ratio {imports['ratio_app_to_boto3']}",
    ]
    if "app_from_package_no_pyc" in imports:
        packaged = imports["app_from_package_no_pyc"]
        out.append(
            f"   import app from the bare chalice zip, no .pyc (compiled at cold start): "
            f"{packaged['import_ms']} ms: ratio {imports['ratio_packaged_app_to_boto3']}"
        )
    if "app_from_package_pyc" in imports:
        compiled = imports["app_from_package_pyc"]
        out.append(
            f"   import app from the zip with bytecode added (scripts/package.sh): "
            f"{compiled['import_ms']} ms: ratio {imports['ratio_precompiled_app_to_boto3']}"
        )
    out.append(
        "   slowest packages (own time): "
        + ", ".join(f"{p['package']} {p['ms']}" for p in imports["app"]["slowest_packages"])
    )
    if "zip_mb" in package:
        out.append(
            f"   chalice package: {package['zip_mb']} MB zip, {package['unzipped_mb']} MB "
            f"unzipped, {package['files']} files, {package['pyc_files']} .pyc; largest: "
            + ", ".join(f"{e['entry']} {e['unzipped_mb']}" for e in package["largest"][:5])
        )
        if package["missing_dependencies"]:
            out.append(
                "   chalice package could NOT install (the zip lacks them): "
                + ", ".join(package["missing_dependencies"])
            )
    else:
        out.append(f"   chalice package: {package['status']}")
    out += ["", "Targets"]
    out += _table(
        ["target", "value", "met"],
        [[t["target"], t["value"], "yes" if t["met"] else "NO"] for t in results["targets"]],
    )
    return "\n".join(out)


def write(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
