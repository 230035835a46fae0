#!/usr/bin/env python3
"""Smoke check of a deployed Aftercare (docs/deploy.md section 7), over real HTTP.

    python3 scripts/smoke.py --url https://<api-id>.execute-api.<region>.amazonaws.com/api \\
        --ssm-parameter /aftercare/prod/shopify/app-secrets [--api-key <merchant API key>]

Sends a few harmless requests and says, per check, what the answer proves:

1. an unsigned Shopify webhook is refused with 401 (route up, function starts, the app secret
   is readable: a 5xx here usually means the function cannot read the SSM parameter);
2. a webhook signed with a wrong secret is refused with 401 (verification is on);
3. a signed `shop/redact` for a shop that is not installed (`--shop`, default
   `aftercare-smoke-check.myshopify.com`) is accepted with "nothing stored for this shop":
   the deployed secret is the one you hold, and nothing is written;
4. the merchant API refuses a request without a key (401/403);
5. with `--api-key`: the API answers `GET /api/notifications` for that merchant (200).

The Shopify app secret comes from `--ssm-parameter` (SecureString, read with boto3 and the
usual AWS credentials; the first of its comma-separated values) or the environment variable
named by `--secret-env` (default `AFTERCARE_SMOKE_SHOPIFY_SECRET`). It is never printed.
Exit status 0 when every check passed, 1 otherwise. Standard library only (boto3 only for SSM).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass

DEFAULT_SHOP = "aftercare-smoke-check.myshopify.com"
SECRET_ENV = "AFTERCARE_SMOKE_SHOPIFY_SECRET"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: str

    def json(self) -> dict[str, object]:
        try:
            value = json.loads(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Result:
    name: str
    passed: bool
    detail: str


Send = Callable[[str, str, Mapping[str, str], bytes | None], Answer]


def http_sender(base_url: str, timeout: float = TIMEOUT) -> Send:
    """`send(method, path, headers, body)` against `base_url` with urllib; a 4xx/5xx is an
    answer like any other, a connection failure raises `OSError`."""
    base = base_url.rstrip("/")

    def send(method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
        request = urllib.request.Request(
            base + path, data=body, headers=dict(headers), method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return Answer(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode("utf-8", "replace"))

    return send


def shopify_headers(body: bytes, topic: str, shop: str, secret: str) -> dict[str, str]:
    """Headers of a Shopify webhook delivery of `body`, signed like Shopify signs them."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": f"aftercare-smoke-{int(time.time() * 1000)}",
        "X-Shopify-Triggered-At": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _redact_body(shop: str) -> bytes:
    return json.dumps({"shop_id": 1, "shop_domain": shop}, separators=(",", ":")).encode()


def _seen(answer: Answer) -> str:
    text = answer.body.strip().replace("\n", " ")
    return f"HTTP {answer.status}: {text[:160]}"


def check_unsigned_refused(send: Send, shop: str) -> Result:
    body = _redact_body(shop)
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "shop/redact"}
    answer = send("POST", "/webhooks/shopify", headers, body)
    if answer.status == 401:
        return Result("unsigned webhook refused", True, "401: route up, secret readable")
    hint = (
        " (5xx: can the function read its SSM secret? see its log)" if answer.status >= 500 else ""
    )
    return Result("unsigned webhook refused", False, f"expected 401, got {_seen(answer)}{hint}")


def check_wrong_secret_refused(send: Send, shop: str) -> Result:
    body = _redact_body(shop)
    headers = shopify_headers(body, "shop/redact", shop, "aftercare-smoke-not-the-secret")
    answer = send("POST", "/webhooks/shopify", headers, body)
    passed = answer.status == 401
    detail = "401: signatures are verified" if passed else f"expected 401, got {_seen(answer)}"
    return Result("wrong signature refused", passed, detail)


def check_signed_accepted(send: Send, shop: str, secret: str) -> Result:
    body = _redact_body(shop)
    answer = send(
        "POST", "/webhooks/shopify", shopify_headers(body, "shop/redact", shop, secret), body
    )
    detail = str(answer.json().get("detail", ""))
    if answer.status == 200 and detail == "nothing stored for this shop":
        return Result("signed webhook accepted", True, "200: the deployed secret matches yours")
    if answer.status == 401:
        why = "401: the deployed Shopify app secret is not the one given here"
        return Result("signed webhook accepted", False, why)
    if answer.status == 200:
        why = f"200 but '{detail}': is {shop} an installed shop? use --shop with an unused one"
        return Result("signed webhook accepted", False, why)
    return Result("signed webhook accepted", False, f"expected 200, got {_seen(answer)}")


def check_api_needs_key(send: Send) -> Result:
    answer = send("GET", "/api/notifications", {}, None)
    passed = answer.status in (401, 403)
    detail = (
        f"{answer.status}: no key, no data" if passed else f"expected 401/403, got {_seen(answer)}"
    )
    return Result("API refuses a request without a key", passed, detail)


def check_api_with_key(send: Send, api_key: str) -> Result:
    answer = send("GET", "/api/notifications", {"Authorization": f"Bearer {api_key}"}, None)
    passed = answer.status == 200 and isinstance(answer.json().get("items"), list)
    detail = (
        f"200: {len(answer.json()['items'])} notification(s) on the first page"
        if passed
        else f"expected 200 with items, got {_seen(answer)}"
    )
    return Result("API answers with a merchant key", passed, detail)


def run_checks(
    send: Send, secret: str, shop: str = DEFAULT_SHOP, api_key: str | None = None
) -> list[Result]:
    """Every check, in order; a connection failure is a failed check, not a crash."""
    checks: list[Callable[[], Result]] = [
        lambda: check_unsigned_refused(send, shop),
        lambda: check_wrong_secret_refused(send, shop),
        lambda: check_signed_accepted(send, shop, secret),
        lambda: check_api_needs_key(send),
    ]
    if api_key:
        checks.append(lambda: check_api_with_key(send, api_key))
    results = []
    for check in checks:
        try:
            results.append(check())
        except OSError as error:  # DNS, refused connection, TLS, timeout
            results.append(Result("connection", False, f"{type(error).__name__}: {error}"))
            break
    return results


def read_secret(ssm_parameter: str | None, secret_env: str) -> str:
    """The current Shopify app secret: from SSM (SecureString) or the environment."""
    if ssm_parameter:
        import boto3  # only here: the rest runs on the standard library

        value = boto3.client("ssm").get_parameter(Name=ssm_parameter, WithDecryption=True)
        raw = value["Parameter"]["Value"]
    else:
        raw = os.environ.get(secret_env, "")
    secret = next((part.strip() for part in raw.split(",") if part.strip()), "")
    if not secret:
        raise SystemExit(f"no Shopify app secret: pass --ssm-parameter or set {secret_env}")
    return secret


def report(results: list[Result]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"{'ok  ' if r.passed else 'FAIL'}  {r.name:<{width}}  {r.detail}" for r in results]
    passed = sum(r.passed for r in results)
    lines.append(f"{passed}/{len(results)} checks passed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the API's base URL (stack output)")
    parser.add_argument("--ssm-parameter", help="SSM SecureString holding the app secret(s)")
    parser.add_argument("--secret-env", default=SECRET_ENV, help="env variable with the secret")
    parser.add_argument("--shop", default=DEFAULT_SHOP, help="a shop domain NOT installed")
    parser.add_argument("--api-key", help="a merchant API key, to check the API end to end")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    secret = read_secret(args.ssm_parameter, args.secret_env)
    results = run_checks(http_sender(args.url), secret, args.shop, args.api_key)
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        print(report(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
