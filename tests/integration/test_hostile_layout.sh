#!/bin/bash
# test_hostile_layout.sh OCIPACK
#
# Layouts made to attack the readers: every subcommand that reads a layout
# (`tags`, `inspect`, `inspect --json`, `verify`, `gc`, `build -o` into it,
# `build --base` from it) is run against
#   - a FIFO, socket, character device, directory or symlink in place of
#     index.json, oci-layout, a manifest, config or layer blob;
#   - JSON nested 10^5 and 10^6 levels deep (arrays and objects) in an
#     index.json member, a manifest and a config, and an index.json over the
#     64 MiB document limit;
#   - blobs/ or blobs/sha256 symlinked into a decoy layout;
#   - control characters and ANSI escapes in tags, labels and the paths a
#     build summary names;
#   - duplicate tags, sha512 and unknown-algorithm digests, unknown media
#     types, tags containing '/' (also with ':' in the layout path).
# Every command runs under `timeout 20`, so a hang is a FAIL (exit 124), not a
# stuck test. A refused command must exit non-zero with exactly one
# "ocipack: error:" line naming the culprit (verify: exit 1 and a problem line
# naming it); the attacked layout and the decoy must stay byte-identical
# (snapshots of every file, link and type before and after); what ocipack can
# still read (the other tags) must keep working.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

if ! require_tool python3 jq timeout sha256sum mknod; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi

T=20  # seconds before a command counts as hung
ROOT=$TEST_TMP/rootfs
mkdir -p "$ROOT/etc"
printf 'hello\n' >"$ROOT/etc/hello.txt"

# A good layout with tags v1 and a/b; every case damages its own copy.
GOOD=$TEST_TMP/good
if ! check "control: a good layout builds" "$OCIPACK" build "$ROOT" -o "$GOOD" --tag v1 -q \
        --created 2024-01-02T03:04:05Z ||
   ! check "control: a second tag with a '/' builds" "$OCIPACK" build "$ROOT" -o "$GOOD" --tag a/b -q \
        --created 2024-01-02T03:04:05Z --label x=y; then
    finish
fi
MANIFEST=$(layout_manifest_digest "$GOOD" v1)
CONFIG=$(jq -r .config.digest "$(blob_path "$GOOD" "$MANIFEST")")
LAYER=$(jq -r '.layers[0].digest' "$(blob_path "$GOOD" "$MANIFEST")")

# snapshot DIR: every entry's path, type and content hash (links: target).
snapshot() {
    (cd "$1" && find . -printf '%p %y %l\n' | sort | while read -r path type target; do
        if [ "$type" = f ]; then echo "$path f $(sha256sum <"$path" | cut -c1-64)"; else echo "$path $type $target"; fi
    done)
}

# fresh NAME: a copy of the good layout at $TEST_TMP/NAME (printed).
fresh() {
    rm -rf "${TEST_TMP:?}/$1"
    cp -a "$GOOD" "$TEST_TMP/$1"
    echo "$TEST_TMP/$1"
}

# run_ocipack ARGS...: runs ocipack under the hang timeout; stdout/stderr in
# $TEST_TMP/out and $TEST_TMP/err, status in $RC.
run_ocipack() {
    timeout "$T" "$OCIPACK" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
    RC=$?
}

# refused NAME CULPRIT_REGEX ARGS...: non-zero (not a hang), one error line naming the culprit.
refused() {
    local name=$1 re=$2
    shift 2
    run_ocipack "$@"
    if [ "$RC" -eq 124 ]; then
        fail "$name" "hung (killed after ${T}s): $*"
    elif [ "$RC" -eq 0 ]; then
        fail "$name" "accepted: $*"
    else
        one_error_line "$name (exit $RC)" "$TEST_TMP/err" "$re"
    fi
}

# verify_flags NAME CULPRIT_REGEX LAYOUT: verify exits 1 with a problem line naming it.
verify_flags() {
    run_ocipack verify "$3"
    if [ "$RC" -ne 1 ]; then
        fail "$1" "verify exit $RC (expected 1)"
        show_tail "$TEST_TMP/out"
        show_tail "$TEST_TMP/err"
    else
        check_contains "$1" "$TEST_TMP/out" "$2"
    fi
}

# unchanged NAME DIR BEFORE_FILE
unchanged() {
    if snapshot "$2" | cmp -s - "$3"; then
        pass "$1: $(basename "$2") unchanged"
    else
        fail "$1" "$(basename "$2") changed:"
        snapshot "$2" | diff "$3" - | head -8 | sed 's/^/    | /'
    fi
}

