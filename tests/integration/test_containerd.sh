#!/bin/bash
# test_containerd.sh OCIPACK
#
# containerd — the runtime behind Docker ≥ 23 image stores, nerdctl and
# Kubernetes — as a consumer of ocipack's `--tar-output` tarball. A private
# containerd (Debian `containerd`, lib_services.sh: own root/state/config in
# the scratch dir, GRPC on a unix socket there, no TCP listener) imports the
# tarball with `ctr images import`, which unpacks every layer through its
# applier into the overlayfs (or native) snapshotter, verifying each layer's
# uncompressed digest against the config's diff_ids. Then, for each image:
#   - the image containerd lists has ocipack's manifest digest;
#   - the committed snapshot is named by the chain ID computed from the
#     config's diff_ids (containerd's own digest of the decompressed layers);
#   - `ctr images mount` of the image equals the expected tree entry by entry
#     (compare_trees.py). containerd sets times before 1970 to the epoch
#     (archive.boundTime) and refuses "trusted." xattrs from layers ("admin
#     attributes from archive not supported"), hence --floor 0 and
#     --drop-xattr-prefix trusted.
# Images: the generated rootfs in one layer; three layers stacked; a delta
# layer (--base, --diff-base) with whiteouts and an opaque directory; and the
# same rootfs as a zstd, a zstd:chunked and an uncompressed (none) layer.
# Where containerd cannot run here the checks are SKIPped with the reason.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_services.sh"
init_test "${1:-}"
T=$TEST_TMP
SDE=1700000000

if ! require_tool containerd ctr jq python3 ss; then
    fail "containerd" "missing tools: $MISSING_TOOLS (scripts/setup.sh installs them)"
    finish
fi

bash "$(dirname "$0")/make_test_rootfs.sh" "$T/root" >/dev/null 2>&1 || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }

if ! start_containerd; then
    skip "containerd import and unpack (all checks)" "$SERVICE_SKIP_REASON"
    finish
fi
check_eq "containerd listens on no TCP port (unix socket only)" "" "$(tcp_listeners_of "$CTD_PID" | tr '\n' ' ')"

# chain_id DIFF_ID...: the OCI chain ID of a stack of layers.
chain_id() {
    local chain=$1 d
    shift
    for d in "$@"; do
        chain="sha256:$(printf '%s %s' "$chain" "$d" | sha256sum | cut -d' ' -f1)"
    done
    echo "$chain"
}

# check_in_containerd NAME LAYOUT TAG EXPECTED_TREE: the image TAG of the
# imported tarball (named ocipack.test:TAG in containerd) against the layout
# it came from and the tree it must unpack to.
check_in_containerd() {
    local name=$1 layout=$2 tag=$3 tree=$4 ref=ocipack.test:$3 want got chain mnt=$T/mnt-$3
    want=$(layout_manifest_digest "$layout" "$tag")
    got=$("${CTR[@]}" images ls 2>/dev/null | awk -v r="$ref" '$1 == r { print $3 }')
    check_eq "$name: containerd lists $ref with ocipack's manifest digest" "$want" "$got"
    # shellcheck disable=SC2046  # one argument per diff_id
    chain=$(chain_id $("$OCIPACK" inspect --json "$layout:$tag" | jq -r '.layers[].diff_id'))
    if "${CTR[@]}" snapshots --snapshotter "$CTD_SNAPSHOTTER" info "$chain" >"$T/snap.out" 2>&1; then
        pass "$name: containerd committed the snapshot of the config's chain ID ($chain)"
    else
        fail "$name: containerd committed the snapshot of the config's chain ID ($chain)" "$(head -2 "$T/snap.out")"
    fi
    if ctd_mount "$ref" "$mnt" >"$T/mount.out" 2>&1; then
        tree_equals "$name: ctr images mount equals the source tree" "$tree" "$mnt" \
            --ignore-sockets --floor 0 --drop-xattr-prefix trusted.
        check "$name: ctr images unmount --rm" ctd_unmount "$mnt"
    else
        fail "$name: ctr images mount $ref" "$(tail -2 "$T/mount.out")"
    fi
}

# import_tarball NAME TARBALL: ctr images import (and unpack) of a layout tarball.
import_tarball() {
    check "$1: ctr images import (unpack into $CTD_SNAPSHOTTER)" ctd_import ocipack.test "$2"
}

