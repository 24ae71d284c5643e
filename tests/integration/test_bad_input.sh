#!/bin/bash
# test_bad_input.sh OCIPACK
#
# Bad input must give: a non-zero exit status (2 for bad flags/values, 1 for
# runtime failures), exactly one line on stderr starting "ocipack: error:"
# that names the culprit (the value or path given), and no change at all to
# the output: a good layout already at -o and a good --tar-output file stay
# byte-for-byte identical, and no stray (temporary) files appear next to them.
# Covers bad paths, bad flag values, unreadable entries, an existing -o that is
# not a good layout (junk directory, broken index.json), and running out of
# space (layout or tarball on a 1 MiB tmpfs; SKIPPED if it cannot be mounted),
# and libarchive missing at run time (hidden in a private mount namespace;
# SKIPPED if one cannot be made).
#
# Reading failures as root: root ignores permission bits, so the unreadable
# file / directory cases run ocipack as uid 0 *without* CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH (setpriv --bounding-set=-dac_override,-dac_read_search),
# for which a mode-000 entry really is unreadable; the cases are SKIPPED, with
# the reason, if that cannot be arranged.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

MOUNTED=
cleanup_mount() {
    [ -n "$MOUNTED" ] && umount "$MOUNTED" 2>/dev/null
    cleanup_tmp
}
trap cleanup_mount EXIT

if ! require_tool diff cp; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi

# A small valid rootfs.
ROOT=$TEST_TMP/rootfs
mkdir -p "$ROOT/etc" "$ROOT/bin"
printf 'hello\n' >"$ROOT/etc/hello.txt"
printf '#!/bin/sh\n' >"$ROOT/bin/tool"
chmod 755 "$ROOT/bin/tool"

# Reference output: a good layout and a good tarball, in their own directory
# (so that stray files next to them are detected as well).
REF_OUT=$TEST_TMP/ref-out
OUTDIR=$TEST_TMP/out
LAYOUT=$OUTDIR/layout
TAROUT=$OUTDIR/image.tar
mkdir -p "$REF_OUT"
if ! check "control: a good build succeeds" "$OCIPACK" build "$ROOT" -o "$REF_OUT/layout" --tag good \
    --created 2024-01-02T03:04:05Z --tar-output "$REF_OUT/image.tar" --quiet; then
    echo "# without a good build the error cases cannot be told apart; stopping" >&2
    finish
fi

reset_output() {
    rm -rf "$OUTDIR"
    cp -a "$REF_OUT" "$OUTDIR"
}

# bad_case NAME EXPECTED_STATUS CULPRIT_REGEX ARGS...
#   EXPECTED_STATUS: 2, 1, or "1|2" (either is acceptable).
#   CULPRIT_REGEX: grep -E pattern the error line must match (names the culprit).
#   ARGS: full ocipack argument list; the word @OCIPACK@ is replaced by the
#   binary path (so a wrapper such as setpriv can precede it).
bad_case() {
    local name=$1 want=$2 culprit=$3
    shift 3
    local -a cmd=()
    local arg
    for arg in "$@"; do
        if [ "$arg" = @OCIPACK@ ]; then cmd+=("$OCIPACK"); else cmd+=("$arg"); fi
    done
    reset_output
    "${cmd[@]}" >"$TEST_TMP/case.out" 2>"$TEST_TMP/case.err" </dev/null
    local rc=$?

    echo "#   -> status $rc, stderr: $(head -c 300 "$TEST_TMP/case.err" | tr '\n' '|')"
    # 1. exit status
    if [ $rc -ge 128 ]; then
        fail "$name: exit status" "killed by signal $((rc - 128)) (status $rc)"
    elif [ $rc -eq 0 ]; then
        fail "$name: exit status" "exited 0 (command: ${cmd[*]})"
    elif [[ "|$want|" == *"|$rc|"* ]]; then
        pass "$name: exit status $rc"
    else
        fail "$name: exit status" "expected $want, got $rc"
    fi

    # 2. exactly one stderr line, "ocipack: error: ...", naming the culprit
    one_error_line "$name" "$TEST_TMP/case.err" "$culprit"
    if [ -s "$TEST_TMP/case.out" ]; then
        fail "$name: nothing on stdout" "$(head -c 200 "$TEST_TMP/case.out")"
    fi

    # 3. existing output untouched, no stray files
    if diff -r --no-dereference "$REF_OUT" "$OUTDIR" >"$TEST_TMP/case.diff" 2>&1; then
        pass "$name: existing layout and tarball unchanged, no stray files"
    else
        fail "$name: existing layout and tarball unchanged, no stray files" "diff -r:"
        head -n 8 "$TEST_TMP/case.diff" | sed 's/^/    | /'
    fi
}

