# shellcheck shell=bash
# Shared helpers for the ocipack integration tests (sourced, not executed).
#
# Every test script sources this file, calls `init_test`, runs checks with
# `check NAME CMD...` (or records results by hand with pass/fail/skip) and ends
# with `finish`, which prints exactly "N passed, N failed" and exits non-zero
# when anything failed.  A check that cannot run is reported as SKIP with its
# reason and counts neither as passed nor as failed; it is listed again in the
# summary so that it stays visible.
#
# Conventions:
#   - scripts use `set -u` (not -e: a failing check must not stop the run);
#   - $TEST_TMP is a private scratch directory removed on exit
#     (set OCIPACK_KEEP_TMP=1 to keep it for post-mortem);
#   - output of a failing command is kept in $TEST_TMP/last.out / last.err and
#     its tail is shown under the FAIL line.

# shellcheck disable=SC2034  # used by the scripts that source this file
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PASS_COUNT=0
FAIL_COUNT=0
SKIP_COUNT=0
SKIPPED_NAMES=()
FAILED_NAMES=()

pass() {
    PASS_COUNT=$((PASS_COUNT + 1))
    echo "PASS $1"
}

# fail NAME REASON
fail() {
    FAIL_COUNT=$((FAIL_COUNT + 1))
    FAILED_NAMES+=("$1")
    echo "FAIL $1: ${2:-failed}"
}

# skip NAME REASON
skip() {
    SKIP_COUNT=$((SKIP_COUNT + 1))
    SKIPPED_NAMES+=("$1 ($2)")
    echo "SKIP $1: $2"
}

# Shows the tail of a file, indented, under a FAIL line.
show_tail() {
    local file=$1 lines=${2:-15}
    [ -s "$file" ] || return 0
    tail -n "$lines" "$file" | sed 's/^/    | /'
}

# check NAME CMD [ARGS...]
# Runs CMD with stdout/stderr captured; PASS if it exits 0, else FAIL with the
# exit status and the tail of its output.
check() {
    local name=$1
    shift
    "$@" >"$TEST_TMP/last.out" 2>"$TEST_TMP/last.err"
    local rc=$?
    if [ $rc -eq 0 ]; then
        pass "$name"
        return 0
    fi
    fail "$name" "exit status $rc from: $*"
    show_tail "$TEST_TMP/last.out"
    show_tail "$TEST_TMP/last.err"
    return 1
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" == "$3" ]; then
        pass "$1"
        return 0
    fi
    fail "$1" "expected [$2], got [$3]"
    return 1
}

# check_contains NAME FILE PATTERN  (grep -E, at least one line)
check_contains() {
    if grep -Eq -- "$3" "$2"; then
        pass "$1"
        return 0
    fi
    fail "$1" "no line matching /$3/ in $(basename "$2")"
    show_tail "$2"
    return 1
}

# require_tool TOOL... : returns 0 if all are on PATH, else prints nothing and
# returns 1 (the caller decides which checks to skip, with a reason).
require_tool() {
    local tool missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        # shellcheck disable=SC2034  # read by the caller
        MISSING_TOOLS="${missing[*]}"
        return 1
    fi
    return 0
}

