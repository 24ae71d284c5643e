// Opening files of a tree ocipack does not trust (an OCI layout someone else
// wrote): a file or directory below a named directory is reached without
// following any symlink below it and without blocking, and must be what the
// caller expects (a regular file, a directory). A hostile layout cannot make
// ocipack read outside it, hang on a FIFO or ask a device driver to open.
// Failures are input errors naming the path and what it is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/util/result.h"
#include "core/util/unique_fd.h"

namespace ocipack {

// A file of an untrusted tree: opened for reading, known to be a regular
// file of `size` bytes when it was opened.
struct RegularFile {
  UniqueFd fd;
  int64_t size = 0;
};

// Opens `relative` (plain components joined by '/', no "..") below the
// directory `dir` without blocking and without following any symlink below
// `dir`: each directory on the way is opened O_DIRECTORY|O_NOFOLLOW relative
// to the previous one, the file is looked at with fstatat(AT_SYMLINK_NOFOLLOW)
// before it is opened (so the driver of a device node is never asked to open
// it), then opened O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC|O_NOCTTY and
// checked again with fstat (it may have been swapped in between). `dir`
// itself is followed: the user named it. A FIFO, socket, device, directory or
// symlink gives an error naming `dir/relative` and what it is; nullopt means
// that it (or a directory on the way) does not exist, so callers word
// "missing" themselves. O_NONBLOCK does not change how a regular file reads.
Result<std::optional<RegularFile>> open_regular_file(const std::string& dir, std::string_view relative);

// The same walk for a directory below `dir`: an O_DIRECTORY|O_NOFOLLOW
// descriptor of `relative`, nullopt if it does not exist; a symlink or
// anything but a directory (on the way or at the end) is an error naming it.
Result<std::optional<UniqueFd>> open_directory_beneath(const std::string& dir, std::string_view relative);

// open_regular_file, then the whole content, refusing a file of more than
// `max_size` bytes (or one that grows past it while being read). nullopt: missing.
Result<std::optional<std::string>> read_regular_file(const std::string& dir, std::string_view relative,
                                                     int64_t max_size);

}  // namespace ocipack
