#!/usr/bin/env bash
# Builds the zstd:chunked checker (main.go) offline from Debian's Go tree
# (/usr/share/gocode: golang-github-containers-storage-dev and its
# dependencies), GOPATH mode, no network. export_chunked.go.in is laid into
# Debian's pkg/chunked with `go build -overlay`, so the checker calls that
# package's own unexported TOC reader.
# Usage: build.sh OUTPUT_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1")
chunked=/usr/share/gocode/src/github.com/containers/storage/pkg/chunked
[[ -d $chunked ]] || { echo "build.sh: $chunked missing (golang-github-containers-storage-dev)" >&2; exit 3; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '{"Replace":{"%s/zz_ocipack_export.go":"%s/export_chunked.go.in"}}\n' "$chunked" "$here" > "$work/overlay.json"
cp "$here/main.go" "$work/main.go"
cd "$work"
GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off GOCACHE="${GOCACHE:-$HOME/.cache/go-build}" \
  nice go build -overlay "$work/overlay.json" -o "$out" .
