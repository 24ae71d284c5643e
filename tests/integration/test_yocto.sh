#!/bin/bash
# test_yocto.sh OCIPACK
#
# Runs IMAGE_CMD:oci of scripts/yocto/image-oci-ocipack.inc the way bitbake
# would, without bitbake, and checks what it leaves in IMGDEPLOYDIR.
#
# How bitbake is emulated:
#   - the body of `IMAGE_CMD:oci() { ... }` is cut out of the .inc (from that
#     line to the first line that is just `}`) and becomes the shell function
#     do_image_oci (a name with ':' is not a valid shell name);
#   - every ${NAME} in it (bitbake's regex: \${[a-zA-Z0-9\-_+./~:]+?}) is
#     replaced by the value of NAME from the associative array BB, expanded
#     again recursively (values may refer to other variables), as bitbake
#     expands a shell function before running it; a NAME that BB does not
#     hold stays literal, as in bitbake. ${@python} is not emulated: the .inc
#     must not use it in the function (checked);
#   - simple `NAME ?= "value"` lines of the .inc fill BB where the "class"
#     (the defaults of image-oci.bbclass, set by bb_reset) has not;
#   - the run file is what bitbake writes: #!/bin/sh (dash here), stubs for
#     bbnote/bbwarn/bbfatal (bbfatal exits 1, like logging.bbclass), `set -e`,
#     the function, a call; it runs with a clean environment holding PATH
#     (a logging shim, then the directory of OCIPACK) and the exported
#     SOURCE_DATE_EPOCH, from a directory other than IMGDEPLOYDIR.
#   There is no pseudo: the tests run as root, so ownership is real.
#
# What is checked: output names (layout, .tar, -dir.tar, tag symlinks with
# ':' -> '_', empty tag -> latest), tarball contents, config fields through
# skopeo (author, User, arch+variant, os, Entrypoint/Cmd from shlex strings,
# ENTRYPOINT_ARGS winning over CMD, WorkingDir, StopSignal, ExposedPorts,
# Labels/Env with quoted spaces, auto labels — revision and created also as
# manifest annotations —, created from SOURCE_DATE_EPOCH; OE's fallback
# SOURCE_DATE_EPOCH replaced by REPRODUCIBLE_TIMESTAMP_ROOTFS, mtimes kept),
# the arguments `ocipack build --yocto-vars` maps the dump to (recorded by the
# shim through --print-yocto-args),
# that values are never executed, the top-level dotfile in the layer,
# oci-image-tool validate, umoci unpack == IMAGE_ROOTFS (compare_trees.py),
# reproducibility, re-runs, errors; OCI_IMAGE_SBOM (the SPDX rootfs document
# as a referrer in the layout and both tarballs, absent/off/missing/relative,
# hostile paths); the chunk cache (OCIPACK_CACHE_DIR / OCIPACK_CACHE_REMOTE
# → --cache / --cache-remote, none when empty, same image with and without
# it, a remote that is down, an ocipack-native older than the cache);
# scripts/yocto/classes/oci-multiarch-ocipack.bbclass: its parse-time
# python against a stand-in datastore and do_create_multiarch_index on two
# per-MACHINE images (arm64, arm/v7) built by the backend (platforms with
# variant, verify, skopeo --all, the platform check, a missing image, hostile
# paths). OCI_BASE_IMAGE and OCI_LAYER_MODE=multi
# need `ocipack build --base` / `--layer`: until ocipack has them, their image
# checks are SKIPped with the reason (the lookup, the layer staging and the
# error message are still checked).
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
umask 022

if ! require_tool jq python3 tar git sha256sum cmp find sort awk; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
HAVE_UMOCI=1; require_tool umoci || HAVE_UMOCI=0
HAVE_SKOPEO=1; require_tool skopeo || HAVE_SKOPEO=0
HAVE_OIT=1; require_tool oci-image-tool || HAVE_OIT=0
HAVE_ZSTD=1; require_tool zstd || HAVE_ZSTD=0
SKOPEO=(skopeo --insecure-policy)
INC=$(cd "$TESTS_DIR/../.." && pwd)/scripts/yocto/image-oci-ocipack.inc
COMPARE=("$PY" "$TESTS_DIR/compare_trees.py")
SDE=1700000000                      # 2023-11-14T22:13:20Z
SDE_ISO=2023-11-14T22:13:20Z

HELP=$("$OCIPACK" build --help 2>&1)
HAVE_BASE=0; grep -q -- '--base' <<<"$HELP" && HAVE_BASE=1
HAVE_LAYER=0; grep -q -- '--layer' <<<"$HELP" && HAVE_LAYER=1
NO_BASE="ocipack build has no --base yet (ocipack build --help)"
NO_LAYER="ocipack build has no --layer yet (ocipack build --help)"

if [ ! -f "$INC" ]; then
    fail "image-oci-ocipack.inc exists" "not found: $INC"
    finish
fi

# ----------------------------------------------------------------------------
# bitbake emulation
# ----------------------------------------------------------------------------
BB_RE='\$\{([a-zA-Z0-9_+./~:-]+)\}'
declare -A BB

# bb_expand TEXT [DEPTH]: prints TEXT with every known ${NAME} replaced,
# recursively; unknown ones stay literal.
bb_expand() {
    local text=$1 depth=${2:-0} out="" m name
    if [ "$depth" -gt 30 ]; then
        echo "bb_expand: recursion too deep" >&2
        return 1
    fi
    while [[ $text =~ $BB_RE ]]; do
        m=${BASH_REMATCH[0]}
        name=${BASH_REMATCH[1]}
        out+=${text%%"$m"*}
        text=${text#*"$m"}
        if [[ -v BB[$name] ]]; then
            out+=$(bb_expand "${BB[$name]}" $((depth + 1)); printf x)
            out=${out%x}
        else
            out+=$m
        fi
    done
    printf '%s' "$out$text"
}

# The function body, cut out once.
INC_BODY=$(awk '/^IMAGE_CMD:oci\(\) \{$/ { inside = 1; next }
                inside && /^\}$/ { exit }
                inside { print }' "$INC")
if [ -n "$INC_BODY" ]; then
    pass "IMAGE_CMD:oci() { ... } found in the .inc"
else
    fail "IMAGE_CMD:oci() { ... } found in the .inc" "no body between 'IMAGE_CMD:oci() {' and '}'"
    finish
fi
if grep -q '\${@' <<<"$INC_BODY"; then
    fail "no \${@python} in IMAGE_CMD:oci" "$(grep -n '\${@' <<<"$INC_BODY" | head -3)"
else
    pass "no \${@python} in IMAGE_CMD:oci"
fi
# Names the function refers to with ${...}: each must be a bitbake variable
# the test provides (or deliberately leaves unset), never a shell variable.
BODY_REFS=$(grep -oE '\$\{[a-zA-Z0-9_+./~:-]+\}' <<<"$INC_BODY" | sort -u | tr '\n' ' ')

# bb_reset: a fresh datastore with what image.bbclass and image-oci.bbclass
# would define, then the .inc's own ?= defaults.
bb_reset() {
    BB=()
    BB[MACHINE]=qemuarm
    BB[TOPDIR]=$TEST_TMP/build
    BB[DEPLOY_DIR_IMAGE]=$TEST_TMP/deploy
    BB[PKGDATA_DIR]=$TEST_TMP/pkgdata
    BB[IMAGE_BASENAME]=test-image
    BB[IMAGE_LINK_NAME]='${IMAGE_BASENAME}-${MACHINE}'
    BB[IMAGE_VERSION_SUFFIX]=-20240102030405
    BB[IMAGE_NAME]='${IMAGE_LINK_NAME}${IMAGE_VERSION_SUFFIX}'
    BB[IMAGE_NAME_SUFFIX]=.rootfs
    BB[PATCH_GIT_USER_NAME]=OpenEmbedded
    BB[PATCH_GIT_USER_EMAIL]=oe.patch@oe
    # image-oci.bbclass defaults (OCI_IMAGE_OS stays unset, as there)
    BB[OCI_IMAGE_AUTHOR]='${PATCH_GIT_USER_NAME}'
    BB[OCI_IMAGE_AUTHOR_EMAIL]='${PATCH_GIT_USER_EMAIL}'
    BB[OCI_IMAGE_TAG]=latest
    BB[OCI_IMAGE_RUNTIME_UID]=
    BB[OCI_IMAGE_ARCH]=arm
    BB[OCI_IMAGE_SUBARCH]=v7
    BB[OCI_IMAGE_ENTRYPOINT]=
    BB[OCI_IMAGE_ENTRYPOINT_ARGS]=
    BB[OCI_IMAGE_CMD]=/bin/sh
    BB[OCI_IMAGE_WORKINGDIR]=
    BB[OCI_IMAGE_STOPSIGNAL]=
    BB[OCI_IMAGE_PORTS]=
    BB[OCI_IMAGE_LABELS]=
    BB[OCI_IMAGE_ENV_VARS]=
    BB[OCI_IMAGE_REVISION]=
    BB[OCI_IMAGE_BRANCH]=
    BB[OCI_IMAGE_BUILD_DATE]=
    BB[OCI_IMAGE_AUTO_LABELS]=1
    BB[OCI_BASE_IMAGE]=
    BB[OCI_BASE_IMAGE_TAG]=latest
    BB[OCI_LAYER_MODE]=single
    BB[OCI_LAYERS]=
    BB[OCI_IMAGE_TAR_OUTPUT]=true
    BB[SOURCE_DATE_EPOCH]=$SDE
    local name value
    while IFS= read -r line; do
        if [[ $line =~ ^([A-Za-z0-9_]+)\ \?=\ \"(.*)\"$ ]]; then
            name=${BASH_REMATCH[1]}
            value=${BASH_REMATCH[2]}
            [[ -v BB[$name] ]] || BB[$name]=$value
        fi
    done <"$INC"
}

# Shim first on PATH: records the argv of every ocipack call but --help
# (NUL-separated) in $TEST_TMP/ocipack.args, then runs the real binary.
mkdir -p "$TEST_TMP/shim" "$TEST_TMP/elsewhere"
# While $TEST_TMP/shim-no-yocto exists, `build --help` hides --yocto-vars (an
# ocipack-native older than it). A --yocto-vars build records the arguments
# the dump maps to (`--print-yocto-args`), so the checks below see them.
cat >"$TEST_TMP/shim/ocipack" <<EOF
#!/bin/sh
case " \$* " in
*" --help "*)
    if [ -e "$TEST_TMP/shim-no-yocto" ]; then
        "$OCIPACK" "\$@" | grep -v -- --yocto-vars
        exit 0
    fi
    ;;
*" --yocto-vars "*)
    # the build arguments ocipack maps the dump to (nothing when it refuses it)
    if ! "$OCIPACK" build --yocto-vars "\$3" --print-yocto-args >"$TEST_TMP/ocipack.args" 2>/dev/null; then
        rm -f "$TEST_TMP/ocipack.args"
    fi
    ;;
*) printf '%s\\0' "\$@" >"$TEST_TMP/ocipack.args" ;;
esac
exec "$OCIPACK" "\$@"
EOF
chmod +x "$TEST_TMP/shim/ocipack"

# bb_run CASE: writes $TEST_TMP/CASE/run.do_image_oci from BB and runs it;
# log in $TEST_TMP/CASE/log.do_image_oci. IMGDEPLOYDIR, WORKDIR default to
# directories of the case. Returns the task's exit status.
bb_run() {
    local case_dir=$TEST_TMP/$1
    mkdir -p "$case_dir"
    [[ -v BB[IMGDEPLOYDIR] ]] || BB[IMGDEPLOYDIR]=$case_dir/deploy-oci
    [[ -v BB[WORKDIR] ]] || BB[WORKDIR]=$case_dir/work
    mkdir -p "$(bb_expand '${IMGDEPLOYDIR}')" "$(bb_expand '${WORKDIR}')"
    bb_run_task "$1" do_image_oci "$INC_BODY"
}

