#!/bin/bash
# test_zstd.sh OCIPACK
#
# The zstd and uncompressed ("none") layer formats, read back by the tools
# users have. For each of --compression-format zstd and none, on the
# consumer-test rootfs (make_test_rootfs.sh, every entry kind):
#   - the manifest gives the layer media type ...tar+zstd / ...tar;
#   - zstd: `zstd -t` passes, `zstd -dc blob | sha256sum` is the diff_id,
#     `zstd -lv` sees several frames, each with a checksum, and knows the
#     decompressed size (content sizes in the frame headers);
#     none: the blob's sha256 is the diff_id; GNU tar lists the blob
#     (`tar --zstd -tf`, `tar -tf`);
#   - the diff_id equals the gzip layer's of the same tree;
#   - the blob is byte-identical for --threads 1, 2 and 5 and for a second
#     run with 2;
#   - `ocipack verify` passes; `ocipack inspect` (text and --json) names the
#     layer's format;
#   - skopeo copies the image to a docker-archive (the layer inside hashes to
#     the diff_id) and to another OCI layout (which ocipack verify accepts);
#     skopeo 1.9 (Debian 12) refuses zstd into a docker-archive ("zstd
#     compression is not supported for docker images"): the test expects that
#     and goes through --dest-compress-format gzip to an OCI layout;
#   - `podman load` of the --tar-output tarball, then `podman image mount`:
#     the tree containers/storage applied equals the source tree
#     (compare_trees.py, as test_podman.sh does for gzip);
#   - umoci 0.4.7 (Debian): refuses the zstd layer (its message is shown),
#     unpacks the uncompressed one to the source tree.
# Stacking: a gzip layer on a zstd base image, and zstd / none deltas
# (--diff-against-base) on a gzip base and gzip deltas on a zstd and a none
# base;
# each verified, its delta's diff_id equal to the all-gzip delta's, and the
# merged image podman applies equal to the all-gzip image's (see below).
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
T=$TEST_TMP

if ! require_tool zstd tar skopeo podman umoci jq python3 sha256sum; then
    fail "zstd and none layers" "missing tools: $MISSING_TOOLS (scripts/setup.sh installs them)"
    finish
fi
use_private_podman

bash "$(dirname "$0")/make_test_rootfs.sh" "$T/root" >/dev/null 2>&1 || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }
COMMON=(--created @1700000000 --chunk-size 256K -q)

# layer_field LAYOUT TAG INDEX FIELD: a field of the INDEX-th layer descriptor.
layer_field() {
    local manifest
    manifest=$(layout_manifest_digest "$1" "$2")
    jq -r ".layers[$3].$4" "$(blob_path "$1" "$manifest")"
}
layer_blob() { blob_path "$1" "$(layer_field "$1" "$2" "${3:-0}" digest)"; }
diff_id_of() {  # LAYOUT TAG INDEX
    local manifest config
    manifest=$(layout_manifest_digest "$1" "$2")
    config=$(jq -r '.config.digest' "$(blob_path "$1" "$manifest")")
    jq -r ".rootfs.diff_ids[$3]" "$(blob_path "$1" "$config")"
}

# podman_tree_equals NAME TARBALL REF TREE: podman load, image mount, compare.
podman_tree_equals() {
    "${PODMAN[@]}" rmi --all --force >/dev/null 2>&1
    check "$1: podman load of the --tar-output tarball" "${PODMAN[@]}" load -i "$2" || return
    podman_mount_equals "$1: the tree podman applied equals the source" "$3" "$4"
}

check "gzip reference build" "$OCIPACK" build "$T/root" -o "$T/gz" --tag t "${COMMON[@]}"
GZIP_DIFF_ID=$(diff_id_of "$T/gz" t 0)

declare -A MEDIA_TYPE=([zstd]=application/vnd.oci.image.layer.v1.tar+zstd [none]=application/vnd.oci.image.layer.v1.tar
                       [gzip]=application/vnd.oci.image.layer.v1.tar+gzip)
