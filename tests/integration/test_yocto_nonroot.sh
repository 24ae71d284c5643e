#!/bin/bash
# test_yocto_nonroot.sh OCIPACK
#
# scripts/yocto/classes/container-nonroot-user-ocipack.bbclass without bitbake
# (issue 14, part 4): meta-virtualization's container-nonroot-user adds the
# user's home layer with `umoci raw add-layer`; this class swaps that
# do_image_oci postfunc for ocipack_fix_oci_home_perms (`ocipack add-layer`).
#
# How bitbake is emulated (as test_yocto.sh does for IMAGE_CMD:oci): the
# body of `fakeroot ocipack_fix_oci_home_perms() {` up to the first line
# that is just `}` is cut out of the class; every ${NAME} (bitbake's regex)
# is replaced by the value of NAME from a table, recursively, unknown names
# left literal; the run file is #!/bin/sh with bbnote/bbwarn/bbfatal stubs,
# `set -e`, the function and a call, run with a clean environment (PATH
# with OCIPACK's directory, SOURCE_DATE_EPOCH). The image it edits is made
# the way do_image_oci leaves it: `ocipack build` of a rootfs into
# IMGDEPLOYDIR/${IMAGE_NAME}${IMAGE_NAME_SUFFIX}-oci with the .tar.
# No pseudo: the test runs as root, so ownership is real.
#
# Checked: the class's anonymous python against a stand-in datastore (the
# postfunc swapped and the umoci-only prefunc dropped with the ocipack
# backend; nothing changed with umoci or without container-nonroot-user);
# the edited image: one more layer holding exactly home (0:0 0755),
# home/nonroot (65532:65532 0700) and the NONROOT_OWNED_DIRS with their
# parents (leaf owned by the user, parents root), `ocipack verify`, umoci
# unpack with those owners and the base files; the .tar and -dir.tar
# rewritten to the new index; two runs on copies give the same manifest and
# byte-identical .tar/-dir.tar; OCI_IMAGE_COMPRESSION = zstd gives a zstd
# layer; hostile values (a command substitution and a glob in
# NONROOT_OWNED_DIRS, a UID with a ';') are data, never executed, and bad
# ones fail the task with the image unchanged.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"
umask 022
if ! require_tool jq python3 tar sha256sum umoci; then
    skip "all checks" "missing tools: $MISSING_TOOLS"
    finish
fi
CLASS=$(cd "$TESTS_DIR/../../scripts/yocto/classes" && pwd)/container-nonroot-user-ocipack.bbclass
SDE=1700000000
cd "$TEST_TMP" || exit 1

# --- the anonymous python
cat >anon.py <<'PY'
import re, sys
text = open(sys.argv[1]).read()
body = re.search(r"^python \(\) \{\n(.*?)^\}", text, re.S | re.M).group(1)
class Data:
    def __init__(self, values, flags):
        self.values, self.flags = values, flags
    def getVar(self, name, expand=True):
        return self.values.get(name)
    def getVarFlag(self, name, flag):
        return self.flags.get((name, flag))
    def setVarFlag(self, name, flag, value):
        self.flags[(name, flag)] = value
scope = {}
exec("def anonymous(d):\n" + body, scope)
upstream = {("do_image_oci", "prefuncs"): "oci_multilayer_install_packages oci_nonroot_inject_user",
            ("do_image_oci", "postfuncs"): "other fix_oci_home_perms last"}
cases = [
    ("ocipack backend", {"OCI_IMAGE_BACKEND": "ocipack"}, dict(upstream),
     "oci_multilayer_install_packages", "other ocipack_fix_oci_home_perms last"),
    ("umoci backend", {"OCI_IMAGE_BACKEND": "umoci"}, dict(upstream),
     upstream[("do_image_oci", "prefuncs")], upstream[("do_image_oci", "postfuncs")]),
    ("without container-nonroot-user", {"OCI_IMAGE_BACKEND": "ocipack"}, {("do_image_oci", "prefuncs"): "a"},
     "a", None),
]
for name, values, flags, pre, post in cases:
    d = Data(values, flags)
    scope["anonymous"](d)
    got = (d.getVarFlag("do_image_oci", "prefuncs"), d.getVarFlag("do_image_oci", "postfuncs"))
    print("%s %s: %s" % ("ok" if got == (pre, post) else "WRONG", name, got))
PY
python3 anon.py "$CLASS" >anon.out 2>&1
sed 's/^/  /' anon.out
check_eq "anonymous python: 3 cases, each right" 3 "$(grep -c '^ok ' anon.out)"

# --- the function, run as bitbake would
BODY=$(awk '/^fakeroot ocipack_fix_oci_home_perms\(\) \{$/ { inside = 1; next }
            inside && /^\}$/ { exit }
            inside { print }' "$CLASS")
check "ocipack_fix_oci_home_perms() { ... } found in the class" test -n "$BODY"