# bb_run_task CASE TASK BODY: writes $TEST_TMP/CASE/run.TASK (BODY expanded
# from BB as the function TASK) and runs it; log in $TEST_TMP/CASE/log.TASK.
bb_run_task() {
    local case_dir=$TEST_TMP/$1 task=$2 body=$3
    mkdir -p "$case_dir"
    local run=$case_dir/run.$task
    {
        echo '#!/bin/sh'
        echo '# emulated bitbake run file (tests/integration/test_yocto.sh)'
        # oci_v_* are assigned through eval; do_image_oci uses "$@" after set --
        echo '# shellcheck disable=SC2154,SC2120'
        echo 'bbnote() { echo "NOTE: $*"; }'
        echo 'bbwarn() { echo "WARNING: $*"; }'
        echo 'bbfatal() { echo "ERROR: $*"; exit 1; }'
        echo 'bbplain() { echo "$*"; }'
        echo 'bbdebug() { :; }'
        echo 'set -e'
        echo "$task() {"
        bb_expand "$body"
        echo
        echo '}'
        echo "$task"
    } >"$run"
    local env_args=(PATH="$TEST_TMP/shim:$(dirname "$OCIPACK"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        HOME="$TEST_TMP" LC_ALL=C.UTF-8)
    if [[ -v BB[SOURCE_DATE_EPOCH] ]] && [ -n "${BB[SOURCE_DATE_EPOCH]}" ]; then
        env_args+=(SOURCE_DATE_EPOCH="${BB[SOURCE_DATE_EPOCH]}")
    fi
    rm -f "$TEST_TMP/ocipack.args"
    (cd "$TEST_TMP/elsewhere" && umask 022 && env -i "${env_args[@]}" /bin/sh "$run") \
        >"$case_dir/log.$task" 2>&1
}

# run_case NAME: bb_run that must succeed (PASS/FAIL "NAME: task succeeds").
run_case() {
    bb_run "$1"
    local rc=$?
    if [ $rc -eq 0 ]; then
        pass "$1: do_image_oci succeeds"
        return 0
    fi
    fail "$1: do_image_oci succeeds" "exit status $rc"
    show_tail "$TEST_TMP/$1/log.do_image_oci" 20
    return 1
}

# ocipack_args: the argv of the last ocipack call, one per line.
ocipack_args() {
    tr '\0' '\n' <"$TEST_TMP/ocipack.args" 2>/dev/null
}

# ----------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------
T_FILE=1600000000

# small_rootfs DIR: a few files of each kind, a top-level dotfile, fixed mtimes.
small_rootfs() {
    local r=$1
    mkdir -p "$r/bin" "$r/etc/ssl/certs" "$r/usr/lib" "$r/usr/share/app/sub" \
        "$r/opt/model" "$r/var/empty" "$r/home/user"
    printf 'busybox binary\n' >"$r/bin/busybox"
    chmod 755 "$r/bin/busybox"
    ln -s busybox "$r/bin/sh"
    printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' >"$r/etc/passwd"
    printf 'setting=1\n' >"$r/etc/app.conf"
    printf 'rootfs pem\n' >"$r/etc/ssl/certs/other.pem"
    printf 'libc\n' >"$r/usr/lib/libc.so.6"
    printf 'app data\n' >"$r/usr/share/app/data.txt"
    printf 'nested\n' >"$r/usr/share/app/sub/nested.txt"
    printf 'weights\n' >"$r/opt/model/weights.bin"
    printf 'dotfile at the top\n' >"$r/.dotfile"
    printf 'user file\n' >"$r/home/user/notes"
    chown -R 1000:1000 "$r/home/user"
    chmod 700 "$r/home/user"
    chmod 750 "$r/etc/ssl/certs"
    find "$r" -mindepth 1 -exec touch -h -d "@$T_FILE" {} +
    touch -d "@1500000000" "$r/etc/ssl/certs" "$r/etc/ssl"
}

# git_topdir DIR: a git repository on branch test-branch with one commit.
git_topdir() {
    mkdir -p "$1"
    git -C "$1" init -q -b test-branch
    git -C "$1" -c user.name=t -c user.email=t@t commit -q --allow-empty -m init
}

# config_of LAYOUT TAG OUT: skopeo's view of the image config.
config_of() {
    "${SKOPEO[@]}" inspect --config "oci:$1:$2" >"$3" 2>"$3.err"
}

# check_jq NAME FILE FILTER: PASS if `jq -e FILTER FILE` is true.
check_jq() {
    local name=$1 file=$2 filter=$3
    if jq -e "$filter" "$file" >/dev/null 2>"$TEST_TMP/jq.err"; then
        pass "$name"
        return 0
    fi
    fail "$name" "jq '$filter' is false; config: $(jq -c '{author,architecture,variant,os,created,config}' "$file" 2>&1 | head -c 900)"
    return 1
}

# check_outputs CASE DIR NAME LINK TAR: names in IMGDEPLOYDIR DIR; TAR=1 if
# the tarballs are expected.
check_outputs() {
    local c=$1 d=$2 name=$3 link=$4 tar=$5
    check "$c: layout dir $name" test -f "$d/$name/index.json"
    check "$c: symlink $link -> $name" test "$(readlink "$d/$link")" = "$name"
    if [ "$tar" = 1 ]; then
        check "$c: $name.tar" test -f "$d/$name.tar"
        check "$c: $name-dir.tar" test -f "$d/$name-dir.tar"
        check "$c: symlink $link.tar -> $name.tar" test "$(readlink "$d/$link.tar")" = "$name.tar"
        check "$c: symlink $link-dir.tar -> $name-dir.tar" \
            test "$(readlink "$d/$link-dir.tar")" = "$name-dir.tar"
        # .tar: the layout's contents at the top; -dir.tar: the directory itself.
        local want got
        want=$(cd "$d/$name" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort)
        got=$(tar -tf "$d/$name.tar" | sed 's|^\./||; s|/$||' | grep -v '^$' | LC_ALL=C sort)
        check_eq "$c: .tar entries = layout contents (no directory prefix)" "$want" "$got"
        got=$(tar -tf "$d/$name-dir.tar" | sed 's|/$||' | LC_ALL=C sort)
        want=$(printf '%s\n' "$name"; printf '%s\n' "$want" | sed "s|^|$name/|")
        check_eq "$c: -dir.tar entries = $name/ and its contents" \
            "$(LC_ALL=C sort <<<"$want")" "$got"
        check_eq "$c: -dir.tar first entry is the directory" "$name/" \
            "$(tar -tf "$d/$name-dir.tar" | head -1)"
        check_eq "$c: -dir.tar owners all 0/0" "" \
            "$(tar --numeric-owner -tvf "$d/$name-dir.tar" | awk '$2 != "0/0"')"
    else
        check "$c: no .tar (OCI_IMAGE_TAR_OUTPUT off)" test ! -e "$d/$name.tar"
        check "$c: no -dir.tar" test ! -e "$d/$name-dir.tar"
        check "$c: no .tar symlinks" test ! -e "$d/$link.tar" -a ! -h "$d/$link.tar"
    fi
    # exactly config + manifest + layers blobs (no leftovers)
    local nblobs nlayers
    nblobs=$(find "$d/$name/blobs/sha256" -type f | wc -l)
    nlayers=$(jq -r '.manifests[0].digest' "$d/$name/index.json" | sed 's/^sha256://' |
        xargs -I{} jq '.layers | length' "$d/$name/blobs/sha256/{}")
    check_eq "$c: blobs = config + manifest + layers (nothing left over)" \
        "$((nlayers + 2))" "$nblobs"
}

# layer_paths LAYOUT TAG N: paths in the Nth layer (0-based), sorted, no
# trailing slash.
layer_paths() {
    local mf digest
    mf=$(layout_manifest_digest "$1" "$2")
    digest=$(jq -r ".layers[$3].digest" "$(blob_path "$1" "$mf")")
    tar -tzf "$(blob_path "$1" "$digest")" | sed 's|^\./||; s|/$||' | grep -v '^$' | LC_ALL=C sort
}
layer_count() {
    local mf
    mf=$(layout_manifest_digest "$1" "$2")
    jq '.layers | length' "$(blob_path "$1" "$mf")"
}

# unpack_equals NAME LAYOUT TAG EXPECTED_TREE [compare args]
unpack_equals() {
    local name=$1 layout=$2 tag=$3 want=$4
    shift 4
    if [ $HAVE_UMOCI = 0 ]; then skip "$name" "umoci not installed"; return; fi
    local b=$TEST_TMP/bundle.$RANDOM
    if ! umoci unpack --image "$layout:$tag" "$b" >"$TEST_TMP/umoci.out" 2>&1; then
        fail "$name" "umoci unpack failed"
        show_tail "$TEST_TMP/umoci.out"
        return
    fi
    check "$name" "${COMPARE[@]}" "$want" "$b/rootfs" "$@"
    rm -rf "$b"
}

validate() {
    if [ $HAVE_OIT = 0 ]; then skip "$1" "oci-image-tool not installed"; return; fi
    check "$1" oci-image-tool validate --type image --ref "name=$3" "$2"
}

# ============================================================================
# 1. config: every variable with a value
# ============================================================================
ROOTFS_SMALL=$TEST_TMP/rootfs-small
small_rootfs "$ROOTFS_SMALL"
git_topdir "$TEST_TMP/build"
REV=$(git -C "$TEST_TMP/build" rev-parse --short HEAD)

bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_IMAGE_TAG]='v1.0:rc1'
BB[PATCH_GIT_USER_NAME]='Jane Doe'
BB[PATCH_GIT_USER_EMAIL]='jane@example.com'
BB[OCI_IMAGE_RUNTIME_UID]=1000
BB[OCI_IMAGE_ENTRYPOINT]="/bin/sh -c 'echo \"hello world\"'"
BB[OCI_IMAGE_CMD]="--verbose 'two words' \$HOME"
BB[OCI_IMAGE_WORKINGDIR]=/home/user
BB[OCI_IMAGE_STOPSIGNAL]=SIGTERM
BB[OCI_IMAGE_PORTS]='80 443/tcp 53/udp'
BB[OCI_IMAGE_LABELS]="maintainer='Jane Doe' com.example.note=\"a \\\"quoted\\\" value\" plain=yes
    cmd=\"\$(touch $TEST_TMP/pwned1)\" tick=\"\`touch $TEST_TMP/pwned2\`\" semi=a;touch\\ $TEST_TMP/pwned3 glob=*"
