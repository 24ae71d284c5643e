#!/bin/bash
# test_registry.sh OCIPACK
#
# A registry round trip — how images actually travel — with real components
# started privately by the test (lib_services.sh): Debian's docker-registry
# (distribution v2) on 127.0.0.1:<free port>, plain HTTP, storage in the
# scratch dir; podman with a store of its own (overlay driver where it works,
# else vfs). For each image:
#   - `skopeo copy --preserve-digests oci:L:T docker://127.0.0.1:PORT/ocipack/test:T`
#     pushes it;
#   - `skopeo inspect` (and --raw) of the registry's copy names ocipack's
#     manifest digest and layer digests;
#   - `skopeo copy` back into a new OCI layout preserves every digest: the
#     manifest, config and layer blobs are byte-identical to ocipack's, and
#     the registry's access log shows exactly those blob bytes fetched;
#   - `podman pull` from the registry into the private store: the image ID is
#     the config digest, and `podman image mount` equals the expected tree
#     entry by entry (compare_trees.py; containers/storage sets times before
#     1970 to the epoch, hence --floor 0).
# Images: the generated rootfs (one layer); a base + delta image (whiteouts,
# opaque directory); and, when ocipack has --compression-format, the rootfs as
# a zstd layer and as an uncompressed (none) layer. The partial-pull hook
# (podman_pull_partial, counting the fetched bytes in the access log) is
# exercised on the gzip image, where containers/storage must decline the
# partial path and fetch the whole layer.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_services.sh"
init_test "${1:-}"
T=$TEST_TMP
SDE=1700000000

if ! require_tool docker-registry skopeo podman jq python3 ss; then
    fail "registry" "missing tools: $MISSING_TOOLS (scripts/setup.sh installs them)"
    finish
fi
bash "$(dirname "$0")/make_test_rootfs.sh" "$T/root" >/dev/null 2>&1 || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }

if ! start_registry; then
    skip "registry round trip (all checks)" "$SERVICE_SKIP_REASON"
    finish
fi
check_eq "docker-registry listens only on $REGISTRY" "$REGISTRY" "$(tcp_listeners_of "$REGISTRY_PID" | tr '\n' ' ' | sed 's/ $//')"
PODMAN_DRIVER=overlay
PODMAN_SKIP=""
if ! start_private_podman overlay; then
    echo "# podman's overlay driver is unusable here ($SERVICE_SKIP_REASON): vfs store instead"
    PODMAN_DRIVER=vfs
    start_private_podman vfs || PODMAN_SKIP=$SERVICE_SKIP_REASON
fi
SKOPEO=(skopeo --insecure-policy)
# --preserve-digests (see registry_push): a copy keeps every digest or fails.
COPY=("${SKOPEO[@]}" copy --quiet --preserve-digests)

# layout_blobs LAYOUT TAG: the manifest digest, then the config and layer digests.
layout_blobs() {
    local m
    m=$(layout_manifest_digest "$1" "$2")
    echo "$m"
    jq -r '.config.digest, .layers[].digest' "$(blob_path "$1" "$m")"
}

# blob_bytes LAYOUT TAG: the total size of the config and layer blobs.
blob_bytes() {
    jq '[.config.size, .layers[].size] | add' "$(blob_path "$1" "$(layout_manifest_digest "$1" "$2")")"
}

# push_and_back NAME LAYOUT TAG: push to the registry, inspect there, copy back
# into $T/back-TAG and compare every blob byte for byte.
push_and_back() {
    local name=$1 layout=$2 tag=$3 ref=docker://$REGISTRY/ocipack/test:$3 back=$T/back-$3 d mark differ=""
    check "$name: skopeo copy to the registry" registry_push "$layout" "$tag" "ocipack/test:$tag" || return 1
    local inspect
    inspect=$("${SKOPEO[@]}" inspect --tls-verify=false "$ref" 2>"$T/inspect.err")
    check_eq "$name: skopeo inspect shows ocipack's manifest and layer digests" \
        "$(layout_blobs "$layout" "$tag" | sed -n '1p;3,$p' | tr '\n' ' ')" \
        "$(jq -r '.Digest, .Layers[]' <<<"$inspect" | tr '\n' ' ')"
    check_eq "$name: skopeo inspect --raw is ocipack's manifest byte for byte" \
        "$(layout_manifest_digest "$layout" "$tag")" \
        "sha256:$("${SKOPEO[@]}" inspect --raw --tls-verify=false "$ref" | sha256sum | cut -d' ' -f1)"
    mark=$(registry_log_mark)
    check "$name: skopeo copy back into a new layout" "${COPY[@]}" --src-tls-verify=false "$ref" "oci:$back:$tag" || return 1
    check_eq "$name: the copy back has ocipack's manifest digest" "$(layout_manifest_digest "$layout" "$tag")" "$(layout_manifest_digest "$back" "$tag")"
    for d in $(layout_blobs "$layout" "$tag"); do
        cmp -s "$(blob_path "$layout" "$d")" "$(blob_path "$back" "$d")" || differ+="$d "
    done
    check_eq "$name: manifest, config and layer blobs byte-identical after the round trip" "" "$differ"
    check_eq "$name: the registry served exactly the config and layer bytes (access log)" \
        "$(blob_bytes "$layout" "$tag") $(($(layout_blobs "$layout" "$tag" | wc -l) - 1))" \
        "$(registry_blob_bytes_since "$mark" ocipack/test)"
}

