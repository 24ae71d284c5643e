#!/bin/bash
# test_referrers.sh OCIPACK
#
# Annotations and SBOM referrers (OCI image-spec 1.1) in a layout:
#   - build --annotation/--index-annotation: the manifest's annotations and
#     the index.json entry's (beside ref.name), checked with jq; skopeo
#     inspect --raw shows the manifest annotations; a ref.name --annotation is
#     refused;
#   - build --sbom of a generated SPDX 2.3 JSON, then `ocipack attach` of a
#     CycloneDX one: each artifact manifest checked with jq field by field
#     (schemaVersion, mediaType, artifactType, empty config "{}", one layer =
#     the document, subject = the image manifest), listed in index.json with
#     artifactType and no ref.name; attach twice keeps one entry; a text
#     file needs --artifact-type; a FIFO as FILE is refused on one line;
#   - `ocipack tags` shows the tag only, `inspect` (text and --json) lists
#     both referrers, `ocipack verify` passes, oci-image-tool validate passes
#     (with the SBOM referrer: see the note there), `skopeo copy oci:L:T
#     oci:L2:T` still works;
#   - a rebuild that retags leaves the old referrers until `ocipack gc`, which
#     drops them from index.json and removes their blobs; verify passes after.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
T=$TEST_TMP

if ! require_tool jq skopeo oci-image-tool sha256sum; then
    fail "referrers" "missing tools: $MISSING_TOOLS (scripts/setup.sh installs them)"
    finish
fi
SKOPEO=(skopeo --insecure-policy)
mkdir -p "$T/root/etc" && echo hello >"$T/root/etc/greeting"
L=$T/layout
TAG=v1

cat >"$T/sbom.spdx.json" <<'EOF'
{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"test-image",
 "documentNamespace":"http://spdx.org/spdxdocs/test-image-1","creationInfo":{"created":"2023-11-14T22:13:20Z","creators":["Tool: test"]},
 "packages":[{"name":"greeting","SPDXID":"SPDXRef-greeting","downloadLocation":"NOASSERTION"}]}
EOF
cat >"$T/bom.cdx.json" <<'EOF'
{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[{"type":"library","name":"greeting"}]}
EOF
SPDX_DIGEST=sha256:$(sha256_of "$T/sbom.spdx.json")
CDX_DIGEST=sha256:$(sha256_of "$T/bom.cdx.json")
EMPTY_DIGEST=sha256:$(printf '{}' | sha256sum | cut -d' ' -f1)

# --- build with annotations and an SBOM -------------------------------------------
echo "# build --annotation --index-annotation --sbom"
check "build with annotations and --sbom" "$OCIPACK" build "$T/root" -o "$L" --tag "$TAG" --created @1700000000 -q \
    --annotation org.opencontainers.image.revision=abc123 --annotation "com.example.note=a b=c" \
    --index-annotation com.example.entry=yes --sbom "$T/sbom.spdx.json"
MF=$(layout_manifest_digest "$L" "$TAG")
MF_SIZE=$(stat -c %s "$(blob_path "$L" "$MF")")
check "manifest annotations" jq -e '.annotations == {"com.example.note":"a b=c","org.opencontainers.image.revision":"abc123"}' "$(blob_path "$L" "$MF")"
check "index.json entry annotations beside ref.name" jq -e --arg t "$TAG" \
    '.manifests[0].annotations == {"com.example.entry":"yes","org.opencontainers.image.ref.name":$t}' "$L/index.json"
if "${SKOPEO[@]}" inspect --raw "oci:$L:$TAG" >"$T/skopeo.json" 2>"$T/skopeo.err"; then
    check "skopeo inspect --raw shows the manifest annotations" \
        jq -e '.annotations["org.opencontainers.image.revision"] == "abc123" and .annotations["com.example.note"] == "a b=c"' "$T/skopeo.json"
else
    fail "skopeo inspect --raw" "$(head -c 300 "$T/skopeo.err")"
fi
"$OCIPACK" build "$T/root" -o "$T/refused" --annotation org.opencontainers.image.ref.name=x -q 2>"$T/ref.err"
check_eq "--annotation ref.name refused (usage, exit 2)" 2 $?
one_error_line "--annotation ref.name: one error line naming the flag" "$T/ref.err" "--annotation"
check "refused build left no layout" test ! -e "$T/refused/index.json"

# artifact_checks NAME MANIFEST_DIGEST TYPE DOC_DIGEST DOC_SIZE
artifact_checks() {
    local f
    f=$(blob_path "$L" "$2")
    check "$1: schemaVersion, mediaType" jq -e '.schemaVersion == 2 and .mediaType == "application/vnd.oci.image.manifest.v1+json"' "$f"
    check "$1: artifactType" jq -e --arg t "$3" '.artifactType == $t' "$f"
    check "$1: empty config" jq -e --arg d "$EMPTY_DIGEST" \
        '.config == {"mediaType":"application/vnd.oci.empty.v1+json","digest":$d,"size":2}' "$f"
    check "$1: one layer = the document" jq -e --arg t "$3" --arg d "$4" --argjson s "$5" \
        '.layers == [{"mediaType":$t,"digest":$d,"size":$s}]' "$f"
    check "$1: subject = the image manifest" jq -e --arg d "$MF" --argjson s "$MF_SIZE" \
        '.subject == {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":$d,"size":$s}' "$f"
    check "$1: no annotations, no timestamp" jq -e 'has("annotations") | not' "$f"
    check "$1: listed in index.json with artifactType, no ref.name" jq -e --arg d "$2" --arg t "$3" \
        '[.manifests[] | select(.digest == $d)] | length == 1 and .[0].artifactType == $t and (.[0] | has("annotations") | not)' "$L/index.json"
    check_eq "$1: the empty config blob is {}" "{}" "$(cat "$(blob_path "$L" "$EMPTY_DIGEST")")"
    check "$1: the document blob is the file" cmp "$(blob_path "$L" "$4")" "$6"
}

