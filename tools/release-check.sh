#!/usr/bin/env bash
# make release-check: goreleaser check and a snapshot build of this machine's
# target, in a throw-away git repository holding a copy of the working tree
# (tracked and untracked files, not ignored ones) with a dummy remote, so the
# real repository is never touched. Then checks the binary carries the
# snapshot version (main.version, set by the ldflags) and the build flags.
#
# RELEASE_CHECK_FULL=1 also runs the whole release pipeline in snapshot mode
# (every platform, zips, SHA256SUMS, the manifest) and signs the checksums
# with a throw-away GPG key, then verifies the signature: slow (all targets).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
goreleaser=${GORELEASER:-$root/bin/goreleaser}
[ -x "$goreleaser" ] || { echo "goreleaser not found at $goreleaser (make release-check installs it)" >&2; exit 1; }

work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
repo=$work/repo
mkdir -p "$repo"

echo "==> Copying the working tree to $repo"
(
  cd "$root"
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
    done |
    tar --null -T - -cf -
) | tar -xf - -C "$repo"

module=$(awk '$1 == "module" { print $2; exit }' "$repo/go.mod")
cd "$repo"
git init -q
git add -A
git -c user.name=release-check -c user.email=release-check@localhost.invalid \
  commit -q --no-gpg-sign -m "release-check snapshot"
# goreleaser derives the release's owner and name from the remote.
git remote add origin "https://$module.git"

echo "==> goreleaser check"
"$goreleaser" check

echo "==> goreleaser build --snapshot --single-target"
"$goreleaser" build --snapshot --clean --single-target

version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
[ -n "$version" ] || { echo "no version in dist/metadata.json" >&2; exit 1; }
bin=$(find dist -type f -name "terraform-provider-outsystems_v${version}*" | head -n1)
[ -n "$bin" ] || { echo "no binary terraform-provider-outsystems_v$version in dist/" >&2; find dist -type f >&2; exit 1; }
echo "built $bin (version $version)"

# With -trimpath, Go leaves -ldflags out of the build information, so the
# version set by `-X main.version=` is looked for in the binary itself.
info=$(go version -m "$bin")
fail() { echo "release-check: $*" >&2; echo "$info" >&2; exit 1; }
grep -Eq 'build[[:space:]]+CGO_ENABLED=0' <<<"$info" || fail "the binary was built with cgo"
grep -Eq 'build[[:space:]]+-trimpath=true' <<<"$info" || fail "the binary was built without -trimpath"
grep -aFq "$version" "$bin" || fail "the version string $version (main.version) is not in the binary"
echo "ok: $bin embeds main.version=$version, CGO_ENABLED=0, -trimpath"

if [ "${RELEASE_CHECK_FULL:-}" = 1 ]; then
  echo "==> goreleaser release --snapshot (all platforms, signed with a throw-away key)"
  export GNUPGHOME=$work/gnupg
  mkdir -m 700 "$GNUPGHOME"
  gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-generate-key "release-check <release-check@localhost.invalid>" ed25519 sign 1d
  GPG_FINGERPRINT=$(gpg --batch --with-colons --list-keys | awk -F: '$1 == "fpr" { print $10; exit }')
  export GPG_FINGERPRINT
  "$goreleaser" release --snapshot --clean --skip=publish
  sums=$(find dist -maxdepth 1 -name "terraform-provider-outsystems_${version}_SHA256SUMS")
  [ -n "$sums" ] || { echo "no SHA256SUMS in dist/" >&2; exit 1; }
  gpg --batch --verify "$sums.sig" "$sums"
  # The zips are in dist/; the manifest is the repository's
  # terraform-registry-manifest.json under its release name.
  (cd dist && sha256sum --check --quiet --ignore-missing "$(basename "$sums")")
  manifest=terraform-provider-outsystems_${version}_manifest.json
  want=$(sha256sum terraform-registry-manifest.json | cut -d' ' -f1)
  grep -qx "$want  $manifest" "$sums" || { echo "$sums does not list $manifest with the manifest's checksum" >&2; cat "$sums" >&2; exit 1; }
  zips=$(find dist -maxdepth 1 -name '*.zip' | wc -l)
  [ "$(grep -c '\.zip$' "$sums")" = "$zips" ] || { echo "$sums does not list the $zips zips" >&2; exit 1; }
  echo "ok: $zips zips, $(basename "$sums") signed and verified, manifest included"
fi
