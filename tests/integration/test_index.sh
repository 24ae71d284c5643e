#!/bin/bash
# test_index.sh OCIPACK
#
# `ocipack index` with the consumers: three images built from small trees
# for amd64, arm64 and arm/v7 become one multi-platform tag (a nested image
# index); skopeo reads it (inspect --raw, copy --all into another layout keeps
# the index digest), oci-image-tool validates it, ocipack verify checks the
# index and every image, inspect lists the platforms and picks one with
# --platform, build --base picks one (given, or the build's --arch); --add
# replaces one platform's entry in place, --remove drops one; the same inputs
# give the same bytes (from directories and from --tar-output tarballs);
# refusals (two images of one platform, an index source without --flatten,
# a corrupt blob in the last source, a tarball with a ../ member) leave the
# output layout byte for byte as it was; gc keeps every image the index reaches.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
T=$TEST_TMP
export SOURCE_DATE_EPOCH=1700000000

mk_tree() {  # dir word: a small tree whose content depends on the word
    mkdir -p "$1/etc" "$1/usr/bin"
    echo "$2" > "$1/etc/os-release"
    printf '%s%.0s' "$2" $(seq 1 2000) > "$1/usr/bin/tool"
    find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}
state() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
index_digest() { jq -r '.manifests[0].digest' "$1/index.json"; }
platforms() {  # the platforms of the index under oci:$1, as os/arch[/variant]
    skopeo inspect --raw "oci:$1" |
        jq -r '[.manifests[].platform | [.os, .architecture, .variant] | map(select(. != null)) | join("/")] | join(" ")'
}

for arch in amd64 arm64 arm; do mk_tree "$T/tree-$arch" "$arch"; done
check "build amd64" "$OCIPACK" build "$T/tree-amd64" -o "$T/amd64" --arch amd64 -q
check "build arm64" "$OCIPACK" build "$T/tree-arm64" -o "$T/arm64" --arch arm64 -q --tar-output "$T/arm64.tar"
check "build arm/v7" "$OCIPACK" build "$T/tree-arm" -o "$T/arm" --arch arm --variant v7 -q

L=$T/multi
check "index of three layouts" "$OCIPACK" index -o "$L" --tag multi "$T/amd64" "$T/arm64:latest" "$T/arm"
check_eq "index.json: one entry, the index, tagged" "application/vnd.oci.image.index.v1+json multi" \
    "$(jq -r '.manifests | length as $n | .[0] | "\(.mediaType) \(.annotations["org.opencontainers.image.ref.name"])"' "$L/index.json")"
check_eq "skopeo: the platforms in command-line order" "linux/amd64 linux/arm64 linux/arm/v7" "$(platforms "$L:multi")"
check_eq "skopeo inspect --raw: the index digest" "$(index_digest "$L")" \
    "sha256:$(skopeo inspect --raw "oci:$L:multi" | sha256sum | cut -d' ' -f1)"
check "skopeo copy --all" skopeo copy -q --all "oci:$L:multi" "oci:$T/copy:multi"
check_eq "the copy keeps the index digest" "$(index_digest "$L")" "$(index_digest "$T/copy")"
check "the copy verifies" "$OCIPACK" verify "$T/copy"
# (oci-image-tool 1.0.0-rc1 checks the layout and the tagged descriptor; it
# warns that it does not know the index media type and reads no further.)
check "oci-image-tool validate" oci-image-tool validate --type image --ref name=multi "$L"
check "verify: the index and every image" "$OCIPACK" verify "$L"
check_contains "verify examined the three manifests" "$TEST_TMP/last.out" "OK \(3 manifests"
"$OCIPACK" tags "$L" >"$T/tags.out" 2>&1
check_contains "tags: the kind and platforms" "$T/tags.out" \
    $'^multi\tsha256:[0-9a-f]{64}\t[0-9]+\t\\(image index, 3 platforms: linux/amd64, linux/arm64, linux/arm/v7\\)$'
check_eq "tags --json: the kind of each entry" "index image" \
    "$("$OCIPACK" tags --json "$L" | jq -r '.[0].kind') $("$OCIPACK" tags --json "$T/amd64" | jq -r '.[0].kind')"

# --- inspect: the platforms, or one of them
check "inspect lists the platforms" "$OCIPACK" inspect "$L:multi"
check_contains "inspect: each platform with its manifest" "$TEST_TMP/last.out" "^  linux/arm/v7 +sha256:[0-9a-f]{64}"
check_eq "inspect --json: three manifests" "linux/amd64 linux/arm64 linux/arm/v7" \
    "$("$OCIPACK" inspect --json "$L:multi" | jq -r '[.manifests[].platform] | join(" ")')"
check "inspect --platform linux/arm64" "$OCIPACK" inspect "$L:multi" --platform linux/arm64
check_contains "inspect --platform: that image" "$TEST_TMP/last.out" "^Platform: +linux/arm64$"
check_eq "inspect --json --platform linux/arm/v7" "arm v7" \
    "$("$OCIPACK" inspect --json "$L:multi" --platform linux/arm/v7 | jq -r '"\(.config.architecture) \(.config.variant)"')"

# --- build --base picks one image: --platform, else the build's --arch
arm_layer=$(skopeo inspect --raw "oci:$T/arm:latest" | jq -r '.layers[0].digest')
arm64_layer=$(skopeo inspect --raw "oci:$T/arm64:latest" | jq -r '.layers[0].digest')
mk_tree "$T/top" top
check "build --base L:multi --platform linux/arm/v7" "$OCIPACK" build "$T/top" -o "$T/on-arm" \
    --base "$L:multi" --platform linux/arm/v7 -q
