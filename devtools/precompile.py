"""Add bytecode to a Chalice deployment zip, so a Lambda cold start does not compile sources.

Chalice's zip ships `.py` files only. Lambda's code directory is read-only, so on every cold
start Python compiles each module it imports from source and throws the result away (the
benchmark measures `import app` at about 3x slower from the bare zip than with bytecode).
This adds `__pycache__/<name>.cpython-XY.pyc` next to each module, compiled with
`--invalidation-mode unchecked-hash`: the interpreter uses it without comparing source
timestamps (zip extraction does not keep them reliably) and the sources stay for tracebacks.

Only the interpreter that runs this can compile, so it must be the runtime's version (the
template's `Runtime`, python3.11): a mismatch is refused. Left out, to stay well under
Lambda's 250 MB unzipped limit: the digest charts' libraries, which only the weekly digest
job imports, and phonenumbers' geocoder and carrier data, which the app never imports.

    python -m devtools.precompile build/prod/deployment.zip [--runtime python3.11]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import py_compile
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SKIP", "precompile", "pyc_name"]

# Top-level entries (or path prefixes) not compiled: heavy, and off the request path.
SKIP = (
    "numpy/",
    "matplotlib/",
    "mpl_toolkits/",
    "fontTools/",
    "PIL/",
    "contourpy/",
    "kiwisolver/",
    "pyparsing/",
    "cycler/",
    "pylab.py",
    "phonenumbers/geodata/",
    "phonenumbers/carrierdata/",
)
LAMBDA_ROOT = "/var/task"


def pyc_name(source: str, tag: str | None = None) -> str:
    """Where the interpreter looks for `source`'s bytecode inside the package."""
    return importlib.util.cache_from_source(source).replace(
        sys.implementation.cache_tag, tag or sys.implementation.cache_tag
    )


def _wanted(names: Iterable[str], skip: tuple[str, ...]) -> list[str]:
    present = set(names)
    return sorted(
        name
        for name in present
        if name.endswith(".py")
        and not name.startswith(skip)
        and ".dist-info/" not in name
        and pyc_name(name) not in present
    )


def precompile(archive: Path, runtime: str = "python3.11", skip: tuple[str, ...] = SKIP) -> dict:
    """Append bytecode for the modules of `archive` (in place); returns counts and sizes."""
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != here:
        raise SystemExit(f"the runtime is {runtime} but this is {here}: compile with {runtime}")
    with zipfile.ZipFile(archive) as zipped:
        sources = _wanted(zipped.namelist(), skip)
        before = sum(entry.file_size for entry in zipped.infolist())
    added = 0
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as work, zipfile.ZipFile(archive, "a") as zipped:
        for name in sources:
            source = Path(work, "src.py")
            source.write_bytes(zipped.read(name))
            target = Path(work, "out.pyc")
            try:
                py_compile.compile(
                    str(source),
                    cfile=str(target),
                    dfile=f"{LAMBDA_ROOT}/{name}",
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError:  # e.g. a test fixture with Python 2 syntax
                failed.append(name)
                continue
            info = zipfile.ZipInfo(pyc_name(name), date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zipped.writestr(info, target.read_bytes())
            added += 1
    with zipfile.ZipFile(archive) as zipped:
        after = sum(entry.file_size for entry in zipped.infolist())
    return {
        "pyc_added": added,
        "not_compiled": failed,
        "unzipped_mb_before": round(before / 1e6, 2),
        "unzipped_mb_after": round(after / 1e6, 2),
        "zip_mb": round(os.path.getsize(archive) / 1e6, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--runtime", default="python3.11")
    args = parser.parse_args(argv)
    result = precompile(args.archive, args.runtime)
    print(
        f"precompiled {result['pyc_added']} modules into {args.archive}: "
        f"{result['unzipped_mb_before']} -> {result['unzipped_mb_after']} MB unzipped, "
        f"{result['zip_mb']} MB zipped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
