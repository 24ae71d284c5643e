// Things that are not regular files, made where a test wants a layout file
// (index.json, oci-layout, a blob, blobs/sha256) to be hostile: a FIFO, a
// bound unix socket, a character device (a copy of /dev/null's node; needs
// root, as the test suite has), a directory, or a symlink to a regular file.
// Used by the fd, layout reader, layout ops and verify tests, which check that
// each is refused by name and that nothing blocks.
#pragma once

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_helpers.h"

namespace ocipack::testing {

enum class Hostile { fifo, socket, device, directory, symlink };

struct HostileKind {
  Hostile kind;
  const char* name;      // for SCOPED_TRACE
  const char* expected;  // what the error says the file is
};

inline const std::vector<HostileKind>& hostile_kinds() {
  static const std::vector<HostileKind> kinds = {
      {Hostile::fifo, "fifo", "is a FIFO"},
      {Hostile::socket, "socket", "is a socket"},
      {Hostile::device, "device", "is a character device"},
      {Hostile::directory, "directory", "is a directory"},
      {Hostile::symlink, "symlink", "is a symbolic link"},
  };
  return kinds;
}

// Replaces `path` (removed first if it is a file or an empty directory) with
// a hostile node. A symlink points at `link_target` (a regular file the
// caller owns). Returns false if it could not be made.
inline bool make_hostile(const std::string& path, Hostile kind, const std::string& link_target = "/etc/hostname") {
  ::unlink(path.c_str());
  ::rmdir(path.c_str());
  switch (kind) {
    case Hostile::fifo: return ::mkfifo(path.c_str(), 0644) == 0;
    case Hostile::socket: {
      // Bound at a short name (sun_path holds 108 bytes), then moved into place.
      char short_name[] = "/tmp/ocipack-sock-XXXXXX";
      const int placeholder = ::mkstemp(short_name);
      if (placeholder < 0) return false;
      ::close(placeholder);
      ::unlink(short_name);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      std::memcpy(address.sun_path, short_name, sizeof short_name);
      const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      if (fd < 0) return false;
      const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
      ::close(fd);  // the socket file stays
      return bound && ::rename(short_name, path.c_str()) == 0;
    }
    case Hostile::device: return ::mknod(path.c_str(), S_IFCHR | 0644, ::makedev(1, 3)) == 0;
    case Hostile::directory: return ::mkdir(path.c_str(), 0755) == 0;
    case Hostile::symlink: return ::symlink(link_target.c_str(), path.c_str()) == 0;
  }
  return false;
}

// Replaces the regular file `path` with a hostile node; its content is saved
// first to `outside_dir`/saved-<name>, the target of the symlink kind (so
// only the link itself is wrong).
inline bool make_hostile_in_place(const std::string& path, Hostile kind, const std::string& outside_dir) {
  const std::string saved = outside_dir + "/saved-" + path.substr(path.rfind('/') + 1);
  write_text(saved, read_text(path));
  return make_hostile(path, kind, saved);
}

}  // namespace ocipack::testing
