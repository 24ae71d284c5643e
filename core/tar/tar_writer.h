// The encoder of POSIX tar headers for ocipack's layers (the entry model it
// encodes is core/tar/tar_entry.h). Headers are USTAR; a PAX extended header
// ('x') precedes an entry only where a value does not fit USTAR (long path or
// link target, size >= 8 GiB, ids > 2097151, mtime outside 0..8^11-1) or
// where the entry has xattrs (SCHILY.xattr.*). Output is fully determined by
// the entry: numeric ids only, no uname/gname, no atime/ctime, fixed PAX
// header names (no PID).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/tar/tar_entry.h"
#include "core/util/result.h"

namespace ocipack {

inline constexpr size_t k_tar_block = 512;

// Appends the header block(s) for `entry` to `out`: optionally a PAX header
// with its data, then the USTAR header. Errors name the entry (e.g. an xattr
// name containing '=' cannot be represented).
Status append_tar_header(const TarEntry& entry, std::string& out);

// Bytes of zero padding after `size` data bytes to reach a block boundary.
constexpr uint64_t tar_padding(uint64_t size) {
  return (k_tar_block - size % k_tar_block) % k_tar_block;
}

// The end-of-archive marker: exactly two zero blocks.
inline constexpr size_t k_tar_trailer_size = 2 * k_tar_block;

// One PAX record "<len> <key>=<value>\n" (exposed for tests).
std::string pax_record(std::string_view key, std::string_view value);

}  // namespace ocipack
