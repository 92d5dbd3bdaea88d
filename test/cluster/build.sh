#!/usr/bin/env bash
# Builds the test environment's binaries from the Go module proxy (no downloads from release pages):
# kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok, kustomize and helm; an OCI registry and crane
# (go-containerregistry) for the supply-chain tests; and the Gateway API CRDs.
# Each tool is cached under $BATON_TESTENV_CACHE/<tool>-<key>/ and rebuilt only when its pinned version
# (or, for the wrapper modules, go.mod/go.sum) changes. Prints the bin directory on the last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${BATON_TESTENV_CACHE:-$HOME/.cache/baton/testenv}
bin="$cache/bin"
mkdir -p "$bin"
export CGO_ENABLED=0 GOFLAGS=-trimpath

log() { printf '[testenv %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# key_of DIR: a short hash of a wrapper module's go.mod + go.sum, so editing them rebuilds.
key_of() { cat "$1/go.mod" "$1/go.sum" | sha256sum | cut -c1-12; }

# ensure NAME KEY BUILD-FUNCTION BINARIES...: run BUILD-FUNCTION into $cache/NAME-KEY unless done before,
# then link the binaries into $bin.
ensure() {
  local name=$1 key=$2 fn=$3; shift 3
  local dir="$cache/$name-$key"
  if [ ! -f "$dir/.done" ]; then
    log "building $name ($key); a cold build of Kubernetes takes 10-30 minutes on 2 cores"
    local start=$SECONDS
    rm -rf "$dir" && mkdir -p "$dir"
    "$fn" "$dir"
    touch "$dir/.done"
    log "built $name in $((SECONDS - start))s"
  else
    log "reusing $name ($dir)"
  fi
  local b
  for b in "$@"; do ln -sfn "$dir/$b" "$bin/$b"; done
}

build_k8s() {
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  (cd "$here/k8s" && go build -tags selinux,notest -o "$1/" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}
build_etcd() { (cd "$here/etcd" && go build -ldflags "-s -w" -o "$1/etcd" .); }
build_kwok() {
  GOBIN="$1" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok needs its stage definitions (how fake Nodes and Pods move through their lifecycle).
  local src; src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$1/kwok-stages" && cp -r "$src/kustomize/stage/." "$1/kwok-stages/" && chmod -R u+w "$1/kwok-stages"
}
# Gateway API CRDs (HTTPRoute …) for the progressive-delivery tests: YAML from the Go module, nothing to compile.
build_gateway_api() {
  local src; src=$(go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$1/gateway-api-crds" && cp "$src/config/crd/standard/"*.yaml "$1/gateway-api-crds/" && chmod -R u+w "$1/gateway-api-crds"
}
build_kustomize() { GOBIN="$1" go install -ldflags "-s -w" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"; }
build_helm() { GOBIN="$1" go install -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"; }
# A real OCI distribution registry (in-memory, loopback) and crane to push images, indexes and signatures to it.
build_registry() {
  GOBIN="$1" go install -ldflags "-s -w" "github.com/google/go-containerregistry/cmd/registry@$GO_CONTAINERREGISTRY_VERSION" \
    "github.com/google/go-containerregistry/cmd/crane@$GO_CONTAINERREGISTRY_VERSION"
}

only=${1:-all}
want() { [ "$only" = all ] || [[ ",$only," == *",$1,"* ]]; }
want etcd && ensure etcd "$ETCD_VERSION-$(key_of "$here/etcd")" build_etcd etcd
want kwok && ensure kwok "$KWOK_VERSION" build_kwok kwok kwok-stages
want kustomize && ensure kustomize "$KUSTOMIZE_VERSION" build_kustomize kustomize
want helm && ensure helm "$HELM_VERSION" build_helm helm
want registry && ensure registry "$GO_CONTAINERREGISTRY_VERSION" build_registry registry crane
want gateway-api && ensure gateway-api "$GATEWAY_API_VERSION" build_gateway_api gateway-api-crds
want k8s && ensure k8s "$K8S_VERSION-$(key_of "$here/k8s")" build_k8s kube-apiserver kube-controller-manager kube-scheduler kubectl
echo "$bin"