BB[OCI_IMAGE_ENV_VARS]="PATH=/usr/bin:/bin GREETING='hello world' EMPTY= HOME_REF=\$HOME"
C=config
D=$TEST_TMP/$C/deploy-oci
NAME=test-image-qemuarm-20240102030405.rootfs-oci
LINK=test-image-v1.0_rc1-oci
if run_case $C; then
    check "$C: the run file keeps unset \${OCI_IMAGE_OS} literal (bitbake behaviour)" \
        grep -q 'OCI_IMAGE_OS=\${OCI_IMAGE_OS}' "$TEST_TMP/$C/run.do_image_oci"
    check "$C: exactly one ocipack call" test -f "$TEST_TMP/ocipack.args"
    check_outputs $C "$D" "$NAME" "$LINK" 1
    check_eq "$C: tag in index.json keeps ':'" 'v1.0:rc1' \
        "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$D/$NAME/index.json")"
    for n in 1 2 3; do
        check "$C: label value not executed (pwned$n absent)" test ! -e "$TEST_TMP/pwned$n"
    done
    if [ $HAVE_SKOPEO = 1 ]; then
        if config_of "$D/$NAME" 'v1.0:rc1' "$TEST_TMP/$C.json"; then
            F=$TEST_TMP/$C.json
            check_jq "$C: author = Name <email>" "$F" '.author == "Jane Doe <jane@example.com>"'
            check_jq "$C: User" "$F" '.config.User == "1000"'
            check_jq "$C: architecture arm, variant v7" "$F" '.architecture == "arm" and .variant == "v7"'
            check_jq "$C: os linux when OCI_IMAGE_OS is unset" "$F" '.os == "linux"'
            check_jq "$C: Entrypoint split like shlex" "$F" \
                '.config.Entrypoint == ["/bin/sh", "-c", "echo \"hello world\""]'
            check_jq "$C: Cmd split like shlex, \$HOME not expanded" "$F" \
                '.config.Cmd == ["--verbose", "two words", "$HOME"]'
            check_jq "$C: WorkingDir" "$F" '.config.WorkingDir == "/home/user"'
            check_jq "$C: StopSignal" "$F" '.config.StopSignal == "SIGTERM"'
            check_jq "$C: ExposedPorts (bare = tcp)" "$F" \
                '.config.ExposedPorts == {"80/tcp": {}, "443/tcp": {}, "53/udp": {}}'
            check_jq "$C: label with quoted space" "$F" '.config.Labels.maintainer == "Jane Doe"'
            check_jq "$C: label with escaped quotes" "$F" \
                '.config.Labels["com.example.note"] == "a \"quoted\" value"'
            check_jq "$C: label on a continuation line" "$F" '.config.Labels.plain == "yes"'
            check_jq "$C: \$(...) label kept literal" "$F" \
                '.config.Labels.cmd == ("$(touch " + "'"$TEST_TMP"'" + "/pwned1)")'
            check_jq "$C: backtick label kept literal" "$F" \
                '.config.Labels.tick == ("`touch " + "'"$TEST_TMP"'" + "/pwned2`")'
            check_jq "$C: ';' label kept literal" "$F" \
                '.config.Labels.semi == ("a;touch " + "'"$TEST_TMP"'" + "/pwned3")'
            check_jq "$C: glob label not expanded" "$F" '.config.Labels.glob == "*"'
            check_jq "$C: Env with quoted space, empty value, literal \$HOME" "$F" \
                '.config.Env == ["PATH=/usr/bin:/bin", "GREETING=hello world", "EMPTY=", "HOME_REF=$HOME"]'
            check_jq "$C: auto label revision = short git HEAD of TOPDIR" "$F" \
                ".config.Labels[\"org.opencontainers.image.revision\"] == \"$REV\""
            check_jq "$C: auto label ref.name = git branch" "$F" \
                '.config.Labels["org.opencontainers.image.ref.name"] == "test-branch"'
            check_jq "$C: auto label created from SOURCE_DATE_EPOCH" "$F" \
                ".config.Labels[\"org.opencontainers.image.created\"] == \"$SDE_ISO\""
            check_jq "$C: config created from SOURCE_DATE_EPOCH" "$F" ".created == \"$SDE_ISO\""
        else
            fail "$C: skopeo inspect --config" "$(head -c 400 "$TEST_TMP/$C.json.err")"
        fi
        check "$C: skopeo reads the .tar symlink as oci-archive" \
            "${SKOPEO[@]}" inspect --config "oci-archive:$D/$LINK.tar:v1.0:rc1"
    else
        skip "$C: config fields" "skopeo not installed"
    fi
    check "$C: top-level dotfile in the layer" \
        grep -qx '.dotfile' <(layer_paths "$D/$NAME" 'v1.0:rc1' 0)
    validate "$C: oci-image-tool validate" "$D/$NAME" 'v1.0:rc1'
    unpack_equals "$C: umoci unpack = IMAGE_ROOTFS" "$D/$NAME" 'v1.0:rc1' "$ROOTFS_SMALL" --clamp "$SDE"
    # The auto labels revision and created are manifest annotations too;
    # ref.name is not (the spec gives it meaning on index.json entries only).
    MF_FILE=$(blob_path "$D/$NAME" "$(layout_manifest_digest "$D/$NAME" 'v1.0:rc1')")
    check "$C: manifest annotation revision (auto label)" \
        jq -e --arg r "$REV" '.annotations["org.opencontainers.image.revision"] == $r' "$MF_FILE"
    check "$C: manifest annotation created (auto label)" \
        jq -e --arg c "$SDE_ISO" '.annotations["org.opencontainers.image.created"] == $c' "$MF_FILE"
    check "$C: no ref.name manifest annotation" \
        jq -e '.annotations | has("org.opencontainers.image.ref.name") | not' "$MF_FILE"
fi

# ============================================================================
# 2. legacy and defaults: ENTRYPOINT_ARGS wins, empty tag, no tarballs,
#    explicit/disabled auto labels, email-only author, OCI_IMAGE_OS, no SDE
# ============================================================================
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_IMAGE_TAG]=
BB[OCI_IMAGE_AUTHOR]=
BB[OCI_IMAGE_ENTRYPOINT_ARGS]="--legacy 'a b'"
BB[OCI_IMAGE_CMD]='/bin/sh -c ignored'
BB[OCI_IMAGE_OS]=freebsd
BB[OCI_IMAGE_ARCH]=arm64
BB[OCI_IMAGE_SUBARCH]=
BB[OCI_IMAGE_REVISION]=none
BB[OCI_IMAGE_BRANCH]=release/1.0
BB[OCI_IMAGE_BUILD_DATE]=2020-01-01T00:00:00Z
BB[OCI_IMAGE_TAR_OUTPUT]=false
unset 'BB[SOURCE_DATE_EPOCH]'
C=legacy
D=$TEST_TMP/$C/deploy-oci
LINK=test-image-latest-oci
T0=$(date -u +%s)
if run_case $C; then
    check_outputs $C "$D" "$NAME" "$LINK" 0
    check_eq "$C: empty OCI_IMAGE_TAG -> tag latest" latest \
        "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$D/$NAME/index.json")"
    if [ $HAVE_SKOPEO = 1 ] && config_of "$D/$NAME" latest "$TEST_TMP/$C.json"; then
        F=$TEST_TMP/$C.json
        check_jq "$C: ENTRYPOINT_ARGS becomes Cmd and wins over OCI_IMAGE_CMD" "$F" \
            '.config.Cmd == ["--legacy", "a b"]'
        check_jq "$C: no Entrypoint when empty" "$F" '(.config.Entrypoint // []) == []'
        check_jq "$C: author = email when the name is empty" "$F" '.author == "oe.patch@oe"'
        check_jq "$C: os from OCI_IMAGE_OS" "$F" '.os == "freebsd"'
        check_jq "$C: arm64 without variant" "$F" '.architecture == "arm64" and (.variant // "") == ""'
        check_jq "$C: OCI_IMAGE_REVISION=none: no revision label" "$F" \
            '.config.Labels | has("org.opencontainers.image.revision") | not'
        check_jq "$C: OCI_IMAGE_BRANCH used as ref.name label" "$F" \
            '.config.Labels["org.opencontainers.image.ref.name"] == "release/1.0"'
        check_jq "$C: OCI_IMAGE_BUILD_DATE used as created label" "$F" \
            '.config.Labels["org.opencontainers.image.created"] == "2020-01-01T00:00:00Z"'
        check_jq "$C: no SOURCE_DATE_EPOCH: created is now" "$F" \
            "(.created | sub(\"\\\\.[0-9]+\"; \"\") | fromdateiso8601) >= $((T0 - 5)) and (.created | sub(\"\\\\.[0-9]+\"; \"\") | fromdateiso8601) <= $(( $(date -u +%s) + 5 ))"
    else
        skip "$C: config fields" "skopeo missing or inspect failed"
    fi
fi

bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_IMAGE_AUTO_LABELS]=0
BB[OCI_IMAGE_CMD]=
BB[OCI_IMAGE_AUTHOR_EMAIL]=
BB[OCI_IMAGE_LABELS]='only=me'
C=nolabels
D=$TEST_TMP/$C/deploy-oci
if run_case $C && [ $HAVE_SKOPEO = 1 ] && config_of "$D/$NAME" latest "$TEST_TMP/$C.json"; then
    F=$TEST_TMP/$C.json
    check_jq "$C: OCI_IMAGE_AUTO_LABELS=0: only the user's labels" "$F" '.config.Labels == {"only": "me"}'
    check_jq "$C: author = name when the email is empty" "$F" '.author == "OpenEmbedded"'
    check_jq "$C: empty OCI_IMAGE_CMD: no Cmd" "$F" '(.config.Cmd // []) == []'
fi

# Labels split exactly like Python's shlex.split (differential), extra flags.
SHLEX_LABELS='k1='"'"'single quoted'"'"' k2="double \"esc\" \\ back $x `t`" k3=back\ slash\ space
 k4=mixed'"'"'a b'"'"'"c d"e k5='"''"' k6=tab"	"in k7=café=x k8="a\nb" k9=x\\y k10=#not-a-comment'
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_IMAGE_AUTO_LABELS]=0
BB[OCI_IMAGE_LABELS]=$SHLEX_LABELS
BB[OCIPACK_EXTRA_ARGS]="--level 1 --chunk-size '256K'"
C=shlex
D=$TEST_TMP/$C/deploy-oci
if run_case $C; then
    check "$C: OCIPACK_EXTRA_ARGS passed as words" grep -qzx -- '256K' "$TEST_TMP/ocipack.args"
    if [ $HAVE_SKOPEO = 1 ] && config_of "$D/$NAME" latest "$TEST_TMP/$C.json"; then
        WANT=$("$PY" -c 'import json, shlex, sys
print(json.dumps(dict(w.split("=", 1) for w in shlex.split(sys.argv[1])), sort_keys=True))' "$SHLEX_LABELS")
        check_eq "$C: labels = shlex.split of OCI_IMAGE_LABELS" "$WANT" \
            "$(jq -cS '.config.Labels' "$TEST_TMP/$C.json" | "$PY" -c 'import json, sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')"
    fi
fi

# Layer format and level: OCI_IMAGE_COMPRESSION / _LEVEL become
# --compression-format / --level; gzip (the default) adds no flag.
for comp in zstd:9 none: gzip:; do
    bb_reset
    BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
    BB[OCI_IMAGE_COMPRESSION]=${comp%%:*}
    BB[OCI_IMAGE_COMPRESSION_LEVEL]=${comp#*:}
    C=compression-${comp%%:*}
    D=$TEST_TMP/$C/deploy-oci
    run_case $C || continue
    want=application/vnd.oci.image.layer.v1.tar+gzip want_args=
    case $comp in
    zstd:9) want=application/vnd.oci.image.layer.v1.tar+zstd want_args='--compression-format zstd --level 9' ;;
    none:) want=application/vnd.oci.image.layer.v1.tar want_args='--compression-format none' ;;
    esac
    check_eq "$C: ocipack flags" "$want_args" \
        "$(ocipack_args | grep -A1 -x -e --compression-format -e --level | tr '\n' ' ' | sed 's/ $//')"
    manifest=$(jq -r '.manifests[0].digest' "$D/$NAME/index.json")
    check_eq "$C: layer media type" "$want" "$(jq -r '.layers[0].mediaType' "$(blob_path "$D/$NAME" "$manifest")")"
    check "$C: ocipack verify of the layout" "$OCIPACK" verify "$D/$NAME"
done
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_IMAGE_COMPRESSION]=zstd
BB[OCI_IMAGE_COMPRESSION_LEVEL]=22
C=compression-badlevel
if bb_run $C; then
    fail "$C: a zstd level out of range fails the task" "task succeeded"
else
    check_contains "$C: error names the flag and the bounds" "$TEST_TMP/$C/log.do_image_oci" "--level 22: expected 1-19 for zstd"
fi

# The chunk cache: OCIPACK_CACHE_DIR (default ${TOPDIR}/ocipack-cache) becomes
# --cache, OCIPACK_CACHE_REMOTE --cache-remote; an empty OCIPACK_CACHE_DIR
# passes neither (and --no-cache). The image is the same with and without it.
HAVE_CACHE=0; grep -q -- '--cache' <<<"$HELP" && HAVE_CACHE=1
NO_CACHE="ocipack build has no --cache yet (ocipack build --help)"
# cache_flags: the cache flags of the last ocipack call and their values.
cache_flags() {
    ocipack_args | grep -A1 -x -e --cache -e --cache-remote -e --no-cache | grep -v -x -e -- | tr '\n' ' ' | sed 's/ $//'
}
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
C=cache-off
BB[OCIPACK_CACHE_DIR]=
if run_case $C; then
    want=
    [ $HAVE_CACHE = 1 ] && want=--no-cache
    check_eq "$C: empty OCIPACK_CACHE_DIR: no --cache, no --cache-remote" "$want" "$(cache_flags)"
