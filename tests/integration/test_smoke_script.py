"""`scripts/smoke.py`, the after-deploy smoke check, run over real HTTP against the app served
by Chalice's local server (in a thread, on DynamoDB Local): passes on a healthy app, and each
check fails, with a useful reason, when what it guards is broken."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.stack import free_port
from tests.signing import FAKE_SHOPIFY_SECRET

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("smoke", ROOT / "scripts" / "smoke.py")
assert spec and spec.loader
smoke = sys.modules["smoke"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(smoke)


@pytest.fixture()
def url(app_deps) -> Iterator[str]:
    """The app on a loopback port, served by `chalice local`'s HTTP server (stage dev)."""
    from chalice.cli.factory import CLIFactory
    from chalice.local import LocalDevServer

    import app as app_module

    config = CLIFactory(str(ROOT)).create_config_obj(chalice_stage_name="dev")
    port = free_port()
    # Not `create_local_server`: it swaps the app object's class for the whole session.
    server = LocalDevServer(app_module.app, config, "127.0.0.1", port)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=10)


def test_a_healthy_app_passes_every_check(url, merchant, monkeypatch, capsys):
    monkeypatch.setenv(smoke.SECRET_ENV, f"{FAKE_SHOPIFY_SECRET},an-older-secret")

    status = smoke.main(["--url", url, "--api-key", merchant.api_key])

    out = capsys.readouterr().out
    assert status == 0, out
    assert "5/5 checks passed" in out
    assert FAKE_SHOPIFY_SECRET not in out


def test_a_wrong_secret_fails_the_signed_check_and_says_why(url, monkeypatch, capsys):
    monkeypatch.setenv(smoke.SECRET_ENV, "not-the-deployed-secret")

    status = smoke.main(["--url", url, "--json"])

    results = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert status == 1
    signed = results["signed webhook accepted"]
    assert not signed["passed"] and "not the one given here" in signed["detail"]
    assert results["unsigned webhook refused"]["passed"]
    assert results["API refuses a request without a key"]["passed"]


def test_a_server_error_points_at_the_secret_and_a_dead_url_fails_cleanly():
    broken = smoke.run_checks(lambda *_: smoke.Answer(500, '{"error":"x"}'), "s")
    assert not broken[0].passed and "SSM secret" in broken[0].detail

    dead = smoke.run_checks(smoke.http_sender(f"http://127.0.0.1:{free_port()}", 2.0), "s")
    assert [(r.name, r.passed) for r in dead] == [("connection", False)]


def test_no_secret_is_a_clear_exit(monkeypatch):
    monkeypatch.delenv(smoke.SECRET_ENV, raising=False)
    with pytest.raises(SystemExit, match="no Shopify app secret"):
        smoke.main(["--url", "http://127.0.0.1:9"])