O=(-o "$LAYOUT" --tar-output "$TAROUT" --tag good --created 2024-01-02T03:04:05Z)

echo "# rootfs argument"
bad_case "nonexistent ROOTFS" "1|2" "$TEST_TMP/no-such-rootfs" \
    @OCIPACK@ build "$TEST_TMP/no-such-rootfs" "${O[@]}"
printf 'not a dir\n' >"$TEST_TMP/rootfs-file"
bad_case "ROOTFS is a regular file" "1|2" "$TEST_TMP/rootfs-file" \
    @OCIPACK@ build "$TEST_TMP/rootfs-file" "${O[@]}"

echo "# flag values"
bad_case "--env without =" 2 'NO_EQUALS_SIGN' @OCIPACK@ build "$ROOT" "${O[@]}" --env NO_EQUALS_SIGN
bad_case "--env with empty key" 2 '=orphan-value' @OCIPACK@ build "$ROOT" "${O[@]}" --env '=orphan-value'
bad_case "--label without =" 2 'label-without-value' @OCIPACK@ build "$ROOT" "${O[@]}" --label label-without-value
bad_case "--port abc" 2 'abc' @OCIPACK@ build "$ROOT" "${O[@]}" --port abc
bad_case "--port 70000" 2 '70000' @OCIPACK@ build "$ROOT" "${O[@]}" --port 70000
bad_case "--port 80/xyz" 2 '80/xyz' @OCIPACK@ build "$ROOT" "${O[@]}" --port 80/xyz
bad_case "--arch bogus" 2 'bogusarch' @OCIPACK@ build "$ROOT" "${O[@]}" --arch bogusarch
bad_case "--variant v9" 2 'v9' @OCIPACK@ build "$ROOT" "${O[@]}" --arch arm64 --variant v9
bad_case "--level 99" 2 '99' @OCIPACK@ build "$ROOT" "${O[@]}" --level 99
bad_case "--threads 0" 2 'threads.*0|0.*threads' @OCIPACK@ build "$ROOT" "${O[@]}" --threads 0
bad_case "--chunk-size 12Q" 2 '12Q' @OCIPACK@ build "$ROOT" "${O[@]}" --chunk-size 12Q
bad_case "--created not-a-date" 2 'not-a-date' \
    @OCIPACK@ build "$ROOT" -o "$LAYOUT" --tar-output "$TAROUT" --tag good --created not-a-date
bad_case "--entrypoint with an unterminated quote" 2 'entrypoint|quot' \
    @OCIPACK@ build "$ROOT" "${O[@]}" --entrypoint "/bin/sh -c 'unterminated"
bad_case "unknown option" 2 'no-such-option' @OCIPACK@ build "$ROOT" "${O[@]}" --no-such-option
bad_case "SOURCE_DATE_EPOCH=garbage" "1|2" 'SOURCE_DATE_EPOCH' \
    env SOURCE_DATE_EPOCH=garbage @OCIPACK@ build "$ROOT" -o "$LAYOUT" --tar-output "$TAROUT" --tag good

echo "# output argument"
reset_output
printf 'precious\n' >"$TEST_TMP/out-file"
bad_case "-o is a regular file" "1|2" "$TEST_TMP/out-file" @OCIPACK@ build "$ROOT" -o "$TEST_TMP/out-file" --tag good
check_eq "-o regular file left unchanged" "precious" "$(cat "$TEST_TMP/out-file")"

echo "# unreadable entries (root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH)"
# shellcheck disable=SC2054  # the commas belong to one setpriv argument
NODAC=(setpriv --bounding-set=-dac_override,-dac_read_search)
UR=$TEST_TMP/rootfs-unreadable-file
cp -a "$ROOT" "$UR"
printf 'secret\n' >"$UR/etc/unreadable-secret"
chmod 000 "$UR/etc/unreadable-secret"
UD=$TEST_TMP/rootfs-unreadable-dir
cp -a "$ROOT" "$UD"
mkdir -p "$UD/var/unreadable-dir"
printf 'x\n' >"$UD/var/unreadable-dir/inside"
chmod 000 "$UD/var/unreadable-dir"
if ! command -v setpriv >/dev/null 2>&1; then
    skip "unreadable file in rootfs" "setpriv (util-linux) not installed: cannot drop CAP_DAC_OVERRIDE"
    skip "unreadable directory in rootfs" "setpriv (util-linux) not installed: cannot drop CAP_DAC_OVERRIDE"
