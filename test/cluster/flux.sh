#!/usr/bin/env bash
# Builds Flux's source-controller, kustomize-controller and notification-controller from the Go module proxy,
# for the side-by-side benchmark only (`npm run bench flux`); `npm test` never needs them.
# Each controller is built from its own released go.mod/go.sum (so its dependency versions are exactly the ones
# Flux ships): the module source is copied out of the module cache and its nested `api` module — which
# the module zip leaves out because it is a module of its own, and which go.mod replaces with `./api` — is put
# back beside it. Cached under $BATON_TESTENV_CACHE/flux-<controller>-<version>/ with its CRDs, and linked into
# $BATON_TESTENV_CACHE/flux/ (binaries, crds/). Prints that directory on the last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${BATON_TESTENV_CACHE:-$HOME/.cache/baton/testenv}
out="$cache/flux"
mkdir -p "$out/crds"
export CGO_ENABLED=0 GOFLAGS=-trimpath

log() { printf '[flux %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
module_dir() { go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'; }

build_controller() {
  local name=$1 version=$2 substitutes=$3
  local dir="$cache/flux-$name-$version${substitutes:+-$(printf '%s' "$substitutes" | sha256sum | cut -c1-8)}"
  if [ -f "$dir/.done" ]; then log "reusing $name $version"; link "$dir" "$name"; return; fi
  log "building $name $version (about 5-10 minutes on 2 cores)"
  local start=$SECONDS src work
  src=$(module_dir "github.com/fluxcd/$name@$version")
  work=$(mktemp -d)
  cp -r "$src/." "$work/" && chmod -R u+w "$work"
  local api_version
  api_version=$(sed -n "s|^[[:space:]]*github.com/fluxcd/$name/api \(v[^ ]*\).*|\1|p" "$work/go.mod" | head -1)
  rm -rf "$work/api" && cp -r "$(module_dir "github.com/fluxcd/$name/api@$api_version")/." "$work/api/" && chmod -R u+w "$work/api"
  local sub
  for sub in $substitutes; do (cd "$work" && go mod edit -replace "${sub%@*}=$sub"); done
  rm -rf "$dir" && mkdir -p "$dir/crds"
  (cd "$work" && GOFLAGS="$GOFLAGS -mod=mod" go build -ldflags "-s -w" -o "$dir/$name" .)
  cp "$work/config/crd/bases/"*.yaml "$dir/crds/"
  rm -rf "$work"
  touch "$dir/.done"
  log "built $name in $((SECONDS - start))s"
  link "$dir" "$name"
}
link() {
  ln -sfn "$1/$2" "$out/$2"
  local crd
  for crd in "$1/crds/"*.yaml; do ln -sfn "$crd" "$out/crds/$(basename "$crd")"; done
}

build_controller source-controller "$FLUX_SOURCE_VERSION" "$FLUX_SOURCE_SUBSTITUTES"
build_controller kustomize-controller "$FLUX_KUSTOMIZE_VERSION" "$FLUX_KUSTOMIZE_SUBSTITUTES"
build_controller notification-controller "$FLUX_NOTIFICATION_VERSION" "$FLUX_NOTIFICATION_SUBSTITUTES"
echo "$out"
