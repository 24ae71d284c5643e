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


# --- referrers: each image's SBOM comes along (from a directory and a tarball)
spdx() {  # file name: a small SPDX 2.3 document
    printf '{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"%s","documentNamespace":"http://spdx.org/spdxdocs/%s","creationInfo":{"created":"2023-11-14T22:13:20Z","creators":["Tool: test"]}}\n' "$2" "$2" >"$1"
}
spdx "$T/amd64.spdx.json" amd64; spdx "$T/arm64.spdx.json" arm64
check "build amd64 --sbom" "$OCIPACK" build "$T/tree-amd64" -o "$T/s-amd64" --arch amd64 -q --sbom "$T/amd64.spdx.json"
check "build arm64 --sbom --tar-output" "$OCIPACK" build "$T/tree-arm64" -o "$T/s-arm64" --arch arm64 -q \
    --sbom "$T/arm64.spdx.json" --tar-output "$T/s-arm64.tar"
sbom_of() { jq -r '.manifests[] | select(.artifactType == "application/spdx+json") | .digest' "$1/index.json"; }
amd64_sbom=$(sbom_of "$T/s-amd64"); arm64_sbom=$(sbom_of "$T/s-arm64")
S=$T/sbom-multi
check "index of images with SBOMs, with annotations" "$OCIPACK" index -o "$S" --tag multi "$T/s-amd64" "$T/s-arm64.tar" \
    --annotation org.opencontainers.image.revision=r1 --annotation "com.example.note=a b=c" --index-annotation com.example.entry=yes
