#!/bin/bash
# test_real_rootfs.sh OCIPACK
#
# The acceptance check on a real distribution: a Debian bookworm minbase
# rootfs (mmdebstrap, cached by scripts/prepare_bench_rootfs.sh; ~180 MiB,
# thousands of files, hard links, setuid binaries, capabilities where Debian
# sets them) is packed by ocipack and must be accepted by all five consumers:
#   - oci-image-tool validate + create;
#   - umoci unpack, with the unpacked tree identical to the input (every
#     attribute compare_trees.py knows: type, mode, ids, size, content,
#     link targets, hard-link identity, device numbers, xattrs, mtimes);
#   - skopeo copy to docker-archive and skopeo inspect;
#   - podman load of the layout tarball (--tar-output), with the layer as
#     containers/storage applied it identical to the input;
#   - runc run of the image: /bin/sh from the image prints /etc/debian_version;
#   - zstd and zstd:chunked layers of it: the gzip layer's diff_id, verify,
#     the zstd:chunked checker (containers/storage's code), podman load.
# The same rootfs given as its tar gives the same layer digest.
# When no real rootfs can be had (no archive), the fallback tree from /usr is
# used and the test says so; runc is skipped only where it cannot run at all.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
HERE=$(cd "$(dirname "$0")" && pwd)

ROOT=$("$HERE/../../scripts/prepare_bench_rootfs.sh" 2>"$TEST_TMP/prepare.err" | tail -1)
if [ -z "$ROOT" ] || [ ! -d "$ROOT" ]; then
    fail "prepare rootfs" "$(tail -3 "$TEST_TMP/prepare.err")"
    finish
fi
grep -q "fallback" "$TEST_TMP/prepare.err" && echo "# NOTE: no Debian archive; using the /usr fallback tree"
echo "# rootfs: $ROOT ($(du -sh "$ROOT" | cut -f1), $(find "$ROOT" | wc -l) entries)"

L=$TEST_TMP/layout
check "ocipack build (real rootfs)" "$OCIPACK" build "$ROOT" -o "$L" --tag bookworm --tar-output "$TEST_TMP/bookworm.tar" \
    --cmd "/bin/sh -c 'echo debian-version: \$(cat /etc/debian_version)'" --env PATH=/usr/sbin:/usr/bin:/sbin:/bin -q
check "oci-image-tool validate" oci-image-tool validate --type image --ref name=bookworm "$L"
check "oci-image-tool create" oci-image-tool create --type imageLayout --ref name=bookworm "$L" "$TEST_TMP/oit-bundle"

check "umoci unpack" umoci unpack --image "$L:bookworm" "$TEST_TMP/bundle"
check "unpacked tree equals the input" python3 "$HERE/compare_trees.py" --ignore-sockets "$ROOT" "$TEST_TMP/bundle/rootfs"

# The same rootfs as the tar it came from (mmdebstrap's own tar, or GNU
# tar's for the fallback tree): both readers of the tar input (libarchive and
# the framing scanner) must accept a real distribution tar, and the layer
# must be the directory's, byte for byte.
TARBALL=$(dirname "$ROOT")/$(basename "$ROOT").tar
if [ ! -f "$TARBALL" ]; then
    TARBALL=$TEST_TMP/rootfs.tar
    tar --xattrs --xattrs-include='*' --numeric-owner -C "$ROOT" -cf "$TARBALL" . 2>"$TEST_TMP/tar.err" ||
        fail "make a tar of the fallback tree" "$(tail -1 "$TEST_TMP/tar.err")"
fi
check "ocipack build from the rootfs tar $(basename "$TARBALL")" "$OCIPACK" build "$TARBALL" -o "$L" --tag from-tar -q \
    --cmd "/bin/sh -c 'echo debian-version: \$(cat /etc/debian_version)'" --env PATH=/usr/sbin:/usr/bin:/sbin:/bin
check_eq "tar input gives the directory's layer" "$(jq -r '.layers[0].digest' <<<"$("$OCIPACK" inspect --json "$L:bookworm")")" \
    "$(jq -r '.layers[0].digest' <<<"$("$OCIPACK" inspect --json "$L:from-tar")")"

check "skopeo copy to docker-archive" skopeo copy --quiet "oci:$L:bookworm" "docker-archive:$TEST_TMP/docker.tar:ocipack/bookworm:latest"
check_eq "skopeo inspect: one layer" 1 "$(skopeo inspect "oci:$L:bookworm" | jq '.Layers | length')"

if require_tool podman; then
    use_private_podman
    if check "podman load of the layout tarball" "${PODMAN[@]}" load -i "$TEST_TMP/bookworm.tar"; then
        if dir=$("${PODMAN[@]}" image mount localhost/bookworm 2>"$TEST_TMP/mount.err") && [ -d "$dir" ]; then
            check "podman: the applied layer equals the input (compare_trees.py --floor 0)" \
                python3 "$HERE/compare_trees.py" --ignore-sockets --floor 0 "$ROOT" "$dir"
            "${PODMAN[@]}" image unmount localhost/bookworm >/dev/null 2>&1
        else
            fail "podman image mount" "$(head -2 "$TEST_TMP/mount.err")"
        fi
    fi
