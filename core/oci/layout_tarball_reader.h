// Reading a layout tarball (what `build --tar-output` writes, and what
// `oci-archive:` tools write) without unpacking it: the tar is scanned once
// with TarScanner (core/tar/tar_scan.h, Go's archive/tar framing), and each
// member's data is then read in place by offset. Nothing is extracted, so a
// hostile tarball cannot write anywhere; it is refused when two readers
// could disagree about it or when it names anything a layout cannot hold:
// a framing problem, an absolute path or a ".." component, a NUL in a path,
// two members of one path, or a member that is neither a regular file nor a
// directory (links, devices, FIFOs, sparse files). Members are then looked
// up by their layout-relative path ("index.json", "blobs/sha256/<hex>").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/oci/oci_json.h"
#include "core/util/result.h"
#include "core/util/unique_fd.h"

namespace ocipack {

class LayoutTarballReader {
 public:
  struct Member {
    uint64_t offset = 0;  // of its data in the tarball
    uint64_t size = 0;
  };

  // Opens `path` (a regular file; the path the user gave may be a symlink)
  // and scans it. Errors (kind input) name the tarball and the member.
  static Result<LayoutTarballReader> open(const std::string& path);

  const std::string& path() const { return m_path; }
  int fd() const { return m_fd.get(); }
  // The regular-file member at `relative` (normalised: "./index.json" is
  // "index.json"), nullopt when there is none.
  std::optional<Member> member(std::string_view relative) const;
  // The whole content of a member of at most `max_size` bytes; nullopt when
  // there is no such member.
  Result<std::optional<std::string>> read_member(std::string_view relative, int64_t max_size) const;
  // The blob `descriptor` names, checked: present, of the descriptor's size.
  // `what` starts the errors.
  Result<Member> blob(const Descriptor& descriptor, const std::string& what) const;

 private:
  LayoutTarballReader(std::string path, UniqueFd fd) : m_path(std::move(path)), m_fd(std::move(fd)) {}
  Status scan();
  std::string m_path;
  UniqueFd m_fd;
  std::map<std::string, Member, std::less<>> m_files;
};

}  // namespace ocipack
