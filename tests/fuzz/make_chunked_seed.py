#!/usr/bin/env python3
"""make_chunked_seed.py BLOB OUT: turns a zstd:chunked layer blob (as ocipack
writes it) into a seed for fuzz_chunked_layer: u32 LE length of the file
frames, u32 LE length of the tar-split text, the file frames, the
decompressed tar-split, the decompressed TOC JSON (the layout the fuzz target
documents). Needs the zstd command. The seeds in corpus/chunked_layer were
made from layers of small generated trees with it."""
import struct
import subprocess
import sys


def main():
    blob = open(sys.argv[1], "rb").read()
    toc_offset, toc_length, _, _, split_offset, split_length, _ = struct.unpack("<7Q", blob[-64:-8])
    if blob[-8:] != b"GNUlInUx":
        sys.exit(f"{sys.argv[1]}: no zstd:chunked footer")
    unzstd = lambda b: subprocess.run(["zstd", "-dc"], input=b, capture_output=True, check=True).stdout
    frames = blob[:toc_offset - 8]
    toc = unzstd(blob[toc_offset:toc_offset + toc_length])
    split = unzstd(blob[split_offset:split_offset + split_length])
    with open(sys.argv[2], "wb") as out:
        out.write(struct.pack("<II", len(frames), len(split)) + frames + split + toc)


if __name__ == "__main__":
    main()
