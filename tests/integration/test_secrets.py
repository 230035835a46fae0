"""Secrets from SSM Parameter Store (moto server): read decrypted, cached for the TTL, refreshed
after it, stale-but-served through an SSM failure, refused as plain values on prod, never
logged or answered; and a Shopify app-secret rotation where the previous secret keeps
working for its grace window."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.secrets import STALE_GRACE, SecretStore, SecretUnavailable, ssm_client
from tests.conftest import FIXED_NOW
from tests.signing import shopify_headers
from tests.support import load_fixture

TTL = timedelta(minutes=5)
OLD = "shpss_fake_rotation_old_do_not_use"
NEW = "shpss_fake_rotation_new_do_not_use"


class CountingSsm:
    """The real SSM client (moto server), counting `get_parameter` calls."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.reads = 0

    def get_parameter(self, **kwargs: Any) -> Any:
        self.reads += 1
        return self._client.get_parameter(**kwargs)


class Clock:
    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture()
def ssm(stack) -> Any:
    return ssm_client("us-east-1", stack.moto_endpoint)


@pytest.fixture()
def put(ssm) -> Callable[[str, str], None]:
    def put(name: str, value: str) -> None:
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)

    return put


@pytest.fixture()
def name() -> str:
    return f"/aftercare/test/{uuid.uuid4().hex[:10]}/shopify/app-secrets"


def store(ssm: Any, clock: Clock, plain_allowed: bool = True) -> tuple[SecretStore, CountingSsm]:
    counting = CountingSsm(ssm)
    secrets = SecretStore(lambda: counting, ttl=TTL, clock=clock, plain_allowed=plain_allowed)
    return secrets, counting


def test_a_securestring_is_read_decrypted(ssm, put, name):
    put(name, OLD)
    secrets, _ = store(ssm, Clock())
    assert secrets.parameter(name) == OLD
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] != OLD  # stored encrypted


def test_cached_within_the_ttl_and_refreshed_after_it(ssm, put, name):
    put(name, OLD)
    clock = Clock()
    secrets, counting = store(ssm, clock)
    assert secrets.parameter(name) == OLD
    put(name, NEW)
    clock.advance(TTL - timedelta(seconds=1))
    assert [secrets.parameter(name) for _ in range(5)] == [OLD] * 5
    assert counting.reads == 1
    clock.advance(timedelta(seconds=1))
    assert secrets.parameter(name) == NEW
    assert counting.reads == 2


def test_a_failed_refresh_serves_the_stale_value_briefly(ssm, put, name):
    put(name, OLD)
    clock = Clock()
    secrets, counting = store(ssm, clock)
    secrets.parameter(name)
    ssm.delete_parameter(Name=name)
    clock.advance(TTL)
    assert secrets.parameter(name) == OLD  # refresh failed: stale, and retried soon
    clock.advance(STALE_GRACE - timedelta(seconds=1))
    assert secrets.parameter(name) == OLD
    assert counting.reads == 2
    clock.advance(timedelta(seconds=1))
    assert secrets.parameter(name) == OLD
    assert counting.reads == 3


def test_a_missing_parameter_names_the_parameter_not_a_value(ssm, name):
    secrets, _ = store(ssm, Clock())
    with pytest.raises(SecretUnavailable, match="ParameterNotFound") as failure:
        secrets.resolve([f"ssm:{name}"])
    assert name in str(failure.value)


def test_entries_resolve_current_first_and_plain_values_are_refused_on_prod(ssm, put, name):
    put(name, f"{NEW}, {OLD}")
    secrets, _ = store(ssm, Clock())
    assert secrets.resolve([f"ssm:{name}", "local-literal"]) == (NEW, OLD, "local-literal")
    prod, _ = store(ssm, Clock(), plain_allowed=False)
    assert prod.resolve([f"ssm:{name}"]) == (NEW, OLD)
    with pytest.raises(SecretUnavailable) as refused:
        prod.resolve(["shpss_plain_value_in_env"])
    assert "shpss_plain_value_in_env" not in str(refused.value)
    assert "shpss" not in repr(prod)


# --- through the Shopify webhook route -------------------------------------------------------


def post_order(client: Any, shop: str, secret: str) -> Any:
    body = load_fixture("shopify", "orders_create.json")
    headers = shopify_headers(body, "orders/create", shop=shop, secret=secret)
    headers["x-shopify-webhook-id"] = str(uuid.uuid4())
    return client.http.post("/webhooks/shopify", headers=headers, body=body)


@pytest.fixture()
def rotating(monkeypatch, put, name) -> Clock:
    """The app reads its Shopify secrets from SSM parameter `name`; the clock is controllable."""
    from chalicelib.deps import set_clock

    monkeypatch.setenv("AFTERCARE_SHOPIFY_API_SECRETS", f"ssm:{name}")
    clock = Clock()
    set_clock(clock)
    return clock


def test_rotation_accepts_the_previous_secret_until_it_is_removed(
    client, merchant, rotating, put, name, caplog
):
    put(name, OLD)
    assert post_order(client, merchant.shop_domain, OLD).status_code == 200
    assert post_order(client, merchant.shop_domain, NEW).status_code == 401

    # Step 1 of Shopify's rotation: the new secret is created; webhooks may carry either.
    put(name, f"{NEW},{OLD}")
    rotating.advance(TTL)
    assert post_order(client, merchant.shop_domain, OLD).status_code == 200
    assert post_order(client, merchant.shop_domain, NEW).status_code == 200

    # The old secret is revoked in Shopify and removed here: the grace window is over.
    put(name, NEW)
    rotating.advance(TTL)
    refused = post_order(client, merchant.shop_domain, OLD)
    assert refused.status_code == 401
    assert post_order(client, merchant.shop_domain, NEW).status_code == 200

    for secret in (OLD, NEW):
        assert secret not in caplog.text
        assert secret not in refused.body.decode()


def test_an_unreadable_secret_is_a_500_partners_retry_not_a_401(client, merchant, rotating):
    response = post_order(client, merchant.shop_domain, OLD)  # parameter never created
    assert response.status_code == 500
    assert response.json_body == {"error": "internal_error", "detail": ""}
