#!/usr/bin/env bash
# Builds Baton's container image from the repository's Dockerfile with podman, pulling no base image from a
# container registry:
#  1. two Debian trixie base images made with mmdebstrap (runtime: Node.js, git, gpg, openssh-client, CA certificates; build: Node.js
#     and npm), kept as tarballs under $BATON_IMAGE_CACHE/base-<name>-<key>.tar (key: a hash of the recipe) and
#     imported into podman when missing;
#  2. the Dockerfile built with those bases and TOOLS=context (kustomize and helm from test/cluster/build.sh), tagged
#     localhost/baton:test-<key>, where the key hashes everything the build reads (Dockerfile, package files,
#     tsconfig, src/, kustomize, the bases), so it is rebuilt only when one of them changes.
# Prints the image reference on the last line of stdout; progress goes to stderr.
# Needs root, podman, runc and mmdebstrap (`.ci/run` installs them); podman reads test/image/containers.conf.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${BATON_IMAGE_CACHE:-$HOME/.cache/baton/image}
export CONTAINERS_CONF="$here/containers.conf"
mkdir -p "$cache"

log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for tool in podman runc mmdebstrap flock; do
  if ! command -v "$tool" >/dev/null; then
    echo "test/image/build.sh: $tool is not installed; run 'bash .ci/run' or 'apt-get install podman runc mmdebstrap'" >&2
    exit 1
  fi
done

# Concurrent runs (several worktrees on one machine) build each base and image once; the others wait.
exec 9>"$cache/.lock"
flock 9

# Documentation, man pages and translations are left out of the bases: nothing in the image reads them.
slim=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt=force-unsafe-io)

# ensure_base NAME PACKAGES: prints the podman reference of a base image with Debian's essential packages
# plus PACKAGES, built once per recipe.
ensure_base() {
  local name=$1 packages=$2
  local key; key=$(printf '%s\n' trixie essential "$packages" "${slim[@]}" | sha256sum | cut -c1-12)
  local tar="$cache/base-$name-$key.tar" ref="localhost/baton-base-$name:$key"
  if [ ! -f "$tar" ]; then
    log "building base $name ($packages) with mmdebstrap"
    local start=$SECONDS
    # --format=tar: mmdebstrap guesses the format from the name, and "$tar.tmp" would become a directory
    mmdebstrap --quiet --format=tar --variant=essential --include="$packages" "${slim[@]}" trixie "$tar.tmp" >&2
    mv "$tar.tmp" "$tar"
    find "$cache" -maxdepth 1 -name "base-$name-*.tar" ! -name "${tar##*/}" -delete # earlier recipes
    log "built base $name in $((SECONDS - start))s"
  fi
  podman image exists "$ref" || podman import --quiet "$tar" "$ref" >/dev/null
  echo "$ref"
}

runtime_base=$(ensure_base runtime ca-certificates,git,gpg,openssh-client,nodejs)
build_base=$(ensure_base build ca-certificates,nodejs,npm)
kustomize="$(bash "$root/test/cluster/build.sh" kustomize | tail -1)/kustomize"
helm="$(bash "$root/test/cluster/build.sh" helm | tail -1)/helm"

# The build context holds exactly what the Dockerfile reads, so the key covers all of it.
context=$(mktemp -d "${TMPDIR:-/tmp}/baton-image-context.XXXXXX")
trap 'rm -rf "$context"' EXIT
cp "$root"/{Dockerfile,package.json,package-lock.json,tsconfig.json,tsconfig.build.json} "$context/"
cp -r "$root/src" "$context/src"
mkdir "$context/tools" && cp "$(readlink -f "$kustomize")" "$context/tools/kustomize" && cp "$(readlink -f "$helm")" "$context/tools/helm"
key=$( (cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "$runtime_base $build_base") | sha256sum | cut -c1-12)
image="localhost/baton:test-$key"

if podman image exists "$image"; then
  log "reusing $image"
else
  log "building $image"
  start=$SECONDS
  # npm ci in the build stage reaches the registry with this machine's trust store (which may hold a
  # TLS-inspecting proxy's CA); the mount exists only while RUN steps run and is not part of any layer.
  trust=()
  [ -f /etc/ssl/certs/ca-certificates.crt ] && trust=(--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
  podman build --quiet --network host --layers "${trust[@]}" \
    --build-arg BUILD_IMAGE="$build_base" --build-arg RUNTIME_IMAGE="$runtime_base" --build-arg TOOLS=context \
    --tag "$image" "$context" >&2
  log "built $image in $((SECONDS - start))s"
  # Keep the three newest test images (other worktrees may be testing theirs); drop the rest.
  podman images --filter reference=localhost/baton --format '{{.Repository}}:{{.Tag}}' --sort created \
    | grep ':test-' | tail -n +4 | xargs -r podman rmi --ignore >/dev/null 2>&1 || true
fi
echo "$image"