fi
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
C=cache-default
check_eq "$C: OCIPACK_CACHE_DIR defaults to \${TOPDIR}/ocipack-cache" "$TEST_TMP/build/ocipack-cache" \
    "$(bb_expand '${OCIPACK_CACHE_DIR}')"
check_eq "$C: OCIPACK_CACHE_REMOTE defaults to empty" "" "$(bb_expand '${OCIPACK_CACHE_REMOTE}')"
check "$C: the cache variables are not in the task signature" \
    grep -qx 'do_image_oci\[vardepsexclude\] += "OCIPACK_CACHE_DIR OCIPACK_CACHE_REMOTE"' "$INC"
rm -rf "$TEST_TMP/build/ocipack-cache"
if [ $HAVE_CACHE = 0 ]; then
    skip "$C: --cache on the command line" "$NO_CACHE"
elif run_case $C; then
    check_eq "$C: --cache \${TOPDIR}/ocipack-cache" "--cache $TEST_TMP/build/ocipack-cache" "$(cache_flags)"
    check "$C: the cache dir holds entries after the build" \
        test -n "$(find "$TEST_TMP/build/ocipack-cache" -type f -print -quit 2>/dev/null)"
    check "$C: same .tar as a build without the cache" \
        cmp "$TEST_TMP/$C/deploy-oci/$NAME.tar" "$TEST_TMP/cache-off/deploy-oci/$NAME.tar"
    # Again with the filled cache: the same image.
    BB[IMGDEPLOYDIR]=$TEST_TMP/cache-warm/deploy-oci
    BB[WORKDIR]=$TEST_TMP/cache-warm/work
    if run_case cache-warm; then
        check "cache-warm: a rebuild from the cache gives the same .tar" \
            cmp "$TEST_TMP/cache-warm/deploy-oci/$NAME.tar" "$TEST_TMP/cache-off/deploy-oci/$NAME.tar"
    fi
fi
# A remote that is down (nothing listens on 127.0.0.1:1) never fails the
# build; values with shell syntax are passed as data.
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
C=cache-remote
CACHE_ODD="$TEST_TMP/cache dir \$(touch $TEST_TMP/pwned-cache)"
# (a URL has no blanks: ${IFS} is an unknown bitbake variable, kept literal)
REMOTE_ODD="http://127.0.0.1:1/cache/\$(touch\${IFS}$TEST_TMP/pwned-remote);x"
BB[OCIPACK_CACHE_DIR]=$CACHE_ODD
BB[OCIPACK_CACHE_REMOTE]=$REMOTE_ODD
if [ $HAVE_CACHE = 0 ]; then
    if bb_run $C; then
        fail "$C: an ocipack-native without --cache-remote fails the task" "task succeeded"
    else
        check_contains "$C: the error names OCIPACK_CACHE_REMOTE" "$TEST_TMP/$C/log.do_image_oci" "OCIPACK_CACHE_REMOTE needs 'ocipack build --cache-remote'"
    fi
elif run_case $C; then
    check_eq "$C: --cache and --cache-remote, each one word" "--cache $CACHE_ODD --cache-remote $REMOTE_ODD" "$(cache_flags)"
    check "$C: the cache dir is the literal path" test -d "$CACHE_ODD"
    check_contains "$C: a remote that is down is a warning" "$TEST_TMP/$C/log.do_image_oci" "ocipack: warning: remote cache"
    check "$C: same .tar as a build without the cache" \
        cmp "$TEST_TMP/$C/deploy-oci/$NAME.tar" "$TEST_TMP/cache-off/deploy-oci/$NAME.tar"
fi
check "$C: values not executed (pwned-cache, pwned-remote absent)" \
    test ! -e "$TEST_TMP/pwned-cache" -a ! -e "$TEST_TMP/pwned-remote"
# A remote without a local cache dir: ocipack's --cache-remote needs --cache.
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCIPACK_CACHE_DIR]=
BB[OCIPACK_CACHE_REMOTE]=http://127.0.0.1:1/cache
C=cache-remote-nodir
if bb_run $C; then
    fail "$C: OCIPACK_CACHE_REMOTE with an empty OCIPACK_CACHE_DIR fails the task" "task succeeded"
else
    check_contains "$C: the error names both variables" "$TEST_TMP/$C/log.do_image_oci" "OCIPACK_CACHE_REMOTE needs a local cache: OCIPACK_CACHE_DIR is empty"
fi
# An ocipack-native older than --yocto-vars (its `build --help` lacks it):
# the task fails at once, saying what to update.
touch "$TEST_TMP/shim-no-yocto"
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
C=old-ocipack
if bb_run $C; then
    fail "$C: an ocipack-native without --yocto-vars fails the task" "task succeeded"
else
    check_contains "$C: the error says what to update" "$TEST_TMP/$C/log.do_image_oci" \
        "^ERROR: OCI: this ocipack-native has no 'ocipack build --yocto-vars'; update ocipack"
    check "$C: nothing built" test ! -e "$TEST_TMP/$C/deploy-oci/$NAME"
fi
rm -f "$TEST_TMP/shim-no-yocto"

# ============================================================================
# 3. full rootfs, reproducibility, re-run in place
# ============================================================================
ROOTFS_FULL=$TEST_TMP/rootfs-full
if "$TESTS_DIR/make_test_rootfs.sh" "$ROOTFS_FULL" >"$TEST_TMP/mkrootfs.log" 2>&1; then
    bb_reset
    BB[IMAGE_ROOTFS]=$ROOTFS_FULL
    BB[OCI_IMAGE_TAG]=repro
    C=repro1
    if run_case $C; then
        D1=$TEST_TMP/repro1/deploy-oci
        check_outputs $C "$D1" "$NAME" test-image-repro-oci 1
        validate "$C: oci-image-tool validate" "$D1/$NAME" repro
        check "$C: dotfile .hidden in the layer" grep -qx '.hidden' <(layer_paths "$D1/$NAME" repro 0)
        unpack_equals "$C: umoci unpack = IMAGE_ROOTFS (every entry kind)" "$D1/$NAME" repro \
            "$ROOTFS_FULL" --ignore-sockets --clamp "$SDE"
        sleep 1   # a different "now" for anything that would leak it
        BB[IMGDEPLOYDIR]=$TEST_TMP/repro2/deploy-oci
        BB[WORKDIR]=$TEST_TMP/repro2/work
        if run_case repro2; then
            D2=$TEST_TMP/repro2/deploy-oci
            check "reproducible: same SOURCE_DATE_EPOCH -> identical .tar" cmp "$D1/$NAME.tar" "$D2/$NAME.tar"
            check "reproducible: identical -dir.tar" cmp "$D1/$NAME-dir.tar" "$D2/$NAME-dir.tar"
        fi
        # Again into the same IMGDEPLOYDIR: outputs and links are replaced.
        echo stale >"$D1/$NAME/blobs/sha256/stale"
        BB[IMGDEPLOYDIR]=$D1
        BB[WORKDIR]=$TEST_TMP/repro1/work
        if run_case rerun; then
            check "rerun: nothing of the earlier layout is kept" test ! -e "$D1/$NAME/blobs/sha256/stale"
            check "rerun: same .tar as a fresh build" cmp "$D1/$NAME.tar" "$TEST_TMP/repro2/deploy-oci/$NAME.tar"
            check "rerun: symlink still a link to the layout" test "$(readlink "$D1/test-image-repro-oci")" = "$NAME"
            check "rerun: no link created inside the layout" test ! -e "$D1/$NAME/$NAME"
        fi
    fi
else
    fail "make_test_rootfs.sh" "see below"
    show_tail "$TEST_TMP/mkrootfs.log"
fi

# ============================================================================
# 4. errors
# ============================================================================
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_IMAGE_ENV_VARS]="GOOD=1 BAD='unterminated"
C=badquote
if bb_run $C; then
    fail "$C: unterminated quote fails the task" "task succeeded"
else
    check_contains "$C: error names OCI_IMAGE_ENV_VARS" "$TEST_TMP/$C/log.do_image_oci" \
        '^ERROR: .*OCI_IMAGE_ENV_VARS.*unterminated'
    check "$C: ocipack not called" test ! -e "$TEST_TMP/ocipack.args"
fi
bb_reset
BB[IMAGE_ROOTFS]=$TEST_TMP/does-not-exist
C=norootfs
if bb_run $C; then
    fail "$C: missing IMAGE_ROOTFS fails the task" "task succeeded"
else
    check_contains "$C: error names IMAGE_ROOTFS" "$TEST_TMP/$C/log.do_image_oci" '^ERROR: .*IMAGE_ROOTFS'
fi
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_IMAGE_PORTS]='80/bogus'
C=badport
if bb_run $C; then
    fail "$C: ocipack's refusal fails the task" "task succeeded"
else
    pass "$C: ocipack's refusal fails the task"
    check "$C: no symlink left for a failed build" test ! -e "$TEST_TMP/$C/deploy-oci/test-image-latest-oci"
fi

# OE's fallback SOURCE_DATE_EPOCH (1302044400, 2011: an image recipe writes no
# epoch file): the image is dated REPRODUCIBLE_TIMESTAMP_ROOTFS (2018), and the
# rootfs's 2018 files are not clamped back to 2011. Without
# REPRODUCIBLE_TIMESTAMP_ROOTFS, the fallback is taken as it is.
ROOTFS_OE=$TEST_TMP/rootfs-oe
mkdir -p "$ROOTFS_OE/etc"
printf 'stamp\n' >"$ROOTFS_OE/etc/timestamp"
find "$ROOTFS_OE" -exec touch -h -d @1520598896 {} +
OE_ISO=2018-03-09T12:34:56Z
# layer0_mtime LAYOUT PATH: the path's mtime in layer 0, as YYYY-MM-DD HH:MM:SS (UTC).
layer0_mtime() {
    local mf digest
    mf=$(layout_manifest_digest "$1" latest)
    digest=$(jq -r '.layers[0].digest' "$(blob_path "$1" "$mf")")
    TZ=UTC tar --full-time -tvzf "$(blob_path "$1" "$digest")" "$2" | awk '{print $4" "$5}'
}
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_OE
BB[SOURCE_DATE_EPOCH]=1302044400
BB[REPRODUCIBLE_TIMESTAMP_ROOTFS]=1520598896
C=oe-fallback-epoch
if run_case $C; then
    D=$TEST_TMP/$C/deploy-oci
    check "$C: --created is REPRODUCIBLE_TIMESTAMP_ROOTFS" grep -qzx -- '@1520598896' "$TEST_TMP/ocipack.args"
    check "$C: created label is $OE_ISO" grep -qzx -- "org.opencontainers.image.created=$OE_ISO" "$TEST_TMP/ocipack.args"
    check_contains "$C: a note says why" "$TEST_TMP/$C/log.do_image_oci" "^NOTE: OCI: SOURCE_DATE_EPOCH is OE's fallback"
    check_eq "$C: the rootfs's file mtime is kept (not clamped to 2011)" "2018-03-09 12:34:56" \
        "$(layer0_mtime "$D/$NAME" etc/timestamp)"
    MF=$(blob_path "$D/$NAME" "$(layout_manifest_digest "$D/$NAME" latest)")
    check_eq "$C: config created" "$OE_ISO" "$(jq -r '.created' "$(blob_path "$D/$NAME" "$(jq -r .config.digest "$MF")")")"
fi
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_OE
BB[SOURCE_DATE_EPOCH]=1302044400
C=oe-fallback-epoch-alone
if run_case $C; then
    D=$TEST_TMP/$C/deploy-oci
    check "$C: --created is SOURCE_DATE_EPOCH" grep -qzx -- '@1302044400' "$TEST_TMP/ocipack.args"
    check_eq "$C: mtimes clamped to SOURCE_DATE_EPOCH" "2011-04-05 23:00:00" "$(layer0_mtime "$D/$NAME" etc/timestamp)"
fi

