#!/bin/bash
# test_zstd_chunked.sh OCIPACK
#
# zstd:chunked layers (--compression-format zstd:chunked) read by real
# consumers:
#   - the blob is a valid zstd stream (`zstd -t`) whose decompression is the
#     layer's tar: `zstd -dc | sha256sum` = the config's diff_id, equal to
#     the diff_id of the gzip layer of the same tree;
#   - the same bytes for --threads 1 and 3;
#   - the checker built from Debian's containers/storage and tar-split
#     (tests/tools/zstd_chunked_check) reads the TOC through the legacy and
#     the current annotations with containers/storage's own code, checks the
#     footer, every file's frames and chunks, and rebuilds the tar from TOC
#     + tar-split byte-identical to the decompressed blob; it is first run
#     on a zstd:chunked layer podman 4.3 itself wrote, so it is proven on a
#     real producer's output before it judges ocipack's;
#   - `ocipack verify` accepts the layout; `ocipack inspect` (text and
#     --json) names the format zstd:chunked;
#   - skopeo copies the image oci → oci (containers/image decodes zstd);
#   - `podman load` of the --tar-output tarball, and `podman image mount`
#     equals the source tree (compare_trees.py);
#   - partial pulls: two images (b = a + one file) pushed to Debian's
#     docker-registry on 127.0.0.1 and pulled by podman 4.3 into an overlay
#     store with enable_partial_images: each pulled partially, b after a
#     fetching under a tenth of its layer (access log), and b's files as
#     containers/storage assembled them equal to its tree;
#   - a layer with a name that is not UTF-8 (the TOC cannot hold it) gets
#     no zstd:chunked annotations and still decompresses to its diff_id.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_services.sh"
init_test "${1:-}"
T=$TEST_TMP
HERE=$(cd "$(dirname "$0")" && pwd)

if ! require_tool zstd jq python3 sha256sum; then
    fail "zstd:chunked" "missing tools: $MISSING_TOOLS (scripts/setup.sh installs them)"
    finish
fi

bash "$HERE/make_test_rootfs.sh" "$T/root" >/dev/null 2>&1 || { fail "make rootfs" "make_test_rootfs.sh failed"; finish; }
# A name that is not UTF-8 cannot be in the TOC: such a layer gets no
# annotations (checked at the end); the main tree leaves it out.
mkdir -p "$T/latin/etc"
mv "$T/root"/edge/latin1-* "$T/latin/etc/"
# A big file of mixed content, so that files are cut into several chunks.
python3 -c "
import random
r = random.Random(7)
with open('$T/root/big.bin', 'wb') as f:
    for i in range(48):
        f.write(bytes(r.getrandbits(8) for _ in range(40000)) if i % 3 else b'text line %d\n' % i * 4000)
"

L=$T/layout
check "build zstd:chunked (--threads 3)" "$OCIPACK" build "$T/root" -o "$L" --tag c:1 --compression-format zstd:chunked \
    --threads 3 --tar-output "$T/image.tar" --created @1700000000 -q
check "build zstd:chunked (--threads 1)" "$OCIPACK" build "$T/root" -o "$T/one" --tag c:1 --compression-format zstd:chunked \
    --threads 1 --created @1700000000 -q
check "build gzip" "$OCIPACK" build "$T/root" -o "$T/gzip" --tag g:1 --created @1700000000 -q

