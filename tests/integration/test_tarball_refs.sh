#!/bin/bash
# test_tarball_refs.sh OCIPACK
#
# The layout tarball that `build --tar-output` writes (an oci-archive, as
# skopeo's oci-archive: transport reads it) named wherever an image is read,
# in both spellings — oci-archive:FILE[:TAG] and a plain path to the file —
# and read in place, never extracted (issue 13):
#   - inspect, tags, verify, ls and diff on the tarball say what they say of
#     the layout directory it was written from (same digests, same listing);
#   - build --base TARBALL:TAG (and --diff-against-base) gives the same
#     manifest digest as --base DIR:TAG;
#   - commands that write into a layout (build -o, tag, untag, gc, attach,
#     index -o) refuse a tarball: exit 2, one line saying to use a layout
#     directory, the tarball unchanged;
#   - hostile tarballs ('..' and absolute member names, a symlink member,
#     a duplicate index.json, a layer whose bytes do not match its digest, an
#     index.json over the 64 MiB document limit, a file that is no tar): exit
#     1 with one error line naming the culprit, nothing written outside.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

if ! require_tool jq python3 sha256sum; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi

cd "$TEST_TMP" || exit 1
mkdir -p root/etc root2/etc work
printf 'hello\n' >root/etc/hello.txt
ln -s hello.txt root/etc/link
printf 'other\n' >root2/etc/other.txt
dd if=/dev/urandom of=root2/etc/big bs=1024 count=512 status=none

run build root -o L:v1 --created @0 --tar-output img.tar
check_eq "build --tar-output: exit 0" 0 "$RC"
DIGEST=$(head -n 1 out | cut -d' ' -f4)
check "the tarball is a regular file" test -f img.tar
TAR_SUM=$(sha256sum <img.tar)

# --- the readers, both spellings
for ref in img.tar img.tar:v1 oci-archive:img.tar oci-archive:img.tar:v1; do
    run inspect "$ref" --json
    check_eq "inspect $ref: exit 0" 0 "$RC"
    check_eq "inspect $ref: the manifest built" "$DIGEST" "$(jq -r .manifest.digest out 2>/dev/null)"
    run tags "$ref" --json
    check_eq "tags $ref: tag v1, that manifest" "v1 $DIGEST" "$(jq -r '.[] | "\(.tag) \(.digest)"' out 2>/dev/null)"
    run verify "$ref"
    check_eq "verify $ref: exit 0" 0 "$RC"
    check_contains "verify $ref: OK" out "OK"
done
run inspect img.tar
check_eq "inspect img.tar (text): exit 0" 0 "$RC"
check_contains "inspect img.tar (text): names the manifest" out "$DIGEST"
"$OCIPACK" ls L:v1 >ls.dir
for ref in img.tar:v1 oci-archive:img.tar:v1; do
    run ls "$ref"
    check_eq "ls $ref: exit 0" 0 "$RC"
    check "ls $ref: the listing of L:v1" cmp -s ls.dir out
    run diff "$ref" L:v1
    check_eq "diff $ref L:v1: same files, exit 0" "0:" "$RC:$(cat out)"
done
run build root2 -o L2 --created @0 -q
run diff oci-archive:img.tar:v1 L2
check_eq "diff tarball vs another image: exit 1" 1 "$RC"
check_contains "diff tarball vs another image: etc/other.txt added" out "^[+] etc/other.txt"
run inspect img.tar:nope
check_eq "inspect img.tar:nope: exit 1" 1 "$RC"
one_error_line "inspect img.tar:nope" err "layout tarball 'img.tar'.*nope"

# --- --base from the tarball: the same image as from the directory
run build root2 --base L:v1 -o Bdir:x --created @0
DIR_DIGEST=$(head -n 1 out | cut -d' ' -f4)
for ref in img.tar:v1 oci-archive:img.tar:v1; do
    name=$(printf '%s' "$ref" | tr -c 'A-Za-z0-9' _)
    run build root2 --base "$ref" -o "B$name:x" --created @0
    check_eq "build --base $ref: exit 0" 0 "$RC"
    check_eq "build --base $ref: the manifest of --base L:v1" "$DIR_DIGEST" "$(head -n 1 out | cut -d' ' -f4)"
done
run build root2 --base L:v1 --diff-against-base -o Ddir:x --created @0
DELTA_DIGEST=$(head -n 1 out | cut -d' ' -f4)
run build root2 --base oci-archive:img.tar:v1 --diff-against-base -o Dtar:x --created @0
check_eq "--diff-against-base from the tarball: the manifest of the directory's" "$DELTA_DIGEST" \
    "$(head -n 1 out | cut -d' ' -f4)"

