#!/bin/bash
# test_refs.sh OCIPACK
#
# References, tags and the subcommands that manage them, run as real
# processes:
#   - the reference a build prints (LAYOUT:TAG) round-trips, literally, into
#     inspect, verify, tags, gc, --base and tag, also with skopeo's "oci:"
#     prefix; -o LAYOUT:TAG names layout and tag; a directory whose name
#     holds ':' is named by its whole name once it is a layout; a tag given
#     by -o and --tag differently, or holding '/' or '..', is usage (2);
#     -o ending in .tar warns;
#   - --tag repeated: one manifest, every reference printed; `tag` and
#     `untag` (blobs stay until gc); replacing a tag says so, with what gc
#     would free; gc --dry-run removes nothing and counts what gc removes;
#   - inspect LAYOUT with one image and no latest shows it; several: exit 2
#     listing the choices;
#   - a layout made by `umoci init` ("manifests": null) is empty for tags,
#     verify and build alike;
#   - two builds started at once into the same new -o both succeed; a build
#     that finds its layout locked says "waiting for lock on L…" and goes on
#     once the lock is free;
#   - tag/untag into a layout whose index.json is hostile fail with one line
#     and leave it byte-identical.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

if ! require_tool jq timeout flock sha256sum; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi

cd "$TEST_TMP" || exit 1
mkdir -p root/etc root2/etc
printf 'hello\n' >root/etc/hello.txt
printf 'other\n' >root2/etc/other.txt
dd if=/dev/urandom of=root2/etc/big bs=1024 count=1536 status=none

blob_count() { find "$1/blobs/sha256" -type f | wc -l; }

# --- the printed reference round-trips
run build root -o img:v1 --created @0
check_eq "build -o img:v1: exit 0" 0 "$RC"
# The summary's first line: "built LAYOUT:TAG manifest sha256:…".
REF=$(head -n 1 out | cut -d' ' -f2)
DIGEST=$(head -n 1 out | cut -d' ' -f4)
check_eq "build -o img:v1: layout img, tag v1" "img:v1" "$REF"
check_eq "no directory named img:v1" "no" "$([ -e img:v1 ] && echo yes || echo no)"
check "printed reference: inspect" "$OCIPACK" inspect "$REF"
run inspect "$REF" --json
check_eq "printed reference: inspect shows that manifest" "$DIGEST" "$(jq -r .manifest.digest out)"
check "printed reference: verify" "$OCIPACK" verify "$REF"
run tags "$REF" --json
check_eq "printed reference: tags lists that tag" "v1 $DIGEST" "$(jq -r '.[] | "\(.tag) \(.digest)"' out)"
check "printed reference: gc" "$OCIPACK" gc "$REF"
check "printed reference: --base" "$OCIPACK" build root2 --base "$REF" -o derived:d1 -q --created @0
check "printed reference: tag" "$OCIPACK" tag "$REF" v1-copy
for sub in inspect verify tags gc; do
    check "oci:$REF: $sub" "$OCIPACK" "$sub" "oci:$REF"
done
check "oci:$REF: --base" "$OCIPACK" build root2 --base "oci:$REF" -o oci:derived:d2 -q --created @0
run tags derived --json
check_eq "oci: -o wrote layout derived, tags d1 and d2" "d1 d2" "$(jq -r '[.[].tag] | join(" ")' out)"
exits "verify LAYOUT:TAG --ref OTHER" 2 "verify: the reference names the tag 'v1' but --ref 'v2'" verify img:v1 --ref v2
exits "-o tag and --tag differ" 2 "-o: the reference names the tag 'v1' but --tag 'v2'" build root -o img:v1 --tag v2
exits "a tag with '..' in -o" 2 "-o 'img:a..b'" build root -o img:a..b
exits "a tag with '..' and '/' in -o (existing layout)" 2 "-o 'img:../../x'.*invalid tag '../../x'" build root -o img:../../x
exits "a tag with '/' in -o (new layout)" 2 "-o 'fresh:../x'.*cannot hold '/'" build root -o fresh:../x
exits "a tag with a control byte" 2 "invalid tag 'a[\\]x01b'" build root -o "img:a$(printf '\001')b"
exits "an overlong tag" 2 "invalid tag 'a{32}\.\.\.': 300 characters, at most 255" build root -o "newimg:$(printf 'a%.0s' {1..300})"
check_eq "refused -o wrote nothing" "no" "$([ -e 'img:..' ] || [ -e 'fresh:..' ] || [ -e ../x ] && echo yes || echo no)"

