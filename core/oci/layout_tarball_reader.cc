// Implementation of LayoutTarballReader (see layout_tarball_reader.h).
#include "core/oci/layout_tarball_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/oci/layout_paths.h"
#include "core/tar/tar_scan.h"
#include "core/util/file_io.h"
#include "core/util/text.h"

namespace ocipack {

namespace {
// Reads exactly `size` bytes at `offset`; false at a premature end.
Result<bool> pread_exact(int fd, char* data, size_t size, uint64_t offset, const std::string& what) {
  const ssize_t n = pread_full(fd, data, size, offset);
  if (n < 0) return input_error("cannot read " + what + ": " + errno_text(errno));
  return static_cast<size_t>(n) == size;
}

// Why a scanned entry cannot be part of a layout read in place ("" if it can).
std::string refusal(const ScannedEntry& entry) {
  if (entry.path.find('\0') != std::string::npos) return "has a NUL byte in its path";
  if (!entry.path.empty() && entry.path[0] == '/') return "has an absolute path";
  if (has_dot_dot_component(entry.path)) return "has a '..' component";
  if (entry.type != '0' && entry.type != '5') return "is neither a regular file nor a directory (type '" +
                                                       printable(std::string(1, entry.type)) + "')";
  return "";
}
}  // namespace

Result<LayoutTarballReader> LayoutTarballReader::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return input_error("cannot open layout tarball '" + path + "': " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return input_error("layout tarball '" + path + "' is not a regular file");
  LayoutTarballReader reader(path, std::move(fd));
  OCIPACK_TRY(reader.scan());
  return reader;
}

Status LayoutTarballReader::scan() {
  const std::string name = "layout tarball '" + m_path + "'";
  std::optional<std::string> problem;
  TarScanner scanner(
      [&](const ScannedEntry& entry) {
        if (problem) return;
        const std::string why = refusal(entry);
        const std::string path = normalize_tar_path(entry.path);
        if (!why.empty()) {
          problem = "member " + in_quotes(entry.path) + " " + why;
        } else if (entry.type == '0' && !m_files.emplace(path, Member{entry.offset + k_tar_block, entry.size}).second) {
          problem = "member " + in_quotes(entry.path) + " appears twice";
        }
      },
      [&](const std::string& text) {
        if (!problem) problem = text;
      });
  std::vector<char> buffer(1 << 20);
  for (uint64_t offset = 0; !problem && !scanner.ended() && !scanner.stopped();) {
    const ssize_t n = ::pread(m_fd.get(), buffer.data(), buffer.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return input_error("cannot read " + name + ": " + errno_text(errno));
    if (n == 0) {
      scanner.finish();
      break;
    }
    scanner.feed(std::string_view(buffer.data(), static_cast<size_t>(n)));
    offset += static_cast<uint64_t>(n);
  }
  if (problem) return input_error(name + ": " + printable(*problem));
  return ok_status();
}

std::optional<LayoutTarballReader::Member> LayoutTarballReader::member(std::string_view relative) const {
  const auto it = m_files.find(normalize_tar_path(relative));
  if (it == m_files.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<std::string>> LayoutTarballReader::read_member(std::string_view relative,
                                                                    int64_t max_size) const {
  const auto found = member(relative);
  if (!found) return std::optional<std::string>();
  const std::string what = "layout tarball '" + m_path + "': " + std::string(relative);
  if (found->size > static_cast<uint64_t>(max_size))
    return input_error(what + " is too large (" + std::to_string(found->size) + " bytes, limit " +
                       std::to_string(max_size) + ")");
  std::string data(static_cast<size_t>(found->size), '\0');
  OCIPACK_TRY_ASSIGN(const bool whole, pread_exact(m_fd.get(), data.data(), data.size(), found->offset, what));
  if (!whole) return input_error(what + " is cut short");
  return std::optional<std::string>(std::move(data));
}

Result<LayoutTarballReader::Member> LayoutTarballReader::blob(const Descriptor& descriptor,
                                                              const std::string& what) const {
  const auto found = member(blob_relative_path(descriptor.digest));
  if (!found) return input_error(what + " is missing");
  if (found->size != static_cast<uint64_t>(descriptor.size))
    return corrupt_error(what + " is " + std::to_string(found->size) + " bytes, but its descriptor says " +
                         std::to_string(descriptor.size));
  return *found;
}

}  // namespace ocipack
