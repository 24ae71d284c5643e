#!/bin/bash
# test_json_output.sh OCIPACK
#
# Output for machines and its wording for humans, run as real processes:
#   - build --json: one JSON document and nothing else on stdout (warnings
#     on stderr), valid for jq and python3 -m json.tool, keys in their fixed
#     order, every value equal to what the layout's own index.json, manifest
#     and config say (multi-layer, --tar-output, --base);
#   - verify --json: valid layout (ran, ok, exit 0), problems found (ran,
#     not ok, the problem listed, exit 1), no layout (not ran, error, exit 1,
#     one stderr line), unknown --ref (not ran, exit 2); a hostile layout (a
#     symlinked blob, a blob whose bytes differ from its digest) is reported,
#     not followed;
#   - inspect --json has the config digest; tags --json is valid JSON;
#   - the build summary: first line "built LAYOUT:TAG manifest sha256:…",
#     the platform, "1 chunk"/"N chunks", MiB/s, no MB/s; --stats in MiB/s
#     with aligned columns and the chunk-buffer line;
#   - platforms against --base: another --arch refused naming both platforms
#     (exit 2, layout untouched), --force-platform writes the new one;
#     --variant with a --base whose architecture has none; --force-platform
#     without --base.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

if ! require_tool jq python3 tar; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi

cd "$TEST_TMP" || exit 1
mkdir -p root/etc root2/usr
printf 'hello\n' >root/etc/hello.txt
head -c 3000000 /dev/urandom >root/etc/random.bin
printf 'two\n' >root2/usr/two.txt

# run ARGS...: ocipack under a 60 s guard; output in out/err, status in $RC.
run() {
    timeout 60 "$OCIPACK" "$@" >out 2>err
    RC=$?
}

# valid_json NAME FILE: one JSON document, accepted by python3 and jq.
valid_json() {
    check "$1: python3 -m json.tool accepts it" python3 -m json.tool "$2"
    check_eq "$1: one document (jq -s length)" 1 "$(jq -s length "$2" 2>&1)"
}

# config_of LAYOUT TAG: the path of the image's config blob.
config_of() {
    blob_path "$1" "$(jq -r .config.digest "$(blob_path "$1" "$(layout_manifest_digest "$1" "$2")")")"
}

# --- build --json: two layers and a tarball
run build root --layer root2 -o J --tag v1 --json --tar-output J.tar --created @0 --arch arm64 --variant v8
check_eq "build --json: exit 0" 0 "$RC"
cp out build.json
valid_json "build --json" build.json
check_eq "build --json: the keys in their fixed order" \
    "layout tags references manifest config platform base_layers layers sbom tarball threads codec timings" \
    "$(jq -r 'keys_unsorted | join(" ")' build.json)"
manifest=$(layout_manifest_digest J v1)
check_eq "build --json: manifest digest = index.json's" "$manifest" "$(jq -r .manifest.digest build.json)"
check_eq "build --json: manifest size = index.json's" \
    "$(jq -r '.manifests[0].size' J/index.json)" "$(jq -r .manifest.size build.json)"
check_eq "build --json: config digest = the manifest's" \
    "$(jq -r .config.digest "$(blob_path J "$manifest")")" "$(jq -r .config.digest build.json)"
check_eq "build --json: layer digests = the manifest's" \
    "$(jq -c '[.layers[].digest]' "$(blob_path J "$manifest")")" "$(jq -c '[.layers[].digest]' build.json)"
check_eq "build --json: layer sizes = the manifest's" \
    "$(jq -c '[.layers[].size]' "$(blob_path J "$manifest")")" "$(jq -c '[.layers[].size]' build.json)"
check_eq "build --json: diff_ids = the config's" \
    "$(jq -c '.rootfs.diff_ids' "$(config_of J v1)")" "$(jq -c '[.layers[].diff_id]' build.json)"
check_eq "build --json: platform = the config's" \
    "$(jq -r '[.os, .architecture, .variant] | join("/")' "$(config_of J v1)")" \
    "$(jq -r '[.platform.os, .platform.architecture, .platform.variant] | join("/")' build.json)"
check_eq "build --json: platform linux/arm64/v8" "linux/arm64/v8" \
    "$(jq -r '[.platform.os, .platform.architecture, .platform.variant] | join("/")' build.json)"
