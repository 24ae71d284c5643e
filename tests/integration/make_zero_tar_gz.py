#!/usr/bin/env python3
# make_zero_tar_gz.py OUT SIZE_MIB : a tar.gz holding one file "zero" of
# SIZE_MIB MiB of zero bytes, written in well under a second whatever the
# size: one gzip member of 64 MiB of zeros is compressed once and repeated
# (concatenated gzip members are one valid gzip stream), between members for
# the tar header and the end-of-archive blocks. For tests that need a long
# decompress/spool phase (test_terminal.sh).
import sys
import tarfile
import zlib


def member(data):
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def main():
    out, size_mib = sys.argv[1], int(sys.argv[2])
    chunk_mib = 64
    assert size_mib % chunk_mib == 0, "SIZE_MIB must be a multiple of 64"
    info = tarfile.TarInfo("zero")
    info.size = size_mib << 20
    info.mode = 0o644
    zeros = member(bytes(chunk_mib << 20))
    with open(out, "wb") as f:
        f.write(member(info.tobuf(format=tarfile.GNU_FORMAT)))
        for _ in range(size_mib // chunk_mib):
            f.write(zeros)
        f.write(member(bytes(1024)))


main()
