#!/bin/bash
# make_test_rootfs.sh DIR
#
# Generates a rootfs containing every entry kind ocipack must handle, for the
# consumer tests: regular files (small, empty, 3 MiB pseudo-random so that
# --chunk-size 256K yields many gzip members, binary), nested and empty dirs, a
# top-level dotfile, symlinks (relative, absolute, target > 100 bytes),
# hardlinks (3 names in different dirs), char and block devices, a fifo, a unix
# socket (which ocipack must skip), paths > 100 and > 256 bytes, user.* and
# security.capability xattrs, setuid/setgid/sticky modes, a mode-000 file, a
# file owned by 1234:5678, a non-ASCII UTF-8 name, and fixed mtimes (several
# distinct values) on every entry, including the directories.  Under edge/:
# tar-format edge cases (hardlinked fifo and symlink, hardlink with a long first
# name, 255-byte component, 100-byte name and link target, uid > 2097151,
# trusted.* xattr, spaces and non-UTF-8 bytes in names, large device minor,
# mtimes before 1970 and after 2242).
#
# Content is deterministic (the "random" file comes from a seeded PRNG), so two
# calls produce trees that differ only in inode numbers.  Must run as root
# (mknod, chown, security.* xattrs).
set -u
set -e

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "$0: must run as root (mknod, chown, security xattrs)" >&2
    exit 2
fi
if [ -e "$1" ] && [ -n "$(ls -A "$1")" ]; then
    echo "$0: $1 exists and is not empty" >&2
    exit 2
fi
mkdir -p "$1"
R=$(cd "$1" && pwd)
# Prefer the system interpreter (a pyenv shim costs ~0.5 s per call).
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3
else PY=python3; fi

# Timestamps used below (all well in the past, distinct).
T_FILE=1600000000      # 2020-09-13
T_OLD=1000000000       # 2001-09-09
T_NEW=1700000000       # 2023-11-14
T_DIR=1650000000       # 2022-04-15

# --- directories -------------------------------------------------------------
mkdir -p "$R/etc" "$R/usr/bin" "$R/usr/lib" "$R/var/empty" "$R/data/nested/deeper" \
    "$R/dev" "$R/run" "$R/links/a" "$R/links/b" "$R/modes" "$R/owners" "$R/xattrs" "$R/tmp"

# --- regular files -------------------------------------------------------------
printf 'hello ocipack\n' >"$R/etc/hello.txt"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
: >"$R/etc/empty-file"
printf 'secret dotfile\n' >"$R/.hidden"
printf 'nested content\n' >"$R/data/nested/deeper/file.txt"
# Binary file: every byte value, twice, plus NULs.
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 2 + b"\0" * 100)' >"$R/usr/lib/binary.bin"
# 3 MiB pseudo-random, deterministic (seeded), incompressible.
"$PY" -c 'import random, sys; sys.stdout.buffer.write(random.Random(20240102).randbytes(3 * 1024 * 1024))' \
    >"$R/data/random-3MiB.bin"
# A larger compressible text file (~2.2 MB) so that not all chunks are random.
"$PY" -c '
import sys
out = sys.stdout
for i in range(40000):
    out.write("line %06d the quick brown fox jumps over the lazy dog\n" % i)
' >"$R/usr/lib/text-lines.txt"
printf '#!/bin/sh\necho tool\n' >"$R/usr/bin/tool"
chmod 755 "$R/usr/bin/tool"

# --- symlinks ------------------------------------------------------------------
ln -s ../etc/hello.txt "$R/usr/hello-rel"
ln -s /etc/hello.txt "$R/usr/hello-abs"
ln -s tool "$R/usr/bin/tool-alias"
ln -s /nonexistent/dangling/target "$R/usr/dangling"
LONG_TARGET=/$(printf 'long-symlink-target-component-%02d/' 1 2 3 4 5)final-target-file.txt
ln -s "$LONG_TARGET" "$R/usr/long-target-link"

# --- hardlinks: three names in three directories ----------------------------------
printf 'hardlinked content\n' >"$R/links/a/original"
ln "$R/links/a/original" "$R/links/b/second-name"
ln "$R/links/a/original" "$R/data/third-name"
# A second hardlink group with two names in the same directory.
printf 'pair\n' >"$R/links/pair-1"
ln "$R/links/pair-1" "$R/links/pair-2"

# --- special files -------------------------------------------------------------
mknod -m 666 "$R/dev/null" c 1 3
mknod -m 660 "$R/dev/loop0" b 7 0
chown 0:6 "$R/dev/loop0"
mkfifo -m 640 "$R/run/fifo"
"$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$R/run/sock"

# --- long paths ---------------------------------------------------------------
# > 100 bytes total (fits ustar prefix/name split or needs PAX, either way).
D100="$R/data/long/$(printf 'directory-level-%02d/' 1 2 3 4 5)"
mkdir -p "$D100"
printf 'over 100\n' >"${D100}file-with-a-path-longer-than-one-hundred-bytes.txt"
# > 256 bytes total and a single component > 100 bytes (needs PAX path).
D256="$R/data/verylong/$(printf 'another-quite-long-directory-name-level-%02d/' 1 2 3 4 5 6)"
mkdir -p "$D256"
COMP120=$(printf 'x%.0s' $(seq 1 120))
printf 'over 256\n' >"${D256}${COMP120}.txt"