layer_of() { # LAYOUT TAG → the manifest's first layer descriptor (JSON)
    local manifest
    manifest=$(jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json")
    jq -c '.layers[0]' "$1/blobs/sha256/${manifest#sha256:}"
}
diff_id_of() {
    local manifest config
    manifest=$(jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json")
    config=$(jq -r '.config.digest' "$1/blobs/sha256/${manifest#sha256:}")
    jq -r '.rootfs.diff_ids[0]' "$1/blobs/sha256/${config#sha256:}"
}

check "ocipack inspect names the format" "$OCIPACK" inspect "$L:c:1" &&
    check_contains "inspect text: zstd:chunked" "$T/last.out" "^    format  zstd:chunked\$"
check_eq "inspect --json format: zstd:chunked" "zstd:chunked" "$("$OCIPACK" inspect --json "$L:c:1" | jq -r '.layers[0].format')"

layer=$(layer_of "$L" c:1)
blob=$L/blobs/sha256/$(jq -r '.digest' <<<"$layer" | cut -d: -f2)
jq '.annotations' <<<"$layer" >"$T/annotations.json"
diff_id=$(diff_id_of "$L" c:1)
check_eq "media type" "application/vnd.oci.image.layer.v1.tar+zstd" "$(jq -r '.mediaType' <<<"$layer")"
check_eq "annotations: current and legacy keys" \
    "io.containers.zstd-chunked.manifest-checksum io.containers.zstd-chunked.manifest-position io.github.containers.zstd-chunked.manifest-checksum io.github.containers.zstd-chunked.manifest-position io.github.containers.zstd-chunked.tarsplit-position" \
    "$(jq -r 'keys | join(" ")' "$T/annotations.json")"
check "zstd -t" zstd -t -q "$blob"
check_eq "zstd -dc | sha256sum = diff_id" "$diff_id" "sha256:$(zstd -dc "$blob" | sha256sum | cut -d' ' -f1)"
check_eq "diff_id equals the gzip layer's" "$(diff_id_of "$T/gzip" g:1)" "$diff_id"
check_eq "same blob for --threads 1 and 3" "$(jq -r '.digest' <<<"$layer")" "$(layer_of "$T/one" c:1 | jq -r '.digest')"
chunks=$(python3 - "$blob" "$T/annotations.json" <<'EOF'
import json, subprocess, sys
blob = open(sys.argv[1], 'rb').read()
a = json.load(open(sys.argv[2]))
off, ln, size, _ = map(int, a['io.github.containers.zstd-chunked.manifest-position'].split(':'))
toc = json.loads(subprocess.run(['zstd', '-dc'], input=blob[off:off + ln], capture_output=True, check=True).stdout)
print(sum(1 for e in toc['entries'] if e['type'] == 'chunk'))
EOF
)
if [ "${chunks:-0}" -gt 0 ] 2>/dev/null; then pass "big.bin is cut into chunks ($chunks chunk entries)"; else fail "big.bin is cut into chunks" "no chunk entries in the TOC"; fi

# The checker, built offline from Debian's Go packages.
if build_chunked_checker "$T/checker"; then
    if require_tool podman; then
        use_private_podman
        tar -C "$T/root" --exclude ./run/sock -cf "$T/src.tar" . 2>/dev/null
        if "${PODMAN[@]}" import "$T/src.tar" localhost/src:1 >/dev/null 2>&1 &&
           "${PODMAN[@]}" push -q --compression-format zstd:chunked localhost/src:1 "oci:$T/podman:p" >/dev/null 2>"$T/push.err"; then
            player=$(layer_of "$T/podman" p)
            jq '.annotations' <<<"$player" >"$T/pann.json"
            check "checker accepts podman 4.3's own zstd:chunked layer" \
                "$T/checker" "$T/podman/blobs/sha256/$(jq -r '.digest' <<<"$player" | cut -d: -f2)" "$T/pann.json"
        else
            fail "podman push --compression-format zstd:chunked" "$(head -3 "$T/push.err")"
        fi
    else
        skip "checker on podman's own layer" "podman missing"
    fi
    check "checker: TOC, footer, frames, chunks, tar rebuilt from TOC + tar-split" \
        "$T/checker" "$blob" "$T/annotations.json" "$T/rebuilt.tar"
    check_eq "checker: rebuilt tar's sha256 = diff_id" "$diff_id" "sha256:$(sha256sum "$T/rebuilt.tar" 2>/dev/null | cut -d' ' -f1)"
fi

check "ocipack verify" "$OCIPACK" verify "$L"
# A manifest whose TOC checksum annotation is wrong (manifest and index
# rewritten to match, so only the zstd:chunked check can notice).
cp -a "$L" "$T/tampered"
python3 - "$T/tampered" <<'EOF'
import hashlib, json, os, sys
layout = sys.argv[1]
index = json.load(open(f'{layout}/index.json'))
entry = index['manifests'][0]
path = f"{layout}/blobs/sha256/{entry['digest'].split(':')[1]}"
manifest = json.load(open(path))
manifest['layers'][0]['annotations']['io.github.containers.zstd-chunked.manifest-checksum'] = 'sha256:' + '0' * 64
data = json.dumps(manifest).encode()
digest = hashlib.sha256(data).hexdigest()
open(f'{layout}/blobs/sha256/{digest}', 'wb').write(data)
os.remove(path)
entry['digest'], entry['size'] = 'sha256:' + digest, len(data)
json.dump(index, open(f'{layout}/index.json', 'w'))
EOF
if "$OCIPACK" verify "$T/tampered" >"$T/verify.out" 2>&1; then
    fail "verify finds a wrong TOC checksum" "verify accepted it"
else
    check_contains "verify finds a wrong TOC checksum" "$T/verify.out" "zstd:chunked: TOC checksum is sha256:[0-9a-f]{64}, the annotations say sha256:0{64}"
fi

if require_tool skopeo; then
    check "skopeo copy oci → oci" skopeo copy -q "oci:$L:c:1" "oci:$T/copy:c"
else
    skip "skopeo copy" "skopeo missing"
fi

if require_tool podman; then
    use_private_podman
    if "${PODMAN[@]}" load -q -i "$T/image.tar" >"$T/load.out" 2>&1; then
        pass "podman load of the --tar-output tarball"
        podman_mount_equals "podman image mount equals the source tree" localhost/c:1 "$T/root"
    else
        fail "podman load of the --tar-output tarball" "$(tail -3 "$T/load.out")"
    fi
else
    skip "podman load" "podman missing"
fi

# --- partial pulls: the images pushed to Debian's docker-registry (on
# 127.0.0.1) and pulled by podman 4.3 into an overlay store with
# enable_partial_images (lib_services.sh). Image b is image a plus one file:
# its layer shares every other file with a's, so a partial pull of b after
# a fetches only what a lacks (bytes counted in the registry's access log).
if ! require_tool docker-registry skopeo podman ss; then
    skip "partial pulls" "missing tools: $MISSING_TOOLS"
elif ! start_registry; then
    skip "partial pulls" "$SERVICE_SKIP_REASON"
elif ! start_private_podman overlay; then
    skip "partial pulls" "containers/storage applies partial layers only with overlay, unusable here: $SERVICE_SKIP_REASON"
else
    # containers/storage 1.43's partial pull skips FIFOs and devices (and so
    # fails on a hard link to one, then pulls the whole layer) and does not
    # chown symlinks: the trees leave those out. It sets no directory or
    # symlink times, and keeps times before 1970 (no --floor 0 then).
    cp -a "$T/root" "$T/tree-a"
    find "$T/tree-a" \( -type p -o -type c -o -type b -o \( -type l \( ! -uid 0 -o ! -gid 0 \) \) \) -delete
    cp -a "$T/tree-a" "$T/tree-b" && echo "only in b" >"$T/tree-b/new.txt"
    check "partial pulls: build a and b" bash -c "'$OCIPACK' build '$T/tree-a' -o '$T/pp' --tag a --compression-format zstd:chunked --created @1700000000 -q &&
        '$OCIPACK' build '$T/tree-b' -o '$T/pp' --tag b --compression-format zstd:chunked --created @1700000000 -q"
    for tag in a b; do
        check "partial pulls: push $tag to the registry (digests preserved)" registry_push "$T/pp" "$tag" "ocipack/chunked:$tag"
    done
    size_b=$(layer_of "$T/pp" b | jq -r '.size')
    for tag in a b; do
        mark=$(registry_log_mark)
        if check "partial pulls: podman pull $tag with enable_partial_images" podman_pull_partial "$REGISTRY/ocipack/chunked:$tag"; then
            check_eq "partial pulls: $tag's layer was pulled partially" "partial: 1 blob(s)" "$(podman_partial_pull_outcome)"
            read -r bytes gets <<<"$(registry_blob_bytes_since "$mark" ocipack/chunked)"
            echo "# partial pull of $tag: $bytes bytes in $gets blob GETs (layer of b: $size_b bytes)"
        fi
    done
    if [ "${bytes:-$size_b}" -lt $((size_b / 10)) ]; then
        pass "partial pulls: b after a fetched $bytes of its layer's $size_b bytes"
    else
        fail "partial pulls: b after a fetched less than a tenth of its layer" "${bytes:-?} of $size_b bytes"
    fi
    podman_mount_equals "partial pulls: b as containers/storage assembled it equals its tree (owners, modes, file mtimes, contents)" \
        "$REGISTRY/ocipack/chunked:b" "$T/tree-b" --skip-dir-mtime --skip-symlink-mtime --floor=-9223372036
fi

# The tree with a name that is not UTF-8: zstd:chunked layout, no annotations.
check "build zstd:chunked of a non-UTF-8 name" "$OCIPACK" build "$T/latin" -o "$T/latin-layout" --tag l:1 \
    --compression-format zstd:chunked --created @1700000000 -q
latin=$(layer_of "$T/latin-layout" l:1)
check_eq "non-UTF-8 name: no zstd:chunked annotations" "null" "$(jq -c '.annotations' <<<"$latin")"
check_eq "non-UTF-8 name: zstd -dc | sha256sum = diff_id" "$(diff_id_of "$T/latin-layout" l:1)" \
    "sha256:$(zstd -dc "$T/latin-layout/blobs/sha256/$(jq -r '.digest' <<<"$latin" | cut -d: -f2)" | sha256sum | cut -d' ' -f1)"
check "non-UTF-8 name: ocipack verify" "$OCIPACK" verify "$T/latin-layout"

finish
