// The tar entry model and the encoder of POSIX tar headers for ocipack's
// layers. Headers are USTAR; a PAX extended header ('x') precedes an entry only
// where a value does not fit USTAR (long path or link target, size ≥ 8 GiB,
// ids > 2097151, mtime outside 0..8^11-1) or where the entry has xattrs
// (SCHILY.xattr.*). Output is fully determined by the entry: numeric ids only,
// no uname/gname, no atime/ctime, fixed PAX header names (no PID).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/util/result.h"

namespace ocipack {

inline constexpr size_t k_tar_block = 512;

enum class EntryType : char {
  regular = '0',
  hard_link = '1',
  symlink = '2',
  char_device = '3',
  block_device = '4',
  directory = '5',
  fifo = '6',
};

struct TarEntry {
  std::string path;         // relative, no leading "./"; directories end in '/'
  EntryType type = EntryType::regular;
  uint32_t mode = 0;        // permission bits incl. setuid/setgid/sticky (07777)
  uint64_t uid = 0;
  uint64_t gid = 0;
  int64_t mtime = 0;        // whole seconds since the epoch
  uint64_t size = 0;        // data bytes; non-zero only for regular files
  std::string link_target;  // symlink target, or the path a hard link points to
  uint32_t dev_major = 0;   // character/block devices
  uint32_t dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // sorted by name
};

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