check_eq "index.json: the index, then each image's SBOM, untagged, with artifactType" \
    "index:multi $amd64_sbom:application/spdx+json:untagged $arm64_sbom:application/spdx+json:untagged" \
    "$(jq -r '[.manifests[] | if .artifactType then "\(.digest):\(.artifactType):\(.annotations["org.opencontainers.image.ref.name"] // "untagged")" else "index:\(.annotations["org.opencontainers.image.ref.name"])" end] | join(" ")' "$S/index.json")"
check_eq "each SBOM's subject is its image's entry in the index" \
    "$(skopeo inspect --raw "oci:$S:multi" | jq -r '[.manifests[].digest] | join(" ")')" \
    "$(jq -r .subject.digest "$(blob_path "$S" "$amd64_sbom")") $(jq -r .subject.digest "$(blob_path "$S" "$arm64_sbom")")"
check "the SBOM document blob is the file" cmp "$(blob_path "$S" "sha256:$(sha256_of "$T/arm64.spdx.json")")" "$T/arm64.spdx.json"
check "skopeo inspect --raw: the index document's annotations" \
    jq -e '.annotations == {"com.example.note":"a b=c","org.opencontainers.image.revision":"r1"}' <(skopeo inspect --raw "oci:$S:multi")
check "index.json entry annotations beside ref.name" \
    jq -e '.manifests[0].annotations == {"com.example.entry":"yes","org.opencontainers.image.ref.name":"multi"}' "$S/index.json"
check "inspect --platform linux/arm64" "$OCIPACK" inspect "$S:multi" --platform linux/arm64
check_contains "  lists the arm64 SBOM" "$TEST_TMP/last.out" "^  $arm64_sbom  application/spdx\\+json"
check_eq "inspect --json --platform linux/amd64: the amd64 SBOM only" "$amd64_sbom" \
    "$("$OCIPACK" inspect --json "$S:multi" --platform linux/amd64 | jq -r '[.referrers[].digest] | join(" ")')"
check "inspect of the index" "$OCIPACK" inspect "$S:multi"
check_eq "  a referrer line under each platform" 2 "$(grep -cE '^    referrer sha256:[0-9a-f]{64}  application/spdx\+json' "$TEST_TMP/last.out")"
check_eq "inspect --json of the index: each entry's referrers" "$amd64_sbom $arm64_sbom" \
    "$("$OCIPACK" inspect --json "$S:multi" | jq -r '[.manifests[].referrers[0].digest] | join(" ")')"
check "verify: the index, the images and the referrers' subjects" "$OCIPACK" verify "$S"
check "skopeo copy --all of the index with referrers" skopeo copy -q --all "oci:$S:multi" "oci:$T/s-copy:multi"
check "index again from the same sources" "$OCIPACK" index -o "$T/sbom-again" --tag multi "$T/s-amd64" "$T/s-arm64.tar" -q \
    --annotation org.opencontainers.image.revision=r1 --annotation "com.example.note=a b=c" --index-annotation com.example.entry=yes
check_eq "  the same index.json bytes" "$(sha256sum < "$S/index.json")" "$(sha256sum < "$T/sbom-again/index.json")"
check "index once more into the same output" "$OCIPACK" index -o "$S" --tag multi "$T/s-amd64" "$T/s-arm64.tar" -q \
    --annotation org.opencontainers.image.revision=r1 --annotation "com.example.note=a b=c" --index-annotation com.example.entry=yes
check_eq "  each SBOM listed once" 3 "$(jq '.manifests | length' "$S/index.json")"
check "gc keeps the referrers" "$OCIPACK" gc "$S"
check_contains "  removed nothing" "$TEST_TMP/last.out" "^removed 0 blobs"
# oci-image-tool 1.0.0-rc1 refuses --ref with 3 or more index.json entries
# (test_referrers.sh says why): validated on an index of one SBOM'd image.
check "index of one image with an SBOM" "$OCIPACK" index -o "$T/one-sbom" --tag multi "$T/s-amd64" "$T/arm" -q
check "oci-image-tool validate (index + one referrer)" oci-image-tool validate --type image --ref name=multi "$T/one-sbom"
before=$(state "$S")
"$OCIPACK" index -o "$S" --tag multi "$T/s-amd64" --annotation org.opencontainers.image.ref.name=x >"$T/err" 2>&1
check_eq "--annotation ref.name: exit 2" 2 $?
one_error_line "  one line naming --annotation" "$T/err" "--annotation: org.opencontainers.image.ref.name"
# (a document the output holds already would be taken from there: a fresh one)
spdx "$T/bad.spdx.json" bad
check "build arm64 with another SBOM" "$OCIPACK" build "$T/tree-arm64" -o "$T/bad-sbom" --arch arm64 -q --sbom "$T/bad.spdx.json"
doc=$(blob_path "$T/bad-sbom" "sha256:$(sha256_of "$T/bad.spdx.json")")
printf 'X' | dd of="$doc" bs=1 seek=3 conv=notrunc status=none
"$OCIPACK" index -o "$S" --tag multi "$T/s-amd64" "$T/bad-sbom" >"$T/err" 2>&1
check_eq "a corrupt SBOM document in a source: exit 1" 1 $?
check_contains "  names the source and the blob" "$T/err" "SRC '.*bad-sbom:latest'.*does not match its digest"
check_eq "  the output unchanged" "$before" "$(state "$S")"

# --- --add/--remove on an index another tool wrote keep what they do not change
F=$T/foreign
check "skopeo copy --all of the first index into a new layout" skopeo copy -q --all "oci:$T/copy:multi" "oci:$F:multi"
python3 - "$F" <<'PY'
import base64, hashlib, json, os, sys
layout = sys.argv[1]
blob = lambda d: os.path.join(layout, 'blobs', 'sha256', d.split(':', 1)[1])
index_json = json.load(open(os.path.join(layout, 'index.json')))
entry = index_json['manifests'][0]
doc = json.load(open(blob(entry['digest'])))
doc['annotations'] = {'org.opencontainers.image.created': '2024-01-01T00:00:00Z', 'com.example.z': '1'}
doc['x-vendor'] = {'build': [1, 2.5, None, 'é']}
for i, e in enumerate(doc['manifests']):
    e['urls'] = ['https://example.com/%d' % i]
    e['data'] = base64.b64encode(open(blob(e['digest']), 'rb').read()).decode()
    e['x-unknown'] = {'i': i}
    e.setdefault('annotations', {})['com.example.entry'] = str(i)
data = json.dumps(doc, indent=1, ensure_ascii=False).encode()
digest = 'sha256:' + hashlib.sha256(data).hexdigest()
open(blob(digest), 'wb').write(data)
entry.update(digest=digest, size=len(data))
entry['annotations']['com.example.tag-note'] = 'kept'
json.dump(index_json, open(os.path.join(layout, 'index.json'), 'w'))
json.dump(doc, open(os.path.join(layout, '..', 'foreign-before.json'), 'w'))
PY
check "a hand-edited index with unknown fields verifies" "$OCIPACK" verify "$F"
check "--add on it" "$OCIPACK" index -o "$F" --tag multi --add "$T/amd64-v2" -q
new_doc() { skopeo inspect --raw "oci:$F:multi"; }
check "  everything but the amd64 entry kept" jq -e --slurpfile old "$T/foreign-before.json" \
    '($old[0] | del(.manifests[0])) == del(.manifests[0])' <(new_doc)
check_eq "  the amd64 entry is the rebuilt image" "$new_amd64" "$(new_doc | jq -r '.manifests[0].digest')"
check "  the index.json entry keeps its annotations" \
    jq -e '.manifests[0].annotations["com.example.tag-note"] == "kept"' "$F/index.json"
check "--remove linux/arm64 on it" "$OCIPACK" index -o "$F" --tag multi --remove linux/arm64 -q
check "  the arm/v7 entry kept whole, the top level too" jq -e --slurpfile old "$T/foreign-before.json" \
    '.manifests[1] == $old[0].manifests[2] and ($old[0] | del(.manifests)) == del(.manifests)' <(new_doc)
check "verify after the edits" "$OCIPACK" verify "$F"
check "skopeo copy --all after the edits" skopeo copy -q --all "oci:$F:multi" "oci:$T/foreign-copy:multi"

finish