# pull_and_compare NAME LAYOUT TAG TREE: podman pull, image ID, mounted tree.
pull_and_compare() {
    local name=$1 layout=$2 tag=$3 tree=$4 ref=$REGISTRY/ocipack/test:$3 config
    if [ -n "$PODMAN_SKIP" ]; then
        skip "$name: podman pull" "$PODMAN_SKIP"
        return
    fi
    local mark
    mark=$(registry_log_mark)
    check "$name: podman pull from the registry ($PODMAN_DRIVER store)" podman_pull "$ref" || return
    check_eq "$name: podman fetched the config and every layer (none reused from its store)" \
        "$(blob_bytes "$layout" "$tag") $(($(layout_blobs "$layout" "$tag" | wc -l) - 1))" \
        "$(registry_blob_bytes_since "$mark" ocipack/test)"
    config=$(layout_blobs "$layout" "$tag" | sed -n 2p)
    check_eq "$name: podman's image ID is the config digest" "${config#sha256:}" \
        "$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$ref" 2>/dev/null)"
    podman_mount_equals "$name: podman image mount equals the source tree" "$ref" "$tree"
}

# --- one layer: the generated rootfs
check "build the rootfs" "$OCIPACK" build "$T/root" -o "$T/layout" --tag one -q
push_and_back "one layer" "$T/layout" one && pull_and_compare "one layer" "$T/layout" one "$T/root"

# --- base + delta: the base layer is shared, the delta has whiteouts
make_delta_trees "$T/v1" "$T/v2" "$SDE"
export SOURCE_DATE_EPOCH=$SDE
check "build the base image" "$OCIPACK" build "$T/v1" -o "$T/layout" --tag v1 -q
check "build the delta image" "$OCIPACK" build "$T/v2" -o "$T/layout" --tag v2 --base "$T/layout:v1" --diff-base "$T/v1" -q
unset SOURCE_DATE_EPOCH
push_and_back "base + delta" "$T/layout" v2 && pull_and_compare "base + delta" "$T/layout" v2 "$T/v2"

# --- the partial-pull hook on a gzip image: containers/storage tries the
# partial path (enable_partial_images) and must decline it for a plain gzip
# layer, fetching the whole blob.
if [ -n "$PODMAN_SKIP" ]; then
    skip "partial-pull hook" "$PODMAN_SKIP"
elif [ "$PODMAN_DRIVER" != overlay ]; then
    skip "partial-pull hook" "podman's overlay driver is unusable here; containers/storage applies partial layers only with overlay"
else
    "${PODMAN[@]}" rmi --all --force >/dev/null 2>&1
    mark=$(registry_log_mark)
    if check "partial-pull hook: podman pull with enable_partial_images" podman_pull_partial "$REGISTRY/ocipack/test:one"; then
        check_eq "partial-pull hook: containers/storage tried and declined the partial path for gzip" \
            "declined: blob type not supported for partial retrieval" "$(podman_partial_pull_outcome)"
        check_eq "partial-pull hook: the whole layer and config were fetched (access log)" \
            "$(blob_bytes "$T/layout" one) 2" "$(registry_blob_bytes_since "$mark" ocipack/test)"
        check_eq "partial-pull hook: storage.conf has partial pulls off again" 'enable_partial_images = "false"' \
            "$(grep enable_partial_images "$PODMAN_STORAGE_CONF")"
    fi
fi

# --- zstd and uncompressed (none) layers of the same rootfs
declare -A MEDIA_TYPE=([zstd]=application/vnd.oci.image.layer.v1.tar+zstd [none]=application/vnd.oci.image.layer.v1.tar)
if "$OCIPACK" build --help 2>&1 | grep -q -- '--compression-format'; then
    for fmt in zstd none; do
        check "$fmt: build the rootfs" "$OCIPACK" build "$T/root" -o "$T/layout" --tag "$fmt" --compression-format "$fmt" -q
        check_eq "$fmt: the layer's media type" "${MEDIA_TYPE[$fmt]}" \
            "$(jq -r '.layers[0].mediaType' "$(blob_path "$T/layout" "$(layout_manifest_digest "$T/layout" "$fmt")")")"
        # containers/image reuses a stored layer of the same diff_id: empty the
        # store so that podman fetches and decodes this layer itself.
        "${PODMAN[@]}" rmi --all --force >/dev/null 2>&1
        push_and_back "$fmt" "$T/layout" "$fmt" && pull_and_compare "$fmt" "$T/layout" "$fmt" "$T/root"
    done
else
    skip "registry: zstd and none layers" "this ocipack has no --compression-format"
fi

services_stop_checked
finish