check_eq "build --json: uncompressed size = the first layer's tar" \
    "$(gzip -dc "$(blob_path J "$(jq -r '.layers[0].digest' build.json)")" | wc -c)" \
    "$(jq -r '.layers[0].uncompressed_size' build.json)"
check_eq "build --json: tags, references, layout, tarball, format" "v1 J:v1 J J.tar gzip gzip" \
    "$(jq -r '[.tags[0], .references[0], .layout, .tarball, .layers[].format] | join(" ")' build.json)"
check_eq "build --json: timings are numbers" "number number" \
    "$(jq -r '[.timings.build_seconds, .timings.layer_graph_seconds] | map(type) | join(" ")' build.json)"
check_eq "build --json: no warning on stderr" "" "$(grep -v 'skipping socket' err)"

# Warnings stay on stderr: SOURCE_DATE_EPOCH set but empty.
SOURCE_DATE_EPOCH= timeout 60 "$OCIPACK" build root -o W --json >out 2>err
check_eq "build --json with a warning: exit 0" 0 "$?"
valid_json "build --json with a warning" out
check_contains "build --json with a warning: the warning is on stderr" err "^ocipack: warning: SOURCE_DATE_EPOCH"

# --json with --stats: the table goes to stderr, stdout stays one document.
run build root -o JS --json --stats
valid_json "build --json --stats" out
check_contains "build --json --stats: the table on stderr" err "^stage "

# --base: the base's layers are listed.
run build root2 -o JB --base J:v1 --json
check_eq "build --base --json: exit 0" 0 "$RC"
cp out base.json
check_eq "build --base --json: base_layers = J's layers" \
    "$(jq -c '[.layers[].digest]' build.json)" "$(jq -c '[.base_layers[].digest]' base.json)"
check_eq "build --base --json: the base's platform is kept" "linux/arm64/v8" \
    "$(jq -r '[.platform.os, .platform.architecture, .platform.variant] | join("/")' base.json)"

# --- verify --json
run verify J --json
check_eq "verify --json (valid): exit 0" 0 "$RC"
valid_json "verify --json (valid)" out
check_eq "verify --json (valid): ran, ok, no problems, keys in order" \
    "true true 0 layout ref ran ok error problems checked" \
    "$(jq -r '[.ran, .ok, (.problems | length)] + keys_unsorted | join(" ")' out)"
check_eq "verify --json (valid): manifests checked" 1 "$(jq -r .checked.manifests out)"

cp -a J BAD
layer=$(blob_path BAD "$(jq -r '.layers[1].digest' build.json)")
chmod u+w "$layer" && printf 'X' | dd of="$layer" bs=1 seek=20 conv=notrunc status=none
run verify BAD --json
check_eq "verify --json (a blob whose bytes differ): exit 1" 1 "$RC"
valid_json "verify --json (problems)" out
check_eq "verify --json (problems): ran, not ok" "true false" "$(jq -r '[.ran, .ok] | join(" ")' out)"
check_contains "verify --json (problems): the blob is named" out "$(basename "$layer")"
check_eq "verify --json (problems): nothing on stderr" "" "$(cat err)"

cp -a J LINK
victim=$(blob_path LINK "$(jq -r '.layers[0].digest' build.json)")
printf 'secret\n' >outside.txt
rm -f "$victim" && ln -s "$TEST_TMP/outside.txt" "$victim"
run verify LINK --json
check_eq "verify --json (a symlinked blob): exit 1" 1 "$RC"
valid_json "verify --json (symlinked blob)" out
check_eq "verify --json (symlinked blob): not ok, a problem listed" "false true" \
    "$(jq -r '[.ok, (.problems | length > 0)] | join(" ")' out)"
check_eq "verify --json (symlinked blob): the outside file was not read into the output" "" "$(grep -o secret out)"

run verify NO-SUCH --json
check_eq "verify --json (no layout): exit 1" 1 "$RC"
valid_json "verify --json (no layout)" out
check_eq "verify --json (no layout): not ran, an error" "false false true" \
    "$(jq -r '[.ran, .ok, (.error | length > 0)] | join(" ")' out)"
one_error_line "verify --json (no layout)" err "NO-SUCH"