elif "${NODAC[@]}" cat "$UR/etc/unreadable-secret" >/dev/null 2>&1; then
    skip "unreadable file in rootfs" "a mode-000 file is still readable without CAP_DAC_OVERRIDE here"
    skip "unreadable directory in rootfs" "a mode-000 file is still readable without CAP_DAC_OVERRIDE here"
elif ! "${NODAC[@]}" sh -c "echo x >'$TEST_TMP/nodac-write-test'" 2>/dev/null; then
    skip "unreadable file in rootfs" "cannot write to $TEST_TMP without CAP_DAC_OVERRIDE"
    skip "unreadable directory in rootfs" "cannot write to $TEST_TMP without CAP_DAC_OVERRIDE"
else
    rm -f "$TEST_TMP/nodac-write-test"
    bad_case "unreadable file in rootfs" 1 'unreadable-secret' \
        "${NODAC[@]}" @OCIPACK@ build "$UR" "${O[@]}"
    bad_case "unreadable directory in rootfs" 1 'unreadable-dir' \
        "${NODAC[@]}" @OCIPACK@ build "$UD" "${O[@]}"
    # The same trees build fine with full root rights: the failure above is
    # caused by the unreadable entry, not by the capability drop itself.
    check "control: the unreadable-file tree builds with CAP_DAC_OVERRIDE" \
        "$OCIPACK" build "$UR" -o "$TEST_TMP/control-ur" --quiet
    check "control: ocipack runs without CAP_DAC_OVERRIDE on a readable tree" \
        "${NODAC[@]}" "$OCIPACK" build "$ROOT" -o "$TEST_TMP/control-nodac" --quiet
fi

echo "# existing output that is not a good layout"
# A non-empty directory that is not a layout must not be written into.
JUNK_REF=$TEST_TMP/ref-junk
mkdir -p "$JUNK_REF/layout"
printf 'not a layout\n' >"$JUNK_REF/layout/some-file"
REF_SAVE=$REF_OUT
REF_OUT=$JUNK_REF
bad_case "-o is a non-empty directory that is not a layout" "1|2" "$LAYOUT" \
    @OCIPACK@ build "$ROOT" -o "$LAYOUT" --tag good
# A layout whose index.json is broken: the error must come before any blob is
# written (or the new blobs must be removed): the layout stays byte-identical.
BROKEN_REF=$TEST_TMP/ref-broken-json
cp -a "$REF_SAVE" "$BROKEN_REF"
printf '{not json' >"$BROKEN_REF/layout/index.json"
REF_OUT=$BROKEN_REF
bad_case "existing index.json is not JSON" 1 'index\.json' \
    @OCIPACK@ build "$ROOT" -o "$LAYOUT" --tag other
BROKEN2_REF=$TEST_TMP/ref-broken-manifests
cp -a "$REF_SAVE" "$BROKEN2_REF"
printf '{"schemaVersion":2,"manifests":"oops"}' >"$BROKEN2_REF/layout/index.json"
REF_OUT=$BROKEN2_REF
bad_case "existing index.json: manifests is not an array" 1 'index\.json|manifests' \
    @OCIPACK@ build "$ROOT" -o "$LAYOUT" --tag other
REF_OUT=$REF_SAVE

echo "# libarchive missing (the executable opens it only to read a tar)"
# In a private mount namespace /dev/null is bound over libarchive.so.13, so
# dlopen fails: a tar input is one error line naming the tar and the
# library file with the loader's reason (dlerror: "file too short"),
# while a directory build does not need it at all.
# The copy this machine's ocipack loads: its multiarch directory's, else
# the first ldconfig knows.
LIBARCHIVE=
for dir in "/lib/$(gcc -print-multiarch 2>/dev/null)" "/usr/lib/$(gcc -print-multiarch 2>/dev/null)"; do
    [ -e "$dir/libarchive.so.13" ] && { LIBARCHIVE=$dir/libarchive.so.13; break; }