# oci-image-tool 1.0.0-rc1 (Debian 12) refuses a --ref lookup in any
# index.json of 3 or more entries ("descriptor retrieved by refs [name=…] is
# not unique" — three tagged images do it too), so it validates the layout
# while it holds the image and its one SBOM referrer.
check "oci-image-tool validate (image + spdx referrer)" oci-image-tool validate --type image --ref "name=$TAG" "$L"
SPDX_REF=$(jq -r '.manifests[] | select(.artifactType == "application/spdx+json") | .digest' "$L/index.json")
artifact_checks "spdx referrer" "$SPDX_REF" application/spdx+json "$SPDX_DIGEST" \
    "$(stat -c %s "$T/sbom.spdx.json")" "$T/sbom.spdx.json"

# --- attach --------------------------------------------------------------------
echo "# attach"
check "attach CycloneDX" "$OCIPACK" attach "$L:$TAG" "$T/bom.cdx.json"
CDX_REF=$(jq -r '.manifests[] | select(.artifactType == "application/vnd.cyclonedx+json") | .digest' "$L/index.json")
artifact_checks "cyclonedx referrer" "$CDX_REF" application/vnd.cyclonedx+json "$CDX_DIGEST" \
    "$(stat -c %s "$T/bom.cdx.json")" "$T/bom.cdx.json"
cp "$L/index.json" "$T/index.before"
check "attach the same document again" "$OCIPACK" attach "$L:$TAG" "$T/bom.cdx.json"
check "attach is idempotent (index.json unchanged)" cmp "$L/index.json" "$T/index.before"
echo "plain notes" >"$T/notes.txt"
"$OCIPACK" attach "$L:$TAG" "$T/notes.txt" 2>"$T/notes.err"
check_eq "a text file without --artifact-type: exit 2" 2 $?
one_error_line "a text file: the error says the artifact type is required" "$T/notes.err" "--artifact-type"
mkfifo "$T/fifo.json"
"$OCIPACK" attach "$L:$TAG" "$T/fifo.json" 2>"$T/fifo.err"
check_eq "a FIFO as FILE: refused" 1 $?
one_error_line "a FIFO as FILE: one line naming it" "$T/fifo.err" "fifo.json.*FIFO"
check "refused attaches left index.json unchanged" cmp "$L/index.json" "$T/index.before"

# --- readers ---------------------------------------------------------------------
echo "# readers"
"$OCIPACK" tags "$L" >"$T/tags.out"
check_eq "tags shows the tag only" 1 "$(grep -c '' "$T/tags.out")"
check_contains "tags: the tag" "$T/tags.out" "^$TAG	"
"$OCIPACK" inspect "$L:$TAG" >"$T/inspect.out"
check_contains "inspect lists the spdx referrer" "$T/inspect.out" "$SPDX_REF  application/spdx\\+json"
check_contains "inspect lists the cyclonedx referrer" "$T/inspect.out" "$CDX_REF  application/vnd.cyclonedx\\+json"
check "inspect --json lists both referrers" jq -e --arg a "$SPDX_REF" --arg b "$CDX_REF" \
    '[.referrers[].digest] == [$a, $b] and (.referrers | map(.artifactType)) == ["application/spdx+json","application/vnd.cyclonedx+json"]' \
    <("$OCIPACK" inspect --json "$L:$TAG")
check "ocipack verify" "$OCIPACK" verify "$L"
check "skopeo copy oci:L:T oci:L2:T" "${SKOPEO[@]}" copy "oci:$L:$TAG" "oci:$T/l2:$TAG"
check "the copy verifies" "$OCIPACK" verify "$T/l2"
check_eq "the copy has the same manifest digest" "$MF" "$(layout_manifest_digest "$T/l2" "$TAG")"

# --- retag and gc ------------------------------------------------------------------
echo "# retag and gc"
echo changed >"$T/root/etc/greeting"
check "rebuild under the same tag" "$OCIPACK" build "$T/root" -o "$L" --tag "$TAG" --created @1700000000 -q
check "after the retag the old referrers are still listed" jq -e '[.manifests[] | select(has("artifactType"))] | length == 2' "$L/index.json"
check "gc" "$OCIPACK" gc "$L"
check "gc dropped both referrers from index.json" jq -e '(.manifests | length) == 1 and ([.manifests[] | select(has("artifactType"))] | length == 0)' "$L/index.json"
for d in "$SPDX_REF" "$CDX_REF" "$SPDX_DIGEST" "$CDX_DIGEST" "$EMPTY_DIGEST" "$MF"; do
    check "gc removed blob ${d:7:12}" test ! -e "$(blob_path "$L" "$d")"
done
check "verify after gc" "$OCIPACK" verify "$L"
finish
