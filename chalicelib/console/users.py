"""Console sign-in keys: the merchant API key (admin) or per-user keys with a role.

A per-user key reads `uk_<merchant id>.<random>`: the merchant id routes the lookup to one
GetItem in that merchant's partition (item kind USERKEY, keyed by the key's SHA-256; the
key itself is shown once, at creation, and never stored). Anything else is tried as the
merchant API key (the pointer lookup `api.authenticate` does).
"""

from __future__ import annotations

import re
import secrets as token_source
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.api import hash_api_key
from chalicelib.errors import MalformedPayload, Unauthorized
from chalicelib.store import keys
from chalicelib.store.models import MerchantItem, UserKeyItem

if TYPE_CHECKING:
    from chalicelib.store.repository import Store

__all__ = ["Identity", "sign_in", "create_user_key", "list_user_keys", "USER_KEY_PREFIX"]

USER_KEY_PREFIX = "uk_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@+-]{0,59}$")
MAX_KEY = 200


@dataclass(frozen=True)
class Identity:
    """Who a key belongs to."""

    merchant: MerchantItem
    user: str
    role: str


def _active(merchant: MerchantItem | None) -> MerchantItem:
    if merchant is None or merchant.status != "active":
        raise Unauthorized("this key is not valid")
    return merchant


def sign_in(store: Store, key: str) -> Identity:
    """The identity of a console key; raises Unauthorized (one message for every failure)."""
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise Unauthorized("this key is not valid")
    if key.startswith(USER_KEY_PREFIX) and "." in key:
        merchant_id = key[len(USER_KEY_PREFIX) :].rsplit(".", 1)[0]
        if not merchant_id or "#" in merchant_id:
            raise Unauthorized("this key is not valid")
        found = store.get_many(
            {
                "user": _ref(UserKeyItem, merchant_id, keys.user_key(hash_api_key(key))),
                "merchant": _ref(MerchantItem, merchant_id, keys.META),
            }
        )
        user = found["user"]
        if user is None or user.revoked_at is not None:
            raise Unauthorized("this key is not valid")
        return Identity(_active(found["merchant"]), user.name, user.role)
    merchant = _active(store.merchant_by_api_key_hash(hash_api_key(key)))
    return Identity(merchant, "owner", "admin")


def _ref(model: type, merchant_id: str, sk: str):  # noqa: ANN202
    from chalicelib.store.repository import ItemRef

    return ItemRef(model, keys.merchant(merchant_id), sk)


def create_user_key(
    store: Store, merchant_id: str, name: str, role: str, created_by: str, now: datetime
) -> tuple[str, UserKeyItem]:
    """A new key for `name` with `role`; returns (the key, shown once; its item)."""
    from chalicelib.console.roles import ROLES

    name = (name or "").strip()
    if not _NAME.match(name):
        raise MalformedPayload("name must be 1-60 letters, digits, spaces or . _ @ + -")
    if role not in ROLES:
        raise MalformedPayload(f"role must be one of {', '.join(ROLES)}")
    key = f"{USER_KEY_PREFIX}{merchant_id}.{token_source.token_urlsafe(24).replace('.', '')}"
    item = UserKeyItem(
        pk=keys.merchant(merchant_id),
        sk=keys.user_key(hash_api_key(key)),
        merchant_id=merchant_id,
        name=name,
        role=role,
        key_hint=key[-4:],
        created_by=created_by,
        created_at=now,
    )
    uow = store.unit_of_work()
    uow.insert("user_key", item)
    uow.commit()
    return key, item


def list_user_keys(store: Store, merchant_id: str) -> list[UserKeyItem]:
    """The merchant's user keys (one Query on its partition, USERKEY# prefix)."""
    return list(
        UserKeyItem.query(
            keys.merchant(merchant_id),
            UserKeyItem.sk.startswith(keys.USER_KEY_PREFIX),
            consistent_read=True,
        )
    )
