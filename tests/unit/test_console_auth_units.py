"""Pure console pieces: Shopify session tokens, the signed session cookie and CSRF token,
roles, and the queue's filtering, SLA state and ordering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.console import roles, session, shopify_jwt
from chalicelib.console.queue import row_of, select
from chalicelib.errors import Forbidden, MalformedPayload, Unauthorized
from chalicelib.store.records import new_case

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SECRET = "shpss_unit_secret"
KEY = "app-api-key"
SHOP = "demo.myshopify.com"


def claims(**changes):
    now = int(NOW.timestamp())
    base = {
        "iss": f"https://{SHOP}/admin",
        "dest": f"https://{SHOP}",
        "aud": KEY,
        "sub": "42",
        "exp": now + 60,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": "00000000-0000-0000-0000-000000000000",
        "sid": "abc",
    }
    base.update(changes)
    return base


def test_a_valid_session_token_names_its_shop_and_user():
    token = shopify_jwt.encode(claims(), SECRET)
    verified = shopify_jwt.verify(token, [SECRET], KEY, NOW)
    assert verified == shopify_jwt.SessionToken(SHOP, "42", "abc")


def test_the_previous_secret_still_verifies_during_a_rotation():
    token = shopify_jwt.encode(claims(), "old-secret")
    assert shopify_jwt.verify(token, ["new-secret", "old-secret"], KEY, NOW).shop == SHOP


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": int(NOW.timestamp()) - 6}, "expired"),
        ({"nbf": int(NOW.timestamp()) + 6}, "not valid yet"),
        ({"aud": "other-app"}, "another app"),
        ({"dest": "https://evil.example.com", "iss": "https://evil.example.com/admin"}, "dest"),
        ({"iss": "https://other.myshopify.com/admin"}, "iss"),
        ({"exp": "soon"}, "numeric 'exp'"),
    ],
)
def test_bad_claims_are_refused(changes, reason):
    token = shopify_jwt.encode(claims(**changes), SECRET)
    with pytest.raises(Unauthorized, match=reason):
        shopify_jwt.verify(token, [SECRET], KEY, NOW)


def test_clock_skew_within_five_seconds_is_accepted():
    now = int(NOW.timestamp())
    token = shopify_jwt.encode(claims(exp=now - 4, nbf=now + 4), SECRET)
    assert shopify_jwt.verify(token, [SECRET], KEY, NOW).shop == SHOP


def test_wrong_signature_none_algorithm_and_garbage_are_refused():
    with pytest.raises(Unauthorized, match="signature"):
        shopify_jwt.verify(shopify_jwt.encode(claims(), "wrong"), [SECRET], KEY, NOW)
    header, payload, _ = shopify_jwt.encode(claims(), SECRET).split(".")
    none_header = shopify_jwt._b64encode(b'{"alg":"none","typ":"JWT"}')
    with pytest.raises(Unauthorized, match="HS256"):
        shopify_jwt.verify(f"{none_header}.{payload}.", [SECRET], KEY, NOW)
    for token in ("", "a.b", "a.b.c.d", "!!.??.**"):
        with pytest.raises(Unauthorized):
            shopify_jwt.verify(token, [SECRET], KEY, NOW)
    with pytest.raises(Unauthorized, match="not configured"):
        shopify_jwt.verify(shopify_jwt.encode(claims(), SECRET), [], KEY, NOW)


def test_the_session_cookie_round_trips_and_resists_tampering():
    made = session.issue("shp-demo", "maya", "agent", NOW)
    value = session.cookie_value(made, "k1")
    header = f"other=1; {session.COOKIE}={value}"
    assert session.read(header, ["k1"], NOW) == made
    assert session.read(header, ["k2", "k1"], NOW) == made  # previous key during rotation
    assert session.read(header, ["k2"], NOW) is None
    payload, signature = value.split(".")
    forged = session.cookie_value(
        session.Session("shp-demo", "maya", "admin", made.sid, made.expires), "guess"
    ).split(".")[0]
    assert session.read(f"{session.COOKIE}={forged}.{signature}", ["k1"], NOW) is None
    assert session.read(header, ["k1"], NOW + session.TTL + timedelta(seconds=1)) is None
    assert session.read(None, ["k1"], NOW) is None


def test_the_cookie_flags_and_csrf_token():
    flags = session.set_cookie("v")
    assert "HttpOnly" in flags and "Secure" in flags and "SameSite=Strict" in flags
    made = session.issue("shp-demo", "maya", "agent", NOW)
    token = session.csrf_token(made, "k1")
    assert session.csrf_ok(made, token, ["k1"])
    assert not session.csrf_ok(made, token, ["k2"])
    assert not session.csrf_ok(made, None, ["k1"])
    other = session.issue("shp-demo", "maya", "agent", NOW)
    assert not session.csrf_ok(other, token, ["k1"])


def test_roles_are_cumulative():
    assert roles.allowed("agent", "note") and not roles.allowed("agent", "rules")
    assert not roles.allowed("agent", "approve") and roles.allowed("senior", "approve")
    assert roles.allowed("supervisor", "rules") and not roles.allowed("supervisor", "users")
    assert roles.allowed("admin", "users") and not roles.allowed("owner", "view")
    with pytest.raises(Forbidden):
        roles.require("agent", "rules")


def _case(case_id, priority="normal", hours_ago=1.0, **fields):
    case = new_case(
        "m",
        case_id,
        "complaint",
        "new",
        NOW - timedelta(hours=hours_ago),
        priority=priority,
        **fields,
    )
    return case


def test_queue_rows_carry_sla_state_and_sort_by_due_time():
    breached = _case("A", "urgent", hours_ago=5)  # 4 h target
    at_risk = _case("B", "normal", hours_ago=23)  # 24 h target, 1 h left
    vip = _case("C", "low", hours_ago=1)
    vip.vip = True
    vip.first_response_due = NOW + timedelta(minutes=30)
    calm = _case("D", "low", hours_ago=1)
    rows = [row_of(c, NOW) for c in (calm, vip, at_risk, breached)]
    assert [r.sla for r in rows] == ["on_track", "at_risk", "at_risk", "breached"]
    assert rows[1].due_kind == "first_response" and rows[0].due_kind == "target"
    picked = select(rows, {})
    assert [r.id for r in picked["items"]] == ["A", "C", "B", "D"]
    assert picked["breached"] == 1 and picked["at_risk"] == 2
    assert [r.id for r in select(rows, {"vip": "1"})["items"]] == ["C"]
    assert [r.id for r in select(rows, {"sla": "attention", "priority": "normal"})["items"]] == [
        "B"
    ]
    assert [r.id for r in select(rows, {"assignee": "-"})["items"]] == ["A", "C", "B", "D"]
    with pytest.raises(MalformedPayload):
        select(rows, {"colour": "red"})
    with pytest.raises(MalformedPayload):
        select(rows, {"page": "0"})
