#!/bin/bash
# test_crash.sh OCIPACK
#
# Crash safety of the OCI layout (README "A failed build leaves an existing
# layout byte-for-byte as it was", DESIGN.md "OCI layout"): blobs go through
# hidden temp files (blobs/sha256/.blob.tmp-XXXXXX), fsync + rename; config,
# manifest, then index.json last by atomic rename; a failed build removes the
# blobs it added; SIGINT/SIGTERM stop the pipeline, remove temp files, exit 130/143.
#
# On a generated ~310 MiB rootfs (a build takes a few seconds on 2 cores):
#  0. Self-test: the layout checker rejects broken layouts.
#  1. SIGKILL at many points (by time, by bytes written to the temp blob, and
#     at the phase boundaries: layer / config / manifest blob committed,
#     index.json temp created, index.json replaced, --tar-output tarball being
#     staged) into a copy of a good layout tagged `old`. After each kill the
#     layout must be valid and complete: index.json parses, every referenced blob exists with the right size and
#     sha256, every pre-existing file is byte-identical, `umoci unpack` and
#     `skopeo inspect` work for every tag; if `new` is there it is exactly the
#     image a clean build makes. The only allowed leftovers are hidden temp
#     files and complete (name == sha256) unreferenced blobs; counted in a
#     table. Then kills accumulated in one layout, a normal build (with
#     --tar-output: no temp files in the tarball) and gc.
#  2. Full disk (small tmpfs; SKIPPED if it cannot be mounted): ENOSPC while
#     writing the layer (gzip, zstd, zstd:chunked, none), the config, the manifest and index.json (free space
#     sized to the page), a first build into a new / empty directory, and
#     --tar-output on the full tmpfs: exit 1, one "ocipack: error:" line with
#     "No space left on device" naming the path, nothing left behind.
#  3. SIGINT / SIGTERM: exit 130 / 143 (issue 13: 128 + the signal), "ocipack: error: interrupted", no temp file,
#     layout unchanged: after 0.3 s / 1 s / 64 MiB, right after the handler
#     is installed, while the --tar-output tarball is staged, while waiting
#     for the layout lock; SIGINT then SIGTERM at once (the second signal exits
#     at once, 130 or 143, after unlinking the temp blob); at the commit point (manifest blob written) either
#     a complete build with 0 or nothing with 130.
#  4. Concurrent builds of different tags into one layout (never two temp
#     blobs at once), a SIGKILLed lock holder with a waiter, and `ocipack gc`
#     concurrently with a build (while it writes, and started together).
#
# Runtime: about 2 minutes on 2 cores. Set OCIPACK_KEEP_TMP=1 to keep the
# scratch directory.
#
# Needs root (mount), python3, jq, umoci, skopeo, openssl.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