# --- xattrs ----------------------------------------------------------------------
printf 'with user xattr\n' >"$R/xattrs/user-xattr.txt"
setfattr -n user.comment -v "hello xattr" "$R/xattrs/user-xattr.txt"
setfattr -n user.binary -v 0x00ff10 "$R/xattrs/user-xattr.txt"
setfattr -n user.dir-note -v "dir xattr" "$R/xattrs"
printf '#!/bin/sh\n' >"$R/xattrs/cap-file"
chmod 755 "$R/xattrs/cap-file"
# vfs_cap_data v2: magic 0x02000001, permitted = CAP_NET_BIND_SERVICE (bit 10).
setfattr -n security.capability -v 0x0100000200040000000000000000000000000000 "$R/xattrs/cap-file"

# --- modes --------------------------------------------------------------------
printf 'setuid\n' >"$R/modes/setuid"
chmod 4755 "$R/modes/setuid"
printf 'setgid\n' >"$R/modes/setgid"
chmod 2755 "$R/modes/setgid"
mkdir "$R/modes/sticky-dir"
chmod 1777 "$R/modes/sticky-dir"
printf 'all bits\n' >"$R/modes/all-special"
chmod 7755 "$R/modes/all-special"
printf 'nobody may read\n' >"$R/modes/mode-000"
chmod 000 "$R/modes/mode-000"
mkdir "$R/modes/dir-700"
chmod 700 "$R/modes/dir-700"
chmod 1777 "$R/tmp"

# --- owners -------------------------------------------------------------------
printf 'owned by 1234:5678\n' >"$R/owners/odd-owner"
chown 1234:5678 "$R/owners/odd-owner"
mkdir "$R/owners/dir-65534"
chown 65534:65534 "$R/owners/dir-65534"
ln -s odd-owner "$R/owners/link-owned"
chown -h 4321:8765 "$R/owners/link-owned"

# --- non-ASCII name -------------------------------------------------------------
printf 'utf-8 name\n' >"$R/etc/$(printf 'caf\xc3\xa9-\xe6\x96\x87\xe4\xbb\xb6-\xc3\xbc.txt')"
mkdir "$R/data/$(printf '\xd0\xba\xd0\xb0\xd1\x82\xd0\xb0\xd0\xbb\xd0\xbe\xd0\xb3')"

# --- tar-format edge cases ------------------------------------------------------------
# Each one needs a PAX record or a less common header field.
mkdir -p "$R/edge/hl-special" "$R/edge/$(printf 'L%.0s' $(seq 1 110))"
# Hardlinked fifo and hardlinked symlink (Linux links the symlink itself).
mkfifo "$R/edge/hl-special/fifo"
ln "$R/edge/hl-special/fifo" "$R/edge/fifo-second-name"
ln -s hello-target "$R/edge/hl-special/symlink"
ln "$R/edge/hl-special/symlink" "$R/edge/symlink-second-name"
# Hardlink whose first name (the link target in the tar) is > 100 bytes.
printf 'long first name\n' >"$R/edge/$(printf 'L%.0s' $(seq 1 110))/first-name"
ln "$R/edge/$(printf 'L%.0s' $(seq 1 110))/first-name" "$R/edge/short-second-name"
# Name component of exactly 255 bytes (NAME_MAX), a path of exactly 100 bytes,
# a symlink target of exactly 100 bytes.
printf '255\n' >"$R/edge/$(printf 'n%.0s' $(seq 1 255))"
printf '100\n' >"$R/edge/$(printf 'm%.0s' $(seq 1 95))"
ln -s "$(printf 't%.0s' $(seq 1 100))" "$R/edge/link-target-100"
# uid/gid beyond the 7-digit octal ustar field (> 2097151).
printf 'big ids\n' >"$R/edge/big-ids"
chown 4000000:4000001 "$R/edge/big-ids"
# trusted.* xattr (root only), a name with spaces, a name that is not UTF-8,
# a device with a large minor number.
printf 'trusted\n' >"$R/edge/trusted-xattr"
setfattr -n trusted.note -v "trusted value" "$R/edge/trusted-xattr"
printf 'spaces\n' >"$R/edge/name with  spaces"
printf 'latin-1\n' >"$R/edge/$(printf 'latin1-caf\xe9-\xff')"
mknod -m 600 "$R/edge/big-minor" c 240 1048575

# --- mtimes: everything, then directories bottom-up --------------------------------
find "$R" -mindepth 1 ! -type d -exec touch -h -d "@$T_FILE" {} +
touch -h -d "@$T_OLD" "$R/etc/hello.txt" "$R/usr/hello-rel" "$R/dev/null"
touch -h -d "@$T_NEW" "$R/data/random-3MiB.bin" "$R/.hidden" "$R/usr/long-target-link"
touch -h -d "@$((T_NEW + 12345))" "$R/owners/odd-owner"
# Before the epoch and after 2242 (beyond the 11-digit octal ustar field).
touch -h -d "@-86400" "$R/edge/big-ids"
touch -h -d "@9000000000" "$R/edge/trusted-xattr"
# Directories deepest first so that touching a child does not disturb the parent.
find "$R" -mindepth 1 -depth -type d -exec touch -h -d "@$T_DIR" {} +
touch -h -d "@$T_OLD" "$R/var/empty"
touch -h -d "@$T_DIR" "$R"

exit 0
