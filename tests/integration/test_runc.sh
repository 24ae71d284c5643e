#!/bin/bash
# test_runc.sh OCIPACK
#
# End-to-end: a busybox rootfs (static /bin/busybox + hand-made applet
# symlinks) is built with ocipack, unpacked into a runtime bundle by umoci
# (and by oci-image-tool create), and run with `runc run` without a terminal.
# The container's stdout must contain the line printed by the image's Cmd, and
# the image's Env and WorkingDir must be visible inside it.
#
# Skips only when runc cannot run containers here at all: a reference bundle
# made by hand (busybox copied into a dir + `runc spec`) is run first; if that
# fails the runc checks are SKIPPED with runc's error; if it works and the
# ocipack image does not, that is a FAIL.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

BUSYBOX=${BUSYBOX:-/bin/busybox}
RUNC_ROOT=$TEST_TMP/runc-state
CONTAINERS=()

# Removes containers left behind (a timed-out run) before lib.sh's cleanup.
cleanup_runc() {
    local id
    for id in "${CONTAINERS[@]}"; do
        runc --root "$RUNC_ROOT" delete --force "$id" >/dev/null 2>&1
    done
    cleanup_tmp
}
trap cleanup_runc EXIT

if ! require_tool runc jq; then
    skip "runc run" "missing tools: $MISSING_TOOLS"
    finish
fi
if [ ! -x "$BUSYBOX" ] || ! "$BUSYBOX" true >/dev/null 2>&1; then
    skip "runc run" "no usable static busybox at $BUSYBOX (apt install busybox-static)"
    finish
fi
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    skip "runc run" "$BUSYBOX is dynamically linked; a static busybox is needed (busybox-static)"
    finish
fi

# run_bundle ID BUNDLE OUTFILE : runc run with a 60 s guard; stdout+stderr to
# OUTFILE.out / OUTFILE.err; returns runc's status.
run_bundle() {
    local id=$1 bundle=$2 out=$3
    CONTAINERS+=("$id")
    timeout 60 runc --root "$RUNC_ROOT" run --bundle "$bundle" "$id" \
        </dev/null >"$out.out" 2>"$out.err"
    local rc=$?
    runc --root "$RUNC_ROOT" delete --force "$id" >/dev/null 2>&1
    return $rc
}

# set_no_terminal BUNDLE : process.terminal = false in BUNDLE/config.json.
set_no_terminal() {
    jq '.process.terminal = false' "$1/config.json" >"$1/config.json.new" &&
        mv "$1/config.json.new" "$1/config.json"
}

# --- reference bundle: does runc work here at all? ------------------------------------
REF=$TEST_TMP/ref-bundle
mkdir -p "$REF/rootfs/bin"
cp "$BUSYBOX" "$REF/rootfs/bin/busybox"
ln -s busybox "$REF/rootfs/bin/sh"
(cd "$REF" && runc spec) >"$TEST_TMP/spec.log" 2>&1
jq '.process.terminal = false | .process.args = ["/bin/sh", "-c", "echo reference-ok"]' \
    "$REF/config.json" >"$REF/config.json.new" && mv "$REF/config.json.new" "$REF/config.json"
if ! run_bundle "ocipack-it-$$-ref" "$REF" "$TEST_TMP/ref" || ! grep -qx reference-ok "$TEST_TMP/ref.out"; then
    reason="runc cannot run a hand-made reference bundle here: $(tr '\n' ' ' <"$TEST_TMP/ref.err" | head -c 300)"
    skip "runc run of the ocipack image (umoci bundle)" "$reason"
    skip "runc run of the ocipack image (oci-image-tool bundle)" "$reason"
    finish
fi
pass "reference bundle runs under runc (runc is usable here)"

# --- busybox rootfs -----------------------------------------------------------------
ROOT=$TEST_TMP/busybox-rootfs
mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/tmp" "$ROOT/srv/work"
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in sh echo cat ls id pwd env true false; do
    ln -s busybox "$ROOT/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"

L=$TEST_TMP/layout
TAG=busybox:it
if ! check "ocipack build of the busybox rootfs" "$OCIPACK" build "$ROOT" -o "$L" --tag "$TAG" \
    --created 2024-01-02T03:04:05Z --env 'MSG=env works' --env 'PATH=/bin' --workdir /srv/work \
    --cmd "/bin/sh -c 'echo hello-from-ocipack; echo \"msg=\$MSG\"; echo \"cwd=\$(pwd)\"'"; then
    finish
fi

check_container_output() { # LABEL OUTPREFIX
    local label=$1 out=$2
    check_contains "$label: stdout has the line hello-from-ocipack" "$out.out" '^hello-from-ocipack$'
    check_contains "$label: Env reached the process (msg=env works)" "$out.out" '^msg=env works$'
    check_contains "$label: WorkingDir is the cwd (cwd=/srv/work)" "$out.out" '^cwd=/srv/work$'
}

# --- umoci bundle -------------------------------------------------------------------
if require_tool umoci; then
    UB=$TEST_TMP/umoci-bundle
    if check "umoci unpack of the busybox image" umoci unpack --image "$L:$TAG" "$UB" &&
        check "config.json: process.terminal = false" set_no_terminal "$UB"; then
        if run_bundle "ocipack-it-$$-umoci" "$UB" "$TEST_TMP/umoci-run"; then
            pass "runc run (umoci bundle) exits 0"
        else
            fail "runc run (umoci bundle) exits 0" "status $?: $(tr '\n' ' ' <"$TEST_TMP/umoci-run.err" | head -c 400)"
        fi
        check_container_output "runc run (umoci bundle)" "$TEST_TMP/umoci-run"
    fi
else
    skip "runc run of the ocipack image (umoci bundle)" "umoci not installed"
fi

# --- oci-image-tool bundle ------------------------------------------------------------
# oci-image-tool create writes a minimal config.json (process, root, no
# namespaces or mounts); it is merged into a `runc spec` template so that runc
# gets a complete runtime config, keeping the image-derived process fields.
if require_tool oci-image-tool; then
    OB=$TEST_TMP/oit-bundle
    if check "oci-image-tool create of the busybox image" \
        oci-image-tool create --type imageLayout --ref "name=$TAG" "$L" "$OB"; then
        mkdir -p "$TEST_TMP/spec-template"
        (cd "$TEST_TMP/spec-template" && runc spec) >/dev/null 2>&1
        if jq -s '.[0] * {process: (.[0].process * {args: .[1].process.args, env: .[1].process.env,
                            cwd: .[1].process.cwd, terminal: false})}' \
            "$TEST_TMP/spec-template/config.json" "$OB/config.json" >"$OB/config.json.new" 2>"$TEST_TMP/jq.err"; then
            mv "$OB/config.json.new" "$OB/config.json"
            if run_bundle "ocipack-it-$$-oit" "$OB" "$TEST_TMP/oit-run"; then
                pass "runc run (oci-image-tool bundle) exits 0"
            else
                fail "runc run (oci-image-tool bundle) exits 0" "status $?: $(tr '\n' ' ' <"$TEST_TMP/oit-run.err" | head -c 400)"
            fi
            check_container_output "runc run (oci-image-tool bundle)" "$TEST_TMP/oit-run"
        else
            fail "merge oci-image-tool config into a runc spec" "$(cat "$TEST_TMP/jq.err")"
        fi
    fi
else
    skip "runc run of the ocipack image (oci-image-tool bundle)" "oci-image-tool not installed"
fi

finish