MOUNTED=
# shellcheck disable=SC2317  # called from the trap
cleanup_all() {
    local p
    # only this shell's own background jobs still running (builds, flock)
    for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
    [ -n "$MOUNTED" ] && umount "$MOUNTED" 2>/dev/null
    cleanup_tmp
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

if ! require_tool python3 jq umoci skopeo openssl diff; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi

T0=$SECONDS
# The system python if there is one (a pyenv shim costs seconds per call).
PY=$(command -v /usr/bin/python3 || command -v python3)
CREATED=2024-01-02T03:04:05Z
THREADS=2
H=$(cd "$(dirname "$0")" && pwd)/crash_layout.py

# The snapshot / layout checker / kill watcher is crash_layout.py, beside this script.

# pristine_snapshot ROOT DIR [LAYOUT_REL] : writes DIR/snap.json (every entry
# under ROOT) and DIR/pristine-index.json (the layout's index.json).
pristine_snapshot() {
    mkdir -p "$2"
    "$PY" "$H" snapshot "$1" "$2/snap.json" && cp "$1/${3:+$3/}index.json" "$2/pristine-index.json"
}

# layout_ok NAME ROOT SNAPDIR [--strict] [--layout REL] [TAG=DIGEST ...]
#   TAG=DIGEST: TAG may be there and must then be DIGEST; TAG=!DIGEST: must
#   be there; DIGEST * : any. Tags of the pristine index must keep their digest.
# Runs the checker (prints its errors under a FAIL) and leaves the SUMMARY
# line in $CHECK_SUMMARY.
CHECK_SUMMARY=
layout_ok() {
    local name=$1 layout=$2 snap=$3
    shift 3
    "$PY" "$H" check "$layout" "$snap/snap.json" "$@" >"$TEST_TMP/check.out" 2>&1
    local rc=$?
    CHECK_SUMMARY=$(grep '^SUMMARY' "$TEST_TMP/check.out" | sed 's/^SUMMARY //')
    if [ $rc -eq 0 ]; then
        pass "$name"
        return 0
    fi
    fail "$name" "$(grep -c '^ERROR' "$TEST_TMP/check.out") problem(s):"
    grep -v '^SUMMARY' "$TEST_TMP/check.out" | head -n 12 | sed 's/^/    | /'
    return 1
}

# summary_field KEY : value of KEY=... in $CHECK_SUMMARY
summary_field() {
    local kv
    for kv in $CHECK_SUMMARY; do
        [ "${kv%%=*}" = "$1" ] && echo "${kv#*=}" && return
    done
}

# consumers_ok NAME LAYOUT TAG MARKER_PATH MARKER_CONTENT
# umoci unpack + skopeo inspect of LAYOUT:TAG; MARKER_PATH in the unpacked
# rootfs must hold MARKER_CONTENT (first line).
consumers_ok() {
    local name=$1 layout=$2 tag=$3 marker=$4 want=$5 ok=1
    local bundle=$TEST_TMP/bundle
    rm -rf "$bundle"
    if ! umoci unpack --image "$layout:$tag" "$bundle" >"$TEST_TMP/umoci.out" 2>&1; then
        fail "$name: umoci unpack $tag" "umoci unpack failed:"
        show_tail "$TEST_TMP/umoci.out" 6
        ok=0
    elif [ "$(head -n 1 "$bundle/rootfs/$marker" 2>/dev/null)" != "$want" ]; then
        fail "$name: umoci unpack $tag" "$marker in the unpacked rootfs is not [$want]"
        ok=0
    fi
    rm -rf "$bundle"
    if ! skopeo inspect "oci:$layout:$tag" >"$TEST_TMP/skopeo.out" 2>&1; then
        fail "$name: skopeo inspect $tag" "skopeo inspect failed:"
        show_tail "$TEST_TMP/skopeo.out" 6
        ok=0
    fi
    [ $ok = 1 ] && pass "$name: umoci unpack + skopeo inspect $tag"
    [ $ok = 1 ]
}


# error_names NAME ERRFILE STRING : the error message contains STRING (a path).
error_names() {
    if grep -qF -- "$3" "$2"; then
        pass "$1: the error names $3"
    else
        fail "$1: the error names $3" "$(head -n 1 "$2")"
    fi
}

# status_is NAME WANT RC
status_is() {
    if [ "$3" = "$2" ]; then
        pass "$1: exit status $3"
    else
        fail "$1: exit status" "expected $2, got $3"
        show_tail "$TEST_TMP/run.err" 5
    fi
}

# --- inputs ---------------------------------------------------------------
gen() { # gen SEED BYTES > FILE : deterministic incompressible bytes
    openssl enc -aes-128-ctr -pass "pass:$1" -nosalt -pbkdf2 </dev/zero 2>/dev/null | head -c "$2"
}
BIG=$TEST_TMP/rootfs-big
MED=$TEST_TMP/rootfs-med
SMALL=$TEST_TMP/rootfs-small
mkdir -p "$BIG/data" "$BIG/text" "$BIG/etc" "$BIG/many" "$MED/etc" "$SMALL/etc"
for i in 0 1 2 3; do gen "big$i" $((64 << 20)) >"$BIG/data/random$i.bin"; done
for i in 0 1; do
    yes "line $i: the quick brown fox jumps over the lazy dog $i" | head -c $((24 << 20)) >"$BIG/text/text$i.txt"
done
gen many $((6 << 20)) | base64 >"$TEST_TMP/many.txt"
(cd "$BIG/many" && split -b 4k -a 4 "$TEST_TMP/many.txt" f-) && rm -f "$TEST_TMP/many.txt"
echo new >"$BIG/etc/marker"
gen med $((40 << 20)) >"$MED/rand.bin"
echo med >"$MED/etc/marker"
echo old >"$SMALL/etc/marker"
echo "# rootfs: big $(du -sm "$BIG" | cut -f1) MiB ($(find "$BIG" | wc -l) entries), med $(du -sm "$MED" | cut -f1) MiB; made in $((SECONDS - T0)) s"

B=(--created "$CREATED" --threads "$THREADS" --quiet)

# References: what a clean build of each rootfs gives (deterministic).
REF=$TEST_TMP/ref
t=$SECONDS
if ! check "reference build of the big rootfs" "$OCIPACK" build "$BIG" -o "$REF/big" --tag new "${B[@]}" ||
    ! check "reference build of the medium rootfs" "$OCIPACK" build "$MED" -o "$REF/med" --tag new "${B[@]}"; then
    finish
fi
echo "# reference build of the big rootfs: $((SECONDS - t)) s or less"
NEW_MANIFEST=$(layout_manifest_digest "$REF/big" new)
NEW_CONFIG=$(jq -r .config.digest "$(blob_path "$REF/big" "$NEW_MANIFEST")")
NEW_LAYER=$(jq -r '.layers[0].digest' "$(blob_path "$REF/big" "$NEW_MANIFEST")")
NEW_LAYER_SIZE=$(jq -r '.layers[0].size' "$(blob_path "$REF/big" "$NEW_MANIFEST")")
# Phase kills poll tightly only once the temp blob is this big.
HOT_BYTES=$((NEW_LAYER_SIZE - (8 << 20)))
MED_MANIFEST=$(layout_manifest_digest "$REF/med" new)
MED_LAYER_SIZE=$(jq -r '.layers[0].size' "$(blob_path "$REF/med" "$MED_MANIFEST")")

# The good layout (tag old), kept pristine; every case works on a copy.
PRISTINE=$TEST_TMP/pristine/layout
check "good layout with tag old" "$OCIPACK" build "$SMALL" -o "$PRISTINE" --tag old "${B[@]}" || finish
SNAP=$TEST_TMP/snap
pristine_snapshot "$PRISTINE" "$SNAP"
L=$TEST_TMP/work/layout
reset_layout() {
    rm -rf "$TEST_TMP/work"
    mkdir -p "$TEST_TMP/work"
    cp -a "$PRISTINE" "$L"
}

# The checker must be able to fail: broken copies of the good layout.
checker_rejects() { # NAME ARGS... : the checker must report a problem
    local name=$1 first
    shift
    "$PY" "$H" check "$L" "$SNAP/snap.json" "$@" >"$TEST_TMP/check.out" 2>&1
    local rc=$?
    first=$(grep -m1 '^ERROR' "$TEST_TMP/check.out" | cut -c7-90)
    if [ $rc = 0 ]; then
        fail "checker self-test: $name" "the checker accepted it"
    elif [ $rc != 1 ] || [ -z "$first" ]; then
        fail "checker self-test: $name" "the checker crashed (status $rc):"
        show_tail "$TEST_TMP/check.out" 5
    else
        pass "checker self-test: $name ($first)"
    fi
}
OLD_LAYER=$(jq -r '.layers[0].digest' "$(blob_path "$PRISTINE" "$(layout_manifest_digest "$PRISTINE" old)")")
reset_layout
truncate -s -1 "$(blob_path "$L" "$OLD_LAYER")"
checker_rejects "a truncated layer blob"
reset_layout
printf 'torn' >"$L/blobs/sha256/${NEW_LAYER#sha256:}"
checker_rejects "a torn blob under its final name"
reset_layout
printf 'x' >"$L/junk"
checker_rejects "a stray file"
reset_layout
printf '{"schemaVersion":2,"manifests":[' >"$L/index.json"
checker_rejects "a truncated index.json"
reset_layout
cp "$REF/big/index.json" "$L/index.json"
checker_rejects "index.json naming a missing manifest (and tag old gone)"
reset_layout
printf 'partial' >"$L/blobs/sha256/.blob.tmp-AbC123"
checker_rejects "a temp blob in --strict mode" --strict
if "$PY" "$H" check "$L" "$SNAP/snap.json" >/dev/null 2>&1; then
    pass "checker self-test: a temp blob is an allowed leftover otherwise"
else
    fail "checker self-test: a temp blob is an allowed leftover otherwise" "rejected"
fi

# start_build LAYOUT ARGS... : starts `ocipack build` in the background;
# sets BUILD_PID; output in run.out/run.err.
start_build() {
    local layout=$1
    shift
    "$OCIPACK" build "$@" -o "$layout" </dev/null >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err" &
    BUILD_PID=$!
}

# signal_build MODE ARG SIGNAL [EXTRA_ARGS...] : runs the big build (tag new)
# into $L and sends SIGNAL when the condition MODE ARG holds: time SECONDS |
# bytes N (in the temp blob) | exists PATH | indextmp (.index.json.tmp-*
# exists) | indexchanged (index.json replaced) | globbytes N@GLOB | caught (a
# handler for SIGNAL is installed); sets RUN_RC (exit status or sigN) RUN_AT
# (s) RUN_BYTES (temp blob bytes at the signal) RUN_STOP_MS.
signal_build() {
    local out mode=$1 arg=$2 sig=$3
    shift 3
    out=$("$PY" "$H" run "$mode" "$arg" "$sig" "$HOT_BYTES" "$L" "$TEST_TMP/run.out" "$TEST_TMP/run.err" -- \
        "$OCIPACK" build "$BIG" -o "$L" --tag new "${B[@]}" "$@")
    read -r RUN_RC RUN_AT RUN_BYTES RUN_STOP_MS <<<"$out"
}

# wait_temp_bytes LAYOUT N : waits (up to 60 s) until a temp blob holds N bytes.
wait_temp_bytes() {
    local i f size
    for ((i = 0; i < 3000; i++)); do
        for f in "$1"/blobs/sha256/.blob.tmp-*; do
            size=$(stat -c %s "$f" 2>/dev/null) || continue
            [ "$size" -ge "$2" ] && return 0
        done
        sleep 0.02
    done
    return 1
}

# ===========================================================================
echo "# [$((SECONDS - T0)) s] 1. SIGKILL at many points (build of the big rootfs, tag new, into a copy of the good layout)"
TABLE=()
row() { TABLE+=("$(printf '%-26s %-8s %7s %12s %4s %6s %-4s %s' "$@")"); }
row "kill point" "status" "at s" "temp bytes" "tmp" "unref" "new" "result"
# (status: KILLED, or completed when the build ended before the kill landed;
#  temp bytes: size of the temp blob when the signal was sent; tmp/unref:
#  hidden temp files / complete unreferenced blobs left in the layout)

# kill_point LABEL MODE ARG [tar] : with "tar", the build also writes
# --tar-output $TAR (which holds an old tarball): that must be unchanged or
# the complete new tarball, and only a hidden temp tarball may be left.
TARDIR=$TEST_TMP/tarout
TAR=$TARDIR/image.tar
kill_point() {
    local label=$1 mode=$2 arg=$3 with_tar=${4:-}
    local failed_before=$FAIL_COUNT
    reset_layout
    if [ -n "$with_tar" ]; then
        rm -rf "$TARDIR" && mkdir -p "$TARDIR" && printf 'old tarball\n' >"$TAR"
        signal_build "$mode" "$arg" KILL --tar-output "$TAR"
    else
        signal_build "$mode" "$arg" KILL
    fi
    local rc=$RUN_RC when=$RUN_AT bytes=$RUN_BYTES
    if [ -n "$with_tar" ]; then
        local others
        others=$(cd "$TARDIR" && find . -mindepth 1 ! -name image.tar ! -name '.image.tar.tmp-??????' | head -n 3)
        bytes="tar:$(find "$TARDIR" -name '.image.tar.tmp-*' -printf '%s' -quit)"
        if [ -n "$others" ]; then
            fail "kill $label: only a hidden temp tarball next to the tarball" "found: $others"
        elif [ "$(head -c 20 "$TAR" | tr -d '\0')" = "old tarball" ] && [ "$rc" != 0 ]; then
            pass "kill $label: old tarball unchanged"
        elif [ "$rc" = 0 ] && skopeo inspect "oci-archive:$TAR:new" >/dev/null 2>&1; then
            pass "kill $label: build completed, new tarball readable"
        else
            fail "kill $label: tarball" "neither the old tarball nor a readable new one (status $rc)"
        fi
    fi
    local status="rc=$rc"
    [ "$rc" = sig9 ] && status=KILLED
    [ "$rc" = 0 ] && status=completed
    if [ "$rc" != sig9 ] && [ "$rc" != 0 ]; then
        fail "kill $label: build status" "exit status $rc (expected SIGKILL or a completed build)"
        show_tail "$TEST_TMP/run.err" 4
    fi
    local want_new=new=$NEW_MANIFEST
    [ "$rc" = 0 ] && want_new=new=!$NEW_MANIFEST
    layout_ok "kill $label: layout valid, old files intact, only temp files/complete blobs added" "$L" "$SNAP" "$want_new"
    consumers_ok "kill $label" "$L" old etc/marker old
    local has_new=no
    if [ "$(layout_manifest_digest "$L" new)" != "" ]; then
        has_new=yes
        consumers_ok "kill $label" "$L" new etc/marker new
    fi
    local result=OK
    [ "$FAIL_COUNT" -gt "$failed_before" ] && result=FAIL
    row "$label" "$status" "$when" "$bytes" "$(summary_field tmp)" "$(summary_field unref)" "$has_new" "$result"
}

t=$SECONDS
for s in 0.02 0.3 1.0; do kill_point "time ${s}s" time "$s"; done
for mib in 1 8 32 64 192; do kill_point "temp blob >= ${mib} MiB" bytes $((mib << 20)); done
kill_point "layer blob committed" exists "$(blob_path "$L" "$NEW_LAYER")"
kill_point "config blob committed" exists "$(blob_path "$L" "$NEW_CONFIG")"
kill_point "manifest blob committed" exists "$(blob_path "$L" "$NEW_MANIFEST")"
kill_point "index.json temp created" indextmp -
kill_point "index.json replaced" indexchanged -
kill_point "tarball staging, 32 MiB" globbytes "$((32 << 20))@$TARDIR/.image.tar.tmp-*" tar
echo "# kill points: $((SECONDS - t)) s"
printf '#   %s\n' "${TABLE[@]}"

echo "# [$((SECONDS - T0)) s] 1b. kills accumulated in one layout, then a full build and gc"
reset_layout
for spec in "time 0.3" "bytes $((16 << 20))" "exists $(blob_path "$L" "$NEW_CONFIG")"; do
    # shellcheck disable=SC2086  # MODE ARG
    signal_build $spec KILL
done
layout_ok "accumulated kills: layout valid" "$L" "$SNAP" "new=$NEW_MANIFEST"
echo "#   leftovers after 3 kills: $CHECK_SUMMARY"
LITTER_UNREF=$(summary_field unref)
check "accumulated kills: a normal build (with --tar-output) into the littered layout succeeds" \
    "$OCIPACK" build "$BIG" -o "$L" --tag new "${B[@]}" --tar-output "$TEST_TMP/littered.tar"
layout_ok "accumulated kills: after the build both tags are complete" "$L" "$SNAP" "new=!$NEW_MANIFEST"
# The tarball of the littered layout: no temp files in it, readable.
tar -tf "$TEST_TMP/littered.tar" >"$TEST_TMP/littered.list" 2>&1
check_eq "accumulated kills: no hidden temp file in the --tar-output tarball" "" \
    "$(grep -E '(^|/)\.' "$TEST_TMP/littered.list" | head -n 3)"
check "accumulated kills: skopeo reads the --tar-output tarball" skopeo inspect "oci-archive:$TEST_TMP/littered.tar:new"
echo "#   the tarball holds $(grep -cE '^blobs/sha256/[0-9a-f]{64}$' "$TEST_TMP/littered.list") blobs (old 3 + new 3; the $LITTER_UNREF left by the kills are new's)"
rm -f "$TEST_TMP/littered.tar"
check "accumulated kills: ocipack gc succeeds" "$OCIPACK" gc "$L"
layout_ok "accumulated kills: after gc the layout is still complete" "$L" "$SNAP" "new=!$NEW_MANIFEST"
check_eq "accumulated kills: gc left no unreferenced blob" 0 "$(summary_field unref)"
echo "#   after gc: $CHECK_SUMMARY (gc does not remove stale .blob.tmp-* files)"

# ===========================================================================
echo "# [$((SECONDS - T0)) s] 2. full disk (tmpfs)"
MNT=$TEST_TMP/tmpfs
mkdir -p "$MNT"
PAGE=4096
# fill_to PAGES : leaves exactly PAGES free pages on the tmpfs (filler file
# outside the layout directory).
fill_to() {
    rm -f "$MNT/filler"
    local avail
    avail=$(df --output=avail -B$PAGE "$MNT" | tail -n 1 | tr -d ' ')
    if [ "$avail" -gt "$1" ]; then
        head -c $(((avail - $1) * PAGE)) /dev/zero >"$MNT/filler"
    fi
}
if ! mount -t tmpfs -o size=64m ocipack-crash "$MNT" 2>"$TEST_TMP/mount.err"; then
    skip "full disk" "cannot mount a tmpfs: $(head -c 200 "$TEST_TMP/mount.err")"
else
    MOUNTED=$MNT
    OUT=$MNT/out
    FL=$OUT/layout
    mkdir -p "$OUT"
    check "full disk: good layout on the tmpfs" "$OCIPACK" build "$SMALL" -o "$FL" --tag old "${B[@]}"
    FSNAP=$TEST_TMP/fsnap
    pristine_snapshot "$OUT" "$FSNAP" layout

    # enospc_case NAME FREE_PAGES ROOTFS
    enospc_case() {
        local name=$1 free=$2 rootfs=$3
        fill_to "$free"
        "$OCIPACK" build "$rootfs" -o "$FL" --tag new "${B[@]}" </dev/null >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err"
        local rc=$?
        echo "#   $name: $free free pages -> status $rc: $(head -c 200 "$TEST_TMP/run.err")"
        status_is "$name" 1 $rc
        one_error_line "$name" "$TEST_TMP/run.err" "No space left on device"
        error_names "$name" "$TEST_TMP/run.err" "$FL"
        layout_ok "$name: layout unchanged byte for byte, no new files" "$OUT" "$FSNAP" --strict --layout layout
    }
    MED_PAGES=$(((MED_LAYER_SIZE + PAGE - 1) / PAGE))
    # 16 MiB free: the big layer does not fit (the classic full disk).
    enospc_case "ENOSPC writing the layer (16 MiB free)" 4096 "$BIG"
    enospc_case "ENOSPC with the tmpfs already 100% full" 0 "$BIG"
    # The other layer formats meet a full disk the same way.
    for fmt in zstd zstd:chunked none; do
        B_GZIP=("${B[@]}")
        B+=(--compression-format "$fmt")
        enospc_case "$fmt: ENOSPC writing the layer (16 MiB free)" 4096 "$BIG"
        B=("${B_GZIP[@]}")
    done
    # Free space sized to the page: the layer fits, then the config, the
    # manifest or index.json does not (each a 1-page file on tmpfs).
    enospc_case "ENOSPC writing the config" "$MED_PAGES" "$MED"
    enospc_case "ENOSPC writing the manifest" $((MED_PAGES + 1)) "$MED"
    enospc_case "ENOSPC writing index.json" $((MED_PAGES + 2)) "$MED"
    fill_to $((MED_PAGES + 3))
    check "full disk control: with one more page the same build succeeds" \
        "$OCIPACK" build "$MED" -o "$FL" --tag new "${B[@]}"
    check_eq "full disk control: tag new is the reference image" "$MED_MANIFEST" "$(layout_manifest_digest "$FL" new)"
    rm -rf "$OUT"
    mkdir -p "$OUT"
    cp -a "$TEST_TMP/pristine/layout" "$FL"

    # A first build: -o does not exist yet / is an empty directory.
    fill_to 4096
    "$OCIPACK" build "$BIG" -o "$MNT/fresh/layout" --tag new "${B[@]}" </dev/null >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err"
    rc=$?
    status_is "first build into a new directory on a full disk" 1 $rc
    one_error_line "first build into a new directory on a full disk" "$TEST_TMP/run.err" "No space left on device"
    error_names "first build into a new directory" "$TEST_TMP/run.err" "$MNT/fresh/layout"
    check_eq "first build into a new directory on a full disk: no directory left behind" "" \
        "$(find "$MNT/fresh" 2>/dev/null)"
    mkdir -p "$MNT/empty"
    "$OCIPACK" build "$BIG" -o "$MNT/empty" --tag new "${B[@]}" </dev/null >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err"
    rc=$?
    status_is "first build into an empty directory on a full disk" 1 $rc
    one_error_line "first build into an empty directory on a full disk" "$TEST_TMP/run.err" "No space left on device"
    error_names "first build into an empty directory" "$TEST_TMP/run.err" "$MNT/empty"
    check_eq "first build into an empty directory on a full disk: directory still empty" "" "$(ls -A "$MNT/empty")"

    # --tar-output on the full tmpfs, layout on the normal disk.
    reset_layout
    rm -f "$MNT/filler"
    printf 'old tarball\n' >"$MNT/image.tar"
    fill_to 4096
    before=$(ls -A "$MNT" | tr '\n' ' ')
    "$OCIPACK" build "$MED" -o "$L" --tag new --tar-output "$MNT/image.tar" "${B[@]}" </dev/null \
        >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err"
    rc=$?
    status_is "--tar-output on a full disk" 1 $rc
    one_error_line "--tar-output on a full disk" "$TEST_TMP/run.err" "No space left on device"
    error_names "--tar-output on a full disk" "$TEST_TMP/run.err" "$MNT/image.tar"
    layout_ok "--tar-output on a full disk: layout unchanged, no new blobs" "$L" "$SNAP" --strict
    check_eq "--tar-output on a full disk: old tarball unchanged" "old tarball" "$(cat "$MNT/image.tar")"
    check_eq "--tar-output on a full disk: no temp tarball left" "$before" "$(ls -A "$MNT" | tr '\n' ' ')"
    umount "$MNT" && MOUNTED=
fi

# ===========================================================================
echo "# [$((SECONDS - T0)) s] 3. SIGINT / SIGTERM"
# interrupt_case NAME SIGNAL MODE ARG
interrupt_case() {
    local name=$1 sig=$2 mode=$3 arg=$4
    reset_layout
    signal_build "$mode" "$arg" "$sig"
    local rc=$RUN_RC stop_ms=$RUN_STOP_MS
    echo "#   $name: SIG$sig at ${RUN_AT} s (temp blob $RUN_BYTES bytes) -> status $rc after ${stop_ms} ms: $(head -c 200 "$TEST_TMP/run.err")"
    local want=130
    [ "$sig" = TERM ] && want=143
    # Two signals at once: whichever a thread takes first asks to stop, the
    # other exits (128 + its number), so either status is right.
    [ "$sig" = INT+TERM ] && [ "$rc" = 143 ] && want=143
    status_is "$name" "$want" "$rc"
    one_error_line "$name" "$TEST_TMP/run.err" "^ocipack: error: interrupted"
    layout_ok "$name: layout unchanged byte for byte, no temp file left" "$L" "$SNAP" --strict
    if [ "$stop_ms" != - ] && [ "$stop_ms" -lt 2000 ]; then
        pass "$name: stopped within 2 s ($stop_ms ms)"
    else
        fail "$name: stopped within 2 s" "took $stop_ms ms"
    fi
}
interrupt_case "SIGINT after 0.3 s" INT time 0.3
interrupt_case "SIGINT as soon as the handler is installed" INT caught -
interrupt_case "SIGTERM after 1.0 s" TERM time 1.0
interrupt_case "SIGINT with 64 MiB in the temp blob" INT bytes $((64 << 20))
# A second signal exits at once, yet after unlinking the temp blob the layer
# was being written to (issue 13); main before that left it behind.
interrupt_case "SIGINT then SIGTERM at once, 32 MiB in the temp blob" INT+TERM bytes $((32 << 20))

# SIGINT while the --tar-output tarball is being staged (after the layer
# pipeline, before index.json): the build must still stop and be undone.
reset_layout
rm -rf "$TARDIR" && mkdir -p "$TARDIR" && printf 'old tarball\n' >"$TAR"
signal_build globbytes "$((32 << 20))@$TARDIR/.image.tar.tmp-*" INT --tar-output "$TAR"
echo "#   SIGINT while staging the tarball: SIGINT at $RUN_AT s -> status $RUN_RC after $RUN_STOP_MS ms: $(head -c 200 "$TEST_TMP/run.err")"
status_is "SIGINT while staging the --tar-output tarball" 130 "$RUN_RC"
layout_ok "SIGINT while staging the --tar-output tarball: layout unchanged" "$L" "$SNAP" --strict
check_eq "SIGINT while staging the --tar-output tarball: old tarball unchanged, no temp tarball" \
    "image.tar:old tarball" "$(ls -A "$TARDIR" | tr '\n' ' ' | sed 's/ $//'):$(head -c 20 "$TAR" | tr -d '\0')"

# SIGINT while waiting for the layout lock (held by flock(1) on the directory).
reset_layout
flock "$L" sleep 2 &
LOCKER=$!
sleep 0.2
start_build "$L" "$BIG" --tag new "${B[@]}"
sleep 0.5
kill -INT "$BUILD_PID"
wait "$BUILD_PID"
rc=$?
wait "$LOCKER"
echo "#   SIGINT while waiting for the lock -> status $rc: $(head -c 200 "$TEST_TMP/run.err")"
status_is "SIGINT while waiting for the layout lock" 130 $rc
# The wait is announced (issue 13: "waiting for lock on L…"); then one error.
check_contains "SIGINT while waiting for the layout lock: the wait is announced" "$TEST_TMP/run.err" \
    "^ocipack: waiting for lock on $L"
grep -v '^ocipack: waiting for lock on ' "$TEST_TMP/run.err" >"$TEST_TMP/run.err.rest"
one_error_line "SIGINT while waiting for the layout lock" "$TEST_TMP/run.err.rest" "^ocipack: error: interrupted"
layout_ok "SIGINT while waiting for the layout lock: layout unchanged" "$L" "$SNAP" --strict

# SIGINT at the commit point (manifest blob just written): either the build
# completes (0, tag new complete) or it is undone (130, layout unchanged).
reset_layout
signal_build exists "$(blob_path "$L" "$NEW_MANIFEST")" INT
rc=$RUN_RC
echo "#   SIGINT when the manifest blob appears -> status $rc: $(head -c 200 "$TEST_TMP/run.err")"
if [ $rc = 0 ]; then
    layout_ok "SIGINT at the commit point: status 0 and tag new complete" "$L" "$SNAP" "new=!$NEW_MANIFEST"
elif [ $rc = 130 ]; then
    layout_ok "SIGINT at the commit point: status 130 and layout unchanged" "$L" "$SNAP" --strict
else
    fail "SIGINT at the commit point" "status $rc (expected 0 or 130)"
    show_tail "$TEST_TMP/run.err" 4
fi

# ===========================================================================
echo "# [$((SECONDS - T0)) s] 4. concurrent builds on one layout"
reset_layout
t=$SECONDS
pids=()
"$OCIPACK" build "$BIG" -o "$L" --tag c1 "${B[@]}" >"$TEST_TMP/c1.out" 2>"$TEST_TMP/c1.err" </dev/null &
pids+=($!)
"$OCIPACK" build "$MED" -o "$L" --tag c2 "${B[@]}" >"$TEST_TMP/c2.out" 2>"$TEST_TMP/c2.err" </dev/null &
pids+=($!)
"$OCIPACK" build "$BIG" -o "$L" --tag c3 --label build=c3 "${B[@]}" --fast >"$TEST_TMP/c3.out" 2>"$TEST_TMP/c3.err" </dev/null &
pids+=($!)
# While they run, count the temp blobs: with the layout lock there is never
# more than one at a time.
max_tmp=0
while kill -0 "${pids[0]}" 2>/dev/null || kill -0 "${pids[1]}" 2>/dev/null || kill -0 "${pids[2]}" 2>/dev/null; do
    n=0
    for f in "$L"/blobs/sha256/.blob.tmp-*; do [ -e "$f" ] && n=$((n + 1)); done
    [ $n -gt $max_tmp ] && max_tmp=$n
    sleep 0.01
done
i=1
for p in "${pids[@]}"; do
    wait "$p"
    rc=$?
    check_eq "concurrent build c$i (of 3) succeeds" 0 "$rc" || show_tail "$TEST_TMP/c$i.err" 4
    i=$((i + 1))
done
echo "#   3 concurrent builds: $((SECONDS - t)) s"
check_eq "concurrent builds: never more than one temp blob at a time (the builds are serialized)" 1 "$max_tmp"
layout_ok "concurrent builds: old, c1, c2, c3 all in index.json and complete" "$L" "$SNAP" \
    "c1=!$NEW_MANIFEST" "c2=!$MED_MANIFEST" "c3=!*"
check_eq "concurrent builds: no leftovers (tmp, unreferenced)" "0 0" "$(summary_field tmp) $(summary_field unref)"
consumers_ok "concurrent builds" "$L" c2 etc/marker med

# A lock holder SIGKILLed mid-build: the waiting build proceeds and succeeds.
reset_layout
start_build "$L" "$BIG" --tag new "${B[@]}"
HOLDER=$BUILD_PID
sleep 0.3
"$OCIPACK" build "$MED" -o "$L" --tag w "${B[@]}" >"$TEST_TMP/w.out" 2>"$TEST_TMP/w.err" </dev/null &
WAITER=$!
sleep 0.5
kill -9 "$HOLDER"
{ wait "$HOLDER"; } 2>/dev/null
wait "$WAITER"
rc=$?
check_eq "waiting build succeeds after the lock holder is SIGKILLed" 0 "$rc" || show_tail "$TEST_TMP/w.err" 4
layout_ok "after a SIGKILLed lock holder: old and w complete" "$L" "$SNAP" "w=!$MED_MANIFEST"

# gc concurrently with a build: the build's tag is complete afterwards.
# (a) gc started while the build is writing its layer (gc must wait);
# (b) gc and build started at the same instant, with garbage to collect.
for variant in during together; do
    reset_layout
    # Garbage: a complete but unreferenced blob (the medium layer).
    cp "$(blob_path "$REF/med" "$(jq -r '.layers[0].digest' "$(blob_path "$REF/med" "$MED_MANIFEST")")")" \
        "$L/blobs/sha256/"
    start_build "$L" "$BIG" --tag g "${B[@]}"
    [ $variant = during ] && wait_temp_bytes "$L" $((8 << 20))
    "$OCIPACK" gc "$L" >"$TEST_TMP/gc.out" 2>"$TEST_TMP/gc.err"
    gc_rc=$?
    wait "$BUILD_PID"
    rc=$?
    check_eq "gc $variant a build: build succeeds" 0 "$rc" || show_tail "$TEST_TMP/run.err" 4
    check_eq "gc $variant a build: gc succeeds" 0 "$gc_rc" || show_tail "$TEST_TMP/gc.err" 4
    echo "#   gc $variant a build: $(cat "$TEST_TMP/gc.out")"
    layout_ok "gc $variant a build: old and g complete, garbage collected" "$L" "$SNAP" "g=!$NEW_MANIFEST"
    check_eq "gc $variant a build: no unreferenced blob left" 0 "$(summary_field unref)"
done

echo "# total time: $((SECONDS - T0)) s"
echo "# kill-point table:"
printf '#   %s\n' "${TABLE[@]}"
finish