# expand.py TABLE: stdin with every ${NAME} of TABLE (NAME\0VALUE\0...) replaced, recursively.
cat >expand.py <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read().decode().split("\0")[:-1]
table = dict(zip(raw[0::2], raw[1::2]))
pattern = re.compile(r"\$\{[a-zA-Z0-9\-_+./~:]+?\}")
def expand(text, depth=0):
    if depth > 30:
        raise SystemExit("expansion too deep")
    return pattern.sub(lambda m: expand(table[m.group(0)[2:-1]], depth + 1) if m.group(0)[2:-1] in table else m.group(0), text)
sys.stdout.write(expand(sys.stdin.read()))
PY

declare -A BB
bb_reset() {
    BB=()
    BB[IMGDEPLOYDIR]=$TEST_TMP/$1/deploy-oci
    BB[WORKDIR]=$TEST_TMP/$1/work
    BB[IMAGE_NAME]=app-container-qemux86-64-20240102030405
    BB[IMAGE_NAME_SUFFIX]=.rootfs
    BB[OCI_IMAGE_TAG]=latest
    BB[OCI_IMAGE_TAR_OUTPUT]=true
    BB[OCI_IMAGE_COMPRESSION]=gzip
    BB[OCI_IMAGE_COMPRESSION_LEVEL]=
    BB[NONROOT_USER]=nonroot
    BB[NONROOT_UID]=65532
    BB[NONROOT_GID]=65532
    BB[NONROOT_OWNED_DIRS]="/var/lib/app /var/lib/app/cache /run/app"
}

# make_image CASE: what do_image_oci leaves (layout and .tar), with ocipack build.
make_image() {
    local deploy=$TEST_TMP/$1/deploy-oci name=${BB[IMAGE_NAME]}${BB[IMAGE_NAME_SUFFIX]}-oci
    mkdir -p "$deploy" "$TEST_TMP/$1/work"
    SOURCE_DATE_EPOCH=$SDE "$OCIPACK" build rootfs -o "$deploy/$name:${BB[OCI_IMAGE_TAG]:-latest}" \
        --tar-output "$deploy/$name.tar" -q --user 65532
}

# run_postfunc CASE: the function on CASE's image; status returned, log in CASE/log.
run_postfunc() {
    local run=$TEST_TMP/$1/run.ocipack_fix_oci_home_perms name
    : >"$TEST_TMP/$1/table"
    for name in "${!BB[@]}"; do printf '%s\0%s\0' "$name" "${BB[$name]}" >>"$TEST_TMP/$1/table"; done
    {
        echo '#!/bin/sh'
        echo 'bbnote() { echo "NOTE: $*"; }'
        echo 'bbwarn() { echo "WARNING: $*"; }'
        echo 'bbfatal() { echo "ERROR: $*"; exit 1; }'
        echo 'set -e'
        echo 'ocipack_fix_oci_home_perms() {'
        printf '%s\n' "$BODY" | python3 expand.py "$TEST_TMP/$1/table"
        echo '}'
        echo 'ocipack_fix_oci_home_perms'
    } >"$run"
    (cd "$TEST_TMP/$1" && env -i PATH="$(dirname "$OCIPACK"):/usr/local/bin:/usr/bin:/bin" HOME="$TEST_TMP" \
        LC_ALL=C.UTF-8 SOURCE_DATE_EPOCH=$SDE /bin/sh "$run") >"$TEST_TMP/$1/log" 2>&1
}

mkdir -p rootfs/etc rootfs/bin rootfs/var/lib
printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n' >rootfs/etc/passwd
printf '#!/bin/sh\n' >rootfs/bin/sh
chmod 755 rootfs/bin/sh

# layer_listing LAYOUT: "mode owner name" of the top layer's entries, sorted.
layer_listing() {
    local m blob
    m=$(blob_path "$1" "$(layout_manifest_digest "$1" latest)")
    blob=$(blob_path "$1" "$(jq -r '.layers[-1].digest' "$m")")
    tar --numeric-owner -tvf "$blob" | awk '{print $1, $2, $6}' | sort -k3
}

# --- the default case
bb_reset one
make_image one
L=one/deploy-oci/${BB[IMAGE_NAME]}${BB[IMAGE_NAME_SUFFIX]}-oci
old=$(layout_manifest_digest "$L" latest)
if run_postfunc one; then pass "one: the postfunc succeeds"; else fail "one: the postfunc succeeds" "see log"; show_tail one/log 20; fi
new=$(layout_manifest_digest "$L" latest)
check "one: latest names a new manifest" test -n "$new" -a "$new" != "$old"
check_eq "one: two layers" 2 "$(jq '.layers | length' "$(blob_path "$L" "$new")")"
cat >expected <<'EOF'
drwxr-xr-x 0/0 home/
drwx------ 65532/65532 home/nonroot/
drwxr-xr-x 0/0 run/
drwxr-xr-x 65532/65532 run/app/
drwxr-xr-x 0/0 var/
drwxr-xr-x 0/0 var/lib/
drwxr-xr-x 65532/65532 var/lib/app/
drwxr-xr-x 65532/65532 var/lib/app/cache/
EOF
layer_listing "$L" >listing
check "one: the layer holds the home and the owned dirs, owners and modes right" diff expected listing
check_eq "one: history created_by" "container-nonroot-user: /home/nonroot and NONROOT_OWNED_DIRS" \
    "$(jq -r '.history[-1].created_by' "$(blob_path "$L" "$(jq -r .config.digest "$(blob_path "$L" "$new")")")")"
