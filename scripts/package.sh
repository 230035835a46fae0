#!/usr/bin/env bash
# Package Aftercare for CloudFormation and lint it (docs/deploy.md):
#   scripts/package.sh [stage] [outdir]        (defaults: prod, build/<stage>)
# Runs `chalice package --merge-template infra/resources.json`, sets the template's Stage
# parameter default to the stage packaged (so deletion protection and the SSM secret names
# follow it without an override), adds bytecode to the zip (devtools/precompile.py), then
# cfn-lint. Needs .venv (`python3 scripts/dev.py test`
# creates it). Writes <outdir>/sam.json and <outdir>/deployment.zip.
set -euo pipefail
cd "$(dirname "$0")/.."

stage="${1:-prod}"
out="${2:-build/$stage}"
bin="${AFTERCARE_VENV:-.venv}/bin"
if [ ! -x "$bin/chalice" ]; then
  echo "no $bin/chalice: run 'python3 scripts/dev.py test' once to create .venv" >&2
  exit 1
fi

rm -rf "$out"
AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" \
  "$bin/chalice" package --stage "$stage" --merge-template infra/resources.json "$out"
"$bin/python" - "$out/sam.json" "$stage" <<'PY'
import json
import sys

path, stage = sys.argv[1:]
with open(path) as handle:
    template = json.load(handle)
template["Parameters"]["Stage"]["Default"] = stage
with open(path, "w") as handle:
    json.dump(template, handle, indent=2)
PY
# Bytecode in the zip (devtools/precompile.py): a cold start then skips compiling sources.
runtime="$("$bin/python" -c 'import json,sys; t=json.load(open(sys.argv[1])); print(next(r["Properties"]["Runtime"] for r in t["Resources"].values() if r["Type"]=="AWS::Serverless::Function"))' "$out/sam.json")"
"$bin/python" -m devtools.precompile "$out/deployment.zip" --runtime "$runtime"
"$bin/cfn-lint" "$out/sam.json"
echo "packaged and linted: $out/sam.json (stage $stage); next: aws cloudformation package, see docs/deploy.md"
