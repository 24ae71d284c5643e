// RAII for libarchive handles, never-null error messages (libarchive's, and
// why no reader could be had at all: archive_start_error), and the reading
// of an entry's data blocks, kind and xattrs. Included only by the .cc
// files that use libarchive (tar input, the base model).
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/util/result.h"
#include "core/tar/tar_entry.h"
#include "core/util/file_io.h"
#include "core/util/text.h"

namespace ocipack {

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadDeleter>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteDeleter>;

// Defined only by an executable that loads libarchive at run time
// (cli/libarchive_shim.cc): why it could not be loaded (dlerror's text),
// null when it was — loading it first if no call has tried yet. Weak, so
// everything linked with libarchive itself (the tests, embedders) leaves it
// null.
extern "C" const char* ocipack_libarchive_load_error(void) __attribute__((weak));

// What to say when archive_read_new() gives no reader: "cannot start
// libarchive: " and the loader's reason where there is one, else errno's
// text (out of memory).
inline std::string archive_start_error() {
  const char* why = ocipack_libarchive_load_error ? ocipack_libarchive_load_error() : nullptr;
  return "cannot start libarchive: " + (why ? std::string(why) : errno_text(errno));
}

// libarchive's last error, never null (archive_error_string() is null when
// the library set no message — the fuzzer found that path).
inline std::string archive_message(archive* a) {
  const char* text = archive_error_string(a);
  return text ? text : "unreadable or corrupt archive";
}

// One block of the data of the entry a reader stands on: `bytes` belong at
// `offset` of the entry's data (a sparse member skips its holes; a hostile
// archive may give any offset, which callers check against the size).
struct DataBlock {
  std::string_view bytes;
  int64_t offset = 0;
};

// The next data block of the reader's current entry, nullopt after the last.
// An input error with libarchive's message when it fails (callers say where).
inline Result<std::optional<DataBlock>> next_data_block(archive* reader) {
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  const int rc = archive_read_data_block(reader, &block, &size, &offset);
  if (rc == ARCHIVE_EOF) return std::optional<DataBlock>();
  if (rc < ARCHIVE_WARN) return input_error(archive_message(reader));
  return std::optional<DataBlock>(DataBlock{std::string_view(static_cast<const char*>(block), size), offset});
}

// Sets e.type (and the symlink target or device numbers) from a libarchive
// entry that is not a hard link; false for sockets and unknown kinds.
inline bool set_entry_kind(archive_entry* entry, TarEntry& e) {
  switch (archive_entry_filetype(entry)) {
    case AE_IFDIR: e.type = EntryType::directory; e.path += '/'; return true;
    case AE_IFREG: e.type = EntryType::regular; return true;
    case AE_IFLNK:
      e.type = EntryType::symlink;
      e.link_target = archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "";
      return true;
    case AE_IFCHR:
    case AE_IFBLK:
      e.type = archive_entry_filetype(entry) == AE_IFCHR ? EntryType::char_device : EntryType::block_device;
      e.dev_major = static_cast<uint32_t>(archive_entry_rdevmajor(entry));
      e.dev_minor = static_cast<uint32_t>(archive_entry_rdevminor(entry));
      return true;
    case AE_IFIFO: e.type = EntryType::fifo; return true;
    default: return false;
  }
}

// Sets e.xattrs from a libarchive entry, sorted by name. libarchive reports
// an xattr once per PAX record that carries it, and bsdtar writes each one
// twice (LIBARCHIVE.xattr.NAME, base64, and SCHILY.xattr.NAME): one copy is
// kept; two different values are an error (the caller names the entry).
inline Status set_entry_xattrs(archive_entry* entry, TarEntry& e) {
  archive_entry_xattr_reset(entry);
  const char* xname = nullptr;
  const void* xvalue = nullptr;
  size_t xsize = 0;
  while (archive_entry_xattr_next(entry, &xname, &xvalue, &xsize) == ARCHIVE_OK)
    e.xattrs.emplace_back(xname ? xname : "", std::string(static_cast<const char*>(xvalue), xsize));
  std::sort(e.xattrs.begin(), e.xattrs.end());
  e.xattrs.erase(std::unique(e.xattrs.begin(), e.xattrs.end()), e.xattrs.end());
  for (size_t i = 1; i < e.xattrs.size(); ++i)
    if (e.xattrs[i].first == e.xattrs[i - 1].first)
      return input_error("has two different values for xattr " + in_quotes(e.xattrs[i].first));
  return ok_status();
}

}  // namespace ocipack