# every_reader NAME LAYOUT CULPRIT_REGEX [with-build-into|gc-reads-no-configs]:
# every reading subcommand refuses LAYOUT, naming the culprit, and leaves it
# as it was. with-build-into: also tags and a build into LAYOUT (for damage
# to index.json/oci-layout). gc-reads-no-configs: gc is not run (a config is
# a leaf to gc, never parsed; the caller checks gc separately).
every_reader() {
    local name=$1 layout=$2 re=$3 mode=${4:-}
    snapshot "$layout" >"$TEST_TMP/before"
    if [ "$mode" = with-build-into ]; then
        refused "$name: tags" "$re" tags "$layout"
        refused "$name: build -o" "$re" build "$ROOT" -o "$layout" --tag new -q
    fi
    refused "$name: inspect" "$re" inspect "$layout:v1"
    refused "$name: inspect --json" "$re" inspect --json "$layout:v1"
    [ "$mode" = gc-reads-no-configs ] || refused "$name: gc" "$re" gc "$layout"
    rm -rf "$TEST_TMP/on-base"
    refused "$name: build --base" "$re" build "$ROOT" -o "$TEST_TMP/on-base" --base "$layout:v1" -q
    verify_flags "$name: verify" "$re" "$layout"
    unchanged "$name" "$layout" "$TEST_TMP/before"
}

# make_node PATH KIND: replaces PATH with a hostile node (symlink: to a copy
# of the original outside the layout, so only the link itself is wrong).
make_node() {
    local path=$1 kind=$2
    cp -a "$path" "$TEST_TMP/original-copy" 2>/dev/null
    rm -f "$path"
    case $kind in
        fifo) mkfifo "$path" ;;
        socket) python3 -c 'import socket,sys,os; os.chdir(os.path.dirname(sys.argv[1])); socket.socket(socket.AF_UNIX).bind(os.path.basename(sys.argv[1]))' "$path" ;;
        device) mknod "$path" c 1 3 ;;
        directory) mkdir "$path" ;;
        symlink) ln -s "$TEST_TMP/original-copy" "$path" ;;
    esac
}
kind_text() {
    case $1 in
        fifo) echo "a FIFO" ;; socket) echo "a socket" ;; device) echo "a character device" ;;
        directory) echo "a directory" ;; symlink) echo "a symbolic link" ;;
    esac
}