# --- one layer: the generated rootfs with every entry kind
check "build the rootfs with --tar-output" "$OCIPACK" build "$T/root" -o "$T/one" --tag one --tar-output "$T/one.tar" -q
if import_tarball "one layer" "$T/one.tar"; then
    check_in_containerd "one layer" "$T/one" one "$T/root"
fi

# --- three layers, a later one replacing a file of an earlier one
mkdir -p "$T/l1/usr/lib" "$T/l1/etc" "$T/l2/etc" "$T/l3/srv"
echo lib >"$T/l1/usr/lib/libx.so"; echo old >"$T/l1/etc/app.conf"
echo new >"$T/l2/etc/app.conf"; echo web >"$T/l3/srv/index.html"
for d in l1 l2 l3; do settle_tree "$T/$d" "$SDE"; done
mkdir -p "$T/union" && cp -a "$T/l1/." "$T/l2/." "$T/l3/." "$T/union/" && settle_tree "$T/union" "$SDE"
check "build three layers with --tar-output" "$OCIPACK" build --layer "$T/l1" --layer "$T/l2" --layer "$T/l3" \
    -o "$T/multi" --tag multi --tar-output "$T/multi.tar" -q
check_eq "the image has 3 layers" 3 "$("$OCIPACK" inspect --json "$T/multi:multi" | jq '.layers | length')"
if import_tarball "three layers" "$T/multi.tar"; then
    check_in_containerd "three layers" "$T/multi" multi "$T/union"
fi

# --- a delta layer over a base image: changed, removed (whiteouts), replaced (opaque), added
make_delta_trees "$T/v1" "$T/v2" "$SDE"
export SOURCE_DATE_EPOCH=$SDE
check "build the base image" "$OCIPACK" build "$T/v1" -o "$T/delta" --tag v1 -q
check "build the delta image with --tar-output" "$OCIPACK" build "$T/v2" -o "$T/delta" --tag v2 \
    --base "$T/delta:v1" --diff-base "$T/v1" --tar-output "$T/delta.tar" -q
unset SOURCE_DATE_EPOCH
delta_digest=$(jq -r '.layers[1].digest' "$(blob_path "$T/delta" "$(layout_manifest_digest "$T/delta" v2)")")
check_eq "the delta layer has the whiteouts and the opaque marker" \
    "data/old/.wh..wh..opq etc/.wh.gone var/.wh.cache " \
    "$(whiteouts_of "$T/delta" "$delta_digest")"
if import_tarball "base + delta" "$T/delta.tar"; then
    check_in_containerd "base + delta" "$T/delta" v2 "$T/v2"
    check_in_containerd "base (same tarball)" "$T/delta" v1 "$T/v1"
fi

# --- zstd, zstd:chunked and uncompressed (none) layers of the same rootfs,
# each in a namespace of its own so that containerd decodes the layer rather
# than reusing the gzip layer's snapshot of the same chain ID
declare -A MEDIA_TYPE=([zstd]=application/vnd.oci.image.layer.v1.tar+zstd
                       [zstd:chunked]=application/vnd.oci.image.layer.v1.tar+zstd
                       [none]=application/vnd.oci.image.layer.v1.tar)
for fmt in zstd zstd:chunked none; do
    name=${fmt/:/-}
    check "$fmt: build the rootfs with --tar-output" "$OCIPACK" build "$T/root" -o "$T/$name" --tag "$name" \
        --compression-format "$fmt" --tar-output "$T/$name.tar" -q
    check_eq "$fmt: the layer's media type" "${MEDIA_TYPE[$fmt]}" \
        "$(jq -r '.layers[0].mediaType' "$(blob_path "$T/$name" "$(layout_manifest_digest "$T/$name" "$name")")")"
    ctd_use_namespace "ocipack-$name"
    check_eq "$fmt: the namespace starts without snapshots" "" "$("${CTR[@]}" snapshots --snapshotter "$CTD_SNAPSHOTTER" ls | tail -n +2)"
    if import_tarball "$fmt" "$T/$name.tar"; then
        check_in_containerd "$fmt" "$T/$name" "$name" "$T/root"
        check_eq "$fmt and gzip layers of one tree have one diff_id (one snapshot)" \
            "$("$OCIPACK" inspect --json "$T/one:one" | jq -r '.layers[0].diff_id')" \
            "$("$OCIPACK" inspect --json "$T/$name:$name" | jq -r '.layers[0].diff_id')"
    fi
done
services_stop_checked
finish