check_eq "  stacked on the arm/v7 image" "$arm_layer arm v7" \
    "$(skopeo inspect --raw "oci:$T/on-arm:latest" | jq -r '.layers[0].digest') $(skopeo inspect --config "oci:$T/on-arm:latest" | jq -r '"\(.architecture) \(.variant)"')"
check "build --base L:multi --arch arm64" "$OCIPACK" build "$T/top" -o "$T/on-arm64" --base "$L:multi" --arch arm64 -q
check_eq "  stacked on the arm64 image" "$arm64_layer" \
    "$(skopeo inspect --raw "oci:$T/on-arm64:latest" | jq -r '.layers[0].digest')"

# --- determinism: the same inputs (directories or a tarball) give the same bytes
check "index again" "$OCIPACK" index -o "$T/again" --tag multi "$T/amd64" "$T/arm64" "$T/arm" -q
check_eq "same index.json bytes" "$(sha256sum < "$L/index.json")" "$(sha256sum < "$T/again/index.json")"
check "index from a --tar-output tarball" "$OCIPACK" index -o "$T/from-tar" --tag multi "$T/amd64" "$T/arm64.tar" "$T/arm" -q
check_eq "same index from the tarball" "$(index_digest "$L")" "$(index_digest "$T/from-tar")"
check_eq "same blobs from the tarball" "$(state "$L")" "$(state "$T/from-tar")"

# --- refusals leave the output as it was
before=$(state "$L")
"$OCIPACK" index -o "$L" --tag multi "$T/amd64" "$T/copy:multi" >"$T/err" 2>&1
check_eq "an index source without --flatten: exit 1" 1 $?
check_contains "  names --flatten" "$T/err" "names an image index; --flatten takes its images"
"$OCIPACK" index -o "$L" --tag multi "$T/amd64" "$T/amd64" >"$T/err" 2>&1
check_eq "two images of one platform: exit 1" 1 $?
check_contains "  names both and the platform" "$T/err" "SRC '.*amd64:latest' and SRC '.*amd64:latest' are both for the platform linux/amd64"
# A failure in the middle: the first source's new blobs are copied, then the
# second source's layer (not in the output yet) does not match its digest.
mk_tree "$T/tree-riscv" riscv; mk_tree "$T/tree-bad" bad
check "build riscv64" "$OCIPACK" build "$T/tree-riscv" -o "$T/riscv" --arch riscv64 -q
check "build a second arm/v7" "$OCIPACK" build "$T/tree-bad" -o "$T/arm-bad" --arch arm --variant v7 -q
layer=$(skopeo inspect --raw "oci:$T/arm-bad:latest" | jq -r '.layers[0].digest' | cut -d: -f2)
printf '\xff' | dd of="$T/arm-bad/blobs/sha256/$layer" bs=1 seek=20 conv=notrunc status=none
"$OCIPACK" index -o "$L" --tag multi "$T/riscv" "$T/arm-bad" >"$T/err" 2>&1
check_eq "a corrupt layer in the last source: exit 1" 1 $?
check_contains "  names the blob" "$T/err" "$layer.*does not match its digest"
python3 - "$T/evil.tar" "$T/arm64/index.json" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.USTAR_FORMAT) as tar:
    for name, data in (('oci-layout', b'{"imageLayoutVersion":"1.0.0"}'), ('../index.json', open(sys.argv[2], 'rb').read())):
        info = tarfile.TarInfo(name); info.size = len(data); tar.addfile(info, io.BytesIO(data))
PY
"$OCIPACK" index -o "$L" --tag multi "$T/amd64" "$T/evil.tar" >"$T/err" 2>&1
check_eq "a tarball with a ../ member: exit 1" 1 $?
check_contains "  names the member" "$T/err" "member '../index.json' has a '..' component"
check_eq "after the refusals the output is byte-identical" "$before" "$(state "$L")"
check_eq "  and nothing escaped the layout" "" "$(ls "$T" | grep -x index.json)"

# --- --flatten, --add, --remove
check "--flatten takes an index's images" "$OCIPACK" index -o "$T/flat" --tag multi --flatten "$T/copy:multi" -q
check_eq "  the same index" "$(index_digest "$L")" "$(index_digest "$T/flat")"
mk_tree "$T/tree-amd64-v2" amd64-rebuilt
check "rebuild amd64" "$OCIPACK" build "$T/tree-amd64-v2" -o "$T/amd64-v2" --arch amd64 -q
new_amd64=$(jq -r '.manifests[0].digest' "$T/amd64-v2/index.json")
check "--add replaces the amd64 entry" "$OCIPACK" index -o "$L" --tag multi --add "$T/amd64-v2" -q
check_eq "  in place, the others kept" "$new_amd64 linux/amd64 linux/arm64 linux/arm/v7" \
    "$(skopeo inspect --raw "oci:$L:multi" | jq -r '.manifests[0].digest') $(platforms "$L:multi")"
check "--remove linux/arm/v7" "$OCIPACK" index -o "$L" --tag multi --remove linux/arm/v7 -q
check_eq "  two platforms left" "linux/amd64 linux/arm64" "$(platforms "$L:multi")"
before=$(state "$L")
"$OCIPACK" index -o "$L" --tag multi --remove linux/s390x >"$T/err" 2>&1
check_eq "--remove of an absent platform: exit 1" 1 $?
check_contains "  names it" "$T/err" "--remove linux/s390x: the index has no entry for it"
check_eq "  the output unchanged" "$before" "$(state "$L")"

# --- gc keeps what the index reaches
check "gc" "$OCIPACK" gc "$L"
check_contains "gc removed the replaced and removed images' blobs only" "$TEST_TMP/last.out" "^removed [1-9][0-9]* blobs"
check "verify after gc" "$OCIPACK" verify "$L"
check "skopeo copy --all after gc" skopeo copy -q --all "oci:$L:multi" "oci:$T/copy2:multi"

finish
