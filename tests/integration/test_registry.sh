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
# partial path and fetch the whole layer. Last, a multi-platform tag made by
# `ocipack index` (amd64 + arm64 + arm/v7) goes up and back with `skopeo copy
# --all` (same index digest, every blob identical, verify passes), podman
# pulls its arm64 image with --arch arm64, and the amd64 image's SBOM
# referrer is pushed by digest through the registry API and fetched back
# identical (registry_api.py).
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

# --- a multi-platform tag (nested image index) and an SBOM referrer
# Three small images (amd64 with an SPDX SBOM, arm64, arm/v7) become one
# tag with `ocipack index`. `skopeo copy --all` pushes the index and every
# platform; the registry serves ocipack's index byte for byte; copied back,
# every manifest and blob has its digest and ocipack verify passes; podman
# pulls the arm64 image by --arch. The SBOM (an OCI 1.1 artifact manifest
# whose subject is the amd64 manifest) is pushed by digest with the
# registry API (registry_api.py: skopeo 1.9 cannot push referrers) and
# fetched back identical.
mk_platform_tree() {  # DIR WORD: a small tree whose content depends on WORD
    mkdir -p "$1/etc" "$1/usr/bin"
    echo "$2" >"$1/etc/hostname"
    printf '%s%.0s' "$2" $(seq 1 3000) >"$1/usr/bin/tool"
    chmod 755 "$1/usr/bin/tool"
    find "$1" -exec touch -h -d "@$SDE" {} +
}
cat >"$T/sbom.spdx.json" <<'EOF'
{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"multi-amd64",
 "documentNamespace":"http://spdx.org/spdxdocs/multi-amd64-1","creationInfo":{"created":"2023-11-14T22:13:20Z","creators":["Tool: test"]},
 "packages":[{"name":"tool","SPDXID":"SPDXRef-tool","downloadLocation":"NOASSERTION"}]}
EOF
export SOURCE_DATE_EPOCH=$SDE
for p in amd64 arm64 arm; do mk_platform_tree "$T/tree-$p" "$p"; done
check "multi: build amd64 with --sbom" "$OCIPACK" build "$T/tree-amd64" -o "$T/p-amd64" --tag t --arch amd64 --sbom "$T/sbom.spdx.json" -q
check "multi: build arm64" "$OCIPACK" build "$T/tree-arm64" -o "$T/p-arm64" --tag t --arch arm64 -q
check "multi: build arm/v7" "$OCIPACK" build "$T/tree-arm" -o "$T/p-arm" --tag t --arch arm --variant v7 -q
unset SOURCE_DATE_EPOCH
check "multi: ocipack index of the three" "$OCIPACK" index -o "$T/multi" --tag 1.0 "$T/p-amd64:t" "$T/p-arm64:t" "$T/p-arm:t"
INDEX_DIGEST=$(layout_manifest_digest "$T/multi" 1.0)
MREF=docker://$REGISTRY/ocipack/multi:1.0
if check "multi: skopeo copy --all to the registry" "${COPY[@]}" --all --dest-tls-verify=false "oci:$T/multi:1.0" "$MREF"; then
    check_eq "multi: skopeo inspect --raw is ocipack's index byte for byte" "$INDEX_DIGEST" \
        "sha256:$("${SKOPEO[@]}" inspect --raw --tls-verify=false "$MREF" | sha256sum | cut -d' ' -f1)"
    check_eq "multi: the registry lists the platforms in ocipack's order" "linux/amd64 linux/arm64 linux/arm/v7" \
        "$("${SKOPEO[@]}" inspect --raw --tls-verify=false "$MREF" |
           jq -r '[.manifests[].platform | [.os, .architecture, .variant] | map(select(. != null)) | join("/")] | join(" ")')"
    check "multi: skopeo copy --all back into a new layout" "${COPY[@]}" --all --src-tls-verify=false "$MREF" "oci:$T/multi-back:1.0"
    check_eq "multi: the copy back has ocipack's index digest" "$INDEX_DIGEST" "$(layout_manifest_digest "$T/multi-back" 1.0)"
    differ=""
    for p in amd64 arm64 arm; do
        for d in $(layout_blobs "$T/p-$p" t); do
            cmp -s "$(blob_path "$T/p-$p" "$d")" "$(blob_path "$T/multi-back" "$d")" || differ+="$p:$d "
        done
    done
    check_eq "multi: every manifest, config and layer blob byte-identical after the round trip" "" "$differ"
    check "multi: ocipack verify of the copy back (index and every image)" "$OCIPACK" verify "$T/multi-back"
    if [ -n "$PODMAN_SKIP" ]; then
        skip "multi: podman pull --arch arm64" "$PODMAN_SKIP"
    else
        "${PODMAN[@]}" rmi --all --force >/dev/null 2>&1
        if check "multi: podman pull --arch arm64 of the multi-platform tag" \
            "${PODMAN[@]}" pull --arch arm64 --tls-verify=false --signature-policy "$PODMAN_POLICY" "$REGISTRY/ocipack/multi:1.0"; then
            check_eq "multi: podman picked the arm64 image (architecture, image ID = its config digest)" \
                "arm64 $(layout_blobs "$T/p-arm64" t | sed -n 2p | cut -d: -f2)" \
                "$("${PODMAN[@]}" image inspect --format '{{.Architecture}} {{.Id}}' "$REGISTRY/ocipack/multi:1.0" 2>/dev/null)"
            podman_mount_equals "multi: the arm64 image mounted equals its tree" "$REGISTRY/ocipack/multi:1.0" "$T/tree-arm64"
        fi
    fi
    API=(python3 "$(dirname "$0")/registry_api.py")
    # ocipack index carried the amd64 image's referrer into the multi-platform layout.
    SBOM_REF=$(jq -r '.manifests[] | select(.artifactType == "application/spdx+json") | .digest' "$T/multi/index.json")
    check_eq "multi: the SBOM referrer's subject is the amd64 manifest" "$(layout_manifest_digest "$T/p-amd64" t)" \
        "$(jq -r '.subject.digest' "$(blob_path "$T/multi" "$SBOM_REF")")"
    check_eq "multi: the SBOM referrer pushed by digest (registry API), the registry answers its digest" "$SBOM_REF" \
        "$("${API[@]}" push-manifest "$REGISTRY" ocipack/multi "$T/multi" "$SBOM_REF" 2>&1)"
    "${API[@]}" get-manifest "$REGISTRY" ocipack/multi "$SBOM_REF" "$T/sbom-manifest.back" 2>"$T/get.err"
    check "multi: the SBOM artifact manifest fetched back by digest is identical" \
        cmp "$(blob_path "$T/p-amd64" "$SBOM_REF")" "$T/sbom-manifest.back"
    "${API[@]}" get-blob "$REGISTRY" ocipack/multi "$(jq -r '.layers[0].digest' "$T/sbom-manifest.back")" "$T/sbom.back" 2>"$T/get.err"
    check "multi: the SBOM document fetched back is the file given to --sbom" cmp "$T/sbom.spdx.json" "$T/sbom.back"
    check_eq "multi: its subject (the amd64 manifest) is in the registry" 200 \
        "$("${API[@]}" head-manifest "$REGISTRY" ocipack/multi "$(jq -r '.subject.digest' "$T/sbom-manifest.back")")"
fi

services_stop_checked
finish