run verify J --json --ref nope
check_eq "verify --json (unknown --ref): exit 2" 2 "$RC"
valid_json "verify --json (unknown --ref)" out
check_eq "verify --json (unknown --ref): not ran, ref named" "false nope" "$(jq -r '[.ran, .ref] | join(" ")' out)"
one_error_line "verify --json (unknown --ref)" err "--ref: .*nope"

# --- inspect --json, tags --json
run inspect J:v1 --json
valid_json "inspect --json" out
check_eq "inspect --json: config_digest = the manifest's config" \
    "$(jq -r .config.digest "$(blob_path J "$manifest")")" "$(jq -r .config_digest out)"
run tags J --json
check_eq "tags --json: exit 0" 0 "$RC"
valid_json "tags --json" out
check_eq "tags --json: the tag and its digest" "v1 $manifest" "$(jq -r '.[0] | [.tag, .digest] | join(" ")' out)"

# --- the human summary
run build root -o H --tag t1 --threads 1 --chunk-size 4M --created @0
check_eq "summary build: exit 0" 0 "$RC"
check_eq "summary: the first line labels the image" "built H:t1 manifest $(layout_manifest_digest H t1)" "$(head -n 1 out)"
check_contains "summary: the platform and the config" out "^  platform linux/[a-z0-9]+(/v[0-9])?, config sha256:[0-9a-f]{64}$"
check_contains "summary: one chunk, singular" out " in 1 chunk$"
check_contains "summary: one thread, singular, MiB/s" out "^  [0-9.]+ s \([0-9.]+ MiB/s of tar\), 1 thread, "
run build root -o H --tag t2 --threads 2 --chunk-size 64K --stats
check_contains "summary: several chunks, plural" out " in [0-9]+ chunks$"
check_contains "summary: threads, plural" out ", 2 threads, "
check_eq "no MB/s anywhere in the summary or --stats" "" "$(grep -h 'MB/s' out err)"
check_contains "--stats: MiB/s column" err "^stage +time s +% wall +MiB/s +bytes$"
check_eq "--stats: the seven table lines are equally long" 1 \
    "$(grep -E '^(stage|walk|read|compress|hash|wall)' err | awk '{print length($0)}' | sort -u | wc -l)"
check_contains "--stats: hash+write row aligned" err "^hash\+write blob \(serial\) +[0-9]+\.[0-9]{3} "
check_contains "--stats: the chunk buffer line explains the count" err \
    "^chunks [0-9]+, chunk buffers [0-9]+ allocated \(at most 6 in flight, \+ 1 held by each running layer reader\)"

# --- platforms against --base
cp -a J J.before
exits_platform() {  # NAME STATUS REGEX ARGS...
    local name=$1 status=$2 re=$3
    shift 3
    run "$@"
    check_eq "$name: exit $status" "$status" "$RC"
    one_error_line "$name" err "$re"
}
exits_platform "--arch unlike the --base image" 2 \
    "--arch 'amd64' asks for linux/amd64, but the --base image 'J:v1' is linux/arm64/v8 \(--force-platform writes linux/amd64 anyway\)" \
    build root2 -o J --tag v2 --base J:v1 --arch amd64
exits_platform "--os unlike the --base image" 2 "--os 'windows' asks for windows/arm64/v8, but the --base image 'J:v1' is linux/arm64/v8" \
    build root2 -o J --tag v2 --base J:v1 --os windows
exits_platform "--variant the base's architecture lacks" 2 "--variant: variant 'v7' is not one of arm64's" \
    build root2 -o J --tag v2 --base J:v1 --variant v7
exits_platform "--force-platform without --base" 2 "--force-platform needs --base" \
    build root2 -o J --tag v2 --force-platform
check "refused platforms left the layout as it was" diff -r J J.before
run build root2 -o J --tag v2 --base J:v1 --arch arm64 -q
check_eq "--arch equal to the base's (arm64 = arm64/v8): exit 0" 0 "$RC"
run build root2 -o J --tag v3 --base J:v1 --arch amd64 --force-platform -q
check_eq "--force-platform: exit 0" 0 "$RC"
check_eq "--force-platform: the new platform is written, without the base's variant" "linux/amd64/" \
    "$(jq -r '[.os, .architecture, (.variant // "")] | join("/")' "$(config_of J v3)")"
check "--force-platform: the layout verifies" "$OCIPACK" verify J

finish