# A directory whose name holds ':': made with a trailing '/', then named whole.
run build root -o colon:dir/ --created @0
check_eq "-o 'colon:dir/': exit 0" 0 "$RC"
check_eq "-o 'colon:dir/' made the directory colon:dir" "yes" "$([ -f colon:dir/oci-layout ] && echo yes || echo no)"
check "an existing layout named colon:dir is named whole" "$OCIPACK" verify colon:dir
check "colon:dir:latest names its tag" "$OCIPACK" inspect colon:dir:latest

run build root -o out.tar -q --created @0
check_eq "-o out.tar: exit 0" 0 "$RC"
check_contains "-o out.tar warns" err "^ocipack: warning: -o is a layout directory; for a tarball use --tar-output$"

# --- several tags, tag, untag, replacing, gc --dry-run
run build root -o multi --tag a --tag b --tag a --created @0
check_eq "--tag a --tag b: exit 0" 0 "$RC"
check_eq "--tag a --tag b: both references printed" "multi:a multi:b" "$(grep '^built multi:' out | cut -d' ' -f2 | xargs)"
run tags multi --json
check_eq "--tag a --tag b: one manifest under both tags" "1" "$(jq -r '[.[].digest] | unique | length' out)"
check_eq "--tag a --tag b: tags a, b" "a b" "$(jq -r '[.[].tag] | join(" ")' out)"

run tag multi:a c d
check_eq "tag multi:a c d: exit 0" 0 "$RC"
check_contains "tag prints the new references" out "^multi:d sha256:"
BLOBS=$(blob_count multi)
run untag multi:c
check_eq "untag multi:c: exit 0" 0 "$RC"
check_contains "untag says the blobs stay" out "blobs stay until ocipack gc multi"
run tags multi --json
check_eq "untag removed only c" "a b d" "$(jq -r '[.[].tag] | join(" ")' out)"
check_eq "untag kept every blob" "$BLOBS" "$(blob_count multi)"
exits "untag a missing tag" 1 "TAG 'c'.*no such tag" untag multi:c
exits "tag from a missing tag" 1 "SRC 'zz'.*no such tag" tag multi:zz e
exits "tag a missing layout" 1 "nowhere" tag nowhere:a e
check_eq "tag into a missing layout created nothing" "no" "$([ -e nowhere ] && echo yes || echo no)"

# Replacing a tag: said on stderr, with what gc would free.
run build root2 -o multi:a --created @0
check_eq "rebuild multi:a: exit 0" 0 "$RC"
check_contains "replacing a tag says so (the old image is still tagged b, d)" err \
    "^ocipack: replaced tag a \(was sha256:[0-9a-f]{64}\); nothing unreferenced$"
for t in b d; do check "untag multi:$t" "$OCIPACK" untag "multi:$t"; done
run build root -o multi:a --created @0
check_contains "replacing a tag says so, with what gc would free" err \
    "^ocipack: replaced tag a \(was sha256:[0-9a-f]{64}\); [0-9.]+ (KiB|MiB) unreferenced — ocipack gc multi$"
INDEX_SUM=$(sha256sum multi/index.json)
BLOBS=$(blob_count multi)
run gc multi --dry-run
check_eq "gc --dry-run: exit 0" 0 "$RC"
check_contains "gc --dry-run lists the blobs" out "^would remove blob sha256:[0-9a-f]{64}$"
WOULD=$(grep -c '^would remove blob' out)
check_contains "gc --dry-run: the summary" out "^would remove $WOULD blobs and 0 stale temp files, .*nothing removed"
check_eq "gc --dry-run removed nothing" "$BLOBS" "$(blob_count multi)"
check_eq "gc --dry-run left index.json alone" "$INDEX_SUM" "$(sha256sum multi/index.json)"
run gc multi
check_contains "gc then removes what the dry run listed" out "^removed $WOULD blobs"
check "multi verifies after gc" "$OCIPACK" verify multi