# ============================================================================
# 5. OCI_BASE_IMAGE
# ============================================================================
ROOTFS_BASE=$TEST_TMP/rootfs-base
mkdir -p "$ROOTFS_BASE/etc" "$ROOTFS_BASE/usr/bin"
printf 'base\n' >"$ROOTFS_BASE/etc/base.conf"
printf 'from base\n' >"$ROOTFS_BASE/etc/app.conf"     # overridden by the app
printf 'tool\n' >"$ROOTFS_BASE/usr/bin/base-tool"
find "$ROOTFS_BASE" -exec touch -h -d "@$T_FILE" {} +
DEPLOY=$TEST_TMP/deploy
mkdir -p "$DEPLOY"

# The base "recipe": built with the backend itself, deployed to DEPLOY_DIR_IMAGE.
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_BASE
BB[IMAGE_BASENAME]=base-image
BB[OCI_IMAGE_TAG]=1.0
BB[OCI_IMAGE_ENV_VARS]='BASE=1'
BB[OCI_IMAGE_WORKINGDIR]=/base
BB[OCI_IMAGE_LABELS]='from.base=yes'
BB[IMGDEPLOYDIR]=$DEPLOY
BASE_NAME=base-image-qemuarm-20240102030405.rootfs-oci
if run_case base-recipe; then
    check "base-recipe: deployed as base-image-1.0-oci" test -d "$DEPLOY/base-image-1.0-oci"
fi

bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_BASE_IMAGE]=no-such-recipe
C=base-missing
if bb_run $C; then
    fail "$C: unknown base fails the task" "task succeeded"
else
    check_contains "$C: error says the base is not found" "$TEST_TMP/$C/log.do_image_oci" \
        "^ERROR: .*no-such-recipe.*not found"
fi

bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_BASE_IMAGE]=base-image
BB[OCI_BASE_IMAGE_TAG]=1.0
C=base-recipe-app
if [ $HAVE_BASE = 0 ]; then
    if bb_run $C; then
        fail "$C: clear error while ocipack lacks --base" "task succeeded"
    else
        check_contains "$C: clear error while ocipack lacks --base" "$TEST_TMP/$C/log.do_image_oci" \
            "^ERROR: .*OCI_BASE_IMAGE needs 'ocipack build --base'"
    fi
    skip "$C: image on top of the base (layers, inherited config, unpack)" "$NO_BASE"
    skip "base fallback <recipe>-oci and absolute path" "$NO_BASE"
elif run_case $C; then
    D=$TEST_TMP/$C/deploy-oci
    check "$C: --base resolved to the deployed layout:tag" \
        grep -qx -- "$(cd -P "$DEPLOY/base-image-1.0-oci" && pwd):1.0" <(ocipack_args)
    check_eq "$C: layers = base's 1 + 1" 2 "$(layer_count "$D/$NAME" latest)"
    if [ $HAVE_SKOPEO = 1 ] && config_of "$D/$NAME" latest "$TEST_TMP/$C.json"; then
        F=$TEST_TMP/$C.json
        check_jq "$C: inherits the base's Env" "$F" '.config.Env | index("BASE=1") != null'
        check_jq "$C: inherits the base's WorkingDir" "$F" '.config.WorkingDir == "/base"'
        check_jq "$C: inherits the base's labels" "$F" '.config.Labels["from.base"] == "yes"'
        check_jq "$C: own Cmd" "$F" '.config.Cmd == ["/bin/sh"]'
        check_jq "$C: diff_ids = 2" "$F" '.rootfs.diff_ids | length == 2'
    fi
    validate "$C: oci-image-tool validate" "$D/$NAME" latest
    MERGED=$TEST_TMP/merged-base
    mkdir -p "$MERGED"
    tar -C "$ROOTFS_BASE" -cf - . | tar -C "$MERGED" -xpf -
    tar -C "$ROOTFS_SMALL" -cf - . | tar -C "$MERGED" -xpf -
    unpack_equals "$C: umoci unpack = base + IMAGE_ROOTFS" "$D/$NAME" latest "$MERGED" --clamp "$SDE"

    # fallback: only <recipe>-oci exists for the requested tag
    rm -f "$DEPLOY/base-image-oci"
    ln -s base-image-1.0-oci "$DEPLOY/base-image-oci"
    bb_reset
    BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
    BB[OCI_BASE_IMAGE]=base-image
    BB[OCI_BASE_IMAGE_TAG]=1.0
    BB[DEPLOY_DIR_IMAGE]=$TEST_TMP/deploy-fallback
    mkdir -p "$TEST_TMP/deploy-fallback"
    cp -a "$DEPLOY/$BASE_NAME" "$TEST_TMP/deploy-fallback/"
    ln -s "$BASE_NAME" "$TEST_TMP/deploy-fallback/base-image-oci"
    if run_case base-fallback; then
        check "base-fallback: <recipe>-oci used when <recipe>-<tag>-oci is missing" \
            grep -qx -- "$TEST_TMP/deploy-fallback/$BASE_NAME:1.0" <(ocipack_args)
    fi
    bb_reset
    BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
    BB[OCI_BASE_IMAGE]=$DEPLOY/$BASE_NAME
    BB[OCI_BASE_IMAGE_TAG]=1.0
    if run_case base-path; then
        check "base-path: absolute layout path used as is" \
            grep -qx -- "$DEPLOY/$BASE_NAME:1.0" <(ocipack_args)
        check_eq "base-path: layers = 2" 2 "$(layer_count "$TEST_TMP/base-path/deploy-oci/$NAME" latest)"
    fi
fi

# ============================================================================
# 6. OCI_LAYER_MODE = multi
# ============================================================================
# pkgdata for three packages, in the three formats the .inc reads:
#   busybox: FILES_INFO line in runtime/busybox (older releases)
#   libc6:   runtime-reverse/libc6 -> ../runtime/glibc, extended/glibc.json.zstd
#   app:     extended/app.json.gz
PKGDATA=$TEST_TMP/pkgdata
mkdir -p "$PKGDATA/runtime" "$PKGDATA/runtime-reverse" "$PKGDATA/extended"
printf 'PN: busybox\nPKG:busybox: busybox\nFILES_INFO:busybox: {"/bin/busybox": 15}\n' >"$PKGDATA/runtime/busybox"
printf 'PN: glibc\nPKG:glibc: libc6\n' >"$PKGDATA/runtime/glibc"
ln -s ../runtime/glibc "$PKGDATA/runtime-reverse/libc6"
GLIBC_JSON='{"files_info": {"/usr/lib/libc.so.6": 5, "/usr/lib/gconv/not-installed.so": 1}}'
if [ $HAVE_ZSTD = 1 ]; then
    printf '%s' "$GLIBC_JSON" | zstd -q >"$PKGDATA/extended/glibc.json.zstd"
else
    printf '%s' "$GLIBC_JSON" >"$PKGDATA/extended/glibc.json"
fi
printf 'PN: app\nPKG:app: app\n' >"$PKGDATA/runtime/app"
printf '{"files_info": {"/usr/share/app/data.txt": 9, "/usr/share/app/sub/nested.txt": 7}}' |
    gzip -n >"$PKGDATA/extended/app.json.gz"
HOSTDIR=$TEST_TMP/host
mkdir -p "$HOSTDIR/srvdata/inner"
printf 'host ca\n' >"$HOSTDIR/ca.crt"
chmod 640 "$HOSTDIR/ca.crt"
printf 'host data\n' >"$HOSTDIR/srvdata/inner/file"
chown -R 4321:4321 "$HOSTDIR"
touch -d "@$T_FILE" "$HOSTDIR/ca.crt" "$HOSTDIR/srvdata/inner/file" "$HOSTDIR/srvdata/inner" "$HOSTDIR/srvdata"

MULTI_LAYERS="base:packages:busybox+libc6 app:packages:app model:directories:/opt/model/
    conf:files:/etc/app.conf+/etc/missing.conf certs:host:$HOSTDIR/ca.crt:/etc/ssl/certs/+$HOSTDIR/srvdata:/srv/data
    dup:directories:/opt/model"
# Expected contents of each layer, in order (dup is empty and left out).
EXP_BASE=$'bin\nbin/busybox\nusr\nusr/lib\nusr/lib/libc.so.6'
EXP_APP=$'usr\nusr/share\nusr/share/app\nusr/share/app/data.txt\nusr/share/app/sub\nusr/share/app/sub/nested.txt'
EXP_MODEL=$'opt\nopt/model\nopt/model/weights.bin'
EXP_CONF=$'etc\netc/app.conf'
EXP_CERTS=$'etc\netc/ssl\netc/ssl/certs\netc/ssl/certs/ca.crt\nsrv\nsrv/data\nsrv/data/inner\nsrv/data/inner/file'
EXP_REST=$'.dotfile\nbin\nbin/sh\netc\netc/passwd\netc/ssl\netc/ssl/certs\netc/ssl/certs/other.pem\nhome\nhome/user\nhome/user/notes\nvar\nvar/empty'

# The expected union: IMAGE_ROOTFS plus the host files (root-owned), parents
# keeping the rootfs's attributes.
EXPECTED_MULTI=$TEST_TMP/expected-multi
mkdir -p "$EXPECTED_MULTI"
tar -C "$ROOTFS_SMALL" -cf - . | tar -C "$EXPECTED_MULTI" -xpf -
cp -a "$HOSTDIR/ca.crt" "$EXPECTED_MULTI/etc/ssl/certs/ca.crt"
mkdir -p "$EXPECTED_MULTI/srv"
cp -a "$HOSTDIR/srvdata" "$EXPECTED_MULTI/srv/data"
chown -hR 0:0 "$EXPECTED_MULTI/etc/ssl/certs/ca.crt" "$EXPECTED_MULTI/srv"
touch -d "@$SDE" "$EXPECTED_MULTI/srv"
touch -r "$ROOTFS_SMALL/etc/ssl/certs" "$EXPECTED_MULTI/etc/ssl/certs"

# stage_paths DIR: paths below a staged layer dir, like layer_paths.
stage_paths() {
    (cd "$1" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort)
}

bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_LAYER_MODE]=multi
BB[OCI_LAYERS]=$MULTI_LAYERS
C=multi
D=$TEST_TMP/$C/deploy-oci
STAGE=$TEST_TMP/$C/work/oci-ocipack-layers
bb_run $C
RC=$?
LOG=$TEST_TMP/$C/log.do_image_oci
check_contains "$C: warns about the missing /etc/missing.conf" "$LOG" '^WARNING: .*missing.conf.*not in IMAGE_ROOTFS'
check_contains "$C: warns that 'dup' is empty and left out" "$LOG" "^WARNING: .*'dup' is empty"
check_contains "$C: warns about the host layer" "$LOG" "^WARNING: .*'certs' copies files from the build host"
if [ $HAVE_LAYER = 0 ]; then
    if [ $RC -eq 0 ]; then
        fail "$C: clear error while ocipack lacks --layer" "task succeeded"
    else
        check_contains "$C: clear error while ocipack lacks --layer" "$LOG" \
            "^ERROR: .*needs 'ocipack build --layer'"
    fi
    # The staging happened before that check: verify it.
    check_eq "$C: staged layer dirs, in order" \
        "$(printf '%s\n' 01-base 02-app 03-model 04-conf 05-certs 99-rootfs-remainder work)" \
        "$(ls "$STAGE" 2>/dev/null)"
    check_eq "$C: stage base:packages (FILES_INFO + runtime-reverse/extended zstd)" "$EXP_BASE" "$(stage_paths "$STAGE/01-base")"
    check_eq "$C: stage app:packages (extended .json.gz)" "$EXP_APP" "$(stage_paths "$STAGE/02-app")"
    check_eq "$C: stage model:directories" "$EXP_MODEL" "$(stage_paths "$STAGE/03-model")"
    check_eq "$C: stage conf:files" "$EXP_CONF" "$(stage_paths "$STAGE/04-conf")"
    check_eq "$C: stage certs:host" "$EXP_CERTS" "$(stage_paths "$STAGE/05-certs")"
    check_eq "$C: stage remainder = the rest of the rootfs" "$EXP_REST" "$(stage_paths "$STAGE/99-rootfs-remainder")"
    MERGED=$TEST_TMP/merged-multi
    mkdir -p "$MERGED"
    for l in 01-base 02-app 03-model 04-conf 05-certs 99-rootfs-remainder; do
        [ -d "$STAGE/$l" ] && tar -C "$STAGE/$l" -cf - . | tar -C "$MERGED" -xpf -
    done
    touch -d "@$SDE" "$MERGED/srv"   # created while staging: clamped in a real image
    check "$C: union of the staged layers = rootfs + host files (attributes kept)" \
        "${COMPARE[@]}" "$EXPECTED_MULTI" "$MERGED" --clamp "$SDE"
    skip "$C: multi-layer image (layer count, per-layer contents, unpack)" "$NO_LAYER"
