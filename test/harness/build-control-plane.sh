#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kubectl,
# kube-scheduler, kwok) from published Go modules into a cache keyed by version.
# A component whose cache directory is complete is not rebuilt.
#
# Versions come from the environment (test/harness/versions.ts passes them), so
# that one file names them. Progress goes to stderr; the last stdout line is the
# cache directory.
set -euo pipefail

: "${ETCD_VERSION:?set ETCD_VERSION, e.g. v3.6.16}"
: "${KUBERNETES_VERSION:?set KUBERNETES_VERSION, e.g. v1.35.4}"
: "${KWOK_VERSION:?set KWOK_VERSION, e.g. v0.8.0}"
CACHE_DIR="${ALLOCATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/allocator}"

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
command -v go >/dev/null || { echo "build-control-plane: go is not on PATH; install Go >= 1.25" >&2; exit 1; }
mkdir -p "$CACHE_DIR"

# One build at a time per cache, so parallel test runs don't race.
exec 9>"$CACHE_DIR/.build.lock"
flock 9

log() { printf '[control-plane build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# build_component NAME VERSION FUNCTION: runs FUNCTION in a fresh wrapper module
# and moves its output into $CACHE_DIR/NAME-VERSION only when it succeeded.
build_component() {
  local name=$1 version=$2 fn=$3
  local dest="$CACHE_DIR/$name-$version"
  if [[ -f "$dest/.complete" ]]; then
    log "$name $version: cached in $dest"
    return
  fi
  local work
  work=$(mktemp -d "$CACHE_DIR/.work-$name.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  local start=$SECONDS
  log "$name $version: building (this takes minutes on a cold cache)"
  (cd "$work" && mkdir out && "$fn" "$version" "$work/out")
  touch "$work/out/.complete"
  rm -rf "$dest"
  mv "$work/out" "$dest"
  log "$name $version: built in $((SECONDS - start))s"
}

build_etcd() {
  local version=$1 out=$2
  go mod init allocator.local/etcd-wrapper >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$version" 2>&1 | tail -n 3 >&2 || true
  go build -trimpath -o "$out/etcd" go.etcd.io/etcd/server/v3
}

# kubernetes_wrapper VERSION: a wrapper module that builds k8s.io/kubernetes commands at VERSION.
kubernetes_wrapper() {
  local version=$1
  local staging_version="v0.${version#v1.}"
  go mod init allocator.local/kubernetes-wrapper >/dev/null 2>&1
  # The release's go.mod replaces its staging modules with local paths; a
  # wrapper must replace them with their published versions instead. The list
  # changes between releases, so it is read from the release itself.
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  local godebug
  godebug=$(sed -n 's/^godebug //p' "$gomod")
  [[ -n "$godebug" ]] && go mod edit -godebug="$godebug"
  go mod edit -go="$(sed -n 's/^go //p' "$gomod")"
  local module
  for module in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod"); do
    go mod edit -replace="$module=$module@$staging_version"
  done
  go get "k8s.io/kubernetes@$version" 2>&1 | tail -n 3 >&2 || true
}

# build_kubernetes_commands VERSION OUT COMMAND...
build_kubernetes_commands() {
  local version=$1 out=$2
  shift 2
  kubernetes_wrapper "$version"
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$version" | cut -d. -f2)"
  local cmd
  for cmd in "$@"; do
    log "kubernetes $version: compiling $cmd"
    go get "k8s.io/kubernetes/cmd/$cmd@$version" 2>&1 | tail -n 3 >&2 || true
    go build -trimpath -ldflags "$ldflags" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
}

build_kubernetes() { build_kubernetes_commands "$1" "$2" kube-apiserver kube-controller-manager kube-scheduler; }

# kubectl is its own component, so that adding it did not rebuild the others; the tests apply infra/k8s/ with it.
build_kubectl() { build_kubernetes_commands "$1" "$2" kubectl; }

build_kwok() {
  local version=$1 out=$2
  go mod init allocator.local/kwok-wrapper >/dev/null 2>&1
  go get "sigs.k8s.io/kwok/cmd/kwok@$version" 2>&1 | tail -n 3 >&2 || true
  go build -trimpath -ldflags "-s -w" -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok
  # kwok exits without stage definitions; they ship in its module.
  local dir
  dir=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  mkdir -p "$out/stages"
  local stage
  for stage in node/fast node/heartbeat pod/fast; do
    find "$dir/kustomize/stage/$stage" -maxdepth 1 -name '*.yaml' ! -name 'kustomization.yaml' -exec cp {} "$out/stages/" \;
  done
  chmod -R u+w "$out/stages"
}

build_component etcd "$ETCD_VERSION" build_etcd
build_component kwok "$KWOK_VERSION" build_kwok
build_component kubernetes "$KUBERNETES_VERSION" build_kubernetes
build_component kubectl "$KUBERNETES_VERSION" build_kubectl
echo "$CACHE_DIR"
