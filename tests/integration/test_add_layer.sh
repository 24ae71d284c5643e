#!/bin/bash
# test_add_layer.sh OCIPACK
#
# `ocipack add-layer LAYOUT:TAG DIR` (issue 14, part 4), the in-place edit
# `umoci raw add-layer` makes, through build's layer pipeline:
#   - the image gains one layer (the base's layers first, the same blobs),
#     a config with the new diff_id and a history entry (created_by default
#     "ocipack add-layer", --history.* given), the manifest's and index
#     entry's annotations kept; the tag names the new manifest, another tag
#     of the old one stays, and the old manifest/config become unreferenced
#     (gc --dry-run lists them); --tag NEW leaves the image's own tag alone;
#   - byte-deterministic: add-layer on two copies of a layout gives the same
#     digests (SOURCE_DATE_EPOCH set), and equals `build DIR --base L:T -o L:T`
#     made with the same settings except for the history's created_by;
#   - the result verifies (ocipack verify), umoci unpacks it (--rootless and
#     as root: the added files with their owner), skopeo inspects it and
#     copies it to another layout; zstd with --compression-format zstd;
#   - hostile or missing inputs: a missing layout, a missing tag, a missing
#     DIR, DIR a symlink to /, DIR = /, a file as DIR, a multi-platform tag:
#     exit 1, one error line naming the culprit, the layout unchanged;
#   - the layout lock: with the lock held, add-layer says it waits; SIGINT
#     then stops it with one error line and the layout unchanged; a tag moved
#     by the lock holder is read again once the lock is free (the layer goes
#     on the image the tag names then); two add-layers of one tag at once
#     both land (three layers).
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
if ! require_tool jq umoci skopeo flock python3; then
    skip "all checks" "missing tools: $MISSING_TOOLS"
    finish
fi
cd "$TEST_TMP" || exit 1
export SOURCE_DATE_EPOCH=1700000000

mkdir -p root/etc root/usr/bin
printf 'base\n' >root/etc/os-release
printf '#!/bin/sh\n' >root/usr/bin/tool
chmod 755 root/usr/bin/tool
mkdir -p home/home/nonroot/.cache
printf 'hi\n' >home/home/nonroot/.profile
chown -R 65532:65532 home/home/nonroot
chmod 700 home/home/nonroot

check "the base image" "$OCIPACK" build root -o L:v1 --tag v1 --tag keep -q --annotation org.example.a=1 \
    --index-annotation org.example.e=2
cp -a L L2
cp -a L L3
old=$(layout_manifest_digest L v1)
old_config=$(jq -r .config.digest "$(blob_path L "$old")")

# --- the edit
run add-layer L:v1 home
check_eq "add-layer: exit 0" 0 "$RC" || show_tail err
new=$(layout_manifest_digest L v1)
manifest=$(blob_path L "$new")
config=$(blob_path L "$(jq -r .config.digest "$manifest")")
check "add-layer: v1 names a new manifest" test "$new" != "$old"
check_eq "add-layer: keep still names the old manifest" "$old" "$(layout_manifest_digest L keep)"
check_eq "add-layer: two layers" 2 "$(jq '.layers | length' "$manifest")"
check_eq "add-layer: the base layer is the same blob" \
    "$(jq -r '.layers[0].digest' "$(blob_path L "$old")")" "$(jq -r '.layers[0].digest' "$manifest")"
check_eq "add-layer: two diff_ids" 2 "$(jq '.rootfs.diff_ids | length' "$config")"
check_eq "add-layer: history created_by" "ocipack add-layer" "$(jq -r '.history[1].created_by' "$config")"
check_eq "add-layer: the manifest annotation is kept" 1 "$(jq -r '.annotations["org.example.a"]' "$manifest")"
check_eq "add-layer: the index entry annotation is kept" 2 \
    "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .annotations["org.example.e"]' L/index.json)"
check_eq "add-layer: created is SOURCE_DATE_EPOCH" "2023-11-14T22:13:20Z" "$(jq -r .created "$config")"
check_contains "add-layer: the summary names the image" out "L:v1"
check "add-layer: ocipack verify" "$OCIPACK" verify L
"$OCIPACK" untag L:keep >/dev/null
"$OCIPACK" gc --dry-run L >gc.out
check_contains "add-layer: the old manifest is unreferenced" gc.out "would remove blob ${old}$"
check_contains "add-layer: the old config is unreferenced" gc.out "would remove blob ${old_config}$"

# --- deterministic, and the build it is
run add-layer L2:v1 home
check_eq "add-layer again on a copy: same manifest digest" "$new" "$(layout_manifest_digest L2 v1)"
"$OCIPACK" build home --base L3:v1 -o L3:v1 -q
built=$(layout_manifest_digest L3 v1)
check_eq "build --base L:v1 -o L:v1: the same layer" "$(jq -r '.layers[1].digest' "$manifest")" \
    "$(jq -r '.layers[1].digest' "$(blob_path L3 "$built")")"
check_eq "build --base: history says ocipack build" "ocipack build" \
    "$(jq -r '.history[1].created_by' "$(blob_path L3 "$(jq -r .config.digest "$(blob_path L3 "$built")")")")"

# --- consumers
if check "umoci unpack --rootless" umoci unpack --rootless --image L:v1 rootless; then
    check "umoci: the base file" test -f rootless/rootfs/etc/os-release
    check "umoci: the added file" test -f rootless/rootfs/home/nonroot/.profile
fi
if check "umoci unpack (root)" umoci unpack --image L:v1 bundle; then
    check_eq "umoci: the home directory's owner and mode" "65532:65532 700" \
        "$(stat -c '%u:%g %a' bundle/rootfs/home/nonroot)"
