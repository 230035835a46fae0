"""The status page's CSAT question (issue 11): once a case is settled, rate it 1-5, once.

`csat_items` lists the order's settled cases without a score (shown as one small form each,
CSRF token bound to the page token and the case, valid `FORM_SECONDS`). `post_csat` records
the score exactly as an SMS CSAT reply does (`handlers/messages._record_csat`): `details.csat`
{score, at, channel "web"}, a `csat_received` timeline entry, the weekly `csat_sum` /
`csat_count` counters, plus `csat:<score>` (the distribution); the case save is
version-conditioned and a case that already has a score is left as it is, so a replayed or
double-clicked form counts once. Then 303 back to the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalicelib.errors import StaleVersion
from chalicelib.pages.signing import signer_for
from chalicelib.pages.web import PageError, Reply, Request, form, redirect
from chalicelib.store import keys
from chalicelib.store.models import CaseItem
from chalicelib.store.records import new_timeline_entry

if TYPE_CHECKING:
    from chalicelib.deps import Deps

__all__ = ["csat_items", "post_csat", "SETTLED", "FORM_SECONDS"]

SETTLED = frozenset({"resolved", "refunded", "closed"})
FORM_SECONDS = 2 * 3600
PURPOSE = "status-csat"


def csat_items(d: Deps, token: str, cases: Iterable[CaseItem | None]) -> list[dict[str, Any]]:
    """The settled, unrated cases of the page, each with its form token."""
    signer = signer_for(d.settings, d.secrets.resolve)
    exp = int(d.now().timestamp()) + FORM_SECONDS
    return [
        {
            "case_id": case.case_id,
            "subject": case.subject or "",
            "csrf": signer.sign(PURPOSE, {"t": token, "c": case.case_id, "exp": exp}),
        }
        for case in cases
        if case is not None and case.status in SETTLED and "csat" not in (case.details or {})
    ]


def post_csat(d: Deps, token: str, request: Request) -> Reply:
    """Record the score of the form's case; 303 to the page (`rated=1`)."""
    from chalicelib.pages.i18n import choose_locale
    from chalicelib.pages.status import _resolve

    pointer, merchant = _resolve(d, token)
    fields = form(request)
    signer = signer_for(d.settings, d.secrets.resolve)
    signed = signer.verify(PURPOSE, fields.get("csrf"), int(d.now().timestamp()))
    if signed is None or signed.get("t") != token:
        raise PageError(403, "rating form token missing, expired or for another page")
    score_text = fields.get("score", "")
    if score_text not in {"1", "2", "3", "4", "5"}:
        raise PageError(400, "the score must be 1 to 5")
    case = d.store.get(CaseItem, keys.case(merchant.merchant_id, str(signed.get("c"))))
    if case is None or case.order_id != pointer.order_id:
        raise PageError(404, "no such case for this order")
    if case.status not in SETTLED:
        raise PageError(409, "this case is not settled yet")
    for _ in range(2):  # a case changed meanwhile (not rated) is read again once
        if case is None or "csat" in (case.details or {}) or _record(d, case, int(score_text)):
            break
        case = d.store.get(CaseItem, case.pk, case.sk)
    lang = choose_locale(fields.get("lang"), None, None)
    return redirect(request.url(f"/s/{token}?{urlencode({'lang': lang, 'rated': '1'})}"))


def _record(d: Deps, case: CaseItem, score: int) -> bool:
    """True when recorded; False when the case changed since it was read."""
    now, mid = d.now(), case.merchant_id
    case.details = {
        **(case.details or {}),
        "csat": {"score": score, "at": keys.iso(now), "channel": "web"},
    }
    case.updated_at = now
    uow = d.store.unit_of_work()
    uow.save("case", case)  # version-conditioned: a concurrent rating loses
    uow.insert(
        "timeline",
        new_timeline_entry(
            mid,
            case.pk,
            cause=f"csat-web:{case.pk}",
            at=now,
            now=now,
            kind="csat_received",
            source="status_page",
            summary=f"Customer rated the service {score}/5",
            customer_id=case.customer_id,
            case_id=case.case_id,
            order_id=case.order_id,
            data={"score": score},
        ),
    )
    uow.count(mid, now, "csat_sum", score)
    uow.count(mid, now, "csat_count")
    uow.count(mid, now, f"csat:{score}")
    try:
        uow.commit()
    except StaleVersion:
        return False
    return True
