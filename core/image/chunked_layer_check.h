// check_chunked_layer: verify's check of what makes a zstd:chunked layer
// (docs/zstd-chunked.md) more than a zstd layer — for a layer whose
// descriptor carries the zstd:chunked annotations:
//  - the TOC at the position the annotation names: its SHA-256 is the
//    checksum annotation, it decompresses to the size named, is version 1;
//    the legacy annotations (io.containers.…), when present, say the same;
//  - the tar-split: its SHA-256 is the TOC's tarSplitDigest, it
//    decompresses to the size named;
//  - the 64-byte footer, if the blob ends in one, names the same positions;
//  - every file's frames [offset, endOffset) decompress to its size and
//    digest, every chunk's frames to its chunkSize and chunkDigest, the
//    chunks following each other;
//  - the TOC lists exactly the tar's entries, in order, with their types,
//    sizes and link targets.
// Problems are appended as lines starting with `what`; nothing is thrown.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ocipack {

// One entry of the layer's tar as verify's scanner saw it.
struct TarListing {
  std::string path;
  char type = '0';
  uint64_t size = 0;
  std::string link;
};

// Whether the descriptor's annotations say the layer is zstd:chunked in the
// current format (the io.github.containers.… checksum key). A layer with
// only the legacy keys (podman 4.3 writes those, with no tar-split) is
// verified as the zstd layer it also is.
bool is_chunked_layer(const std::map<std::string, std::string>& annotations);

// Checks the layer blob open at `fd` (`blob_size` bytes from `blob_offset`:
// 0 for a blob file, the member's data offset in a layout tarball) against
// its annotations and its tar's entries `tar`.
void check_chunked_layer(int fd, uint64_t blob_size, const std::map<std::string, std::string>& annotations,
                         const std::vector<TarListing>& tar, const std::string& what,
                         std::vector<std::string>& problems, uint64_t blob_offset = 0);

}  // namespace ocipack