check "one: ocipack verify" "$OCIPACK" verify "$L"
if check "one: umoci unpack" umoci unpack --image "$L:latest" one/bundle; then
    check_eq "one: unpacked home owner and mode" "65532:65532 700" "$(stat -c '%u:%g %a' one/bundle/rootfs/home/nonroot)"
    check "one: unpacked base file" test -f one/bundle/rootfs/etc/passwd
fi
mkdir -p one/t1 one/t2
tar -xf "$L.tar" -C one/t1
tar -xf "$L-dir.tar" -C one/t2
check "one: the .tar holds the new index.json" cmp one/t1/index.json "$L/index.json"
check "one: the -dir.tar holds the layout under its name" cmp "one/t2/$(basename "$L")/index.json" "$L/index.json"
check "one: the layer's staging directory is gone" test ! -e one/work/oci-home-fix-layer

# --- determinism: the same again on another image copy
bb_reset two
make_image two
L2=two/deploy-oci/$(basename "$L")
run_postfunc two
check_eq "two: same manifest digest" "$new" "$(layout_manifest_digest "$L2" latest)"
check_eq "two: byte-identical .tar" "$(sha256sum <"$L.tar")" "$(sha256sum <"$L2.tar")"
check_eq "two: byte-identical -dir.tar" "$(sha256sum <"$L-dir.tar")" "$(sha256sum <"$L2-dir.tar")"

# --- zstd, no tar output, another user
bb_reset zstd
BB[OCI_IMAGE_COMPRESSION]=zstd
BB[OCI_IMAGE_TAR_OUTPUT]=0
BB[NONROOT_USER]=app
BB[NONROOT_OWNED_DIRS]=
make_image zstd
rm -f zstd/deploy-oci/*.tar
LZ=zstd/deploy-oci/$(basename "$L")
run_postfunc zstd || show_tail zstd/log
check_eq "zstd: the new layer's media type" "application/vnd.oci.image.layer.v1.tar+zstd" \
    "$(jq -r '.layers[-1].mediaType' "$(blob_path "$LZ" "$(layout_manifest_digest "$LZ" latest)")")"
check "zstd: no tarball when OCI_IMAGE_TAR_OUTPUT = 0" test ! -e "$LZ.tar" -a ! -e "$LZ-dir.tar"
check "zstd: home/app is in the layer" grep -q ' home/app/$' <(layer_listing "$LZ")

# --- hostile values: data, never code
bb_reset hostile
BB[NONROOT_OWNED_DIRS]='/srv/$(touch${IFS}PWNED) /srv/* /srv/`touch${IFS}PWNED2`'
make_image hostile
LH=hostile/deploy-oci/$(basename "$L")
run_postfunc hostile || show_tail hostile/log
check "hostile: nothing executed" test ! -e hostile/PWNED -a ! -e hostile/PWNED2 -a ! -e hostile/deploy-oci/PWNED
check "hostile: \$(...) is a directory name in the layer" grep -qF ' srv/$(touch${IFS}PWNED)/' <(layer_listing "$LH")
check "hostile: \`...\` is a directory name in the layer" grep -qF ' srv/`touch${IFS}PWNED2`/' <(layer_listing "$LH")
check "hostile: the glob stayed a name" grep -q ' srv/\*/$' <(layer_listing "$LH")
for bad in 'NONROOT_UID=1;touch PWNED' 'NONROOT_OWNED_DIRS=relative/dir' 'NONROOT_OWNED_DIRS=/var/../etc' 'NONROOT_USER=../x'; do
    bb_reset bad
    BB[${bad%%=*}]=${bad#*=}
    rm -rf bad
    make_image bad
    LB=bad/deploy-oci/$(basename "$L")
    before=$(cat "$LB/index.json")
    run_postfunc bad
    rc=$?
    check_eq "$bad: the task fails" 1 "$rc"
    check_contains "$bad: bbfatal names the variable" bad/log "^ERROR: .*${bad%%=*}"
    check "$bad: nothing executed" test ! -e bad/PWNED -a ! -e bad/deploy-oci/PWNED
    check_eq "$bad: the image is unchanged" "$before" "$(cat "$LB/index.json")"
done
finish