elif [ $RC -ne 0 ]; then
    fail "$C: do_image_oci succeeds" "exit status $RC"
    show_tail "$LOG" 20
else
    pass "$C: do_image_oci succeeds"
    check_outputs $C "$D" "$NAME" test-image-latest-oci 1
    check_eq "$C: 6 layers (5 entries, 'dup' empty, + remainder)" 6 "$(layer_count "$D/$NAME" latest)"
    i=0
    for exp in "$EXP_BASE" "$EXP_APP" "$EXP_MODEL" "$EXP_CONF" "$EXP_CERTS" "$EXP_REST"; do
        check_eq "$C: layer $i contents" "$exp" "$(layer_paths "$D/$NAME" latest $i)"
        i=$((i + 1))
    done
    # No copies of the rootfs: WORKDIR holds only the dump and ocipack's log.
    check_eq "$C: nothing staged in WORKDIR (one walk, no copies)" "$(printf '%s\n' oci-ocipack.log oci-ocipack.vars)" \
        "$(ls "$TEST_TMP/$C/work")"
    validate "$C: oci-image-tool validate" "$D/$NAME" latest
    unpack_equals "$C: umoci unpack = union of the layers (rootfs + host files)" "$D/$NAME" latest \
        "$EXPECTED_MULTI" --clamp "$SDE"
fi

# Without the remainder layer: upstream's layer count; the rest is left out.
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_LAYER_MODE]=multi
BB[OCI_LAYERS]=$MULTI_LAYERS
BB[OCI_LAYER_REMAINDER]=0
C=multi-noremainder
bb_run $C
RC=$?
STAGE=$TEST_TMP/$C/work/oci-ocipack-layers
if [ $HAVE_LAYER = 0 ]; then
    check "$C: no remainder layer staged" test ! -e "$STAGE/99-rootfs-remainder"
    check "$C: the other layers staged" test -d "$STAGE/05-certs"
    skip "$C: image checks" "$NO_LAYER"
elif [ $RC -ne 0 ]; then
    fail "$C: do_image_oci succeeds" "exit status $RC"
    show_tail "$TEST_TMP/$C/log.do_image_oci" 20
else
    pass "$C: do_image_oci succeeds"
    D=$TEST_TMP/$C/deploy-oci
    check_eq "$C: 5 layers" 5 "$(layer_count "$D/$NAME" latest)"
    if [ $HAVE_UMOCI = 1 ] && umoci unpack --image "$D/$NAME:latest" "$TEST_TMP/b-$C" >/dev/null 2>&1; then
        check "$C: /etc/passwd (no layer took it) is not in the image" test ! -e "$TEST_TMP/b-$C/rootfs/etc/passwd"
        check "$C: /bin/busybox is" test -f "$TEST_TMP/b-$C/rootfs/bin/busybox"
    fi
fi

# Every entry kind through the staging: one directories layer + remainder
# must rebuild the full rootfs (hard links, devices, xattrs, odd names...).
if [ -d "$ROOTFS_FULL" ]; then
    bb_reset
    BB[IMAGE_ROOTFS]=$ROOTFS_FULL
    BB[OCI_LAYER_MODE]=multi
    BB[OCI_LAYERS]='edge:directories:/edge'
    C=multi-full
    bb_run $C
    RC=$?
    STAGE=$TEST_TMP/$C/work/oci-ocipack-layers
    if [ $HAVE_LAYER = 0 ]; then
        MERGED=$TEST_TMP/merged-full
        mkdir -p "$MERGED"
        # cp -a, not tar: GNU tar loses hard links between fifos
        for l in 01-edge 99-rootfs-remainder; do
            [ -d "$STAGE/$l" ] && cp -a "$STAGE/$l/." "$MERGED/"
        done
        check "$C: union of the staged layers = IMAGE_ROOTFS (every entry kind)" \
            "${COMPARE[@]}" "$ROOTFS_FULL" "$MERGED" --ignore-sockets
        skip "$C: image checks" "$NO_LAYER"
    elif [ $RC -ne 0 ]; then
        fail "$C: do_image_oci succeeds" "exit status $RC"
        show_tail "$TEST_TMP/$C/log.do_image_oci" 20
    else
        pass "$C: do_image_oci succeeds"
        D=$TEST_TMP/$C/deploy-oci
        check_eq "$C: 2 layers" 2 "$(layer_count "$D/$NAME" latest)"
        unpack_equals "$C: umoci unpack = IMAGE_ROOTFS (every entry kind)" "$D/$NAME" latest \
            "$ROOTFS_FULL" --ignore-sockets --clamp "$SDE"
    fi
fi

bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_LAYER_MODE]=multi
BB[OCI_LAYERS]='x:packages:no-such-package'
C=multi-nopkg
if bb_run $C; then
    fail "$C: unknown package fails the task" "task succeeded"
else
    check_contains "$C: error names the package" "$TEST_TMP/$C/log.do_image_oci" \
        "^ERROR: .*no pkgdata for package 'no-such-package'"
fi
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_LAYER_MODE]=multi
BB[OCI_LAYERS]='x:tarball:/etc'
C=multi-badtype
if bb_run $C; then
    fail "$C: unknown layer type fails the task" "task succeeded"
else
    check_contains "$C: error names the type" "$TEST_TMP/$C/log.do_image_oci" "^ERROR: .*unknown type 'tarball'"
fi

# ============================================================================
# 8. OCI_IMAGE_SBOM: the SPDX document as an OCI 1.1 referrer
# ============================================================================
# Where OE-core's create-spdx-image-3.0 writes the rootfs document:
# ${DEPLOY_DIR_SPDX}/${SSTATE_PKGARCH}/rootfs/${IMAGE_BASENAME}-${MACHINE}-rootfs.spdx.json
SPDX_DEPLOY=$TEST_TMP/deploy-spdx/3.0.1
SPDX_DOC=$SPDX_DEPLOY/qemuarm/rootfs/test-image-qemuarm-rootfs.spdx.json
mkdir -p "$(dirname "$SPDX_DOC")"
printf '%s\n' '{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [{"type": "SpdxDocument", "spdxId": "http://spdx.org/spdxdocs/test-image-qemuarm-rootfs", "name": "test-image-qemuarm-rootfs"}]}' >"$SPDX_DOC"
SPDX_SHA=sha256:$(sha256sum "$SPDX_DOC" | cut -d' ' -f1)

# sbom_bb_reset: bb_reset plus what create-spdx adds to the datastore.
sbom_bb_reset() {
    bb_reset
    BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
    BB[DEPLOY_DIR_SPDX]=$SPDX_DEPLOY
    BB[SSTATE_PKGARCH]=qemuarm
}
# referrer_types LAYOUT TAG: the artifact types inspect --json lists.
referrer_types() {
    "$OCIPACK" inspect --json "$1:$2" | jq -r '[.referrers[]?.artifactType] | join(" ")'
}
# referrer_layer LAYOUT TYPE: the digest of the one layer of the referrer of
# that artifact type listed in index.json.
referrer_layer() {
    local d
    d=$(jq -r --arg t "$2" '.manifests[] | select(.artifactType == $t) | .digest' "$1/index.json")
    jq -r '.layers[0].digest' "$(blob_path "$1" "$d")"
}
# check_sbom_attached CASE LAYOUT FILE TYPE: ocipack got `--sbom FILE`, the
# layout lists one referrer, of TYPE, whose layer is FILE, and verifies.
check_sbom_attached() {
    check "$1: --sbom is the document's path as written" grep -qxF -- "$3" <(ocipack_args)
    check_eq "$1: inspect --json lists one $4 referrer" "$4" "$(referrer_types "$2" latest)"
    check_eq "$1: the referrer's layer is the document, byte for byte" \
        "sha256:$(sha256sum "$3" | cut -d' ' -f1)" "$(referrer_layer "$2" "$4")"
    check "$1: ocipack verify" "$OCIPACK" verify "$2"
}
# tar_has_blob TAR DIGEST: the tarball holds blobs/sha256/<hex>.
tar_has_blob() {
    tar -tf "$1" | sed 's|^\./||' | grep -qx "\(.*/\)\{0,1\}blobs/sha256/${2#sha256:}"
}

sbom_bb_reset
C=sbom-auto
D=$TEST_TMP/$C/deploy-oci
if run_case $C; then
    check_sbom_attached $C "$D/$NAME" "$SPDX_DOC" application/spdx+json
    check "$C: .tar holds the document blob" tar_has_blob "$D/$NAME.tar" "$SPDX_SHA"
    check "$C: -dir.tar holds the document blob" tar_has_blob "$D/$NAME-dir.tar" "$SPDX_SHA"
    check_eq "$C: .tar's index.json = the layout's" "$(cat "$D/$NAME/index.json")" \
        "$(tar -xOf "$D/$NAME.tar" ./index.json 2>/dev/null || tar -xOf "$D/$NAME.tar" index.json)"
    check_eq "$C: -dir.tar's index.json = the layout's" "$(cat "$D/$NAME/index.json")" \
        "$(tar -xOf "$D/$NAME-dir.tar" "$NAME/index.json")"
    if [ $HAVE_SKOPEO = 1 ]; then
        check "$C: skopeo still reads the image by its tag" "${SKOPEO[@]}" inspect --config "oci:$D/$NAME:latest"
        check "$C: skopeo reads the .tar as oci-archive" "${SKOPEO[@]}" inspect --config "oci-archive:$D/$NAME.tar:latest"
    fi
    validate "$C: oci-image-tool validate" "$D/$NAME" latest
fi

# No SPDX document (create-spdx not inherited or the file absent): no
# referrer, the build is as before.
bb_reset
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
C=sbom-absent
D=$TEST_TMP/$C/deploy-oci
if run_case $C; then
    check_contains "$C: a note says no SBOM was attached" "$TEST_TMP/$C/log.do_image_oci" \
        '^NOTE: OCI: no SPDX document at .*-rootfs\.spdx\.json.*no SBOM attached'
    check "$C: no --sbom" test -z "$(ocipack_args | grep -x -- --sbom)"
    check_eq "$C: no referrer" "" "$(referrer_types "$D/$NAME" latest)"
    check_outputs $C "$D" "$NAME" test-image-latest-oci 1
fi

# off, with the document present
sbom_bb_reset
BB[OCI_IMAGE_SBOM]=off
C=sbom-off
D=$TEST_TMP/$C/deploy-oci
if run_case $C; then
    check "$C: no --sbom" test -z "$(ocipack_args | grep -x -- --sbom)"
    check_eq "$C: no referrer" "" "$(referrer_types "$D/$NAME" latest)"
fi


# An explicit path must exist; the error names it.
sbom_bb_reset
BB[OCI_IMAGE_SBOM]="$TEST_TMP/no such dir/image.spdx.json"
C=sbom-missing
if bb_run $C; then
    fail "$C: a missing OCI_IMAGE_SBOM file fails the task" "task succeeded"
else
    check_contains "$C: the error names the missing file" "$TEST_TMP/$C/log.do_image_oci" \
        "^ERROR: OCI: OCI_IMAGE_SBOM: no such file: $TEST_TMP/no such dir/image.spdx.json\$"
    check "$C: no layout written" test ! -e "$TEST_TMP/$C/deploy-oci/$NAME"
