// Small, error-reporting file and directory helpers: write a buffer fully,
// read a whole file, fsync a directory, list a directory in bytewise order,
// and the text of errno and of a file type for messages. Every error names
// the path it failed on, so callers can hand it straight to the user.
// Error kinds: writing (write_all, fsync_dir) is ocipack's own output, so a
// failure is an io error (ENOSPC, EIO); reading (read_file, list_directory)
// is of something the user gave, so a failure is an input error.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace ocipack {

// What kind of file `mode` says ("a FIFO", "a symbolic link", ...), for
// messages such as "X is a FIFO, not a regular file".
const char* file_type_name(mode_t mode);

// errno as text, for messages.
std::string errno_text(int err);

// write() until all bytes are written; EINTR-safe. `what` names the file.
Status write_all(int fd, std::span<const std::byte> data, const std::string& what);
Status write_all(int fd, std::string_view data, const std::string& what);
// The same for several buffers written one after the other (writev: no
// copy into one buffer first).
Status write_all(int fd, std::span<const std::span<const std::byte>> parts, const std::string& what);

// pread() until `size` bytes are read or the file ends; EINTR-safe. The
// bytes read (fewer than `size` only at the end of the file), or -1 with
// errno set.
ssize_t pread_full(int fd, void* data, size_t size, uint64_t offset);

// Asks the kernel to start writing `length` bytes of `fd` from `offset` to
// disk now (sync_file_range WRITE), so the fsync that commits the file
// later has little left to wait for. A hint: failures are ignored.
void start_writeback(int fd, uint64_t offset, uint64_t length);

// Whether `path` is (following symlinks) a directory / a regular file; false
// when it cannot be stat'ed.
bool is_directory(const std::string& path);
bool is_regular_file(const std::string& path);

// Reads a whole (small) file.
Result<std::string> read_file(const std::string& path);

// fsync a directory so a rename inside it is durable.
Status fsync_dir(const std::string& dir);

// The entry names of `dir` without "." and "..", sorted bytewise (the order
// every walk and listing in ocipack uses). Errors name the directory.
Result<std::vector<std::string>> list_directory(const std::string& dir);
// The same for the open directory `dir_fd` (`dir` names it in errors), so
// paths of any length can be listed relative to it. `fresh`: the fd was
// just opened, so it need not be rewound first (one system call less per
// directory of a walk).
Result<std::vector<std::string>> list_directory_at(int dir_fd, const std::string& dir, bool fresh = false);

// A name and the type getdents reported for it: a DT_* value, DT_UNKNOWN
// where the file system does not say (a hint for which call to make first,
// never a fact to trust: the entry can change before it is looked at).
struct DirectoryName {
  std::string name;
  unsigned char type = 0;
};
// list_directory_at with the types, in the same order.
Result<std::vector<DirectoryName>> list_directory_typed_at(int dir_fd, const std::string& dir, bool fresh = false);

}  // namespace ocipack
