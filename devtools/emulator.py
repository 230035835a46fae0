"""AWS's own DynamoDB Local, taken from the npm package that bundles it, checked and cached.

`ensure_emulator()` fetches `amplify-dynamodb-simulator@2.9.30` with `npm pack` once, checks
the tarball's SHA-256, and extracts its `emulator/` folder under `.cache/` (git-ignored).
`DynamoDBLocal` starts it on a loopback port, in memory or on disk.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import requests

__all__ = ["ensure_emulator", "DynamoDBLocal", "java_available", "wait_for_http"]

PACKAGE = "amplify-dynamodb-simulator@2.9.30"
TARBALL_SHA256 = "3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "dynamodb-local-2.9.30"


def java_available() -> bool:
    return shutil.which("java") is not None


def ensure_emulator(cache: Path = CACHE) -> Path:
    """The folder holding DynamoDBLocal.jar, fetched and verified on first use.

    Raises RuntimeError when npm is missing or the tarball's checksum is wrong.
    """
    jar = cache / "DynamoDBLocal.jar"
    if jar.exists():
        return cache
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch DynamoDB Local (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", PACKAGE, "--pack-destination", tmp, "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarball = next(Path(tmp).glob("*.tgz"))
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if digest != TARBALL_SHA256:
            raise RuntimeError(f"{PACKAGE} checksum mismatch: {digest}")
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith("package/emulator/")]
            archive.extractall(tmp, members=members, filter="data")
        staging = cache.with_suffix(".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(Path(tmp) / "package" / "emulator", staging)
        staging.rename(cache)
    return cache


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    """Poll `url` until anything answers; raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise TimeoutError(f"nothing answered at {url} within {timeout:.0f} s")


class DynamoDBLocal:
    """A DynamoDB Local process on 127.0.0.1:`port`; `db_path=None` keeps data in memory."""

    def __init__(self, port: int, db_path: Path | None = None, log_path: Path | None = None):
        self.port = port
        self.db_path = db_path
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DynamoDBLocal:
        home = ensure_emulator()
        storage = ["-inMemory"]
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
            storage = ["-dbPath", str(self.db_path)]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                "java",
                "-Xmx1g",
                "-Djava.library.path=DynamoDBLocal_lib",
                "-jar",
                "DynamoDBLocal.jar",
                "-port",
                str(self.port),
                "-disableTelemetry",
                *storage,
            ],
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_http(self.endpoint)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None