# init_test OCIPACK_BINARY
# Creates $TEST_TMP, installs the cleanup trap and validates the binary path.
init_test() {
    if [ $# -lt 1 ] || [ -z "$1" ]; then
        echo "usage: $0 PATH/TO/ocipack" >&2
        exit 2
    fi
    OCIPACK=$1
    case "$OCIPACK" in
        /*) ;;
        *) OCIPACK="${PWD%/}/$OCIPACK" ;;
    esac
    if [ ! -x "$OCIPACK" ] || [ -d "$OCIPACK" ]; then
        echo "FAIL ocipack binary: not found or not executable: $OCIPACK"
        echo "0 passed, 1 failed"
        exit 1
    fi
    TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ocipack-it.XXXXXX")
    trap cleanup_tmp EXIT
    export LC_ALL=C.UTF-8
    unset SOURCE_DATE_EPOCH
    echo "# $(basename "$0"): ocipack=$OCIPACK tmp=$TEST_TMP"
    if [ "$(id -u)" != 0 ]; then
        skip "all checks" "must run as root (mknod, chown, trusted/security xattrs, runc, mount)"
        finish
    fi
}

# run ARGS...: ocipack (in the current directory) under a 60 s guard; output in out/err, status in $RC.
run() {
    timeout 60 "$OCIPACK" "$@" >out 2>err
    RC=$?
}

# exits NAME STATUS CULPRIT_REGEX ARGS...: the status and one error line naming the culprit.
exits() {
    local name=$1 status=$2 re=$3
    shift 3
    run "$@"
    check_eq "$name: exit $status" "$status" "$RC"
    one_error_line "$name" err "$re"
}

# one_error_line NAME ERRFILE REGEX : exactly one stderr line, starting with
# "ocipack: error:" and matching REGEX (the culprit it must name).
one_error_line() {
    local name=$1 err=$2 re=$3 lines first
    lines=$(grep -c '' "$err")
    first=$(head -n 1 "$err")
    if [ "$lines" -ne 1 ]; then
        fail "$name: one error line" "$lines lines on stderr:"
        head -n 8 "$err" | sed 's/^/    | /'
    elif [[ "$first" != "ocipack: error:"* ]]; then
        fail "$name: one error line" "does not start with 'ocipack: error:': $first"
    elif ! grep -Eq -- "$re" "$err"; then
        fail "$name: one error line" "does not name the culprit /$re/: $first"
    else
        pass "$name: one error line naming the culprit ($first)"
    fi
}

# use_private_podman: sets PODMAN=(podman ...) to a store of its own under
# $TEST_TMP (vfs driver, no cgroup manager or event log needed), so nothing
# of the machine's podman state is read or changed, and adds its teardown to
# the EXIT trap.
use_private_podman() {
    PODMAN=(podman --root "$TEST_TMP/podman-storage" --runroot "$TEST_TMP/podman-run" --storage-driver vfs
            --cgroup-manager cgroupfs --events-backend none)
    trap 'teardown_private_podman; cleanup_tmp' EXIT
}
# podman_mount_equals NAME REF TREE [ARGS...]: `podman image mount REF` in the private
# store, the mounted tree compared with TREE by compare_trees.py (sockets of
# TREE not expected; times before 1970 read as the epoch, as
# containers/storage sets them), then unmounted. One PASS/FAIL named NAME.
# Further arguments go to compare_trees.py.
podman_mount_equals() {
    local name=$1 ref=$2 tree=$3 dir
    shift 3
    if dir=$("${PODMAN[@]}" image mount "$ref" 2>"$TEST_TMP/mount.err") && [ -d "$dir" ]; then
        tree_equals "$name" "$tree" "$dir" --ignore-sockets --floor 0 "$@"
        "${PODMAN[@]}" image unmount "$ref" >/dev/null 2>&1
    else
        fail "$name: podman image mount $ref" "$(head -2 "$TEST_TMP/mount.err")"
    fi
}
teardown_private_podman() {
    "${PODMAN[@]}" image unmount --all >/dev/null 2>&1
    "${PODMAN[@]}" system reset --force >/dev/null 2>&1
}

cleanup_tmp() {
    if [ -n "${TEST_TMP:-}" ] && [ -d "$TEST_TMP" ]; then
        if [ "${OCIPACK_KEEP_TMP:-0}" = 1 ]; then
            echo "# kept $TEST_TMP"
        else
            # Bundles may contain immutable-free but mode-000 dirs; root can remove them.
            rm -rf "$TEST_TMP"
        fi
    fi
}

# finish: prints the summary line and exits with the right status.
finish() {
    local item
    if [ $SKIP_COUNT -gt 0 ]; then
        echo "# skipped ($SKIP_COUNT):"
        for item in "${SKIPPED_NAMES[@]}"; do echo "#   $item"; done
    fi
    if [ $FAIL_COUNT -gt 0 ]; then
        echo "# failed ($FAIL_COUNT):"
        for item in "${FAILED_NAMES[@]}"; do echo "#   $item"; done
    fi
    echo "$PASS_COUNT passed, $FAIL_COUNT failed"
    [ $FAIL_COUNT -eq 0 ]
    exit $?
}

# unpack_equals NAME LAYOUT:TAG EXPECTED_TREE : `umoci unpack` of the image
# into $TEST_TMP/bundle, then compare_trees.py of the expected tree and the
# unpacked rootfs (two checks).
unpack_equals() {
    rm -rf "$TEST_TMP/bundle"
    if check "$1: umoci unpack" umoci unpack --image "$2" "$TEST_TMP/bundle"; then
        check "$1: unpacked tree equals the expected tree" python3 "$TESTS_DIR/compare_trees.py" "$3" "$TEST_TMP/bundle/rootfs"
    fi
}

# sha256_of FILE : prints the bare hex digest.
sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
}

# layout_manifest_digest LAYOUT TAG : prints "sha256:..." of the manifest
# whose ref.name annotation is TAG (empty if none).
layout_manifest_digest() {
    jq -r --arg t "$2" \
        '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest] | first // empty' \
        "$1/index.json"
}

# blob_path LAYOUT DIGEST : path of a blob from its "sha256:hex" digest.
blob_path() {
    echo "$1/blobs/${2%%:*}/${2#*:}"
}

# settle_tree DIR EPOCH : sets the mtime of every entry of DIR (and DIR) to EPOCH.
settle_tree() {
    find "$1" -exec touch -h -d "@$2" {} +
}

# make_delta_trees V1 V2 EPOCH : a base tree V1 and its successor V2 with a
# changed file, a removed file (whiteout), a removed directory (one whiteout),
# a directory whose content was replaced (opaque marker) and an added
# directory; both settled at EPOCH. A delta layer V1 → V2 built with
# --diff-base has exactly the whiteouts
# data/old/.wh..wh..opq etc/.wh.gone var/.wh.cache.
make_delta_trees() {
    local v1=$1 v2=$2 epoch=$3
    mkdir -p "$v1/etc" "$v1/data/old" "$v1/var/cache/pkg"
    echo base >"$v1/etc/os-release"
    echo gone >"$v1/etc/gone"
    echo o1 >"$v1/data/old/one"
    echo c >"$v1/var/cache/pkg/c"
    settle_tree "$v1" "$epoch"
    cp -a "$v1" "$v2"
    echo v2 >"$v2/etc/os-release"
    rm "$v2/etc/gone"
    rm -rf "$v2/var/cache"
    rm -rf "$v2/data/old"/* && echo n >"$v2/data/old/new"
    mkdir -p "$v2/opt/app" && echo app >"$v2/opt/app/run"
    settle_tree "$v2" "$epoch"
}

# whiteouts_of LAYOUT DIGEST : the whiteout and opaque entries of a gzip layer blob, space-separated.
whiteouts_of() {
    gzip -dc "$(blob_path "$1" "$2")" | tar -tf - | grep '\.wh\.' | tr '\n' ' '
}

# tree_equals NAME EXPECTED_TREE DIR [compare_trees.py options...] : one check,
# PASS with compare_trees' summary or FAIL with its first differences.
tree_equals() {
    local name=$1 tree=$2 dir=$3
    shift 3
    if python3 "$TESTS_DIR/compare_trees.py" "$@" "$tree" "$dir" >"$TEST_TMP/cmp.out" 2>&1; then
        pass "$name ($(tail -1 "$TEST_TMP/cmp.out"))"
    else
        fail "$name" "$(head -8 "$TEST_TMP/cmp.out")"
    fi
}

# build_chunked_checker OUT: builds the zstd:chunked checker
# (tests/tools/zstd_chunked_check: containers/storage's own TOC and tar-split
# code) into OUT, offline from Debian's Go packages; go's build cache makes a
# second build in one run take seconds. One PASS or FAIL line (scripts/setup.sh
# installs go and golang-github-containers-storage-dev, so their absence is a
# failure); returns non-zero when there is no checker.
build_chunked_checker() {
    if ! require_tool go || [ ! -d /usr/share/gocode/src/github.com/containers/storage/pkg/chunked ]; then
        fail "zstd:chunked checker" "go or golang-github-containers-storage-dev missing (scripts/setup.sh installs them)"
        return 1
    fi
    if bash "$TESTS_DIR/../tools/zstd_chunked_check/build.sh" "$1" >"$TEST_TMP/gobuild.out" 2>&1; then
        pass "zstd:chunked checker built from Debian's containers/storage"
        return 0
    fi
    fail "zstd:chunked checker built from Debian's containers/storage" "$(tail -3 "$TEST_TMP/gobuild.out")"
    return 1
}
