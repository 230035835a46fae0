"""Figure 5: cold start (import time of `app` against `boto3` alone) and the deployment package.

Import times come from `python -X importtime` in fresh interpreters, alternating the
commands, median of several runs: `import app` with bytecode caches warm, `import boto3`, and,
when `chalice package` succeeded, `import app` from the unzipped deployment package with no
`.pyc` (Chalice's zip ships none, so Lambda compiles every packaged module on a cold start;
the interpreter's own standard library keeps its caches, as on Lambda), and from the same zip
with bytecode added as `scripts/package.sh` ships it (`devtools/precompile.py`). The slowest imports
are listed per top-level package (sum of their modules' own time).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness import ROOT

__all__ = ["parse_importtime", "import_times", "package"]

PRECOMPILED = "unpacked-pyc"  # beside "unpacked": the same zip with bytecode added


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """(module, level, self µs, cumulative µs) for each line of `-X importtime` output."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, cumulative, name = (part for part in ("x|" + line[12:]).split("|"))
        indent = len(name) - len(name.lstrip(" "))
        rows.append((name.strip(), (indent - 1) // 2, int(self_us), int(cumulative)))
    return rows


def _run(code: str, cwd: Path, env: dict[str, str], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *extra, "-X", "importtime", "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"`{code}` failed in {cwd}: {done.stderr[-800:]}")
    rows = parse_importtime(done.stderr)
    target = code.split()[-1]
    total = next(cum for name, level, _, cum in rows if name == target and level == 0)
    return {"total_ms": total / 1000, "wall_ms": wall * 1000, "rows": rows}


def _by_package(rows: list[tuple[str, int, int, int]], top: int = 10) -> list[dict[str, Any]]:
    """The `top` top-level packages by the own import time of all their modules."""
    spent: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    for name, _, self_us, _ in rows:
        spent[name.split(".")[0]] += self_us
        modules[name.split(".")[0]] += 1
    return [
        {"package": name, "ms": round(us / 1000, 1), "modules": modules[name]}
        for name, us in spent.most_common(top)
    ]


def _slowest_modules(rows: list[tuple[str, int, int, int]], top: int = 10) -> list[dict[str, Any]]:
    ordered = sorted(rows, key=lambda row: row[2], reverse=True)[:top]
    return [{"module": name, "self_ms": round(us / 1000, 1)} for name, _, us, _ in ordered]


def import_times(runs: int, unpacked: Path | None) -> dict[str, Any]:
    """Median import times of app and boto3 (and app from the package, without bytecode)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERCARE_", "PYTHON"))}
    variants: dict[str, tuple[str, Path, tuple[str, ...]]] = {
        "app": ("import app", ROOT, ()),
        "boto3": ("import boto3", ROOT, ()),
    }
    if unpacked is not None:
        variants["app_from_package_no_pyc"] = ("import app", unpacked, ("-B",))
        compiled = unpacked.with_name(PRECOMPILED)
        if compiled.is_dir():  # the zip as scripts/package.sh ships it, with bytecode
            variants["app_from_package_pyc"] = ("import app", compiled, ("-B",))
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for code, cwd, extra in variants.values():  # warm the OS and bytecode caches once
        _run(code, cwd, env, extra)
    for _ in range(runs):
        for name, (code, cwd, extra) in variants.items():
            results[name].append(_run(code, cwd, env, extra))
    out: dict[str, Any] = {"runs": runs}
    for name, samples in results.items():
        middle = sorted(samples, key=lambda s: s["total_ms"])[len(samples) // 2]
        out[name] = {
            "import_ms": round(statistics.median(s["total_ms"] for s in samples), 1),
            "process_wall_ms": round(statistics.median(s["wall_ms"] for s in samples), 1),
            "slowest_packages": _by_package(middle["rows"]),
            "slowest_modules": _slowest_modules(middle["rows"]),
            "modules_imported": len(middle["rows"]),
        }
    out["ratio_app_to_boto3"] = round(out["app"]["import_ms"] / out["boto3"]["import_ms"], 2)
    if unpacked is not None:
        out["ratio_packaged_app_to_boto3"] = round(
            out["app_from_package_no_pyc"]["import_ms"] / out["boto3"]["import_ms"], 2
        )
    if "app_from_package_pyc" in out:
        out["ratio_precompiled_app_to_boto3"] = round(
            out["app_from_package_pyc"]["import_ms"] / out["boto3"]["import_ms"], 2
        )
    return out


def package(workdir: Path, timeout: int) -> tuple[dict[str, Any], Path | None]:
    """`chalice package` into `workdir`: zip size and content by top-level entry.

    Returns the figures and the unzipped folder (None when packaging failed or timed out).
    """
    chalice = Path(sys.executable).with_name("chalice")
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    out = workdir / "package"
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [str(chalice), "package", "--stage", "dev", str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"timed out after {timeout} s (it downloads wheels)"}, None
    seconds = time.perf_counter() - started
    archive = out / "deployment.zip"
    if done.returncode != 0 or not archive.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"status": "failed (needs network for wheels?): " + " | ".join(tail)}, None
    with zipfile.ZipFile(archive) as zipped:
        entries = zipped.infolist()
        sizes: Counter[str] = Counter()
        for entry in entries:
            sizes[entry.filename.split("/")[0]] += entry.file_size
        unpacked = workdir / "unpacked"
        zipped.extractall(unpacked)
    precompiled = _precompiled(archive, workdir)
    log = (done.stdout + "\n" + done.stderr).splitlines()
    missing: list[str] = []
    if "Could not install dependencies:" in log:
        for line in log[log.index("Could not install dependencies:") + 1 :]:
            if not line.strip() or line.startswith("You will have to"):
                break
            missing.append(line.strip())
    figures = {
        "status": "ok" if not missing else "built, but chalice could not install some wheels",
        "missing_dependencies": missing,
        "seconds": round(seconds, 1),
        "zip_mb": round(archive.stat().st_size / 1e6, 2),
        "unzipped_mb": round(sum(e.file_size for e in entries) / 1e6, 2),
        "files": len(entries),
        "pyc_files": sum(e.filename.endswith(".pyc") for e in entries),
        "largest": [
            {"entry": name, "unzipped_mb": round(size / 1e6, 2)}
            for name, size in sizes.most_common(8)
        ],
        "precompiled": precompiled,
    }
    return figures, unpacked


def _precompiled(archive: Path, workdir: Path) -> dict[str, Any]:
    """A copy of the zip with bytecode added as `scripts/package.sh` does, unzipped beside."""
    import shutil

    from devtools.precompile import precompile

    copy = workdir / "deployment-pyc.zip"
    shutil.copyfile(archive, copy)
    try:
        stats = precompile(copy, f"python{sys.version_info.major}.{sys.version_info.minor}")
    except (SystemExit, OSError, zipfile.BadZipFile) as exc:
        return {"status": f"failed: {exc}"}
    with zipfile.ZipFile(copy) as zipped:
        zipped.extractall(workdir / PRECOMPILED)
    return {"status": "ok", **{k: v for k, v in stats.items() if k != "not_compiled"}}


def run(runs: int, packaged: tuple[dict[str, Any], Path | None] | None) -> dict[str, Any]:
    """Time the imports (also from the unzipped package when `packaged` holds one)."""
    figures, unpacked = packaged or ({"status": "skipped at this size (use --package)"}, None)
    return {"imports": import_times(runs, unpacked), "package": figures}
