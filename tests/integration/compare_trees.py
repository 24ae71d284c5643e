#!/usr/bin/env python3
"""compare_trees.py SRC DST [--ignore-sockets] [--clamp EPOCH] [--floor EPOCH] [--skip-dir-mtime] [--skip-symlink-mtime]
                 [--drop-xattr-prefix PREFIX]...

Compares two directory trees entry by entry, the way a consumer of an image
layer should reproduce the rootfs it was built from (for example SRC = the
rootfs given to `ocipack build`, DST = `umoci unpack`'s BUNDLE/rootfs).

Both trees are walked without following symlinks; the root directories
themselves are not compared (a layer has no entry for its root).  For every
path the following must match:

  - the set of paths (missing / extra entries are reported),
  - file type,
  - permission bits including setuid/setgid/sticky (mode & 0o7777; not for
    symlinks, whose mode is always 0777 on Linux),
  - uid and gid,
  - size (regular files and symlinks; a directory's st_size is a property of
    the file system, not of the tree),
  - sha256 of the content (regular files),
  - symlink target,
  - rdev (major, minor) for character and block devices,
  - mtime in whole seconds; with --clamp EPOCH the expected value is
    min(src, EPOCH) (SOURCE_DATE_EPOCH semantics); with --floor EPOCH it is
    max(src, EPOCH) (containers/storage, which podman uses, sets times
    before 1970 to the epoch on purpose),
  - extended attributes of every namespace (os.listxattr, not following
    symlinks), names and values,
  - hardlink identity: paths that share an inode in SRC must share one in DST
    and vice versa.

--ignore-sockets: sockets in SRC are not expected in DST (ocipack skips them
with a warning); a socket in DST is still reported.

--drop-xattr-prefix PREFIX (repeatable): xattrs of SRC whose name starts
with PREFIX are not expected in DST (containerd refuses "trusted." xattrs from
layers on purpose: "admin attributes from archive not supported"); such an
xattr present in DST is still reported.

--skip-dir-mtime: do not compare directory mtimes.  Not needed with umoci
0.4.7, which restores them (it applies directory times after unpacking all
children); kept for consumers that do not, e.g. a plain `tar -x` without
--delay-directory-restore semantics, or containers/storage 1.43's partial
pull (zstd:chunked), which sets neither directory nor symlink times.

--skip-symlink-mtime: do not compare symlink mtimes (that partial pull).

Each difference is printed as one line "PATH: FIELD: src=... dst=..."; the
exit status is 1 if there is any difference, 0 otherwise, 2 on usage errors.
"""

import argparse
import hashlib
import os
import stat
import sys

TYPE_NAMES = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "dir",
    stat.S_IFLNK: "symlink",
    stat.S_IFCHR: "char-device",
    stat.S_IFBLK: "block-device",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def show(path):
    """Printable form of a bytes path (non-UTF-8 bytes escaped)."""
    return path.decode("utf-8", "backslashreplace") if path else "."


def walk(root):
    """Returns {relative bytes path: os.stat_result}, root excluded."""
    entries = {}
    stack = [b""]
    root = os.fsencode(root)
    while stack:
        rel = stack.pop()
        full = os.path.join(root, rel) if rel else root
        with os.scandir(full) as it:
            for entry in it:
                child = os.path.join(rel, entry.name) if rel else entry.name
                st = os.lstat(os.path.join(root, child))
                entries[child] = st
                if stat.S_ISDIR(st.st_mode):
                    stack.append(child)
    return entries


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        return {"<listxattr error>": str(e).encode()}
    result = {}
    for name in names:
        try:
            result[name] = os.getxattr(path, name, follow_symlinks=False)
        except OSError as e:
            result[name] = ("<getxattr error: %s>" % e).encode()
    return result


def fmt_xattrs(values):
    return "{" + ", ".join("%s=%s" % (k, values[k].hex()) for k in sorted(values)) + "}"


