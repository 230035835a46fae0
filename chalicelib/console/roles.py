"""Console roles and what each may do (pure policy).

Ranks are cumulative: agent < senior < supervisor < admin. The merchant's own API key and
a Shopify admin session act as `admin`.
"""

from __future__ import annotations

from chalicelib.errors import Forbidden

__all__ = ["ROLES", "PERMISSIONS", "allowed", "require"]

ROLES = ("agent", "senior", "supervisor", "admin")

# permission -> lowest role holding it
PERMISSIONS: dict[str, str] = {
    "view": "agent",
    "assign": "agent",
    "note": "agent",
    "status": "agent",
    "resolve": "agent",
    "approve": "senior",
    "reject": "senior",
    "bulk_assign": "supervisor",
    "rules": "supervisor",  # open and save the rules / SLA / messages settings
    "users": "admin",  # create and list per-user keys
}


def allowed(role: str, permission: str) -> bool:
    """Whether `role` holds `permission` (unknown roles hold nothing)."""
    if role not in ROLES or permission not in PERMISSIONS:
        return False
    return ROLES.index(role) >= ROLES.index(PERMISSIONS[permission])


def require(role: str, permission: str) -> None:
    """Raise Forbidden (403) unless `role` holds `permission`."""
    if not allowed(role, permission):
        raise Forbidden(f"the {role} role cannot do this ({permission})")