fi
sbom_bb_reset
BB[OCI_IMAGE_SBOM]=image.spdx.json
C=sbom-relative
if bb_run $C; then
    fail "$C: a relative OCI_IMAGE_SBOM fails the task" "task succeeded"
else
    check_contains "$C: the error says what is accepted" "$TEST_TMP/$C/log.do_image_oci" \
        "^ERROR: OCI: OCI_IMAGE_SBOM must be auto, off or an absolute path, not 'image.spdx.json'"
fi

# An explicit path full of shell syntax is data: a CycloneDX document whose
# directory and name hold spaces, quotes, $(...) and backticks.
HOSTILE_DIR="$TEST_TMP/sb dir \$(touch pwned-sbom1) 'q' \"dq\""
mkdir -p "$HOSTILE_DIR"
HOSTILE_SBOM="$HOSTILE_DIR/b \`touch pwned-sbom2\`;x.cdx.json"
printf '%s\n' '{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1}' >"$HOSTILE_SBOM"
sbom_bb_reset
BB[OCI_IMAGE_SBOM]=$HOSTILE_SBOM
C=sbom-hostile
D=$TEST_TMP/$C/deploy-oci
if run_case $C; then
    # the explicit path wins over the auto document
    check_sbom_attached $C "$D/$NAME" "$HOSTILE_SBOM" application/vnd.cyclonedx+json
fi
check "$C: nothing in the path was executed" \
    test -z "$(find "$TEST_TMP" -name 'pwned-sbom*' 2>/dev/null)"

# ============================================================================
# 9. oci-multiarch-ocipack.bbclass: per-MACHINE images into one index
# ============================================================================
CLASS=$(cd "$TESTS_DIR/../.." && pwd)/scripts/yocto/classes/oci-multiarch-ocipack.bbclass
MA_BODY=$(awk '/^do_create_multiarch_index\(\) \{$/ { inside = 1; next }
               inside && /^\}$/ { exit }
               inside { print }' "$CLASS")
