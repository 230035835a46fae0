"""Entry point of `scripts/dev.py` inside the venv: `run` the product locally, `test`, `bench`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from devtools.stack import LocalStack, free_port

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
APP_PORT = 8000
TICK_SECONDS = 2.0


def _port(preferred: int) -> int:
    """`preferred` when free, else any free port (a second local run must not clash)."""
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


def _banner(stack: LocalStack, sms_log: Path) -> str:
    from devtools.console_seed import AGENT_KEY
    from devtools.seed import SAMPLE

    url = f"http://127.0.0.1:{APP_PORT}"
    return f"""
Aftercare is running locally.
  App:            {url}   (try: curl -s {url}/api/cases -H 'Authorization: Bearer {SAMPLE["api_key"]}')
  DynamoDB:       {stack.dynamodb_endpoint} ({"DynamoDB Local" if stack.uses_dynamodb_local else "moto"}, data in {LOCAL / "dynamodb"})
  SNS/SES (moto): {stack.moto_endpoint}
  Sent SMS/email: {sms_log}   (also GET /api/notifications)
  Logs:           {LOCAL}/app.log (HTTP app); schedules and outbox log here
Sample merchant (fake, local-only secrets):
  merchant id    {SAMPLE["merchant_id"]}
  shop domain    {SAMPLE["shop_domain"]}
  API key        {SAMPLE["api_key"]}
  Shopify secret {SAMPLE["shopify_secret"]}
  EasyPost secret {SAMPLE["easypost_secret"]}
Merchant console: http://localhost:{APP_PORT}/console
  sign in with    {SAMPLE["api_key"]}   (admin; agent key: {AGENT_KEY})
Return portal:   {url}/r/{SAMPLE["portal_slug"]}
  order #1001 with demo@example.com (English), #1002 with +1 415 555 0199 (Chinese)
The README's "Try it" section has curl commands for the whole slice. Ctrl-C stops everything.
"""


def _runner(stop: threading.Event) -> None:
    """Drain the outbox and fire every scheduled function, like AWS would, every tick."""
    import logging

    from chalice.app import ScheduledEventConfig

    import app as app_module

    log = logging.getLogger("aftercare.runner")
    schedules = [
        source.handler_string.rsplit(".", 1)[1]
        for source in app_module.app.event_sources
        if isinstance(source, ScheduledEventConfig)
    ]
    while not stop.is_set():
        event = {  # the shape EventBridge hands a scheduled Lambda
            "version": "0",
            "id": "local-runner",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "000000000000",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "us-east-1",
            "resources": [],
            "detail": {},
        }
        for name in schedules:
            try:
                getattr(app_module, name)(event, None)
            except Exception:  # keep the runner alive; a broken schedule is logged, not fatal
                log.exception("schedule %s failed", name)
        stop.wait(TICK_SECONDS)


def run() -> int:
    """Start the embedded stack, seed the sample merchant, serve the app, run schedules."""
    from devtools.seed import SAMPLE, seed_sample_merchant

    LOCAL.mkdir(exist_ok=True)
    sms_log = LOCAL / "sms.log"
    stack = LocalStack(
        table_name="aftercare",
        data_dir=LOCAL,
        dynamodb_port=_port(8001),
        moto_port=_port(5001),
        log_dir=LOCAL,
    )
    stack.start()
    env = {
        **stack.env(),
        "AFTERCARE_SHOPIFY_API_SECRETS": SAMPLE["shopify_secret"],
        "AFTERCARE_SMS_LOG": str(sms_log),
        "AFTERCARE_PHOTOS_DIR": str(LOCAL / "photos"),  # return portal photos (issue 11)
        "AFTERCARE_PUBLIC_URL": f"http://127.0.0.1:{APP_PORT}",
    }
    os.environ.update(env)
    from chalicelib.deps import deps

    seed_sample_merchant(deps().store)
    from devtools.console_seed import refresh_sample_times, seed_console_sample

    if not seed_console_sample(deps().store, SAMPLE["merchant_id"], deps().now()):
        refresh_sample_times(deps().store, SAMPLE["merchant_id"], deps().now())  # due times
    app_log = open(LOCAL / "app.log", "ab")  # noqa: SIM115
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "chalice"),
            "local",
            "--port",
            str(APP_PORT),
            "--stage",
            "dev",
            "--no-autoreload",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=app_log,
        stderr=subprocess.STDOUT,
    )
    stop = threading.Event()
    runner = threading.Thread(target=_runner, args=(stop,), daemon=True)
    runner.start()
    print(_banner(stack, sms_log), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set() and server.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is not None:
            print(f"The app server stopped (exit {server.returncode}); see {LOCAL / 'app.log'}")
        stop.set()
        server.terminate()
        server.wait(timeout=10)
        stack.stop()
    return 0


def main() -> None:
    command, args = sys.argv[1], sys.argv[2:]
    if command == "run":
        sys.exit(run())
    if command == "test":
        import pytest

        sys.exit(pytest.main(args))
    if command == "bench":
        os.execv(sys.executable, [sys.executable, "-m", "bench", *args])
    if command == "package":  # chalice package + infra merge + cfn-lint (scripts/package.sh)
        script = str(Path(__file__).resolve().parent.parent / "scripts" / "package.sh")
        os.execv("/bin/bash", ["bash", script, *args])
    sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
