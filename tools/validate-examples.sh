#!/usr/bin/env bash
# make examples-check: `terraform validate` every example directory against the
# provider built from this tree (through a dev_overrides CLI configuration, so
# no registry is needed), with each of the CLIs given as arguments.
#
#   tools/validate-examples.sh ./bin/terraform [./bin/tofu]
#
# The per-resource examples do not declare the provider's source (the docs show
# them as fragments), so each one is validated with a required_providers stub.
#
# An example that declares required_version ">= 1.11" (write-only attributes,
# ephemeral variables) is validated by a CLI given that is 1.11 or later, else
# by NEWER_TERRAFORM (default /usr/local/bin/terraform); where none is present
# it is reported as skipped, naming what it needs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || { echo "usage: $0 CLI [CLI...]" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plugins"
go build -o "$work/plugins/terraform-provider-outsystems" "$root"

cat > "$work/cli.tfrc" <<RC
provider_installation {
  dev_overrides {
    "seed-1be1de96/outsystems" = "$work/plugins"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

newer=${NEWER_TERRAFORM:-/usr/local/bin/terraform}
# at_least_1_11 CLI: whether the CLI (terraform or tofu) is version 1.11 or later.
# (The whole answer is read first: a pipe closed early would fail under pipefail.)
version_of() {
  local out
  out=$("$1" version 2>/dev/null || true)
  printf '%s\n' "$out" | sed -n '1s/^[A-Za-z]* v\{0,1\}//p'
}
at_least_1_11() {
  version_of "$1" | grep -qE '^(1\.(1[1-9]|[2-9][0-9])|[2-9])\.'
}

failed=0
for cli in "$@"; do
  cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli")
  while IFS= read -r dir; do
    rel=${dir#"$root"/}
    case=$work/case
    rm -rf "$case" && mkdir -p "$case"
    cp "$dir"/*.tf "$case"/
    if ! grep -qs required_providers "$case"/*.tf; then
      printf 'terraform {\n  required_providers {\n    outsystems = {\n      source = "seed-1be1de96/outsystems"\n    }\n  }\n}\n' > "$case/zz_provider_source.tf"
    fi
    run=$cli
    if grep -qsE 'required_version *= *">= *1\.11"' "$case"/*.tf && ! at_least_1_11 "$cli"; then
      if [ -x "$newer" ] && at_least_1_11 "$newer"; then
        run=$newer
      else
        echo "skip $(basename "$cli") $rel (needs Terraform >= 1.11; set NEWER_TERRAFORM)"
        continue
      fi
    fi
    if out=$("$run" -chdir="$case" validate -no-color 2>&1); then
      echo "ok   $(basename "$run") $(version_of "$run") $rel"
    else
      echo "FAIL $(basename "$run") $rel"
      echo "$out" | sed 's/^/     /'
      failed=1
    fi
  done < <(find "$root/examples" -name '*.tf' -printf '%h\n' | sort -u)
done
exit $failed
