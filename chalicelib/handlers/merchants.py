"""Merchant use cases: create a merchant with its API key (install flows and local seeding).

A new merchant is enrolled for the weekly digest in the same transaction (its schedule item).
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.api import hash_api_key, new_api_key
from chalicelib.digest.schedule import new_schedule
from chalicelib.store.records import api_key_pointer, new_merchant
from chalicelib.store.repository import Store

__all__ = ["create_merchant"]


def create_merchant(
    store: Store,
    merchant_id: str,
    name: str,
    now: datetime,
    *,
    api_key: str | None = None,
    webhook_secrets: dict[str, list[str]] | None = None,
    **fields: str,
) -> str:
    """Create the merchant and its API-key pointer in one transaction; returns the API key.

    The key is returned once and stored only as a hash. Raises `StaleVersion` if the
    merchant (or key) exists already.
    """
    key = api_key or new_api_key()
    key_hash = hash_api_key(key)
    merchant = new_merchant(
        merchant_id,
        name,
        now,
        api_key_hash=key_hash,
        webhook_secrets=webhook_secrets or {},
        **fields,
    )
    uow = store.unit_of_work()
    uow.insert("merchant", merchant)
    uow.insert("api_key", api_key_pointer(key_hash, merchant_id))
    uow.insert("digest_schedule", new_schedule(merchant_id, merchant.timezone, now))
    uow.commit()
    return key
