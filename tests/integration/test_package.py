"""The deployable artefact: `chalice package` merged with infra/ passes cfn-lint and wires every
function to the table the template creates (with its indexes, stream and TTL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp(f"package-{request.param}")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run(
        [
            str(BIN / "chalice"),
            "package",
            "--stage",
            request.param,
            "--merge-template",
            "infra/resources.json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    lint = subprocess.run(
        [str(BIN / "cfn-lint"), str(out / "sam.json")], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    return json.loads((out / "sam.json").read_text())


def test_every_function_reads_the_stacks_table(packaged):
    functions = {
        name: resource
        for name, resource in packaged["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert "APIHandler" in functions and len(functions) >= 2
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables.get("AFTERCARE_TABLE") == {"Ref": "AftercareTable"}, name


def test_table_has_indexes_stream_ttl_and_recovery(packaged):
    table = packaged["Resources"]["AftercareTable"]["Properties"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        "gsi1",
        "gsi2",
        "due",
    }
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
