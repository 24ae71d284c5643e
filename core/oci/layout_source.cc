// The two LayoutSources (see layout_source.h): a directory, read with the
// directory readers of layout_reader.h (open_beneath: no symlink followed,
// no FIFO read), and a tarball, read in place through LayoutTarballReader
// (members by offset, the blob's bytes a BlobReader range of the tarball).
#include "core/oci/layout_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/oci/layout_paths.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_store.h"
#include "core/oci/layout_tarball_reader.h"
#include "core/util/file_io.h"
#include "core/util/open_beneath.h"
#include "core/util/path.h"
#include "core/util/sha256.h"

namespace ocipack {

BlobReader BlobReader::whole(UniqueFd fd, uint64_t size) {
  const int raw = fd.get();
  return BlobReader(std::move(fd), raw, 0, size, false);
}

BlobReader BlobReader::borrowed(int fd) { return BlobReader(UniqueFd(), fd, 0, 0, false); }

BlobReader BlobReader::range(UniqueFd fd, uint64_t offset, uint64_t size) {
  const int raw = fd.get();
  return BlobReader(std::move(fd), raw, offset, size, true);
}

ssize_t BlobReader::read(char* data, size_t size) {
  if (m_bounded) {
    const ssize_t n = read_at(data, size, m_position);
    if (n > 0) m_position += static_cast<uint64_t>(n);
    return n;
  }
  for (;;) {
    const ssize_t n = ::read(m_fd, data, size);
    if (n >= 0 || errno != EINTR) {
      if (n > 0) m_position += static_cast<uint64_t>(n);
      return n;
    }
  }
}

ssize_t BlobReader::read_at(char* data, size_t size, uint64_t offset) const {
  if (m_bounded) {
    if (offset >= m_size) return 0;
    size = static_cast<size_t>(std::min<uint64_t>(size, m_size - offset));
  }
  for (;;) {
    const ssize_t n = ::pread(m_fd, data, size, static_cast<off_t>(m_offset + offset));
    if (n >= 0 || errno != EINTR) return n;
  }
}

Result<BlobReader> LayoutSource::open_blob(const Descriptor& descriptor, const std::string& what) const {
  auto found = find_blob(descriptor.digest);
  if (!found) return std::move(found).error().with_context(what + ": ");
  if (!*found) return input_error(what + " is missing");
  if ((*found)->size() != static_cast<uint64_t>(descriptor.size))
    return corrupt_error(what + " is " + std::to_string((*found)->size()) + " bytes, but its descriptor says " +
                         std::to_string(descriptor.size));
  return std::move(**found);
}

namespace {

class DirectorySource final : public LayoutSource {
 public:
  explicit DirectorySource(std::string dir) : m_dir(std::move(dir)), m_where("layout '" + m_dir + "'") {}
  const std::string& path() const override { return m_dir; }
  const std::string& where() const override { return m_where; }
  bool is_tarball() const override { return false; }
  Result<std::optional<std::string>> read_file(std::string_view name, int64_t max_size) const override {
    return read_regular_file(m_dir, name, max_size);
  }
  Result<std::string> index_text() const override { return read_index_text(m_dir); }
  Result<std::string> read_document(const Descriptor& descriptor, const std::string& what) const override {
    return read_blob(m_dir, descriptor, what);
  }
  Result<std::optional<BlobReader>> find_blob(const Digest& digest) const override {
    OCIPACK_TRY_ASSIGN(auto file, open_regular_file(m_dir, blob_relative_path(digest)));
    if (!file) return std::optional<BlobReader>();
    const auto size = static_cast<uint64_t>(file->size);
    return std::optional<BlobReader>(BlobReader::whole(std::move(file->fd), size));
  }
  Status copy_blob(LayoutStore& store, const Descriptor& descriptor, const std::string& what) const override {
    auto copied = store.import_blob(m_dir, descriptor);
    if (!copied) return std::move(copied).error().with_context(m_where + ": " + what + ": ");
    return ok_status();
  }

 private:
  std::string m_dir;
  std::string m_where;
};

class TarballSource final : public LayoutSource {
 public:
  explicit TarballSource(LayoutTarballReader tarball)
      : m_tarball(std::move(tarball)), m_where("layout tarball '" + m_tarball.path() + "'") {}
  const std::string& path() const override { return m_tarball.path(); }
  const std::string& where() const override { return m_where; }
  bool is_tarball() const override { return true; }
  Result<std::optional<std::string>> read_file(std::string_view name, int64_t max_size) const override {
    return m_tarball.read_member(name, max_size);
  }
  Result<std::string> index_text() const override {
    OCIPACK_TRY_ASSIGN(const auto oci_layout, m_tarball.read_member(k_oci_layout_file, k_max_document_size));
    if (!oci_layout) return input_error(m_where + " is not an OCI image layout (no oci-layout file)");
    if (auto valid = check_oci_layout(*oci_layout); !valid) return std::move(valid).error().with_context(m_where + ": ");
    OCIPACK_TRY_ASSIGN(auto index, m_tarball.read_member(k_index_file, k_max_document_size));
    if (!index) return input_error(m_where + " has no index.json");
    return std::move(*index);
  }
  Result<std::string> read_document(const Descriptor& descriptor, const std::string& what) const override {
    const std::string name = m_where + ": blob " + descriptor.digest.str() + " (" + what + ")";
    OCIPACK_TRY(m_tarball.blob(descriptor, name));
    OCIPACK_TRY_ASSIGN(auto data, m_tarball.read_member(blob_relative_path(descriptor.digest), k_max_document_size));
    if (!data) return input_error(name + " is missing");
    const Digest actual = Sha256::of(*data);
    if (actual != descriptor.digest) return corrupt_error(name + " is corrupted: its content hashes to " + actual.str());
    return std::move(*data);
  }
  Result<std::optional<BlobReader>> find_blob(const Digest& digest) const override {
    const auto member = m_tarball.member(blob_relative_path(digest));
    if (!member) return std::optional<BlobReader>();
    UniqueFd fd(::fcntl(m_tarball.fd(), F_DUPFD_CLOEXEC, 0));
    if (!fd.valid()) return io_error(m_where + ": cannot duplicate its descriptor: " + errno_text(errno));
    return std::optional<BlobReader>(BlobReader::range(std::move(fd), member->offset, member->size));
  }
  Status copy_blob(LayoutStore& store, const Descriptor& descriptor, const std::string& what) const override {
    const std::string name = m_where + ": blob " + descriptor.digest.str() + " (" + what + ")";
    OCIPACK_TRY_ASSIGN(const auto member, m_tarball.blob(descriptor, name));
    return store.import_blob_range(m_tarball.fd(), static_cast<int64_t>(member.offset), descriptor, name);
  }

 private:
  LayoutTarballReader m_tarball;
  std::string m_where;
};

}  // namespace

std::unique_ptr<LayoutSource> open_layout_directory(const std::string& dir) {
  return std::make_unique<DirectorySource>(trim_trailing_slashes(dir));
}

Result<std::unique_ptr<LayoutSource>> open_layout_tarball(const std::string& path) {
  OCIPACK_TRY_ASSIGN(LayoutTarballReader tarball, LayoutTarballReader::open(path));
  return std::unique_ptr<LayoutSource>(std::make_unique<TarballSource>(std::move(tarball)));
}

bool is_layout_tarball_path(const std::string& path) {
  return !path.empty() && is_regular_file(path);
}

Result<std::unique_ptr<LayoutSource>> open_layout_source(const std::string& path) {
  if (is_layout_tarball_path(path)) return open_layout_tarball(path);
  return open_layout_directory(path);
}

}  // namespace ocipack