else
    fail "podman load" "missing tools: $MISSING_TOOLS"
fi

# zstd and zstd:chunked layers of the same rootfs: the same diff_id as the
# gzip layer, verify (frames, tar, TOC against the tar) accepts them, the
# zstd:chunked layer read by containers/storage's own code (the checker
# rebuilds the tar from TOC + tar-split), and podman loads it and applies
# the input tree.
gzip_diff_id=$(jq -r '.layers[0].diff_id' <<<"$("$OCIPACK" inspect --json "$L:bookworm")")
for fmt in zstd zstd:chunked; do
    tag=${fmt/:/-} Z=$TEST_TMP/${fmt/:/-}-layout  # a layout each: the tarball holds one image
    check "ocipack build --compression-format $fmt (real rootfs)" "$OCIPACK" build "$ROOT" -o "$Z" --tag "$tag" -q \
        --compression-format "$fmt" --tar-output "$TEST_TMP/$tag.tar"
    check_eq "$fmt: diff_id equals the gzip layer's" "$gzip_diff_id" \
        "$(jq -r '.layers[0].diff_id' <<<"$("$OCIPACK" inspect --json "$Z:$tag")")"
    check_eq "$fmt: zstd -dc | sha256sum = diff_id" "$gzip_diff_id" \
        "sha256:$(zstd -dc "$(blob_path "$Z" "$(jq -r '.layers[0].digest' <<<"$("$OCIPACK" inspect --json "$Z:$tag")")")" | sha256sum | cut -d' ' -f1)"
    check "ocipack verify of the $fmt layer" "$OCIPACK" verify "$Z"
done
Z=$TEST_TMP/zstd-chunked-layout
if build_chunked_checker "$TEST_TMP/checker"; then
    layer=$(jq -c '.layers[0]' "$(blob_path "$Z" "$(layout_manifest_digest "$Z" zstd-chunked)")")
    jq '.annotations' <<<"$layer" >"$TEST_TMP/annotations.json"
    check "zstd:chunked checker (containers/storage): TOC, footer, frames, tar rebuilt" "$TEST_TMP/checker" \
        "$(blob_path "$Z" "$(jq -r '.digest' <<<"$layer")")" "$TEST_TMP/annotations.json" "$TEST_TMP/rebuilt.tar"
    check_eq "zstd:chunked: the tar rebuilt from TOC + tar-split has the diff_id" "$gzip_diff_id" \
        "sha256:$(sha256sum "$TEST_TMP/rebuilt.tar" 2>/dev/null | cut -d' ' -f1)"
    rm -f "$TEST_TMP/rebuilt.tar"
fi
if require_tool podman; then
    if check "podman load of the zstd:chunked tarball" "${PODMAN[@]}" load -i "$TEST_TMP/zstd-chunked.tar"; then
        podman_mount_equals "podman: the zstd:chunked layer applied equals the input" localhost/zstd-chunked "$ROOT"
    fi
fi

if require_tool runc jq; then
    B=$TEST_TMP/bundle
    jq '.process.terminal = false' "$B/config.json" > "$B/config.tmp" && mv "$B/config.tmp" "$B/config.json"
    # Can runc run anything here? A hand-made busybox bundle decides.
    R=$TEST_TMP/reference
    mkdir -p "$R/rootfs/bin" && cp /bin/busybox "$R/rootfs/bin/" 2>/dev/null && ln -s busybox "$R/rootfs/bin/sh"
    (cd "$R" && runc spec >/dev/null 2>&1) && jq '.process.terminal = false | .process.args = ["/bin/sh", "-c", "true"]' "$R/config.json" > "$R/c" && mv "$R/c" "$R/config.json"
    if ! timeout 60 runc --root "$TEST_TMP/runc" run -b "$R" ocipack-ref-$$ >/dev/null 2>"$TEST_TMP/ref.err"; then
        skip "runc run" "runc cannot run even a reference busybox bundle here: $(head -1 "$TEST_TMP/ref.err")"
    elif timeout 60 runc --root "$TEST_TMP/runc" run -b "$B" ocipack-real-$$ >"$TEST_TMP/runc.out" 2>"$TEST_TMP/runc.err"; then
        check_contains "runc run prints from inside the image" "$TEST_TMP/runc.out" "^debian-version: [0-9]"
    else
        fail "runc run" "$(head -3 "$TEST_TMP/runc.err")"
    fi
    runc --root "$TEST_TMP/runc" delete --force ocipack-ref-$$ >/dev/null 2>&1
    runc --root "$TEST_TMP/runc" delete --force ocipack-real-$$ >/dev/null 2>&1
else
    skip "runc run" "missing tools: $MISSING_TOOLS"
fi
finish
