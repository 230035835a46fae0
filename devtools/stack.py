"""The embedded stack: DynamoDB Local and a moto server on loopback, plus the app's table.

Used by the run command, the integration tests and the benchmarks alike. `env()` gives the
environment variables that point the app at it. Without Java, DynamoDB is served by the
moto server instead, with a warning (moto's transactions slow down as data grows).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

from devtools.emulator import DynamoDBLocal, java_available, wait_for_http
from devtools.tables import create_table

__all__ = ["LocalStack", "free_port", "FAKE_AWS_ENV"]

# Obviously fake credentials (DynamoDB Local wants letters and digits only).
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "fakeLocalAccessKey",
    "AWS_SECRET_ACCESS_KEY": "fakeLocalSecretKey",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStack:
    """DynamoDB Local (or moto as fallback) + moto server for SNS/SES, on free loopback ports.

    `moto_in_thread=True` runs moto's server in this process (tests read what it recorded,
    such as SMS, through moto's backends); otherwise it is a child process.
    """

    def __init__(
        self,
        table_name: str = "aftercare",
        data_dir: Path | None = None,
        moto_in_thread: bool = False,
        moto_port: int | None = None,
        dynamodb_port: int | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.table_name = table_name
        self.data_dir = data_dir
        self.moto_in_thread = moto_in_thread
        self.moto_port = moto_port or free_port()
        self.dynamodb_port = dynamodb_port or free_port()
        self.log_dir = log_dir
        self.uses_dynamodb_local = java_available()
        self._dynamodb: DynamoDBLocal | None = None
        self._moto: Any = None

    @property
    def moto_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def dynamodb_endpoint(self) -> str:
        if self.uses_dynamodb_local:
            return f"http://127.0.0.1:{self.dynamodb_port}"
        return self.moto_endpoint

    def start(self) -> LocalStack:
        self._start_moto()
        if self.uses_dynamodb_local:
            log_path = self.log_dir / "dynamodb-local.log" if self.log_dir else None
            db_path = self.data_dir / "dynamodb" if self.data_dir else None
            self._dynamodb = DynamoDBLocal(self.dynamodb_port, db_path, log_path).start()
        else:
            warnings.warn(
                "Java not found: serving DynamoDB from moto server instead of DynamoDB Local "
                "(install a JRE 17+ for the real emulator)",
                stacklevel=2,
            )
        create_table(self.dynamodb_client(), self.table_name)
        return self

    def _start_moto(self) -> None:
        if self.moto_in_thread:
            from moto.server import ThreadedMotoServer

            self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port)
            self._moto.start()
        else:
            log = open(self.log_dir / "moto.log", "ab") if self.log_dir else subprocess.DEVNULL  # noqa: SIM115
            self._moto = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.moto_port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_http(self.moto_endpoint + "/moto-api/")

    def stop(self) -> None:
        if self._dynamodb is not None:
            self._dynamodb.stop()
        if self._moto is not None:
            if self.moto_in_thread:
                self._moto.stop()
            else:
                self._moto.terminate()
                self._moto.wait(timeout=10)
        self._moto = self._dynamodb = None

    def env(self) -> dict[str, str]:
        """Environment variables that point the app at this stack."""
        return {
            **FAKE_AWS_ENV,
            "AFTERCARE_TABLE": self.table_name,
            "AFTERCARE_DYNAMODB_ENDPOINT": self.dynamodb_endpoint,
            "AFTERCARE_AWS_ENDPOINT": self.moto_endpoint,
        }

    def dynamodb_client(self) -> Any:
        import boto3

        return boto3.client(
            "dynamodb",
            endpoint_url=self.dynamodb_endpoint,
            region_name=FAKE_AWS_ENV["AWS_DEFAULT_REGION"],
            aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        )