# --- inspect without a tag
check "one image under v9 (no latest)" "$OCIPACK" build root -o single:v9 -q --created @0
run inspect single --json
check_eq "inspect LAYOUT with one image shows it" "v9" "$(jq -r .tag out)"
run inspect img --json
check_eq "inspect LAYOUT with one image under two tags shows it" "$DIGEST" "$(jq -r .manifest.digest out)"
check "two images: x" "$OCIPACK" build root -o two:x -q --created @0
check "two images: y" "$OCIPACK" build root2 -o two:y -q --created @0
exits "inspect LAYOUT with several images and no latest" 2 "layout 'two' holds 2 images .*choose one of x, y" \
    inspect two

# --- umoci init
if require_tool umoci; then
    umoci init --layout U >/dev/null 2>&1
    check_eq "umoci init wrote manifests: null" "null" "$(jq -c .manifests U/index.json)"
    run tags U
    check_eq "tags of an umoci init layout: exit 0, nothing listed" "0:" "$RC:$(cat out)"
    run verify U
    check_eq "verify of an umoci init layout: exit 0" 0 "$RC"
    run build root -o U:v1 -q --created @0
    check_eq "build into an umoci init layout: exit 0" 0 "$RC"
    check "the umoci init layout verifies after the build" "$OCIPACK" verify U:v1
    check "umoci reads it back" umoci stat --image U:v1
else
    skip "umoci init" "umoci not installed"
fi

# --- locking
"$OCIPACK" build root -o race:one -q --created @0 >race1.out 2>race1.err &
P1=$!
"$OCIPACK" build root2 -o race:two -q --created @0 >race2.out 2>race2.err &
P2=$!
wait $P1; R1=$?
wait $P2; R2=$?
check_eq "two builds at once into one new -o: both exit 0" "0 0" "$R1 $R2"
[ "$R1$R2" = "00" ] || { show_tail race1.err; show_tail race2.err; }
run tags race --json
check_eq "both tags are there" "one two" "$(jq -r '[.[].tag] | sort | join(" ")' out)"
check "the raced layout verifies" "$OCIPACK" verify race

# A held lock: the build says it waits, then goes on when it is released.
mkdir locked
flock locked -c 'touch held; while [ ! -e release ]; do sleep 0.05; done' &
HOLDER=$!
for _ in $(seq 600); do [ -e held ] && break; sleep 0.05; done
"$OCIPACK" build root -o locked:w --created @0 >wait.out 2>wait.err &
BUILDER=$!
for _ in $(seq 600); do grep -q "waiting for lock" wait.err && break; sleep 0.05; done
check_contains "a locked layout: the build says it waits" wait.err "^ocipack: waiting for lock on locked…$"
check_eq "while the lock is held nothing is committed" "no" "$([ -e locked/index.json ] && echo yes || echo no)"
touch release
wait $HOLDER
wait $BUILDER
check_eq "after the lock is released the build finishes" 0 "$?"
check "the waited-for layout verifies" "$OCIPACK" verify locked:w

# --- hostile index.json: tag/untag fail cleanly, nothing written
for hostile in '{"schemaVersion":2,"manifests":{}}' \
    '{"schemaVersion":2,"manifests":[{"digest":"sha256:../../../etc/passwd","size":1,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"org.opencontainers.image.ref.name":"v1"}}]}'; do
    rm -rf H && mkdir -p H/blobs/sha256 && printf '{"imageLayoutVersion":"1.0.0"}' >H/oci-layout
    printf '%s' "$hostile" >H/index.json
    SUM=$(sha256sum H/index.json)
    run tag H:v1 v2
    check_eq "tag into a hostile index.json fails" 1 "$RC"
    one_error_line "tag into a hostile index.json" err "index.json|v1"
    run untag H:v1
    check_eq "untag in a hostile index.json fails" 1 "$RC"
    check_eq "the hostile index.json is untouched" "$SUM" "$(sha256sum H/index.json)"
done

finish
