// libFuzzer target for the foreign-tar input adapter (core/tar/tar_input.cc):
// any byte string, read as a (possibly compressed) tar, must either be
// refused with an error or yield entries whose paths are relative, free of
// ".." and unique, with spooled data readable within its bounds. Crashes,
// leaks and sanitizer reports are the failures.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "core/tar/tar_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = ::memfd_create("ocipack-fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (::write(fd, data, size) != static_cast<ssize_t>(size)) {
    ::close(fd);
    return 0;
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto source = ocipack::TarInputSource::open(path, {}, "/tmp");
  if (source) {
    std::set<std::string> seen;
    for (;;) {
      auto item = (*source)->next();
      if (!item || !item->has_value()) break;
      const auto& entry = (*item)->entry;
      if (entry.path.empty() || entry.path[0] == '/' || entry.path.find("..") == 0 ||
          entry.path.find("/../") != std::string::npos || !seen.insert(entry.path).second)
        std::abort();  // the adapter promised to refuse these
      if ((*item)->spool_fd >= 0 && entry.size > 0) {
        char buffer[4096];
        size_t want = entry.size < sizeof buffer ? static_cast<size_t>(entry.size) : sizeof buffer;
        if (::pread((*item)->spool_fd, buffer, want, static_cast<off_t>((*item)->spool_offset)) < 0)
          std::abort();
      }
    }
  }
  ::close(fd);
  return 0;
}
