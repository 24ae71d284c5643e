// TarEntry: one entry of a layer's tar stream as ocipack models it — path,
// type, mode, numeric ids, whole-second mtime, size, link target, device
// numbers and xattrs — the common currency of every entry source (directory
// walk, tar input, tree diff), the base model and the tar header encoder
// (tar_writer.h). It holds exactly what the encoder writes: no uname/gname,
// atime or ctime, which ocipack never stores.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ocipack {

// The tar type flags ocipack writes (POSIX ustar values).
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

}  // namespace ocipack
