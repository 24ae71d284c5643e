#!/usr/bin/env bash
# digest_matrix.sh — prints the manifest digest (and the layer digests) that
# one ocipack binary gives for a fixed matrix of inputs and settings, one line
# per case, so two binaries (before and after a refactor) can be compared
# with diff: every format (gzip members with libdeflate and ISA-L, the
# single-member stream with and without dictionary), several levels, chunk
# sizes and thread counts, tar input, several layers, --diff-base,
# --base with --diff-against-base, --owner root and --tar-output; zstd,
# zstd:chunked (with threads 1 and 3, and a file split into several chunks)
# and none layers.
#
# Usage: bench/digest_matrix.sh OCIPACK ROOTFS_DIR [SCRATCH]
#   ROOTFS_DIR: e.g. the cached minbase (scripts/prepare_bench_rootfs.sh) or a
#   tree from tests/integration/make_test_rootfs.sh. SCRATCH (default: a new
#   temp dir) receives the layouts and is removed afterwards.
# Output: "CASE MANIFEST_DIGEST LAYER_DIGEST..." lines on stdout.
set -euo pipefail

[[ $# -ge 2 ]] || { echo "usage: $0 OCIPACK ROOTFS_DIR [SCRATCH]" >&2; exit 2; }
ocipack=$(realpath "$1")
rootfs=$(realpath "$2")
scratch=${3:-$(mktemp -d)}
mkdir -p "$scratch"
trap 'rm -rf "$scratch"' EXIT
export SOURCE_DATE_EPOCH=1700000000

# One case: build into a fresh layout, print the manifest digest and the
# layer digests the manifest lists.
run() {
  local name=$1
  shift
  local out="$scratch/$name"
  rm -rf "$out"
  "$ocipack" build -q --no-progress -o "$out" --tag t "$@"
  local manifest
  manifest=$(python3 - "$out" <<'EOF'
import json, sys
layout = sys.argv[1]
index = json.load(open(layout + "/index.json"))
digest = index["manifests"][0]["digest"]
manifest = json.load(open(layout + "/blobs/sha256/" + digest.split(":")[1]))
print(digest, " ".join(l["digest"] for l in manifest["layers"]))
EOF
)
  echo "$name $manifest"
}

run default "$rootfs"
run threads1 "$rootfs" --threads 1
run threads5 "$rootfs" --threads 5
run level1 "$rootfs" --level 1
run level12 "$rootfs" --level 12
run chunk64k "$rootfs" --chunk-size 64K
run chunk4m "$rootfs" --chunk-size 4M --threads 3
run fast "$rootfs" --fast
run isal0 "$rootfs" --compressor isal --level 0
run isal3 "$rootfs" --compressor isal --level 3
run single "$rootfs" --compressor isal --gzip-format single
run single_dict "$rootfs" --compressor isal --gzip-format single --dictionary
run single_dict_l3 "$rootfs" --compressor isal --level 3 --gzip-format single --dictionary --chunk-size 256K
run owner_root "$rootfs" --owner root
run config "$rootfs" --author "A <a@b>" --user 1000 --arch arm64 --entrypoint "/bin/sh -c" \
  --cmd echo --cmd hi --env A=1 --label k=v --port 80 --workdir /tmp --stop-signal SIGTERM
run zstd "$rootfs" --compression-format zstd
run zstd_l19_t1 "$rootfs" --compression-format zstd --level 19 --threads 1
run chunked "$rootfs" --compression-format zstd:chunked
run chunked_t1 "$rootfs" --compression-format zstd:chunked --threads 1
run chunked_t3_l1 "$rootfs" --compression-format zstd:chunked --threads 3 --level 1
run none "$rootfs" --compression-format none
tar -C "$rootfs" -cf "$scratch/rootfs.tar" .
run tar_input "$scratch/rootfs.tar"
first=$(find "$rootfs" -mindepth 1 -maxdepth 1 -type d | sort | sed -n 1p)
run layers "$rootfs" --layer "$first" --threads 2
run layers3 --layer "$first" --layer "$rootfs" --layer "$first" --threads 3
# A second tree that differs from the first by one removed and one added file.
cp -a "$rootfs" "$scratch/changed"
victim=$(find "$scratch/changed" -type f | sort | sed -n 1p)
rm -f "$victim"
echo "new file" > "$scratch/changed/ocipack-digest-matrix-new"
touch -d @1600000000 "$scratch/changed/ocipack-digest-matrix-new" "$(dirname "$victim")" "$scratch/changed"
run diff_base "$scratch/changed" --diff-base "$rootfs"
run base "$rootfs"
run on_base "$scratch/changed" --base "$scratch/base:t" --diff-against-base --cmd /bin/true
rm -rf "$scratch/tarball"
"$ocipack" build -q --no-progress -o "$scratch/tarball" --tag t --tar-output "$scratch/tarball.tar" "$rootfs"
echo "tar_output $(sha256sum < "$scratch/tarball.tar" | cut -d' ' -f1)"