def inode_groups(entries, paths):
    """Partition of `paths` (non-directories) by (st_dev, st_ino), as
    {path: frozenset of paths sharing its inode} for paths in groups > 1."""
    by_inode = {}
    for p in paths:
        st = entries[p]
        if stat.S_ISDIR(st.st_mode):
            continue
        by_inode.setdefault((st.st_dev, st.st_ino), []).append(p)
    groups = {}
    for members in by_inode.values():
        if len(members) > 1:
            group = frozenset(members)
            for p in members:
                groups[p] = group
    return groups


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--ignore-sockets", action="store_true",
                        help="sockets in SRC are not expected in DST")
    parser.add_argument("--clamp", type=int, metavar="EPOCH",
                        help="expected mtime is min(src mtime, EPOCH)")
    parser.add_argument("--floor", type=int, metavar="EPOCH",
                        help="expected mtime is max(src mtime, EPOCH)")
    parser.add_argument("--skip-dir-mtime", action="store_true",
                        help="do not compare directory mtimes")
    parser.add_argument("--skip-symlink-mtime", action="store_true",
                        help="do not compare symlink mtimes")
    parser.add_argument("--drop-xattr-prefix", action="append", default=[], metavar="PREFIX",
                        help="SRC xattrs named PREFIX... are not expected in DST")
    args = parser.parse_args()

    for d in (args.src, args.dst):
        if not os.path.isdir(d) or os.path.islink(d):
            print("compare_trees: not a directory: %s" % d, file=sys.stderr)
            return 2

    src = walk(args.src)
    dst = walk(args.dst)
    diffs = []

    def diff(path, field, a, b):
        diffs.append("%s: %s: src=%s dst=%s" % (show(path), field, a, b))

    expected = set(src)
    if args.ignore_sockets:
        expected = {p for p in expected if not stat.S_ISSOCK(src[p].st_mode)}
    for p in sorted(expected - set(dst)):
        diffs.append("%s: missing in DST (%s)" % (show(p), TYPE_NAMES.get(stat.S_IFMT(src[p].st_mode), "?")))
    for p in sorted(set(dst) - expected):
        diffs.append("%s: extra in DST (%s)" % (show(p), TYPE_NAMES.get(stat.S_IFMT(dst[p].st_mode), "?")))

    common = sorted(expected & set(dst))
    src_root = os.fsencode(args.src)
    dst_root = os.fsencode(args.dst)
    for p in common:
        s, d = src[p], dst[p]
        sp, dp = os.path.join(src_root, p), os.path.join(dst_root, p)
        st_type, dt_type = stat.S_IFMT(s.st_mode), stat.S_IFMT(d.st_mode)
        if st_type != dt_type:
            diff(p, "type", TYPE_NAMES.get(st_type, oct(st_type)), TYPE_NAMES.get(dt_type, oct(dt_type)))
            continue
        if st_type != stat.S_IFLNK and stat.S_IMODE(s.st_mode) != stat.S_IMODE(d.st_mode):
            diff(p, "mode", "%04o" % stat.S_IMODE(s.st_mode), "%04o" % stat.S_IMODE(d.st_mode))
        if s.st_uid != d.st_uid:
            diff(p, "uid", s.st_uid, d.st_uid)
        if s.st_gid != d.st_gid:
            diff(p, "gid", s.st_gid, d.st_gid)
        if st_type in (stat.S_IFREG, stat.S_IFLNK) and s.st_size != d.st_size:
            diff(p, "size", s.st_size, d.st_size)
        if st_type == stat.S_IFREG and s.st_size == d.st_size:
            hs, hd = sha256_file(sp), sha256_file(dp)
            if hs != hd:
                diff(p, "sha256", hs, hd)
        if st_type == stat.S_IFLNK:
            ls, ld = os.readlink(sp), os.readlink(dp)
            if ls != ld:
                diff(p, "symlink target", show(ls), show(ld))
        if st_type in (stat.S_IFCHR, stat.S_IFBLK) and s.st_rdev != d.st_rdev:
            diff(p, "rdev", "%d,%d" % (os.major(s.st_rdev), os.minor(s.st_rdev)),
                 "%d,%d" % (os.major(d.st_rdev), os.minor(d.st_rdev)))
        if not (args.skip_dir_mtime and st_type == stat.S_IFDIR) and \
                not (args.skip_symlink_mtime and st_type == stat.S_IFLNK):
            want = int(s.st_mtime)
            if args.clamp is not None:
                want = min(want, args.clamp)
            if args.floor is not None:
                want = max(want, args.floor)
            if want != int(d.st_mtime):
                shown = want if want == int(s.st_mtime) else "%d (adjusted from %d)" % (want, int(s.st_mtime))
                diff(p, "mtime", shown, int(d.st_mtime))
        xs, xd = xattrs(sp), xattrs(dp)
        xs = {k: v for k, v in xs.items() if not k.startswith(tuple(args.drop_xattr_prefix))}
        if xs != xd:
            diff(p, "xattrs", fmt_xattrs(xs), fmt_xattrs(xd))

    # Hardlink identity, over the paths present in both trees.
    gs, gd = inode_groups(src, common), inode_groups(dst, common)
    reported = set()
    for p in common:
        a, b = gs.get(p, frozenset([p])), gd.get(p, frozenset([p]))
        if a != b and (a, b) not in reported:
            reported.add((a, b))
            diff(p, "hardlink group", sorted(show(x) for x in a), sorted(show(x) for x in b))

    for line in diffs:
        print(line)
    print("compare_trees: %d entries compared, %d differences" % (len(common), len(diffs)),
          file=sys.stderr)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