fi
check "umoci ls" umoci ls --layout L
check "skopeo inspect" skopeo inspect oci:L:v1
check "skopeo copy to another layout" skopeo copy -q oci:L:v1 oci:copied:v1

# --- --tag NEW and the history flags, zstd
cp -a L2 L4
run add-layer L4:v1 home --tag v2 --history.created_by "useradd nonroot" --history.comment home \
    --compression-format zstd
check_eq "--tag v2: exit 0" 0 "$RC" || show_tail err
check_eq "--tag v2: v1 unchanged" "$new" "$(layout_manifest_digest L4 v1)"
m4=$(blob_path L4 "$(layout_manifest_digest L4 v2)")
check_eq "--tag v2: three layers" 3 "$(jq '.layers | length' "$m4")"
check_eq "--compression-format zstd: the new layer's media type" "application/vnd.oci.image.layer.v1.tar+zstd" \
    "$(jq -r '.layers[2].mediaType' "$m4")"
c4=$(blob_path L4 "$(jq -r .config.digest "$m4")")
check_eq "--history.created_by" "useradd nonroot" "$(jq -r '.history[2].created_by' "$c4")"
check_eq "--history.comment" "home" "$(jq -r '.history[2].comment' "$c4")"
check "--tag v2: verify" "$OCIPACK" verify L4

# --- hostile and missing inputs: exit 1, one line, the layout unchanged
# snap LAYOUT: every file's name, mode and content (temp files come and go
# with directory mtimes; what a reader sees must not change).
snap() { (cd "$1" && find . -printf '%p %y %m\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }
before=$(snap L2)
ln -s / to-root
printf 'x' >afile
exits "missing tag" 1 "add-layer: .*'nope'" add-layer L2:nope home
exits "missing layout" 1 "'nolayout'" add-layer nolayout:v1 home
exits "missing DIR" 1 "^ocipack: error: DIR '$TEST_TMP/nodir' does not exist" add-layer L2:v1 "$TEST_TMP/nodir"
exits "DIR a symlink to /" 1 "DIR 'to-root' is a symlink" add-layer L2:v1 to-root
exits "DIR = /" 1 "DIR '/' is the root directory" add-layer L2:v1 /
exits "DIR a file" 1 "DIR 'afile' is not a directory" add-layer L2:v1 afile
exits "without DIR" 2 "DIR is required" add-layer L2:v1
"$OCIPACK" index -o L2:multi L2:keep -q
before=$(snap L2)
exits "a multi-platform tag" 1 "names an image index" add-layer L2:multi home
check_eq "the layout is unchanged after the refusals" "$before" "$(snap L2)"
"$OCIPACK" untag L2:multi >/dev/null
before=$(snap L2)

# --- the layout lock
# held_by_another LAYOUT: waits (up to 10 s) until another process holds its lock.
held_by_another() {
    local i
    for i in $(seq 100); do
        flock -n "$1" true || return 0
        sleep 0.1
    done
    return 1
}
flock L2 sleep 6 &
holder=$!
held_by_another L2
timeout 20 "$OCIPACK" add-layer L2:v1 home >lock.out 2>lock.err &
waiter=$!
for _ in $(seq 100); do grep -q 'waiting for lock' lock.err 2>/dev/null && break; sleep 0.1; done
kill -INT $waiter
wait $waiter
rc=$?
wait $holder
check_eq "SIGINT while waiting for the lock: exit 130" 130 "$rc"
check_contains "the wait is announced" lock.err "^ocipack: waiting for lock on L2"
grep -v '^ocipack: waiting for lock on ' lock.err >lock.rest
one_error_line "SIGINT while waiting for the lock" lock.rest "interrupted"
check_eq "the layout is unchanged after the interrupted add-layer" "$before" "$(snap L2)"

# The lock holder moves v1 to the image 'keep' names (the base alone); the
# waiting add-layer must stack on that, read under the lock.
keep=$(layout_manifest_digest L2 keep)
keep_size=$(jq '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "keep") | .size] | first' L2/index.json)
cat >move.sh <<EOF
sleep 1.5
jq --arg d '$keep' --argjson s '$keep_size' \
    '(.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1")) |= (.digest = \$d | .size = \$s)' \
    L2/index.json >moved.json && mv moved.json L2/index.json
EOF
flock L2 sh move.sh &
holder=$!
held_by_another L2
timeout 30 "$OCIPACK" add-layer L2:v1 home --tag v3 -q 2>moved.err
rc=$?
wait $holder
check_eq "add-layer after the lock holder moved v1: exit 0" 0 "$rc" || show_tail moved.err
check_eq "it stacked on the image v1 named under the lock (two layers, not three)" 2 \
    "$(jq '.layers | length' "$(blob_path L2 "$(layout_manifest_digest L2 v3)")")"

# Two add-layers of one tag at once: both layers land.
mkdir -p more/opt && printf 'o\n' >more/opt/o
"$OCIPACK" add-layer L2:keep home -q --tag both
"$OCIPACK" add-layer L2:both home -q & a=$!
"$OCIPACK" add-layer L2:both more -q & b=$!
wait $a; ra=$?
wait $b; rb=$?
check_eq "two concurrent add-layers: both exit 0" "0 0" "$ra $rb"
check_eq "two concurrent add-layers: 4 layers (base, home, then both)" 4 \
    "$(jq '.layers | length' "$(blob_path L2 "$(layout_manifest_digest L2 both)")")"
check "the layout verifies after all of it" "$OCIPACK" verify L2
finish