declare -A FORMAT_NAME=([zstd]=zstd [none]=uncompressed)
for fmt in zstd none; do
    L=$T/$fmt
    check "$fmt: build with --tar-output (2 threads)" "$OCIPACK" build "$T/root" -o "$L" --tag "ocipack-$fmt:1" \
        --compression-format "$fmt" --threads 2 --tar-output "$T/$fmt.tar" "${COMMON[@]}" || continue
    blob=$(layer_blob "$L" "ocipack-$fmt:1")
    diff_id=$(diff_id_of "$L" "ocipack-$fmt:1" 0)
    check_eq "$fmt: layer media type" "${MEDIA_TYPE[$fmt]}" "$(layer_field "$L" "ocipack-$fmt:1" 0 mediaType)"
    check_eq "$fmt: diff_id equals the gzip layer's" "$GZIP_DIFF_ID" "$diff_id"
    if [ "$fmt" = zstd ]; then
        check "zstd: zstd -t of the blob" zstd -q -t "$blob"
        check_eq "zstd: zstd -dc blob | sha256sum is the diff_id" "$diff_id" "sha256:$(zstd -dc "$blob" | sha256sum | cut -d' ' -f1)"
        check "zstd: GNU tar --zstd -tf lists the blob" tar --zstd -tf "$blob"
        zstd -lv "$blob" >"$T/zstd-l.out" 2>&1
        frames=$(sed -n 's/^# Zstandard Frames: //p' "$T/zstd-l.out")
        check_contains "zstd: every frame has a checksum (zstd -lv: Check XXH64)" "$T/zstd-l.out" "^Check: XXH64"
        check_contains "zstd: zstd -lv knows the decompressed size (content sizes in the headers)" "$T/zstd-l.out" "^Decompressed Size: .*\($(zstd -dc "$blob" | wc -c) B\)"
        [ "${frames:-0}" -gt 1 ] && pass "zstd: several frames back to back ($frames, zstd -lv)" || fail "zstd: several frames back to back" "zstd -lv says ${frames:-nothing}"
    else
        check_eq "none: the blob is the tar (its sha256 is the diff_id)" "$diff_id" "sha256:$(sha256_of "$blob")"
        check "none: GNU tar -tf lists the blob" tar -tf "$blob"
    fi
    for run in "1 a" "5 b" "2 c"; do
        set -- $run
        check "$fmt: build with $1 threads ($2)" "$OCIPACK" build "$T/root" -o "$T/$fmt-$2" --tag t \
            --compression-format "$fmt" --threads "$1" "${COMMON[@]}" &&
            check "$fmt: same blob for 2 threads and $1 threads ($2)" cmp "$blob" "$(layer_blob "$T/$fmt-$2" t)"
    done
    check "$fmt: ocipack verify" "$OCIPACK" verify "$L"
    check "$fmt: ocipack inspect shows the format" "$OCIPACK" inspect "$L:ocipack-$fmt:1" &&
        check_contains "$fmt: inspect text" "$T/last.out" "^    format  ${FORMAT_NAME[$fmt]}\$"
    check_eq "$fmt: inspect --json format" "${FORMAT_NAME[$fmt]}" "$("$OCIPACK" inspect --json "$L:ocipack-$fmt:1" | jq -r '.layers[0].format')"

    rm -rf "$T/docker-$fmt.tar" "$T/copy-$fmt" "$T/gzcopy-$fmt" "$T/dx"
    docker_source="oci:$L:ocipack-$fmt:1"
    if [ "$fmt" = zstd ]; then
        # skopeo 1.9 (Debian 12) has no zstd in Docker's schema 2: it refuses
        # the direct copy; recompressed to gzip on the way it goes through.
        if skopeo --insecure-policy copy --quiet "$docker_source" "docker-archive:$T/docker-$fmt.tar:example/$fmt:1" >"$T/skopeo.out" 2>&1; then
            fail "zstd: skopeo 1.9 refuses zstd into a docker-archive" "it copied it (update the README's consumer table)"
        else
            pass "zstd: skopeo 1.9 refuses zstd into a docker-archive: $(grep -o 'zstd compression is not supported[^"]*' "$T/skopeo.out" || tail -1 "$T/skopeo.out")"
        fi
        rm -f "$T/docker-$fmt.tar"
        check "zstd: skopeo copy --dest-compress-format gzip to an OCI layout" skopeo --insecure-policy copy --quiet \
            --dest-compress-format gzip "$docker_source" "oci:$T/gzcopy-$fmt:t"
        docker_source="oci:$T/gzcopy-$fmt:t"
    fi
    if check "$fmt: skopeo copy to docker-archive" skopeo --insecure-policy copy --quiet "$docker_source" \
        "docker-archive:$T/docker-$fmt.tar:example/$fmt:1"; then
        mkdir -p "$T/dx" && tar -xf "$T/docker-$fmt.tar" -C "$T/dx"
        layer=$(jq -r '.[0].Layers[0]' "$T/dx/manifest.json")
        check_eq "$fmt: docker-archive layer hashes to the diff_id" "$diff_id" "sha256:$(sha256_of "$T/dx/$layer")"
    fi
    if check "$fmt: skopeo copy to another OCI layout" skopeo --insecure-policy copy --quiet "oci:$L:ocipack-$fmt:1" \
        "oci:$T/copy-$fmt:t"; then
        check "$fmt: ocipack verify of skopeo's copy" "$OCIPACK" verify "$T/copy-$fmt"
        check_eq "$fmt: skopeo's copy keeps the diff_id" "$diff_id" "$(diff_id_of "$T/copy-$fmt" t 0)"
    fi
    podman_tree_equals "$fmt" "$T/$fmt.tar" "localhost/ocipack-$fmt:1" "$T/root"
done

# umoci 0.4.7 reads gzip and plain tar layers only.
rm -rf "$T/bundle"
if umoci unpack --image "$T/zstd:ocipack-zstd:1" "$T/bundle" >"$T/umoci.out" 2>&1; then
    fail "umoci 0.4.7 refuses a zstd layer" "it unpacked it (update the README's consumer table)"
