"""Create the app's table locally from the very definition `infra/` deploys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["table_definition", "create_table"]

INFRA = Path(__file__).resolve().parent.parent / "infra" / "resources.json"
TABLE_RESOURCE = "AftercareTable"


def table_definition() -> dict[str, Any]:
    """The CloudFormation properties of the table in `infra/resources.json`."""
    template = json.loads(INFRA.read_text())
    return template["Resources"][TABLE_RESOURCE]["Properties"]


def create_table(client: Any, table_name: str) -> bool:
    """Create `table_name` with the infra definition (keys, indexes, stream, TTL).

    Returns False when it already exists. Settings DynamoDB Local ignores (PITR, SSE) are
    left out; everything that changes behaviour is kept.
    """
    if table_name in client.list_tables()["TableNames"]:
        return False
    spec = table_definition()
    stream = spec.get("StreamSpecification")
    client.create_table(
        TableName=table_name,
        AttributeDefinitions=spec["AttributeDefinitions"],
        KeySchema=spec["KeySchema"],
        GlobalSecondaryIndexes=spec["GlobalSecondaryIndexes"],
        BillingMode=spec["BillingMode"],
        **({"StreamSpecification": {"StreamEnabled": True, **stream}} if stream else {}),
    )
    client.get_waiter("table_exists").wait(TableName=table_name)
    ttl = spec.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
    return True
