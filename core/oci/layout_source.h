// LayoutSource: where an OCI image layout is READ from — a layout directory
// or a layout tarball (an oci-archive: the tar of a layout, what `build
// --tar-output` and skopeo's oci-archive: transport write), read in place
// without extracting it (LayoutTarballReader). Everything that reads an
// image — load_image and the tag/index readers (layout_reader.h), the base
// model (core/layer/base_model.h), `ls`/`diff`, `inspect`, `tags`, `verify`
// (core/image/layout_verify.h) and `ocipack index` — reads through this one
// interface, so a tarball gets exactly the checks a directory gets (sizes
// and digests against descriptors, document limits) plus the tarball's own
// (no '..', absolute path, link, device or duplicate member). Writing stays
// with LayoutStore, which only ever writes into a directory.
//
// A blob is handed out as a BlobReader: a file descriptor and the byte range
// of the blob in it (the whole blob file of a directory, a member's data in
// a tarball), so streaming readers never read past the blob's end.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/oci/oci_json.h"
#include "core/util/result.h"
#include "core/util/unique_fd.h"

namespace ocipack {

class LayoutStore;

// The bytes of one blob: read() hands them out in order and returns 0 at
// the blob's end; read_at() reads at an offset from the blob's start.
// Unbounded readers (a directory's blob file, or any fd given to whole())
// read to the end of the file, so a file that grew is still noticed by
// callers that compare the bytes read with the size they expect.
class BlobReader {
 public:
  // The file from its start to its end; `size` is what fstat said.
  static BlobReader whole(UniqueFd fd, uint64_t size);
  // A descriptor the caller keeps open, read with read(2) to its end (a pipe too).
  static BlobReader borrowed(int fd);
  // `size` bytes of `fd` from `offset` (a tarball member's data).
  static BlobReader range(UniqueFd fd, uint64_t offset, uint64_t size);

  BlobReader(BlobReader&&) noexcept = default;
  BlobReader& operator=(BlobReader&&) noexcept = default;

  uint64_t size() const { return m_size; }
  // The descriptor and where the blob starts in it, for readers that pread
  // at offsets of their own (the zstd:chunked check).
  int fd() const { return m_fd; }
  uint64_t offset() const { return m_offset; }
  // Up to `size` next bytes; 0 at the end, -1 with errno on an error (EINTR retried).
  ssize_t read(char* data, size_t size);
  // Up to `size` bytes at `offset` from the blob's start (pread; 0 past the end).
  ssize_t read_at(char* data, size_t size, uint64_t offset) const;

 private:
  BlobReader(UniqueFd owned, int fd, uint64_t offset, uint64_t size, bool bounded)
      : m_owned(std::move(owned)), m_fd(fd), m_offset(offset), m_size(size), m_bounded(bounded) {}
  UniqueFd m_owned;
  int m_fd = -1;
  uint64_t m_offset = 0;    // of the blob's first byte in the file
  uint64_t m_size = 0;
  uint64_t m_position = 0;  // bytes handed out by read()
  bool m_bounded = false;   // read() stops at m_size (pread); else read(2) to EOF
};

class LayoutSource {
 public:
  virtual ~LayoutSource() = default;
  // The path the user gave (a directory or a tarball).
  virtual const std::string& path() const = 0;
  // How errors name it: "layout 'x'" or "layout tarball 'x'".
  virtual const std::string& where() const = 0;
  virtual bool is_tarball() const = 0;
  // A file of the layout itself ("oci-layout", "index.json"): its whole
  // content (at most `max_size` bytes, else an error), nullopt when missing.
  virtual Result<std::optional<std::string>> read_file(std::string_view name, int64_t max_size) const = 0;
  // The raw bytes of index.json after checking oci-layout (read_index_text's checks and errors).
  virtual Result<std::string> index_text() const = 0;
  // A document blob (manifest, config, index): at most k_max_document_size
  // bytes, of the descriptor's size and sha256 (else kind corrupt). `what`
  // says what it is for ("manifest of tag 'v1'").
  virtual Result<std::string> read_document(const Descriptor& descriptor, const std::string& what) const = 0;
  // The blob of `digest` whatever its size (verify compares it with the
  // descriptor itself); nullopt when missing. A blob that is not a regular
  // file is an error.
  virtual Result<std::optional<BlobReader>> find_blob(const Digest& digest) const = 0;
  // The blob `descriptor` names, present and of its size (else errors
  // starting with `what`); its sha256 is the caller's to check as it streams.
  Result<BlobReader> open_blob(const Descriptor& descriptor, const std::string& what) const;
  // Copies a blob into `store`, size and sha256 checked.
  virtual Status copy_blob(LayoutStore& store, const Descriptor& descriptor, const std::string& what) const = 0;
};

// The layout directory `dir` (no check yet: the reads report what is wrong,
// with the directory readers' messages).
std::unique_ptr<LayoutSource> open_layout_directory(const std::string& dir);
// The layout tarball `path`, scanned once (LayoutTarballReader::open: a
// hostile member is an error naming it).
Result<std::unique_ptr<LayoutSource>> open_layout_tarball(const std::string& path);
// A regular file (or a symlink to one) is a layout tarball, anything else
// a layout directory (a missing path gets the directory readers' errors).
Result<std::unique_ptr<LayoutSource>> open_layout_source(const std::string& path);
// Whether `path` is (or links to) a regular file: read as a layout tarball.
bool is_layout_tarball_path(const std::string& path);

}  // namespace ocipack
