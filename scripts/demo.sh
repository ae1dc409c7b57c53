#!/usr/bin/env bash
# make demo: build the provider and the sandbox, start the sandbox with a fresh
# database, apply an example through a dev override (no registry needed),
# print its outputs and stop the sandbox. After examples/complete (the
# migration), it promotes the migrated apps to QA with examples/promote, in a
# second working directory and state, as a separate pipeline would.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
example=${DEMO_EXAMPLE:-complete}
build="$root/.build/demo"
terraform=${TERRAFORM:-$root/bin/terraform}

rm -rf "$build"
mkdir -p "$build/plugins" "$build/work"

echo "==> Building the provider and the sandbox"
go build -o "$build/plugins/terraform-provider-outsystems" "$root"
go build -o "$build/outsystems-sandbox" "$root/cmd/outsystems-sandbox"

cat > "$build/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/seed-1be1de96/outsystems" = "$build/plugins"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$build/terraformrc"
export CHECKPOINT_DISABLE=1

echo "==> Starting the sandbox (fresh database $build/sandbox.db)"
"$build/outsystems-sandbox" --listen 127.0.0.1:0 --db "$build/sandbox.db" >"$build/exports" 2>"$build/sandbox.log" &
sandbox_pid=$!
stop_sandbox() {
  kill -TERM "$sandbox_pid" 2>/dev/null || true
  wait "$sandbox_pid" 2>/dev/null || true
}
trap stop_sandbox EXIT

for _ in $(seq 1 100); do
  grep -q '^export OUTSYSTEMS_LIFETIME_TOKEN=' "$build/exports" 2>/dev/null && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    echo "The sandbox exited at start:" >&2
    cat "$build/sandbox.log" >&2
    exit 1
  fi
  sleep 0.1
done
# shellcheck disable=SC1091
source "$build/exports"
sed -E 's/(TOKEN|SECRET)=.*/\1=<redacted>/' "$build/exports"

cp -R "$root/examples/$example/." "$build/work/"
echo "==> terraform apply examples/$example (one apply: the migration preview gives the waves at plan time)"
if [ "$example" = complete ]; then
  echo "    (ODC accepts 10 publish requests a minute; the provider paces itself like it would against"
  echo "     a real tenant, so the 11th publication waits for the next minute)"
fi
"$terraform" -chdir="$build/work" apply -auto-approve -input=false -no-color
echo "==> A second plan must show no changes"
"$terraform" -chdir="$build/work" plan -detailed-exitcode -input=false -no-color >/dev/null
if [ "$example" = complete ]; then
  echo "==> The producer graph by wave (terraform output -raw producer_graph), as a pull request comment shows it:"
  echo '```mermaid'
  "$terraform" -chdir="$build/work" output -raw producer_graph
  echo '```'
fi
echo "No changes."

if [ "$example" = complete ]; then
  mkdir -p "$build/promote"
  cp -R "$root/examples/promote/." "$build/promote/"
  echo
  echo "==> terraform apply examples/promote (a second state): gate each app on code quality, set QA's"
  echo "    SMTP defaults, deploy the apps producers first to QA, configure them there"
  echo "    (Claims Backoffice stays out: its migrated revision has 2 critical findings; the gate would stop the plan."
  echo "     ODC accepts 10 build and 10 deployment requests a minute; the provider paces itself, so this takes a minute or two)"
  "$terraform" -chdir="$build/promote" apply -auto-approve -input=false -no-color >"$build/promote.log" || {
    cat "$build/promote.log" >&2
    exit 1
  }
  grep -E '^(Apply complete|outsystems_asset_deployment\..*Creation complete)' "$build/promote.log" | sed 's/^/    /'
  echo "==> What QA holds now (terraform output):"
  "$terraform" -chdir="$build/promote" output -no-color
  echo "==> A second plan of examples/promote must show no changes"
  "$terraform" -chdir="$build/promote" plan -detailed-exitcode -input=false -no-color >/dev/null
  echo "No changes."
  echo "==> The gate: a plan that adds Claims Backoffice must fail"
  if "$terraform" -chdir="$build/promote" plan -input=false -no-color \
    -var 'apps=["Customer Portal", "Broker Portal", "HR Self Service", "Agent Mobile", "Claims Backoffice"]' >"$build/gate.log" 2>&1; then
    echo "The plan with Claims Backoffice passed the code-quality gate" >&2
    exit 1
  fi
  sed -n '/Error: Resource postcondition failed/,$p' "$build/gate.log" | sed 's/^/    /'
fi
echo "Demo finished."