# --- 1. non-regular files in place of layout files and blobs
for kind in fifo socket device directory symlink; do
    for file in index.json oci-layout; do
        L=$(fresh "node-$kind-$file")
        make_node "$L/$file" "$kind"
        # (build -o checks the kind of oci-layout itself first: "not a regular file")
        every_reader "$kind $file" "$L" "$file is ($(kind_text "$kind")|not a regular file)" with-build-into
    done
    for blob in manifest:"$MANIFEST" config:"$CONFIG" layer:"$LAYER"; do
        L=$(fresh "node-$kind-${blob%%:*}")
        make_node "$(blob_path "$L" "${blob#*:}")" "$kind"
        # A config or layer is only looked at by inspect/--base/gc/verify
        # (tags reads index.json alone and still works).
        every_reader "$kind ${blob%%:*} blob" "$L" "${blob#*sha256:}( is $(kind_text "$kind")| .*not a regular file)"
        run_ocipack tags "$L"
        check_eq "$kind ${blob%%:*} blob: tags still lists both tags" "0 2" "$RC $(grep -c '' "$TEST_TMP/out")"
    done
done

# A stray non-regular entry among the output layout's blobs: --tar-output
# packs every blob, and must refuse it rather than wait on it or follow it.
for kind in fifo device symlink; do
    L=$(fresh "tar-output-$kind")
    make_node "$L/blobs/sha256/$(printf 'f%.0s' {1..64})" "$kind"
    snapshot "$L" >"$TEST_TMP/before"
    refused "$kind among the blobs: build --tar-output" "sha256/f{64} is $(kind_text "$kind")" \
        build "$ROOT" -o "$L" --tag new -q --tar-output "$TEST_TMP/tar-$kind.tar"
    unchanged "$kind among the blobs: build --tar-output" "$L" "$TEST_TMP/before"
    check "$kind among the blobs: no tarball" test ! -e "$TEST_TMP/tar-$kind.tar"
done

# --- 2. deep and huge JSON
deep_member() {  # deep_member FILE DEPTH arrays|objects: adds member "x" nested DEPTH levels
    python3 - "$@" <<'EOF'
import sys
path, depth, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = open(path).read().rstrip()
assert text.endswith('}')
value = '[' * depth + ']' * depth if kind == 'arrays' else '{"k":' * depth + '1' + '}' * depth
open(path, 'w').write(text[:-1] + ',"x":' + value + '}')
EOF
}
# rehash LAYOUT manifest|config EDITED_FILE: stores an edited manifest or
# config under its new digest and rewrites every digest above it.
rehash() {
    python3 - "$@" <<'EOF'
import hashlib, json, os, sys
layout, which, edited = sys.argv[1], sys.argv[2], sys.argv[3]
def put(data):
    digest = hashlib.sha256(data).hexdigest()
    open(f'{layout}/blobs/sha256/{digest}', 'wb').write(data)
    return 'sha256:' + digest, len(data)
index = json.load(open(f'{layout}/index.json'))
entry = index['manifests'][0]
manifest_path = f"{layout}/blobs/sha256/{entry['digest'][7:]}"
data = open(edited, 'rb').read()
if which == 'config':
    manifest = json.load(open(manifest_path))
    manifest['config']['digest'], manifest['config']['size'] = put(data)
    data = json.dumps(manifest).encode()
entry['digest'], entry['size'] = put(data)
open(f'{layout}/index.json', 'w').write(json.dumps(index))
EOF
}
for depth in 100000 1000000; do
    for kind in arrays objects; do
        L=$(fresh "deep-index-$depth-$kind")
        deep_member "$L/index.json" "$depth" "$kind"
        every_reader "index.json nested $depth $kind" "$L" "index.json is nested more than 64 levels deep" with-build-into
    done
    for which in manifest config; do
        L=$(fresh "deep-$which-$depth")
        if [ "$which" = manifest ]; then src=$(blob_path "$L" "$MANIFEST"); else src=$(blob_path "$L" "$CONFIG"); fi
        cp "$src" "$TEST_TMP/edited.json"
        deep_member "$TEST_TMP/edited.json" "$depth" arrays
        rehash "$L" "$which" "$TEST_TMP/edited.json"
        if [ "$which" = manifest ]; then
            every_reader "manifest nested $depth" "$L" \
                "(manifest sha256:[0-9a-f]{64}.*|sha256:[0-9a-f]{64}.*: manifest )is nested more than 64 levels deep"
        else
            every_reader "config nested $depth" "$L" "config sha256:[0-9a-f]{64}.* is nested more than 64 levels deep" \
                gc-reads-no-configs
            deep=$(jq -r .config.digest "$(blob_path "$L" "$(jq -r '.manifests[0].digest' "$L/index.json")")")
            check "config nested $depth: gc (configs are leaves to it)" timeout "$T" "$OCIPACK" gc "$L"
            check "config nested $depth: gc kept the deep config" test -f "$(blob_path "$L" "$deep")"
        fi
    done
done
L=$(fresh huge-index)
python3 -c 'import sys; p=sys.argv[1]; t=open(p).read().rstrip(); open(p,"w").write(t[:-1]+",\"x\":\""+"x"*(65<<20)+"\"}")' "$L/index.json"
every_reader "index.json over 64 MiB" "$L" "index.json is too large" with-build-into
# Within the limits an unknown member is kept by build.
L=$(fresh deep-ok)
deep_member "$L/index.json" 60 arrays
check "deep-ok: build into a layout with a 60-deep unknown member" \
    timeout "$T" "$OCIPACK" build "$ROOT" -o "$L" --tag new -q --created 2024-01-02T03:04:05Z
check_eq "deep-ok: the member is kept" "60" "$(jq '[paths] | map(length) | max' <<<"$(jq .x "$L/index.json")" 2>/dev/null | awk '{print $1 + 1}')"
check "deep-ok: verify OK" timeout "$T" "$OCIPACK" verify "$L"

# --- 3. gc never deletes through a symlinked blobs directory
# Layout B's index.json names only v1 of the decoy A, and B's blobs/ (or
# blobs/sha256) is a link to A's: everything B references exists through the
# link, so a gc that followed it would delete A's a/b image.
for link in blobs blobs/sha256; do
    DECOY=$(fresh "decoy-${link//\//-}")
    B=$TEST_TMP/victim-${link//\//-}
    rm -rf "$B"
    mkdir -p "$B/blobs"
    cp "$DECOY/oci-layout" "$B/"
    jq '.manifests |= map(select(.annotations["org.opencontainers.image.ref.name"] == "v1"))' \
        "$DECOY/index.json" >"$B/index.json"
    rm -rf "${B:?}/$link"
    ln -s "$DECOY/$link" "$B/$link"
    snapshot "$DECOY" >"$TEST_TMP/decoy.before"
    refused "symlinked $link: gc" "$link is a symbolic link" gc "$B"
    refused "symlinked $link: inspect" "$link is a symbolic link" inspect "$B:v1"
    verify_flags "symlinked $link: verify" "$link is a symbolic link" "$B"
    unchanged "symlinked $link: decoy" "$DECOY" "$TEST_TMP/decoy.before"
    check "symlinked $link: the decoy's a/b still verifies" timeout "$T" "$OCIPACK" verify "$DECOY" --ref a/b
done

# --- 4. control characters in tags and labels
L=$(fresh escapes)
python3 - "$L/index.json" <<'EOF'
import json, sys
p = sys.argv[1]
index = json.load(open(p))
evil = dict(index['manifests'][0])
evil['annotations'] = {'org.opencontainers.image.ref.name': 'evil\x1b[2J\x1b]0;title\x07\nforged\tsha256:0\t1\r',
                       'note\x1b[31m': 'x\x00y'}
index['manifests'].append(evil)
json.dump(index, open(p, 'w'))
EOF
run_ocipack tags "$L"
check_eq "escapes: tags exits 0 with one line per entry" "0 3" "$RC $(grep -c '' "$TEST_TMP/out")"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TEST_TMP/out"; then fail "escapes: tags output has raw control bytes"
else pass "escapes: tags output has no raw control bytes"; fi
check_contains "escapes: the tag is shown escaped" "$TEST_TMP/out" 'evil\\x1b\[2J\\x1b\]0;title\\x07\\nforged\\tsha256:0\\t1\\r'
run_ocipack verify "$L"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TEST_TMP/out"; then fail "escapes: verify output has raw control bytes"
else pass "escapes: verify output has no raw control bytes"; fi
check_contains "escapes: verify flags the invalid tag" "$TEST_TMP/out" "invalid tag 'evil\\\\x1b"
refused "escapes: an unknown tag lists the others escaped" "available tags: .*'evil\\\\x1b\[2J" inspect "$L:nope"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TEST_TMP/err"; then fail "escapes: error has raw control bytes"
else pass "escapes: error has no raw control bytes"; fi
E=$TEST_TMP/escape-label
"$OCIPACK" build "$ROOT" -o "$E" -q --label "k=$(printf 'a\033[2Jb\nc')"
run_ocipack inspect "$E"
check_contains "escapes: a label is shown escaped by inspect" "$TEST_TMP/out" 'k=a\\x1b\[2Jb\\nc'
if LC_ALL=C grep -q $'\x1b' "$TEST_TMP/out"; then fail "escapes: inspect output has a raw ESC"
else pass "escapes: inspect output has no raw ESC"; fi
E=$TEST_TMP/$(printf 'escape\033[2Jout')
run_ocipack build "$ROOT" -o "$E" --tar-output "$E.$(printf 'tar\033]0;t\a')"
check_eq "escapes: a build into a path with control characters exits 0" 0 "$RC"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TEST_TMP/out"; then fail "escapes: build summary has raw control bytes"
else pass "escapes: build summary has no raw control bytes"; fi
check_contains "escapes: the build summary shows the layout escaped" "$TEST_TMP/out" 'escape\\x1b\[2Jout:latest manifest sha256:'
check_contains "escapes: the build summary shows the tarball escaped" "$TEST_TMP/out" 'tarball .*\.tar\\x1b\]0;t\\x07$'

# --- 5. entries ocipack does not understand
L=$(fresh odd-entries)
python3 - "$L/index.json" <<'EOF'
import json, sys
p = sys.argv[1]
index = json.load(open(p))
good = index['manifests'][0]
def entry(tag, **changes):
    e = dict(good); e.update(changes); e['annotations'] = {'org.opencontainers.image.ref.name': tag}; return e
index['manifests'] += [entry('s512', digest='sha512:' + 'a' * 128), entry('blake', digest='blake3:zz'),
                       entry('odd', mediaType='application/x-unknown'), entry('v1'),
                       entry('badann') | {'annotations': {'org.opencontainers.image.ref.name': 'badann', 'n': 5}}]
json.dump(index, open(p, 'w'))
EOF
snapshot "$L" >"$TEST_TMP/before"
run_ocipack tags "$L"
check_eq "odd entries: tags exits 0 listing all 7 entries" "0 7" "$RC $(grep -c '' "$TEST_TMP/out")"
check_contains "odd entries: the good tag a/b is listed plainly" "$TEST_TMP/out" $'^a/b\tsha256:[0-9a-f]{64}\t[0-9]+$'
check_contains "odd entries: sha512 is marked" "$TEST_TMP/out" $'^s512\tsha512:a{128}\t-\t\\(.*unsupported digest'
check_contains "odd entries: an unknown algorithm is marked" "$TEST_TMP/out" $'^blake\tblake3:zz\t-\t\\('
check_contains "odd entries: an unknown media type is marked" "$TEST_TMP/out" "^odd.*application/x-unknown' is neither"
check_contains "odd entries: a duplicate tag is marked" "$TEST_TMP/out" "^v1.*tag 'v1' is ambiguous"
check_contains "odd entries: a non-string annotation is marked" "$TEST_TMP/out" "^badann.*annotations.n is a number"
check "odd entries: inspect of a good tag works" timeout "$T" "$OCIPACK" inspect "$L:a/b"
check "odd entries: inspect --json of a good tag works" timeout "$T" "$OCIPACK" inspect --json "$L:a/b"
refused "odd entries: inspect of a sha512 entry names it" "manifests\[2\].digest.*unsupported digest" inspect "$L:s512"
refused "odd entries: inspect of a duplicate tag is ambiguous" "tag 'v1' is ambiguous.*manifests\[0\], manifests\[5\]" inspect "$L:v1"
refused "odd entries: gc refuses (it cannot know what they reach)" "manifests\[2\].digest.*refusing to collect garbage" gc "$L"
verify_flags "odd entries: verify reports the duplicate tag" "tag 'v1' is ambiguous: 2 entries carry it" "$L"
check_contains "odd entries: verify reports sha512" "$TEST_TMP/out" "manifests\[2\].digest 'sha512:a+': unsupported digest"
check_contains "odd entries: verify reports the unknown media type" "$TEST_TMP/out" "'application/x-unknown' is neither"
unchanged "odd entries" "$L" "$TEST_TMP/before"
# build --tag T replaces every entry of T.
D=$(fresh duplicates)
jq '.manifests += [.manifests[0], .manifests[1], .manifests[0]]' "$D/index.json" >"$TEST_TMP/dup.json" && cp "$TEST_TMP/dup.json" "$D/index.json"
verify_flags "duplicates: verify reports both ambiguous tags" "tag 'a/b' is ambiguous: 2 entries" "$D"
check "duplicates: build --tag v1 into the layout" timeout "$T" "$OCIPACK" build "$ROOT" -o "$D" --tag v1 -q --label new=1
check_eq "duplicates: v1 is carried by one entry, in the first one's place" "v1 1" \
    "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | "\(.[0]) \(map(select(. == "v1")) | length)"' "$D/index.json")"
check "duplicates: build --tag a/b too" timeout "$T" "$OCIPACK" build "$ROOT" -o "$D" --tag a/b -q --label new=2
check "duplicates: verify is OK afterwards" timeout "$T" "$OCIPACK" verify "$D"

# --- 6. tags with '/' are addressable everywhere, also with ':' in the path
mkdir -p "$TEST_TMP/p:q"
S=$TEST_TMP/p:q/L
cp -a "$GOOD" "$S"
check "slash tags: inspect L:a/b" timeout "$T" "$OCIPACK" inspect "$S:a/b"
check_contains "slash tags: inspect shows the tag" "$TEST_TMP/last.out" '^Tag: +a/b$'
check "slash tags: inspect --json L:a/b" timeout "$T" "$OCIPACK" inspect --json "$S:a/b"
check_eq "slash tags: --json names the tag" "a/b" "$(jq -r .tag "$TEST_TMP/last.out")"
check "slash tags: verify --ref a/b" timeout "$T" "$OCIPACK" verify "$S" --ref a/b
check "slash tags: build --base L:a/b --tag c/d:1" timeout "$T" "$OCIPACK" build "$ROOT" -o "$S" --base "$S:a/b" --tag c/d:1 -q
check_eq "slash tags: the new image has the base's label" "y" \
    "$("$OCIPACK" inspect --json "$S:c/d:1" | jq -r '.config.config.Labels.x')"
"$OCIPACK" build "$ROOT" -o "$TEST_TMP/stray" -q
check "slash tags: gc" timeout "$T" "$OCIPACK" gc "$S"
for tag in v1 a/b c/d:1; do
    check "slash tags: $tag still loads after gc" timeout "$T" "$OCIPACK" inspect "$S:$tag"
done
check "slash tags: verify after gc" timeout "$T" "$OCIPACK" verify "$S"
mkdir -p "$TEST_TMP/amb"
cp -a "$GOOD" "$TEST_TMP/amb/L"
cp -a "$GOOD" "$TEST_TMP/amb/L:a"
refused "slash tags: a reference two layouts can mean is ambiguous" "is ambiguous: it can name the layouts" inspect "$TEST_TMP/amb/L:a:v1"

finish