# --- writers refuse a tarball (2), leaving it unchanged
printf '{"spdxVersion":"SPDX-2.3"}' >sbom.json
exits "build -o img.tar (an existing tarball)" 2 "img.tar.*layout tarball.*layout directory" build root -o img.tar --created @0
exits "build -o oci-archive:new.tar" 2 "new.tar.*layout tarball.*layout directory" build root -o oci-archive:new.tar --created @0
check "build -o oci-archive:new.tar: nothing made" test ! -e new.tar
exits "tag img.tar:v1 v2" 2 "img.tar.*layout tarball.*layout directory" tag img.tar:v1 v2
exits "untag oci-archive:img.tar:v1" 2 "img.tar.*layout tarball.*layout directory" untag oci-archive:img.tar:v1
exits "gc img.tar" 2 "img.tar.*layout tarball.*layout directory" gc img.tar
exits "gc --dry-run oci-archive:img.tar" 2 "img.tar.*layout tarball" gc --dry-run oci-archive:img.tar
exits "attach img.tar:v1" 2 "img.tar.*layout tarball.*layout directory" attach img.tar:v1 sbom.json
exits "index -o img.tar" 2 "img.tar.*layout tarball.*layout directory" index -o img.tar --tag multi L:v1
exits "oci-archive: naming a directory" 2 "oci-archive:.*directory" inspect oci-archive:L:v1
exits "--tar-output onto the --base tarball" 1 "img.tar" build root2 --base img.tar:v1 -o Bself --tar-output img.tar --created @0
check_eq "the tarball is unchanged" "$TAR_SUM" "$(sha256sum <img.tar)"

# --- hostile tarballs: one line naming the culprit, exit 1, nothing outside
# hostile KIND OUT: a tarball made from img.tar by python's tarfile.
hostile() {
    python3 - "$1" img.tar "$2" <<'PY'
import io, sys, tarfile
kind, src, out = sys.argv[1:]
members = []
with tarfile.open(src) as t:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        members.append((m, data))
def add(tar, m, data):
    tar.addfile(m, io.BytesIO(data) if data is not None else None)
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    for m, data in members:
        name = m.name.lstrip("./")
        if kind == "dotdot" and name == "index.json":
            m.name = "../index.json"
        if kind == "absolute" and name == "index.json":
            m.name = "/tmp/index.json"
        if kind == "corrupt" and m.isfile() and data and data[:2] == b"\x1f\x8b":  # the gzip layer
            b = bytearray(data); b[len(b) // 2] ^= 1; data = bytes(b)
        if kind == "symlink" and name == "index.json":
            s = tarfile.TarInfo("index.json"); s.type = tarfile.SYMTYPE; s.linkname = "/etc/passwd"
            tar.addfile(s); continue
        if kind == "huge" and name == "index.json":
            data = b" " * (64 * 1024 * 1024 + 1) + data; m.size = len(data)
        add(tar, m, data)
        if kind == "duplicate" and name == "index.json":
            add(tar, m, data)
PY
}
for kind in dotdot absolute symlink duplicate huge; do
    hostile "$kind" "$kind.tar"
    case $kind in
        dotdot) re="'\.\./index\.json' has a '\.\.' component" ;;
        absolute) re="'/tmp/index\.json' has an absolute path" ;;
        symlink) re="'index\.json' is neither a regular file nor a directory" ;;
        duplicate) re="index\.json' appears twice" ;;
        huge) re="index\.json is too large" ;;
    esac
    for sub in inspect tags; do
        exits "$kind tarball: $sub" 1 "$kind\.tar.*$re" "$sub" "$kind.tar"
    done
    # verify reports what it finds inside a tarball it could open on stdout.
    run verify "$kind.tar"
    check_eq "$kind tarball: verify exit 1" 1 "$RC"
    check "$kind tarball: verify names the culprit" grep -Eq -- "$re" out err
    exits "$kind tarball: ls" 1 "$kind\.tar.*$re" ls "oci-archive:$kind.tar:v1"
    exits "$kind tarball: --base" 1 "$kind\.tar.*$re" build root2 --base "$kind.tar:v1" -o "out_$kind" --created @0
    check "$kind tarball: --base wrote no layout" test ! -e "out_$kind/index.json"
done
check "nothing written outside (no ../index.json, no /tmp/index.json from us)" test ! -e ../index.json

# One byte of the layer flipped inside the tarball: every reader that reads
# the layer names it (inspect only checks sizes, as for a directory).
hostile corrupt corrupt.tar
LAYER=$("$OCIPACK" inspect img.tar:v1 --json | jq -r '.layers[0].digest')
run verify corrupt.tar
check_eq "corrupt layer in the tarball: verify exit 1" 1 "$RC"
check_contains "corrupt layer in the tarball: verify names the layer" out "$LAYER"
exits "corrupt layer in the tarball: ls" 1 "corrupt.tar.*$LAYER" ls corrupt.tar:v1
exits "corrupt layer in the tarball: diff (could not tell)" 2 "corrupt.tar.*$LAYER" diff corrupt.tar:v1 L:v1
exits "corrupt layer in the tarball: --diff-against-base" 1 "$LAYER" \
    build root2 --base corrupt.tar:v1 --diff-against-base -o out_corrupt --created @0
exits "corrupt layer in the tarball: --base" 1 "$LAYER" build root2 --base corrupt.tar:v1 -o out_corrupt2 --created @0
check "corrupt layer in the tarball: --base committed nothing" test ! -e out_corrupt2/index.json

head -c 3000 /dev/urandom >junk.tar
exits "a file that is no tar: inspect" 1 "layout tarball 'junk.tar'" inspect junk.tar

finish
