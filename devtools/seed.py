"""The sample merchant the run command seeds, with obviously fake, documented secrets.

These values are printed by the run command and listed in the README; they protect nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.errors import StaleVersion
from chalicelib.handlers.merchants import create_merchant
from chalicelib.store.repository import Store

__all__ = ["SAMPLE", "seed_sample_merchant"]

SAMPLE = {
    "merchant_id": "shp-aftercare-demo",
    "name": "Aftercare Demo Shop",
    "shop_domain": "aftercare-demo.myshopify.com",
    "api_key": "ak_local_demo_key_NOT_A_SECRET",
    "shopify_secret": "shpss_fake_local_secret_do_not_use",
    "easypost_secret": "easypost_fake_webhook_secret",
    "aftership_secret": "aftership_fake_webhook_secret",
    "shippo_secret": "shippo_fake_webhook_secret",
    "generic_carrier_secret": "generic_carrier_fake_webhook_secret",
    "generic_wms_secret": "generic_wms_fake_webhook_secret",
    "shiphero_secret": "shiphero_fake_webhook_secret",
    "portal_slug": "aftercare-demo",  # the return portal at /r/aftercare-demo
}


def seed_sample_merchant(store: Store) -> bool:
    """Create the sample merchant unless it exists; True when created."""
    try:
        create_merchant(
            store,
            SAMPLE["merchant_id"],
            SAMPLE["name"],
            datetime.now(UTC),
            api_key=SAMPLE["api_key"],
            shop_domain=SAMPLE["shop_domain"],
            timezone="America/New_York",
            webhook_secrets={
                "easypost": [SAMPLE["easypost_secret"]],
                "aftership": [SAMPLE["aftership_secret"]],
                "shippo": [SAMPLE["shippo_secret"]],
                "generic_carrier": [SAMPLE["generic_carrier_secret"]],
                "generic_wms": [SAMPLE["generic_wms_secret"]],
                "shiphero": [SAMPLE["shiphero_secret"]],
            },
        )
    except StaleVersion:
        created = False
    else:
        created = True
    # the customer pages' sample: portal /r/aftercare-demo, orders #1001 and #1002 (issue 11)
    from devtools.portal_sample import seed_portal_sample

    merchant = store.merchant(SAMPLE["merchant_id"])
    if merchant is not None:
        seed_portal_sample(store, merchant, SAMPLE["portal_slug"], datetime.now(UTC))
    return created
