#!/usr/bin/env bash
# Optional check: OutSystems' own CI/CD package, outsystems-pipeline (Python,
# LifeTime API v2), runs unchanged against the sandbox. It fetches the
# environments and applications and tags the modified applications of an
# environment, as a real pipeline does (the package's own entry points:
# fetch_lifetime_data and tag_modified_apps, which also reads the running
# version and the version history).
#
# Where Python 3 or the package is missing it says why and exits 0: the check
# is optional, and the package is not installed by this repository.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}

if ! command -v "$python" >/dev/null 2>&1; then
  echo "pipeline-check: skipped: no $python on PATH (set PYTHON to use another interpreter)."
  exit 0
fi
if ! "$python" -c 'import outsystems.pipeline' >/dev/null 2>&1; then
  echo "pipeline-check: skipped: $python cannot import outsystems.pipeline (install the outsystems-pipeline package to run this check)."
  exit 0
fi

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
go build -o "$build/outsystems-sandbox" "$root/cmd/outsystems-sandbox"

"$build/outsystems-sandbox" --listen 127.0.0.1:0 --db "$build/sandbox.db" >"$build/exports" 2>"$build/sandbox.log" &
sandbox_pid=$!
stop_sandbox() {
  kill -TERM "$sandbox_pid" 2>/dev/null || true
  wait "$sandbox_pid" 2>/dev/null || true
  rm -rf "$build"
}
trap stop_sandbox EXIT

for _ in $(seq 1 100); do
  grep -q '^export OUTSYSTEMS_LIFETIME_TOKEN=' "$build/exports" 2>/dev/null && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    echo "pipeline-check: the sandbox exited at start:" >&2
    cat "$build/sandbox.log" >&2
    exit 1
  fi
  sleep 0.1
done
# shellcheck disable=SC1091
source "$build/exports"
url=$OUTSYSTEMS_LIFETIME_URL
token=$OUTSYSTEMS_LIFETIME_TOKEN
artifacts="$build/artifacts"

echo "==> outsystems-pipeline: fetch_lifetime_data (environments, applications)"
"$python" -m outsystems.pipeline.fetch_lifetime_data -a "$artifacts" -u "$url" -t "$token"

# A modified application and the name of its environment, read with the
# package's own request helper.
IFS=$'\t' read -r env_name app_name < <(URL="$url" TOKEN="$token" "$python" - <<'PY'
import os
from outsystems.lifetime.lifetime_base import send_get_request
api = os.environ["URL"].rstrip("/") + "/lifetimeapi/rest/v2"
token = os.environ["TOKEN"]
envs = {e["Key"]: e["Name"] for e in send_get_request(api, token, "environments", {})["response"]}
apps = send_get_request(api, token, "applications", {"IncludeModules": False, "IncludeEnvStatus": True})["response"]
for app in apps:
    for status in app.get("AppStatusInEnvs") or []:
        if status["IsModified"]:
            print(envs[status["EnvironmentKey"]] + "\t" + app["Name"])
            raise SystemExit(0)
raise SystemExit("no modified application in the sandbox's fixture")
PY
)

echo "==> outsystems-pipeline: tag_modified_apps ('$app_name' in $env_name)"
manifest=$(APP="$app_name" "$python" -c 'import json, os; print(json.dumps({"ApplicationVersions": [{"ApplicationName": os.environ["APP"]}]}))')
"$python" -m outsystems.pipeline.tag_modified_apps -a "$artifacts" -u "$url" -t "$token" -d "$env_name" -m "$manifest" |
  tee "$build/tag.log"
if ! grep -q "successfully tagged" "$build/tag.log"; then
  echo "pipeline-check: tag_modified_apps tagged nothing" >&2
  exit 1
fi
echo "pipeline-check: outsystems-pipeline ran against the sandbox unchanged."