else
    pass "umoci 0.4.7 refuses a zstd layer: $(grep -m1 -o 'unsupported[^"]*\|unknown[^"]*' "$T/umoci.out" || tail -1 "$T/umoci.out")"
fi
rm -rf "$T/bundle"
if check "none: umoci unpack" umoci unpack --image "$T/none:ocipack-none:1" "$T/bundle"; then
    check "none: umoci's tree equals the source" python3 "$TESTS_DIR/compare_trees.py" --ignore-sockets "$T/root" "$T/bundle/rootfs"
fi

# --- stacking: formats mix within one image.
mkdir -p "$T/top/srv" && echo top > "$T/top/srv/top.txt" && touch -d @1700000000 "$T/top/srv/top.txt" "$T/top/srv" "$T/top"
check "gzip layer on a zstd base image" "$OCIPACK" build "$T/top" -o "$T/stack" --tag gz-on-zstd \
    --base "$T/zstd:ocipack-zstd:1" "${COMMON[@]}"
check_eq "gzip on zstd: layer media types" "${MEDIA_TYPE[zstd]} application/vnd.oci.image.layer.v1.tar+gzip" \
    "$(layer_field "$T/stack" gz-on-zstd 0 mediaType) $(layer_field "$T/stack" gz-on-zstd 1 mediaType)"
check "gzip on zstd: ocipack verify" "$OCIPACK" verify "$T/stack"

# A changed tree: a file modified, one removed, one added.
cp -a "$T/root" "$T/new"
echo changed >> "$T/new/etc/hello.txt"
rm "$T/new/etc/empty-file"
echo added > "$T/new/added.txt"
touch -d @1700000000 "$T/new/added.txt" "$T/new/etc/hello.txt" "$T/new/etc" "$T/new"
# podman's vfs driver makes each layer's tree as a copy of the one below,
# and that copy loses hard links between special files and trusted.*
# xattrs (edge/ has both): so a merged image is compared with podman's own
# result for the all-gzip image (gzip delta on the gzip base), entry by
# entry, and the delta's own files with the new tree.
podman_mount() {  # NAME TARBALL REF -> prints the mount point
    "${PODMAN[@]}" load -i "$2" >/dev/null 2>"$T/load.err" || { fail "$1: podman load" "$(head -2 "$T/load.err")"; return 1; }
    "${PODMAN[@]}" image mount "$3" 2>"$T/mount.err" || { fail "$1: podman image mount $3" "$(head -2 "$T/mount.err")"; return 1; }
}
"${PODMAN[@]}" rmi --all --force >/dev/null 2>&1
check "gzip delta on the gzip base (reference)" "$OCIPACK" build "$T/new" -o "$T/delta-ref" --tag delta:ref \
    --base "$T/gz:t" --diff-against-base --tar-output "$T/delta-ref.tar" "${COMMON[@]}"
ref_dir=$(podman_mount "reference" "$T/delta-ref.tar" localhost/delta:ref) || ref_dir=
for pair in "gzip zstd" "gzip none" "zstd gzip" "none gzip"; do
    set -- $pair
    base=$1 top=$2
    case $base in gzip) base_ref="$T/gz:t" ;; *) base_ref="$T/$base:ocipack-$base:1" ;; esac
    name="$top delta on a $base base"
    rm -rf "$T/delta"
    check "$name: build --diff-against-base" "$OCIPACK" build "$T/new" -o "$T/delta" --tag "delta:$top-on-$base" \
        --base "$base_ref" --diff-against-base --compression-format "$top" --tar-output "$T/delta-$top-on-$base.tar" "${COMMON[@]}" || continue
    check_eq "$name: layer media types" "${MEDIA_TYPE[$base]} ${MEDIA_TYPE[$top]}" \
        "$(layer_field "$T/delta" "delta:$top-on-$base" 0 mediaType) $(layer_field "$T/delta" "delta:$top-on-$base" 1 mediaType)"
    check "$name: ocipack verify" "$OCIPACK" verify "$T/delta"
    check_eq "$name: the delta's diff_id is the reference delta's" "$(diff_id_of "$T/delta-ref" delta:ref 1)" "$(diff_id_of "$T/delta" "delta:$top-on-$base" 1)"
    if [ -n "$ref_dir" ] && dir=$(podman_mount "$name" "$T/delta-$top-on-$base.tar" "localhost/delta:$top-on-$base"); then
        if python3 "$TESTS_DIR/compare_trees.py" "$ref_dir" "$dir" >"$T/cmp.out" 2>&1; then
            pass "$name: podman's merged tree equals the all-gzip image's ($(tail -1 "$T/cmp.out"))"
        else
            fail "$name: podman's merged tree equals the all-gzip image's" "$(head -8 "$T/cmp.out")"
        fi
        check_eq "$name: added, changed and removed files" "added|changed|gone" \
            "$(cat "$dir/added.txt")|$(tail -1 "$dir/etc/hello.txt")|$([ -e "$dir/etc/empty-file" ] && echo there || echo gone)"
        "${PODMAN[@]}" image unmount "localhost/delta:$top-on-$base" >/dev/null 2>&1
    fi
done
finish