MA_PY=$(awk '/^def oci_multiarch_sources\(d\):$/ { inside = 1 }
             inside && /^[^ #]/ && !/^def / { exit }
             inside { print }' "$CLASS")
check "multiarch: do_create_multiarch_index() { ... } found in the class" test -n "$MA_BODY"
check "multiarch: def oci_multiarch_sources(d) found in the class" test -n "$MA_PY"
MA_REFS=$(grep -oE '\$\{[a-zA-Z0-9_+./~:-]+\}' <<<"$MA_BODY" | sort -u | tr '\n' ' ')
check_eq "multiarch: \${...} in the task are bitbake variables only" \
    "\${OCI_MULTIARCH_OUTPUT} \${OCI_MULTIARCH_RECIPE} \${OCI_MULTIARCH_SOURCES} \${OCI_MULTIARCH_SOURCE_TAG} \${OCI_MULTIARCH_TAG} " \
    "$MA_REFS"

# The parse-time python, run with a small stand-in for bitbake's datastore:
# vars and flags come NUL-separated (NAME, VALUE, ...; flags as NAME[FLAG]).
cat >"$TEST_TMP/oma_sources.py" <<'EOF'
import sys
src, data = sys.argv[1], sys.argv[2]
items = open(data, encoding="utf-8").read().split("\0")[:-1]
values = dict(zip(items[0::2], items[1::2]))
class Fatal(Exception):
    pass
class bb:
    @staticmethod
    def fatal(msg):
        raise Fatal(msg)
class Datastore:
    def getVar(self, name):
        return values.get(name)
    def getVarFlag(self, name, flag):
        return values.get("%s[%s]" % (name, flag))
scope = {"bb": bb}
exec(open(src, encoding="utf-8").read(), scope)
try:
    lines, mcdepends = scope["oci_multiarch_sources"](Datastore())
except Fatal as e:
    print("FATAL: %s" % e)
    sys.exit(1)
sys.stdout.write(lines + "\n" + mcdepends + "\n")
EOF
printf '%s\n' "$MA_PY" >"$TEST_TMP/oma_sources.def.py"

declare -A MAF   # the class's varflags, NAME[FLAG] -> value
# ma_reset: the datastore of a recipe inheriting the class: the class's ?=
# defaults (variables and flags), then the recipe's settings.
ma_reset() {
    BB=()
    MAF=()
    BB[TOPDIR]=$MA_TOP
    BB[PN]=myapp-multiarch
    BB[DEPLOY_DIR_IMAGE]=$TEST_TMP/ma-deploy
    local line
    while IFS= read -r line; do
        if [[ $line =~ ^([A-Za-z0-9_]+)\ \?=\ \"(.*)\"$ ]]; then
            [[ -v BB[${BASH_REMATCH[1]}] ]] || BB[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
        elif [[ $line =~ ^([A-Za-z0-9_]+\[[A-Za-z0-9_-]+\])\ \?=\ \"(.*)\"$ ]]; then
            MAF[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
        fi
    done <"$CLASS"
    BB[OCI_MULTIARCH_RECIPE]=myapp-container
}
# ma_sources: runs the python on BB (expanded) and MAF; sets
# BB[OCI_MULTIARCH_SOURCES] and MA_MCDEPENDS, or prints the FATAL line.
ma_sources() {
    local data=$TEST_TMP/oma.data name out
    : >"$data"
    for name in TOPDIR OCI_MULTIARCH_RECIPE OCI_MULTIARCH_PLATFORMS; do
        printf '%s\0%s\0' "$name" "$(bb_expand "${BB[$name]:-}")" >>"$data"
    done
    for name in "${!MAF[@]}"; do
        printf '%s\0%s\0' "$name" "${MAF[$name]}" >>"$data"
    done
    out=$("$PY" "$TEST_TMP/oma_sources.py" "$TEST_TMP/oma_sources.def.py" "$data") || {
        printf '%s\n' "$out"
        return 1
    }
    BB[OCI_MULTIARCH_SOURCES]=$(sed '$d' <<<"$out")
    MA_MCDEPENDS=$(tail -1 <<<"$out")
}
ma_run() {
    bb_run_task "$1" do_create_multiarch_index "$MA_BODY"
}

# Two per-MACHINE images, built with the backend itself into the deploy
# directories of two multiconfigs (TMPDIR = ${TOPDIR}/tmp-<mc>, as the
# upstream class expects): arm64 (qemuarm64) and arm/v7 (qemuarm, with the
# rootfs SPDX document attached).
MA_TOP=$TEST_TMP/ma-top
ROOTFS_B=$TEST_TMP/rootfs-b
mkdir -p "$ROOTFS_B/etc"
printf 'second tree\n' >"$ROOTFS_B/etc/issue"
find "$ROOTFS_B" -exec touch -h -d "@$T_FILE" {} +
MA_ARM64_DEPLOY=$MA_TOP/tmp-container-aarch64/deploy/images/qemuarm64
MA_ARM_DEPLOY=$MA_TOP/tmp-container-arm/deploy/images/qemuarm
bb_reset
BB[TOPDIR]=$MA_TOP
BB[MACHINE]=qemuarm64
BB[IMAGE_BASENAME]=myapp-container
BB[IMAGE_ROOTFS]=$ROOTFS_SMALL
BB[OCI_IMAGE_ARCH]=arm64
BB[OCI_IMAGE_SUBARCH]=
BB[IMGDEPLOYDIR]=$MA_ARM64_DEPLOY
run_case ma-image-arm64
sbom_bb_reset
BB[TOPDIR]=$MA_TOP
BB[IMAGE_BASENAME]=myapp-container
BB[IMAGE_ROOTFS]=$ROOTFS_B
BB[IMGDEPLOYDIR]=$MA_ARM_DEPLOY
mkdir -p "$SPDX_DEPLOY/qemuarm/rootfs"
cp "$SPDX_DOC" "$SPDX_DEPLOY/qemuarm/rootfs/myapp-container-qemuarm-rootfs.spdx.json"
run_case ma-image-arm
MA_ARM64_MF=$(layout_manifest_digest "$MA_ARM64_DEPLOY/myapp-container-latest-oci" latest)
MA_ARM_MF=$(layout_manifest_digest "$MA_ARM_DEPLOY/myapp-container-latest-oci" latest)

ma_reset
BB[OCI_MULTIARCH_PLATFORMS]='aarch64 arm'
MAF[OCI_MULTIARCH_MC[arm]]=container-arm
MAF[OCI_MULTIARCH_MACHINE[arm]]=qemuarm
MAF[OCI_ARCH_TO_PLATFORM[arm]]=arm/v7
C=multiarch
if ma_sources; then
    check_eq "$C: mcdepends on each multiconfig's do_image_complete" \
        "mc::container-aarch64:myapp-container:do_image_complete mc::container-arm:myapp-container:do_image_complete" \
        "$MA_MCDEPENDS"
    check_eq "$C: the sources (platform, mc, machine, expected platform, deploy dir)" \
        "$(printf 'aarch64\037container-aarch64\037qemuarm64\037arm64\037%s\narm\037container-arm\037qemuarm\037arm/v7\037%s' "$MA_ARM64_DEPLOY" "$MA_ARM_DEPLOY")" \
        "${BB[OCI_MULTIARCH_SOURCES]}"
else
    fail "$C: oci_multiarch_sources" "python failed"
fi
MA_OUT=$TEST_TMP/ma-deploy/myapp-multiarch-multiarch-oci
if bb_run_task $C do_create_multiarch_index "$MA_BODY" && pass "$C: do_create_multiarch_index succeeds"; then
    check_eq "$C: index.json: an image index tagged latest, then the arm image's SBOM referrer (carried by ocipack index)" \
        "application/vnd.oci.image.index.v1+json latest 2 application/spdx+json" \
        "$(jq -r '"\(.manifests[0].mediaType) \(.manifests[0].annotations["org.opencontainers.image.ref.name"]) \(.manifests | length) \(.manifests[1].artifactType)"' "$MA_OUT/index.json")"
    check_eq "$C: platforms in OCI_MULTIARCH_PLATFORMS order, variant kept" "linux/arm64 linux/arm/v7" \
        "$("$OCIPACK" inspect --json "$MA_OUT:latest" | jq -r '[.manifests[].platform] | join(" ")')"
    MA_INDEX=$(blob_path "$MA_OUT" "$(jq -r '.manifests[0].digest' "$MA_OUT/index.json")")
    check_eq "$C: the entries are the per-MACHINE images' manifests" "$MA_ARM64_MF $MA_ARM_MF" \
        "$(jq -r '[.manifests[].digest] | join(" ")' "$MA_INDEX")"
    check_eq "$C: the arm entry's platform has variant v7" "arm v7 linux" \
        "$(jq -r '.manifests[1].platform | "\(.architecture) \(.variant) \(.os)"' "$MA_INDEX")"
    check "$C: ocipack verify" "$OCIPACK" verify "$MA_OUT"
    check "$C: no temporary layout left" test ! -e "$MA_OUT.ocipack-new"
    if [ $HAVE_SKOPEO = 1 ]; then
        check "$C: skopeo inspect --raw gives the index blob" \
            cmp -s <("${SKOPEO[@]}" inspect --raw "oci:$MA_OUT:latest") "$MA_INDEX"
        check "$C: skopeo copy --all to a fresh layout" \
            "${SKOPEO[@]}" copy -q --all "oci:$MA_OUT:latest" "oci:$TEST_TMP/ma-copy:latest"
        check "$C: the copy verifies" "$OCIPACK" verify "$TEST_TMP/ma-copy"
    else
        skip "$C: skopeo reads the index" "skopeo not installed"
    fi
    MA_DIGEST=$(jq -r '.manifests[0].digest' "$MA_OUT/index.json")
    if bb_run_task $C-again do_create_multiarch_index "$MA_BODY"; then
        check_eq "$C: a rerun gives the same index digest" "$MA_DIGEST" \
            "$(jq -r '.manifests[0].digest' "$MA_OUT/index.json")"
    else
        fail "$C: a rerun succeeds" "$(tail -3 "$TEST_TMP/$C-again/log.do_create_multiarch_index")"
    fi
else
    fail "$C: do_create_multiarch_index succeeds" "see below"
    show_tail "$TEST_TMP/$C/log.do_create_multiarch_index" 20
fi

# The mapping is checked against the image's config; the old output stays.
MAF[OCI_ARCH_TO_PLATFORM[arm]]=arm/v6
ma_sources >/dev/null
C=multiarch-mismatch
if bb_run_task $C do_create_multiarch_index "$MA_BODY"; then
    fail "$C: a platform other than OCI_ARCH_TO_PLATFORM fails the task" "task succeeded"
else
    check_contains "$C: the error names the image and both platforms" "$TEST_TMP/$C/log.do_create_multiarch_index" \
        "^ERROR: OCI multi-arch: $MA_ARM_DEPLOY/myapp-container-qemuarm-[0-9]+\\.rootfs-oci is arm/v7, but OCI_ARCH_TO_PLATFORM\\[arm\\] is arm/v6"
    check_eq "$C: the earlier index is left as it was" "$MA_DIGEST" \
        "$(jq -r '.manifests[0].digest' "$MA_OUT/index.json" 2>/dev/null)"
fi

# A platform without a multiconfig: the parse-time python stops.
ma_reset
BB[OCI_MULTIARCH_PLATFORMS]='aarch64 riscv64'
check_eq "multiarch-nomc: bb.fatal names the platform and the flag" \
    "FATAL: No multiconfig for platform 'riscv64': set OCI_MULTIARCH_MC[riscv64]" "$(ma_sources)"

# A missing image: the error names the directory and the names looked for.
ma_reset
BB[OCI_MULTIARCH_PLATFORMS]='aarch64'
MAF[OCI_MULTIARCH_MACHINE[aarch64]]=qemuarm64-other
ma_sources >/dev/null
C=multiarch-missing
if bb_run_task $C do_create_multiarch_index "$MA_BODY"; then
    fail "$C: a missing per-MACHINE image fails the task" "task succeeded"
else
    check_contains "$C: the error names the deploy dir" "$TEST_TMP/$C/log.do_create_multiarch_index" \
        "^ERROR: OCI multi-arch: no OCI image for aarch64 \\(container-aarch64:myapp-container\\) in $MA_TOP/tmp-container-aarch64/deploy/images/qemuarm64-other \\(looked for myapp-container-latest-oci, myapp-container-qemuarm64-other-latest-oci, myapp-container-oci\\)$"
fi

# Hostile values are data: an output directory, a deploy directory
# (OCI_MULTIARCH_DEPLOY, the <recipe>-oci fallback name) and a source tag
# full of shell syntax; the upstream naming <recipe>-<machine>-<tag>-oci too.
MA_HOSTILE="$TEST_TMP/ma dir \$(touch pwned-ma1) 'q' \"dq\" \`touch pwned-ma2\`;x"
mkdir -p "$MA_HOSTILE"
cp -a "$MA_ARM_DEPLOY/$(readlink "$MA_ARM_DEPLOY/myapp-container-latest-oci")" "$MA_HOSTILE/myapp-container-oci"
mkdir -p "$MA_TOP/tmp-container-aarch64/deploy/images/qemuarm64-b"
cp -a "$MA_ARM64_DEPLOY/$(readlink "$MA_ARM64_DEPLOY/myapp-container-latest-oci")" \
    "$MA_TOP/tmp-container-aarch64/deploy/images/qemuarm64-b/myapp-container-qemuarm64-b-latest-oci"
ma_reset
BB[OCI_MULTIARCH_PLATFORMS]='aarch64 arm'
BB[DEPLOY_DIR_IMAGE]=$MA_HOSTILE/out
BB[OCI_MULTIARCH_TAG]='v1.0'
MAF[OCI_MULTIARCH_MACHINE[aarch64]]=qemuarm64-b
MAF[OCI_MULTIARCH_MC[arm]]=container-arm
MAF[OCI_MULTIARCH_MACHINE[arm]]=qemuarm
MAF[OCI_MULTIARCH_DEPLOY[arm]]=$MA_HOSTILE
C=multiarch-hostile
ma_sources >/dev/null
if bb_run_task $C do_create_multiarch_index "$MA_BODY" && pass "$C: do_create_multiarch_index succeeds"; then
    MA_OUT=$MA_HOSTILE/out/myapp-multiarch-multiarch-oci
    check_eq "$C: index at the literal path, tag v1.0, arm64 + arm/v7" "linux/arm64 linux/arm/v7" \
        "$("$OCIPACK" inspect --json "$MA_OUT:v1.0" | jq -r '[.manifests[].platform] | join(" ")')"
    check "$C: ocipack verify" "$OCIPACK" verify "$MA_OUT"
else
    fail "$C: do_create_multiarch_index succeeds" "see below"
    show_tail "$TEST_TMP/$C/log.do_create_multiarch_index" 20
fi
check "$C: nothing in the values was executed" \
    test -z "$(find "$TEST_TMP" "$MA_HOSTILE" -name 'pwned-ma*' 2>/dev/null)"
# With a bitbake checkout (BITBAKE_LIB=.../bitbake/lib; bitbake is not a
# Debian package): bitbake's own parser reads the class and a recipe as in
# scripts/yocto/README.md (the anonymous python sets the same sources and
# mcdepends as above), skips an mcextend base recipe, and its shell parser
# (pysh, as for task signatures) reads both task functions and IMAGE_CMD:oci.
if [ -n "${BITBAKE_LIB:-}" ] && [ -f "$BITBAKE_LIB/bb/parse/__init__.py" ]; then
    BBL=$TEST_TMP/bb-layer
    mkdir -p "$BBL/classes" "$BBL/recipes"
    cp "$CLASS" "$BBL/classes/"
    printf '%s\n' 'addtask build' 'addtask fetch' 'addtask unpack after do_fetch' \
        'addtask install after do_unpack' 'addtask populate_sysroot after do_install' >"$BBL/classes/base.bbclass"
    : >"$BBL/classes/nopackages.bbclass"
    printf '%s\n' 'LICENSE = "MIT"' 'inherit oci-multiarch-ocipack' 'OCI_MULTIARCH_RECIPE = "myapp-container"' \
        'OCI_MULTIARCH_PLATFORMS = "aarch64 arm"' 'OCI_MULTIARCH_MC[arm] = "container-arm"' \
        'OCI_MULTIARCH_MACHINE[arm] = "qemuarm"' 'OCI_ARCH_TO_PLATFORM[arm] = "arm/v7"' >"$BBL/recipes/app-multiarch.bb"
    sed 's/^OCI_MULTIARCH_RECIPE = .*/OCI_MULTIARCH_RECIPE = "${MCNAME}"/' "$BBL/recipes/app-multiarch.bb" >"$BBL/recipes/mcextend.bb"
    "$PY" - "$BITBAKE_LIB" "$BBL" "$MA_TOP" "$INC" >"$TEST_TMP/bitbake-parse.out" 2>&1 <<'EOF'
import logging, re, sys
sys.path.insert(0, sys.argv[1])
import bb, bb.codeparser, bb.data, bb.parse
layer, topdir, inc = sys.argv[2], sys.argv[3], sys.argv[4]
def parse(recipe):
    d = bb.data.init()
    for k, v in (("BBPATH", layer), ("TOPDIR", topdir), ("PN", "app-multiarch"),
                 ("DEPLOY_DIR_IMAGE", topdir + "/deploy"), ("__bbclasstype", "recipe")):
        d.setVar(k, v)
    bb.parse.init_parser(d)
    return bb.parse.handle("%s/recipes/%s" % (layer, recipe), d)[""]
d = parse("app-multiarch.bb")
print("mcdepends=" + d.getVarFlag("do_create_multiarch_index", "mcdepends"))
print("sources=" + d.getVar("OCI_MULTIARCH_SOURCES").replace("\x1f", "|").replace("\n", ";"))
print("skipped=" + str(parse("mcextend.bb").getVar("__SKIPPED")))
for path, func in ((layer + "/classes/oci-multiarch-ocipack.bbclass", "do_create_multiarch_index"),
                   (layer + "/classes/oci-multiarch-ocipack.bbclass", "do_deploy"), (inc, "IMAGE_CMD:oci")):
    body = re.search(r"^%s\(\) \{\n(.*?)^\}$" % re.escape(func), open(path).read(), re.M | re.S).group(1)
    execs = bb.codeparser.ShellParser(func, logging.getLogger()).parse_shell(body)
    print("pysh %s: %s" % (func, "ocipack" in execs))
EOF
    check_eq "bitbake parses the class and recipe: mcdepends, sources, mcextend skip, pysh" \
        "$(printf '%s\n' "mcdepends=mc::container-aarch64:myapp-container:do_image_complete mc::container-arm:myapp-container:do_image_complete" \
            "sources=aarch64|container-aarch64|qemuarm64|arm64|$MA_TOP/tmp-container-aarch64/deploy/images/qemuarm64;arm|container-arm|qemuarm|arm/v7|$MA_TOP/tmp-container-arm/deploy/images/qemuarm" \
            "skipped=oci-multiarch-ocipack: OCI_MULTIARCH_RECIPE is not set here (\${MCNAME})" \
            "pysh do_create_multiarch_index: True" "pysh do_deploy: False" "pysh IMAGE_CMD:oci: True")" \
        "$(grep -E '^(mcdepends|sources|skipped|pysh )' "$TEST_TMP/bitbake-parse.out")"
else
    skip "bitbake's parser on the class, a recipe and the shell functions" \
        "set BITBAKE_LIB to a bitbake checkout's lib/ (bitbake is not a Debian package)"
fi
if require_tool shellcheck; then
    check "multiarch: shellcheck --shell=sh of the generated run file" \
        shellcheck --shell=sh --severity=warning "$TEST_TMP/multiarch/run.do_create_multiarch_index"
fi

# ============================================================================
# 7. the shell itself
# ============================================================================
if require_tool shellcheck; then
    check "shellcheck --shell=sh of the generated run file (POSIX sh, no bashisms)" \
        shellcheck --shell=sh --severity=warning "$TEST_TMP/config/run.do_image_oci"
else
    skip "shellcheck of the run file" "shellcheck not installed"
fi
check_eq "\${...} in IMAGE_CMD:oci are bitbake variables only" \
    "\${DEPLOY_DIR_IMAGE} \${IMAGE_BASENAME} \${IMAGE_NAME_SUFFIX} \${IMAGE_NAME} \${IMAGE_ROOTFS} \${IMGDEPLOYDIR} \${OCIPACK_CACHE_DIR} \${OCIPACK_CACHE_REMOTE} \${OCIPACK_EXTRA_ARGS} \${OCI_BASE_IMAGE_TAG} \${OCI_BASE_IMAGE} \${OCI_IMAGE_ARCH} \${OCI_IMAGE_AUTHOR_EMAIL} \${OCI_IMAGE_AUTHOR} \${OCI_IMAGE_AUTO_LABELS} \${OCI_IMAGE_BRANCH} \${OCI_IMAGE_BUILD_DATE} \${OCI_IMAGE_CMD} \${OCI_IMAGE_COMPRESSION_LEVEL} \${OCI_IMAGE_COMPRESSION} \${OCI_IMAGE_ENTRYPOINT_ARGS} \${OCI_IMAGE_ENTRYPOINT} \${OCI_IMAGE_ENV_VARS} \${OCI_IMAGE_LABELS} \${OCI_IMAGE_OS} \${OCI_IMAGE_PORTS} \${OCI_IMAGE_REVISION} \${OCI_IMAGE_RUNTIME_UID} \${OCI_IMAGE_SBOM_AUTO} \${OCI_IMAGE_SBOM} \${OCI_IMAGE_STOPSIGNAL} \${OCI_IMAGE_SUBARCH} \${OCI_IMAGE_TAG} \${OCI_IMAGE_TAR_OUTPUT} \${OCI_IMAGE_WORKINGDIR} \${OCI_LAYERS} \${OCI_LAYER_MODE} \${OCI_LAYER_REMAINDER} \${PKGDATA_DIR} \${REPRODUCIBLE_TIMESTAMP_ROOTFS} \${TOPDIR} \${WORKDIR} " \
    "$BODY_REFS"

finish
