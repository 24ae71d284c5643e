#!/bin/bash
# test_ls_diff.sh OCIPACK
#
# `ocipack ls` and `ocipack diff` on real builds:
#   - ls of an image lists exactly the paths of the rootfs it was built from
#     (checked against find(1)), sorted, with mode, owner, size and symlink
#     targets; ls of a --base + --diff-against-base image lists the merged
#     tree (whiteouts applied), and --layer 2 shows the delta layer's
#     whiteouts as such; --layer 1 equals the base image's listing;
#   - --largest N: the N largest regular files by size then path, a total;
#   - diff: +/-/M lines sorted by path, exit 1 when the images differ, 0 (and
#     no output) when they hold the same files, also across layouts and with
#     the oci: prefix; mtimes alone are no difference;
#   - errors: a missing layout (ls 1, diff 2), --layer out of range (2), a
#     layer blob whose bytes differ from its digest or that is a symlink
#     (ls 1, diff 2), each one error line naming the culprit.
set -u
source "$(dirname "$0")/lib.sh"
init_test "${1:-}"

if ! require_tool jq find sort dd; then
    skip "all" "missing tools: $MISSING_TOOLS"
    finish
fi
cd "$TEST_TMP" || exit 1

mkdir -p one/etc/conf.d one/usr/bin one/var/empty
printf 'hello\n' >one/etc/hello.txt
printf 'gone\n' >one/etc/conf.d/removed.conf
head -c 5000 /dev/zero >one/usr/bin/tool
head -c 300 /dev/zero >one/usr/bin/small
printf 'x\n' >one/etc/mode.txt
chmod 0644 one/etc/mode.txt
chmod 4755 one/usr/bin/tool
ln -s ../usr/bin/tool one/etc/tool-link
chown 12:34 one/etc/hello.txt
cp -a one two
rm one/var/empty -r && mkdir one/var/empty
rm two/etc/conf.d/removed.conf
printf 'hello, changed\n' >two/etc/hello.txt
chown 12:34 two/etc/hello.txt
chmod 0600 two/etc/mode.txt
printf 'new\n' >two/etc/added.txt
check "build image one" "$OCIPACK" build one -o L1 --tag v1 -q --created @0 || finish
check "build image two on one (a delta layer)" \
    "$OCIPACK" build two -o L2 --tag v2 --base L1:v1 --diff-against-base -q --created @0 || finish

# --- ls: the merged tree is the rootfs
run ls L1:v1
check_eq "ls: exit 0" 0 "$RC"
awk '{print $4}' out >paths
(cd one && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) >expected
check_eq "ls: exactly the rootfs's paths" "$(cat expected)" "$(cat paths)"
check_eq "ls: sorted by path" "$(LC_ALL=C sort paths)" "$(cat paths)"
check_contains "ls: a file with mode, owner, size" out '^-rw-r--r-- +12:34 +6  etc/hello.txt$'
check_contains "ls: setuid shown" out '^-rwsr-xr-x +0:0 +5000  usr/bin/tool$'
check_contains "ls: a symlink and its target" out '^lrwxrwxrwx +0:0 +0  etc/tool-link -> \.\./usr/bin/tool$'
check_contains "ls: a directory" out '^drwxr-xr-x +0:0 +0  usr/bin$'
cp out ls_one

run ls L2:v2
(cd two && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) >expected
check_eq "ls of a based image: the merged tree (whiteouts applied)" "$(cat expected)" "$(awk '{print $4}' out)"
check_contains "ls of a based image: the new content's size" out '^-rw-r--r-- +12:34 +15  etc/hello.txt$'
run ls oci:L2:v2 --layer 1
check_eq "ls --layer 1 of the based image = ls of the base" "$(cat ls_one)" "$(cat out)"
run ls L2:v2 --layer 2
check_eq "ls --layer 2: exit 0" 0 "$RC"
check_contains "ls --layer 2: the whiteout shown as such" out '^whiteout +etc/conf\.d/removed\.conf$'
check_contains "ls --layer 2: the added file" out '  etc/added\.txt$'
if grep -q 'usr/bin/small' out; then fail "ls --layer 2: unchanged files are not in the delta"; else pass "ls --layer 2: unchanged files are not in the delta"; fi

# --- ls --largest
run ls L1:v1 --largest 2
check_eq "ls --largest 2: exit 0" 0 "$RC"
check_eq "ls --largest 2: the two largest, by size" "usr/bin/tool
usr/bin/small" "$(head -n 2 out | awk '{print $NF}')"
check_contains "ls --largest 2: the sizes" out '^ +5000 .*usr/bin/tool$'
check_contains "ls --largest 2: a total" out '^total: 2 files, .* in 5 regular files$'
check_eq "ls --largest 2: three lines" 3 "$(grep -c '' out)"

# --- diff
run diff L1:v1 L2:v2
check_eq "diff of different images: exit 1" 1 "$RC"
check_eq "diff: +/-/M lines sorted by path" "+ etc/added.txt
- etc/conf.d/removed.conf
M etc/hello.txt (size, content)
M etc/mode.txt (mode)" "$(cat out)"
check_eq "diff: nothing on stderr" "" "$(cat err)"
run diff L2:v2 L1:v1
check_contains "diff the other way: the added file is removed" out '^- etc/added\.txt$'
run diff L1:v1 oci:L1:v1
check_eq "diff of an image with itself: exit 0" 0 "$RC"
check_eq "diff of an image with itself: no output" "" "$(cat out)"
touch -d '2001-01-01' one/etc/hello.txt one/usr/bin/tool
check "build image one again, other mtimes" "$OCIPACK" build one -o L3 -q --created @5 || finish
run diff L1:v1 L3
check_eq "diff across layouts, mtimes only: exit 0" 0 "$RC"

# --- errors
exits "ls of a missing layout" 1 "'missing'" ls missing:v1
exits "diff with a missing layout" 2 "'missing'" diff L1:v1 missing:v1
exits "ls --layer out of range" 2 "--layer 3: image 'L2:v2' has 2 layers" ls L2:v2 --layer 3
exits "ls --layer 0" 2 "--layer 0" ls L2:v2 --layer 0
exits "diff with one image" 2 "B is required" diff L1:v1
cp -a L1 bad
layer=$(jq -r '.layers[0].digest' "$(blob_path bad "$(layout_manifest_digest bad v1)")")
blob=$(blob_path bad "$layer")
size=$(stat -c %s "$blob")
printf '\x01' | dd of="$blob" bs=1 seek=$((size - 5)) conv=notrunc status=none
exits "ls of a layer whose bytes differ from its digest" 1 "does not match its digest" ls bad:v1
exits "diff of a layer whose bytes differ from its digest" 2 "does not match its digest" diff L1:v1 bad:v1
cp -a L1 linked
blob=$(blob_path linked "$layer")
mv "$blob" elsewhere && ln -s "$TEST_TMP/elsewhere" "$blob"
exits "ls of a symlinked layer blob" 1 "$layer" ls linked:v1
finish
