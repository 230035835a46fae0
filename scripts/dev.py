#!/usr/bin/env python3
"""The two commands of the README, on a fresh machine with only Python 3.11+:

    python3 scripts/dev.py run    # the product locally on its embedded stack
    python3 scripts/dev.py test   # the whole test suite (what CI runs)

and `bench` (bench/README.md) and `package [stage] [outdir]` (scripts/package.sh: the
CloudFormation template, linted with cfn-lint; docs/deploy.md).

Each first makes `.venv` and installs `requirements-dev.txt` (again only when it changed),
then hands over to `devtools.cli` inside that environment. Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"
REQUIREMENTS = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]


def requirements_digest() -> str:
    digest = hashlib.sha256()
    for path in REQUIREMENTS:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (this file must run on older Pythons to say so)
        sys.exit(f"Python 3.11+ is needed; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = requirements_digest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing requirements-dev.txt into .venv ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(ROOT / "requirements-dev.txt")], check=True)
    STAMP.write_text(wanted)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "bench", "package"}:
        sys.exit("usage: python3 scripts/dev.py run|test|bench|package [args...]")
    ensure_environment()
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), "-m", "devtools.cli", *sys.argv[1:]])


if __name__ == "__main__":
    main()
