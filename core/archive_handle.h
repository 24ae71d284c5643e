// RAII for libarchive handles and a never-null error message. Included only
// by the .cc files that use libarchive (tar input, layer extraction, verify).
#pragma once

#include <archive.h>

#include <memory>
#include <string>

namespace ocipack {

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadDeleter>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteDeleter>;

// libarchive's last error, never null (archive_error_string() is null when
// the library set no message — the fuzzer found that path).
inline std::string archive_message(archive* a) {
  const char* text = archive_error_string(a);
  return text ? text : "unreadable or corrupt archive";
}

}  // namespace ocipack