done
[ -n "$LIBARCHIVE" ] || LIBARCHIVE=$(ldconfig -p | awk '/libarchive\.so\.13 / {print $NF; exit}')
HIDE_LIBARCHIVE=(unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$LIBARCHIVE")
if [ -z "$LIBARCHIVE" ] || ! "${HIDE_LIBARCHIVE[@]}" true 2>"$TEST_TMP/unshare.err"; then
    reason="cannot hide libarchive.so.13 in a mount namespace: $(head -c 200 "$TEST_TMP/unshare.err" 2>/dev/null)"
    skip "tar input without libarchive" "$reason"
    skip "directory build without libarchive" "$reason"
else
    tar -cf "$TEST_TMP/rootfs.tar" -C "$ROOT" .
    # The loader's own reason, naming the file it could not use.
    bad_case "tar input without libarchive" 1 "rootfs\.tar'?: cannot start libarchive: .*libarchive\.so\.13: " \
        "${HIDE_LIBARCHIVE[@]}" @OCIPACK@ build "$TEST_TMP/rootfs.tar" "${O[@]}"
    rm -rf "$TEST_TMP/nolib"
    check "directory build without libarchive" "${HIDE_LIBARCHIVE[@]}" "$OCIPACK" build "$ROOT" \
        -o "$TEST_TMP/nolib" --tag good --created 2024-01-02T03:04:05Z --quiet
    check_eq "directory build without libarchive: same image as with it" \
        "$(cat "$REF_OUT/layout/index.json")" "$(cat "$TEST_TMP/nolib/index.json" 2>/dev/null)"
fi
# A libarchive.so.13 that loads but lacks the functions (found first through
# LD_LIBRARY_PATH): the error names the missing symbol.
mkdir -p "$TEST_TMP/fakelib"
if echo 'int ocipack_not_libarchive;' | gcc -shared -fPIC -x c - -o "$TEST_TMP/fakelib/libarchive.so.13" \
        -Wl,-soname,libarchive.so.13 2>"$TEST_TMP/gcc.err"; then
    [ -f "$TEST_TMP/rootfs.tar" ] || tar -cf "$TEST_TMP/rootfs.tar" -C "$ROOT" .
    bad_case "tar input with a libarchive that lacks its functions" 1 \
        "rootfs\.tar'?: cannot start libarchive: .*libarchive\.so\.13: undefined symbol: archive_" \
        env LD_LIBRARY_PATH="$TEST_TMP/fakelib" @OCIPACK@ build "$TEST_TMP/rootfs.tar" "${O[@]}"
else
    skip "tar input with a libarchive that lacks its functions" "gcc cannot make a shared library: $(head -c 200 "$TEST_TMP/gcc.err")"
fi

echo "# out of space (1 MiB tmpfs)"
MNT=$TEST_TMP/small-fs
mkdir -p "$MNT"
BIG=$TEST_TMP/rootfs-big
mkdir -p "$BIG"
head -c 3145728 /dev/urandom >"$BIG/incompressible.bin"
if ! mount -t tmpfs -o size=1m ocipack-it "$MNT" 2>"$TEST_TMP/mount.err"; then
    reason="cannot mount a small tmpfs: $(head -c 200 "$TEST_TMP/mount.err")"
    skip "layout on a full file system" "$reason"
    skip "--tar-output on a full file system" "$reason"
else
    MOUNTED=$MNT
    # 1. the layout itself is on the full file system.
    OUTDIR_SAVE=$OUTDIR
    OUTDIR=$MNT/out
    LAYOUT=$OUTDIR/layout
    bad_case "layout on a full file system (ENOSPC)" 1 'space|ENOSPC' \
        @OCIPACK@ build "$BIG" -o "$LAYOUT" --tag big
    rm -rf "$OUTDIR"
    OUTDIR=$OUTDIR_SAVE
    LAYOUT=$OUTDIR/layout
    # 2. the layout has room, the tarball does not: the error must leave both
    #    the existing layout and the existing tarball as they were.
    printf 'old tarball\n' >"$MNT/image.tar"
    bad_case "--tar-output on a full file system (ENOSPC)" 1 'space|ENOSPC|image\.tar' \
        @OCIPACK@ build "$BIG" -o "$LAYOUT" --tag big --tar-output "$MNT/image.tar"
    check_eq "--tar-output on a full file system: existing tarball unchanged" "old tarball" "$(cat "$MNT/image.tar")"
    check_eq "--tar-output on a full file system: no stray files next to the tarball" "image.tar" \
        "$(ls -A "$MNT" | tr '\n' ' ' | sed 's/ $//')"
    umount "$MNT" && MOUNTED=
fi

finish
