// Implementation of verify_layout (see layout_verify.h). A Verifier walks the
// layout top-down — oci-layout, index.json, nested indexes, manifests, then
// each manifest's config and layers — and appends one line per problem to the
// report; no check ever aborts the walk, it only skips what depends on the
// broken part (a manifest that is not JSON has no layers to follow).
//
// JSON is read with simdjson's DOM through error codes, walked key by key so
// that a repeated key takes its last value (as Go's encoding/json, and
// layout_reader.cc, do). The typed readers of layout_reader.h stop at the
// first error, so the field checks are done here again, one problem each.
//
// Each layer blob is read once, in 1 MiB reads, and that single pass feeds
// three consumers: the SHA-256 of the compressed bytes (the blob digest), the
// decompressor, and — on the decompressed bytes — the SHA-256 that must equal
// the config's diff_id and a streaming tar checker (TarChecker, on top of
// TarScanner from tar_scan.h). gzip
// is inflated with zlib directly rather than through libarchive because
// libarchive's gzip reader neither verifies the members' CRC-32 and length nor
// notices trailing garbage, both of which Go's gzip reader (containerd,
// skopeo, umoci) rejects. zstd goes through libarchive's raw format (the only
// zstd decoder ocipack links). The tar checker is our own rather than
// libarchive's tar reader because libarchive cuts PAX paths at a NUL byte and
// reads header-only entries (links, directories) with a non-zero size
// differently from Go's archive/tar; TarScanner's framing follows Go's
// reader, which is what unpacks OCI layers in practice.
#include "core/image/layout_verify.h"
#include "core/oci/json_dom.h"
#include "core/tar/archive_handle.h"

#include <archive.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <simdjson.h>
#include <string_view>
#include <unordered_map>

#include "core/util/digest.h"
#include "core/util/file_io.h"
#include "core/util/open_beneath.h"
#include "core/oci/layout_reader.h"
#include "core/oci/oci_json.h"
#include "core/util/sha256.h"
#include "core/tar/tar_scan.h"
#include "core/tar/tar_writer.h"
#include "core/util/text.h"
#include "core/util/time_format.h"
#include "core/layer/tree_diff.h"

namespace ocipack {


namespace {

namespace dom = simdjson::dom;

constexpr size_t k_read_size = 1 << 20;
constexpr int k_max_index_depth = 8;

constexpr std::string_view k_media_type_layer_tar = "application/vnd.oci.image.layer.v1.tar";
constexpr std::string_view k_media_type_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
constexpr std::string_view k_media_type_docker_layer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr std::string_view k_media_type_docker_config = "application/vnd.docker.container.image.v1+json";

// --- text helpers

std::string short_blob_path(const Digest& digest) { return "blobs/sha256/" + digest.hex(); }

// RFC 6838 names as the image spec's descriptor schema restricts them.
bool is_valid_media_type(std::string_view text) {
  auto valid_name = [](std::string_view name) {
    if (name.empty() || name.size() > 127 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || (c != '\0' && std::strchr("!#$&-^_.+", c) != nullptr);
    });
  };
  const size_t slash = text.find('/');
  return slash != std::string_view::npos && valid_name(text.substr(0, slash)) &&
         valid_name(text.substr(slash + 1));
}

bool is_config_media_type(std::string_view media_type) {
  return media_type == k_media_type_config || media_type == k_media_type_docker_config;
}

enum class Compression { none, gzip, zstd };

std::optional<Compression> layer_compression(std::string_view media_type) {
  if (media_type == k_media_type_layer_tar) return Compression::none;
  if (media_type == k_media_type_layer_gzip || media_type == k_media_type_docker_layer) return Compression::gzip;
  if (media_type == k_media_type_layer_zstd) return Compression::zstd;
  return std::nullopt;
}

// --- JSON helpers


// The value of the last member named `key` (Go's encoding/json keeps the last).
std::optional<dom::element> find_member(dom::object object, std::string_view key) {
  std::optional<dom::element> found;
  for (dom::key_value_pair member : object)
    if (member.key == key) found = member.value;
  return found;
}

std::optional<std::string_view> as_string(dom::element value) {
  std::string_view text;
  if (value.get_string().get(text)) return std::nullopt;
  return text;
}

// --- reading files

ssize_t read_some(int fd, char* buffer, size_t size) {
  for (;;) {
    const ssize_t n = ::read(fd, buffer, size);
    if (n >= 0 || errno != EINTR) return n;
  }
}

// --- decompression

using ByteSink = std::function<void(std::string_view)>;

// A multi-member gzip decoder (RFC 1952 members back to back, as pigz and
// ocipack write them). zlib checks each member's CRC-32 and length; data after
// a member that is not another member is an error, as in Go's gzip reader.
class GzipDecoder {
 public:
  GzipDecoder() : m_output(k_read_size) {
    m_ready = inflateInit2(&m_stream, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipDecoder() {
    if (m_ready) inflateEnd(&m_stream);
  }
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;

  // Decodes `input`, passing the output to `sink`. Returns an error text on
  // the first problem (the caller then stops feeding), "" otherwise.
  std::string feed(std::string_view input, const ByteSink& sink) {
    if (!m_ready) return "cannot initialise zlib";
    m_stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    m_stream.avail_in = static_cast<uInt>(input.size());
    while (m_stream.avail_in > 0) {
      if (!m_in_member) {
        if (m_members > 0 && inflateReset(&m_stream) != Z_OK) return "cannot reset zlib";
        m_in_member = true;
        m_member_output = 0;
      }
      m_stream.next_out = m_output.data();
      m_stream.avail_out = static_cast<uInt>(m_output.size());
      const uInt input_before = m_stream.avail_in;
      const int rc = inflate(&m_stream, Z_NO_FLUSH);
      const size_t produced = m_output.size() - m_stream.avail_out;
      if (produced > 0) {
        m_member_output += produced;
        sink(std::string_view(reinterpret_cast<const char*>(m_output.data()), produced));
      }
      if (rc == Z_STREAM_END) {
        ++m_members;
        m_in_member = false;
      } else if (rc == Z_BUF_ERROR && produced == 0 && m_stream.avail_in == input_before) {
        return "gzip member " + std::to_string(m_members + 1) + " makes no progress";
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        const std::string detail = m_stream.msg ? m_stream.msg : "zlib error " + std::to_string(rc);
        if (m_members > 0 && m_member_output == 0)
          return "data after gzip member " + std::to_string(m_members) + " is not a gzip member (" + detail + ")";
        return "gzip member " + std::to_string(m_members + 1) + " is corrupt (" + detail + ")";
      }
    }
    return "";
  }

  // The input has ended: it must have ended between members.
  std::string finish() const {
    if (m_in_member)
      return "gzip stream is truncated (member " + std::to_string(m_members + 1) + " has no end)";
    if (m_members == 0) return "blob is empty (no gzip member)";
    return "";
  }

 private:
  z_stream m_stream{};
  bool m_ready = false;
  bool m_in_member = false;
  uint64_t m_members = 0;        // complete members so far
  uint64_t m_member_output = 0;  // bytes the current member has produced
  std::vector<Bytef> m_output;
};


// What libarchive reads a zstd blob from: the blob's fd, hashed as it is read.
struct HashingSource {
  int fd = -1;
  Sha256* hash = nullptr;
  std::vector<char> buffer = std::vector<char>(k_read_size);
  int read_errno = 0;
};

la_ssize_t hashing_source_read(archive* a, void* client, const void** out) {
  auto* source = static_cast<HashingSource*>(client);
  const ssize_t n = read_some(source->fd, source->buffer.data(), source->buffer.size());
  if (n < 0) {
    source->read_errno = errno;
    archive_set_error(a, errno, "read error");
    return -1;
  }
  source->hash->update(std::string_view(source->buffer.data(), static_cast<size_t>(n)));
  *out = source->buffer.data();
  return n;
}

struct StreamOutcome {
  std::string read_error;    // the blob could not be read to its end: its hash is unknown
  std::string decode_error;  // it could not be decompressed to its end: no diff_id, tar checks incomplete
};

// What the first bytes of a blob say about a compression mismatch ("" if none).
std::string magic_mismatch(Compression compression, std::string_view head) {
  const bool gzip = head.size() >= 2 && head.substr(0, 2) == "\x1f\x8b";
  const bool zstd = head.size() >= 4 && head.substr(0, 4) == "\x28\xb5\x2f\xfd";
  switch (compression) {
    case Compression::gzip:
      if (head.empty()) return "blob is empty (no gzip member)";
      if (!gzip) return zstd ? "blob is zstd-compressed, but its media type says gzip"
                             : "blob is not gzip-compressed, but its media type says gzip";
      break;
    case Compression::zstd:
      if (!zstd) return gzip ? "blob is gzip-compressed, but its media type says zstd"
                             : "blob is not zstd-compressed, but its media type says zstd";
      break;
    case Compression::none:
      if (gzip) return "blob is gzip-compressed, but its media type says uncompressed tar";
      if (zstd) return "blob is zstd-compressed, but its media type says uncompressed tar";
      break;
  }
  return "";
}

// Reads `fd` to its end, hashing every byte into `blob_hash`; unless
// `compression` is unset, the decompressed stream goes to `sink`. A
// decompression error stops the sink, never the hashing.
StreamOutcome stream_blob(int fd, std::optional<Compression> compression, Sha256& blob_hash,
                          const ByteSink& sink) {
  StreamOutcome outcome;
  bool decoding = compression.has_value();
  if (decoding) {
    char head[4] = {};
    ssize_t n = 0;
    do n = ::pread(fd, head, sizeof head, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      outcome.read_error = "cannot read: " + errno_text(errno);
      return outcome;
    }
    outcome.decode_error = magic_mismatch(*compression, std::string_view(head, static_cast<size_t>(n)));
    decoding = outcome.decode_error.empty();
  }

  if (decoding && *compression == Compression::zstd) {
    HashingSource source;
    source.fd = fd;
    source.hash = &blob_hash;
    ArchiveReader reader(archive_read_new());
    if (archive_read_support_filter_zstd(reader.get()) != ARCHIVE_OK) {
      outcome.decode_error = "cannot be checked: libarchive has no built-in zstd decoder";
    } else {
      archive_read_support_format_raw(reader.get());
      auto libarchive_error = [&] {
        return "zstd stream is corrupt (" + archive_message(reader.get()) + ")";
      };
      archive_entry* entry = nullptr;
      if (archive_read_open(reader.get(), &source, nullptr, hashing_source_read, nullptr) != ARCHIVE_OK) {
        outcome.decode_error = libarchive_error();
      } else if (int rc = archive_read_next_header(reader.get(), &entry); rc == ARCHIVE_OK) {
        for (;;) {
          const void* block = nullptr;
          size_t size = 0;
          la_int64_t offset = 0;
          rc = archive_read_data_block(reader.get(), &block, &size, &offset);
          if (rc == ARCHIVE_EOF) break;
          if (rc < ARCHIVE_WARN) {
            outcome.decode_error = libarchive_error();
            break;
          }
          sink(std::string_view(static_cast<const char*>(block), size));
        }
      } else if (rc != ARCHIVE_EOF) {
        outcome.decode_error = libarchive_error();
      }
    }
    if (source.read_errno != 0) {
      outcome.read_error = "cannot read: " + errno_text(source.read_errno);
      return outcome;
    }
    decoding = false;  // whatever libarchive left unread is only hashed below
  }

  std::unique_ptr<GzipDecoder> gzip;
  if (decoding && *compression == Compression::gzip) gzip = std::make_unique<GzipDecoder>();
  std::vector<char> buffer(k_read_size);
  for (;;) {
    const ssize_t n = read_some(fd, buffer.data(), buffer.size());
    if (n < 0) {
      outcome.read_error = "cannot read: " + errno_text(errno);
      return outcome;
    }
    if (n == 0) break;
    const std::string_view chunk(buffer.data(), static_cast<size_t>(n));
    blob_hash.update(chunk);
    if (!decoding) continue;
    if (!gzip) {
      sink(chunk);
    } else if (std::string error = gzip->feed(chunk, sink); !error.empty()) {
      outcome.decode_error = std::move(error);
      decoding = false;
    }
  }
  if (decoding && gzip) outcome.decode_error = gzip->finish();
  return outcome;
}

// --- tar

bool is_whiteout(std::string_view normalized_path) {
  const size_t slash = normalized_path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? normalized_path : normalized_path.substr(slash + 1);
  return is_whiteout_name(name);
}

// Checks one layer's tar stream as it is fed: TarScanner (tar_scan.h) reads
// the framing; this adds what a layer's entries must satisfy — a safe,
// unique path, a supported type, a hard link to an earlier non-directory.
class TarChecker {
 public:
  explicit TarChecker(std::string what)
      : m_what(std::move(what)),
        m_scanner([this](const ScannedEntry& e) { check_entry(e); },
                  [this](const std::string& text) { problem(text); }) {}

  void feed(std::string_view data) { m_scanner.feed(data); }

  // The decompressed stream has ended.
  void finish() {
    m_scanner.finish();
    if (m_problem_count > k_max_problems_per_layer)
      m_problems.push_back(m_what + ": ... and " + std::to_string(m_problem_count - k_max_problems_per_layer) +
                           " more problems in this layer");
  }

  uint64_t entries() const { return m_scanner.entries(); }
  std::vector<std::string> take_problems() { return std::move(m_problems); }

 private:
  void problem(const std::string& text) {
    if (++m_problem_count <= k_max_problems_per_layer) m_problems.push_back(m_what + ": " + text);
  }

  void check_entry(const ScannedEntry& e) {
    const std::string entry = "entry " + std::to_string(e.number) + " " + in_quotes(e.path);
    const std::string& path = e.path;
    const std::string& link = e.link;
    if (path.empty()) return problem(entry + " has an empty path");
    if (path.find('\0') != std::string::npos) problem(entry + " has a NUL byte in its path");
    if (path.front() == '/') problem(entry + " has an absolute path");
    if (has_dot_dot_component(path)) problem(entry + " has a '..' component (it would land outside the image root)");
    if (e.type < '0' || e.type > '6')
      problem(entry + " has unsupported entry type " + in_quotes(std::string(1, e.type)) +
              " (layers hold files, directories, links, devices and FIFOs)");
    if (e.type == '2' && link.find('\0') != std::string::npos)
      problem(entry + " has a NUL byte in its symlink target");
    const std::string key = normalize_tar_path(path);

    if (e.type == '1') {
      const std::string target = "hard link target " + in_quotes(link);
      if (link.empty()) {
        problem(entry + " is a hard link with an empty target");
      } else if (link.find('\0') != std::string::npos || link.front() == '/' || has_dot_dot_component(link)) {
        problem(entry + " has unsafe " + target + " (absolute, '..' or NUL)");
      } else {
        auto found = m_seen.find(normalize_tar_path(link));
        if (found == m_seen.end())
          problem(entry + ": " + target + " is not an earlier entry of this layer");
        else if (found->second.directory)
          problem(entry + ": " + target + " is a directory (entry " + std::to_string(found->second.entry) + ")");
      }
    }

    check_placement(e, key, entry);
    if (key.empty() || is_whiteout(key)) return;  // the root itself; whiteouts may repeat
    auto [it, inserted] = m_seen.try_emplace(key, Seen{e.number, e.type == '5'});
    if (!inserted) problem(entry + " repeats the path of entry " + std::to_string(it->second.entry));
  }

  // What unpacking `key` would do outside what it names: an entry below a
  // symlink, file or hard link lands wherever that points (the parent rule,
  // tar_scan.h), and a malformed whiteout deletes the directory itself or its
  // parent (".wh.", ".wh..", ".wh..."), is a reserved ".wh..wh." name other
  // than the opaque marker, or carries data a consumer would drop.
  void check_placement(const ScannedEntry& e, const std::string& key, const std::string& entry) {
    auto is_directory = [this](std::string_view prefix) -> std::optional<bool> {
      auto found = m_seen.find(std::string(prefix));
      if (found == m_seen.end()) return std::nullopt;
      return found->second.directory;
    };
    if (auto ancestor = non_directory_ancestor(key, is_directory))
      problem(entry + " lies below " + in_quotes(*ancestor) + " (entry " +
              std::to_string(m_seen.find(std::string(*ancestor))->second.entry) +
              "), which is not a directory: unpacking would follow it");
    if (!is_whiteout(key)) return;
    const size_t slash = key.rfind('/');
    const std::string_view name = std::string_view(key).substr(slash == std::string::npos ? 0 : slash + 1);
    switch (classify_whiteout(name)) {
      case WhiteoutKind::names_itself:
      case WhiteoutKind::names_parent:
        problem(entry + " is a malformed whiteout (it names " +
                (classify_whiteout(name) == WhiteoutKind::names_parent ? "the parent directory" : "the directory itself") + ")");
        break;
      case WhiteoutKind::reserved:
        problem(entry + " has a reserved .wh..wh. name that is not the opaque marker " + std::string(k_opaque_whiteout));
        break;
      default:
        break;
    }
    if (e.type != '0' || e.size > 0) problem(entry + " is a whiteout but not an empty regular file");
  }

  struct Seen {
    uint64_t entry;
    bool directory;
  };

  std::string m_what;
  std::vector<std::string> m_problems;
  size_t m_problem_count = 0;
  TarScanner m_scanner;
  // Every non-whiteout path of the layer so far (normalized), for the
  // duplicate and hard-link checks: the one structure that grows with the layer.
  std::unordered_map<std::string, Seen> m_seen;
};

// --- the walk

using DiffIds = std::vector<std::optional<Digest>>;  // nullopt: unknown or invalid

class Verifier {
 public:
  Verifier(std::string dir, VerifyReport& report) : m_dir(std::move(dir)), m_report(report) {}

  void run(const VerifyOptions& options) {
    check_oci_layout_file();
    auto text = read_layout_file("index.json");
    if (!text) return;
    auto entries = check_index_document(*text, "index.json", nullptr);

    std::vector<std::string> tags;
    for (const auto& [position, descriptor] : entries) {
      auto ref = descriptor.annotations.find(k_annotation_ref_name);
      if (ref == descriptor.annotations.end()) continue;
      if (auto valid = validate_ref_name(ref->second); !valid)
        problem("index.json: manifests[" + std::to_string(position) + "]: " + valid.error().message);
      if (std::find(tags.begin(), tags.end(), ref->second) == tags.end()) tags.push_back(ref->second);
    }
    check_duplicate_tags(entries);

    bool found = false;
    for (const auto& [position, descriptor] : entries) {
      auto ref = descriptor.annotations.find(k_annotation_ref_name);
      const bool tagged = ref != descriptor.annotations.end();
      if (options.ref && (!tagged || ref->second != *options.ref)) continue;
      found = true;
      const std::string label =
          tagged ? "tag " + in_quotes(ref->second) : "index.json manifests[" + std::to_string(position) + "]";
      check_manifest_entry(descriptor, label, 0);
    }
    if (options.ref && !found) {
      std::string list;
      for (const auto& tag : tags) list += (list.empty() ? "" : ", ") + in_quotes(tag);
      problem("index.json has no manifest tagged " + in_quotes(*options.ref) +
              (tags.empty() ? " (it has no tagged manifests)" : " (available tags: " + list + ")"));
    }
  }

 private:
  struct BlobFacts {
    std::optional<int64_t> size;    // unset: missing or unreadable
    std::optional<Digest> diff_id;  // layers whose content could be decompressed
    std::optional<DiffIds> config_diff_ids;
  };

  void problem(std::string line) { m_report.problems.push_back(std::move(line)); }

  // A file of the layout itself (oci-layout, index.json), read with
  // read_regular_file: a FIFO, device, directory or symlink is a problem, not a hang.
  std::optional<std::string> read_layout_file(const std::string& name) {
    auto text = read_regular_file(m_dir, name, k_max_document_size);
    if (!text) {
      problem(name + ": " + text.error().message);
      return std::nullopt;
    }
    if (!*text) problem(name + (name == "oci-layout" ? " is missing (not an OCI image layout?)" : " is missing"));
    return std::move(*text);
  }

  void check_oci_layout_file() {
    auto text = read_layout_file("oci-layout");
    if (!text) return;
    if (auto valid = check_oci_layout(*text); !valid) problem(valid.error().message);
  }

  // A tag carried by several index.json entries: consumers pick different
  // ones (skopeo the first, umoci refuses it as ambiguous).
  void check_duplicate_tags(const std::vector<std::pair<size_t, Descriptor>>& entries) {
    std::map<std::string, std::vector<size_t>> positions;
    std::vector<std::string> order;
    for (const auto& [position, descriptor] : entries) {
      auto ref = descriptor.annotations.find(k_annotation_ref_name);
      if (ref == descriptor.annotations.end()) continue;
      auto& list = positions[ref->second];
      if (list.empty()) order.push_back(ref->second);
      list.push_back(position);
    }
    for (const auto& tag : order) {
      const auto& list = positions[tag];
      if (list.size() < 2) continue;
      std::string where;
      for (size_t position : list)
        where += (where.empty() ? "manifests[" : ", manifests[") + std::to_string(position) + "]";
      problem("index.json: tag " + in_quotes(tag) + " is ambiguous: " + std::to_string(list.size()) +
              " entries carry it (" + where + ")");
    }
  }

  // Parses a JSON document after checking it against the limits every reader
  // shares (oci_json.h); reports what is wrong and returns nullopt.
  std::optional<dom::element> parse_document(dom::parser& parser, std::string_view json, const std::string& what) {
    if (auto limits = check_json_limits(json, what); !limits) {
      problem(limits.error().message);
      return std::nullopt;
    }
    dom::element root;
    if (auto error = parser.parse(json.data(), json.size()).get(root); error) {
      problem(what + " is not valid JSON (" + simdjson::error_message(error) + ")");
      return std::nullopt;
    }
    return root;
  }

  // --- JSON documents

  void check_schema_version(dom::object object, const std::string& what) {
    auto value = find_member(object, "schemaVersion");
    if (!value) return problem(what + " has no schemaVersion");
    int64_t version = 0;
    if (value->type() != dom::element_type::INT64 || value->get_int64().get(version))
      return problem(what + ": schemaVersion is " + json_type_name(*value) + ", expected the integer 2");
    if (version != 2) problem(what + ": schemaVersion is " + std::to_string(version) + ", expected 2");
  }

  // Checks the document's own mediaType (optional) against what it must be
  // and against the descriptor that points at it (if any).
  void check_document_media_type(dom::object object, const std::string& what, bool (*acceptable)(std::string_view),
                                 const char* expected, const Descriptor* referrer) {
    auto value = find_member(object, "mediaType");
    if (!value) return;
    auto text = as_string(*value);
    if (!text) return problem(what + ": mediaType is " + json_type_name(*value) + ", expected a string");
    if (!acceptable(*text))
      return problem(what + ": mediaType is " + in_quotes(*text) + ", expected " + expected);
    if (referrer && !referrer->media_type.empty() && referrer->media_type != *text)
      problem(what + ": mediaType " + in_quotes(*text) + " differs from its descriptor's " +
              in_quotes(referrer->media_type));
  }

  // Reports every problem of one descriptor. Returns it if its digest is
  // usable (so its blob can still be checked); an unusable mediaType reads as
  // "" and an unusable size as -1 (not compared).
  std::optional<Descriptor> check_descriptor(dom::element value, const std::string& what, const std::string& field) {
    dom::object object;
    if (value.get_object().get(object)) {
      problem(what + ": " + field + " is " + json_type_name(value) + ", expected a descriptor object");
      return std::nullopt;
    }
    Descriptor d;
    d.size = -1;
    const std::string prefix = what + ": " + field;

    if (auto media_type = find_member(object, "mediaType"); !media_type) {
      problem(prefix + " has no mediaType");
    } else if (auto text = as_string(*media_type); !text) {
      problem(prefix + ".mediaType is " + json_type_name(*media_type) + ", expected a string");
    } else if (!is_valid_media_type(*text)) {
      problem(prefix + ".mediaType " + in_quotes(*text) + " is not a valid media type");
    } else {
      d.media_type = std::string(*text);
    }

    bool digest_ok = false;
    if (auto digest = find_member(object, "digest"); !digest) {
      problem(prefix + " has no digest");
    } else if (auto text = as_string(*digest); !text) {
      problem(prefix + ".digest is " + json_type_name(*digest) + ", expected a string");
    } else if (auto parsed = Digest::parse(*text); !parsed) {
      problem(prefix + ".digest " + in_quotes(*text) + ": " + parsed.error().message);
    } else {
      d.digest = *parsed;
      digest_ok = true;
    }

    if (auto size = find_member(object, "size"); !size) {
      problem(prefix + " has no size");
    } else if (size->type() == dom::element_type::INT64) {
      int64_t n = 0;
      if (size->get_int64().get(n)) n = -1;
      if (n < 0)
        problem(prefix + ".size is negative (" + std::to_string(n) + ")");
      else
        d.size = n;
    } else if (size->type() == dom::element_type::UINT64) {
      problem(prefix + ".size is out of range");
    } else if (size->type() == dom::element_type::DOUBLE) {
      problem(prefix + ".size is not an integer");
    } else {
      problem(prefix + ".size is " + json_type_name(*size) + ", expected an integer");
    }

    if (auto annotations = find_member(object, "annotations");
        annotations && annotations->type() != dom::element_type::NULL_VALUE) {
      dom::object map;
      if (annotations->get_object().get(map)) {
        problem(prefix + ".annotations is " + json_type_name(*annotations) + ", expected an object");
      } else {
        for (dom::key_value_pair member : map) {
          auto text = as_string(member.value);
          if (!text)
            problem(prefix + ".annotations." + printable(member.key) + " is " + json_type_name(member.value) +
                    ", expected a string");
          else
            d.annotations[std::string(member.key)] = std::string(*text);
        }
      }
    }
    if (!digest_ok) return std::nullopt;
    return d;
  }

  // An image index (index.json when `referrer` is null, else a nested index
  // blob): its usable manifest descriptors with their positions.
  std::vector<std::pair<size_t, Descriptor>> check_index_document(std::string_view json, const std::string& what,
                                                                   const Descriptor* referrer) {
    std::vector<std::pair<size_t, Descriptor>> entries;
    dom::parser parser;
    auto parsed = parse_document(parser, json, what);
    if (!parsed) return entries;
    const dom::element root = *parsed;
    dom::object object;
    if (root.get_object().get(object)) {
      problem(what + " is " + json_type_name(root) + ", expected a JSON object");
      return entries;
    }
    check_schema_version(object, what);
    if (referrer)
      check_document_media_type(object, what, is_index_media_type, "an image index media type", referrer);
    else
      check_document_media_type(
          object, what, [](std::string_view type) { return type == k_media_type_index; },
          k_media_type_index, nullptr);
    auto manifests = find_member(object, "manifests");
    dom::array array;
    if (!manifests) {
      problem(what + " has no manifests array");
    } else if (manifests->get_array().get(array)) {
      problem(what + ": manifests is " + json_type_name(*manifests) + ", expected an array");
    } else {
      size_t position = 0;
      for (dom::element item : array) {
        if (auto d = check_descriptor(item, what, "manifests[" + std::to_string(position) + "]"))
          entries.emplace_back(position, std::move(*d));
        ++position;
      }
    }
    return entries;
  }

  // --- blobs

  // True if `d`'s blob was checked before (then only this descriptor's size
  // is compared); otherwise registers it and returns false.
  bool already_checked(const Descriptor& d, const std::string& what, BlobFacts*& facts) {
    auto [it, inserted] = m_blobs.try_emplace(d.digest.hex());
    facts = &it->second;
    if (inserted) return false;
    if (facts->size && d.size >= 0 && *facts->size != d.size)
      problem(what + ": blob is " + std::to_string(*facts->size) + " bytes, but this descriptor says " +
              std::to_string(d.size));
    return true;
  }

  // Opens a blob for reading, reporting a missing or irregular file and a
  // size that differs from the descriptor's.
  std::optional<UniqueFd> open_blob(const Descriptor& d, const std::string& what, BlobFacts& facts) {
    auto file = open_regular_file(m_dir, short_blob_path(d.digest));
    if (!file) {
      problem(what + ": " + file.error().message);
      return std::nullopt;
    }
    if (!*file) {
      problem(what + ": blob is missing (" + short_blob_path(d.digest) + ")");
      return std::nullopt;
    }
    facts.size = (*file)->size;
    if (d.size >= 0 && *facts.size != d.size)
      problem(what + ": blob is " + std::to_string(*facts.size) + " bytes, but its descriptor says " +
              std::to_string(d.size));
    return std::move((*file)->fd);
  }

  void check_digest(const Descriptor& d, const Digest& actual, const std::string& what) {
    ++m_report.blobs_checked;
    if (actual != d.digest)
      problem(what + ": blob content hashes to " + actual.str() + " (corrupted, or the digest is wrong)");
  }

  // Reads a JSON document blob. Its text is returned whenever it could be
  // read, even with a wrong digest, so that its content is still checked.
  std::optional<std::string> read_document(const Descriptor& d, const std::string& what, BlobFacts& facts) {
    auto fd = open_blob(d, what, facts);
    if (!fd) return std::nullopt;
    if (*facts.size > k_max_document_size) {
      problem(what + ": blob is " + std::to_string(*facts.size) + " bytes, more than a document may have (" +
              std::to_string(k_max_document_size) + ")");
      return std::nullopt;
    }
    std::string text;
    text.reserve(static_cast<size_t>(*facts.size));
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      const ssize_t n = read_some(fd->get(), buffer.data(), buffer.size());
      if (n < 0) {
        problem(what + ": cannot read " + short_blob_path(d.digest) + ": " + errno_text(errno));
        return std::nullopt;
      }
      if (n == 0) break;
      text.append(buffer.data(), static_cast<size_t>(n));
      if (text.size() > static_cast<size_t>(k_max_document_size)) {
        problem(what + ": blob grew while being read");
        return std::nullopt;
      }
    }
    check_digest(d, Sha256::of(text), what);
    return text;
  }

  // Hashes a blob of a type we cannot look into.
  void check_opaque_blob(const Descriptor& d, const std::string& what) {
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return;
    auto fd = open_blob(d, what, *facts);
    if (!fd) return;
    Sha256 hash;
    auto outcome = stream_blob(fd->get(), std::nullopt, hash, [](std::string_view) {});
    if (!outcome.read_error.empty())
      return problem(what + ": " + short_blob_path(d.digest) + ": " + outcome.read_error);
    check_digest(d, hash.finish(), what);
  }

  // --- manifests, configs, layers

  void check_manifest_entry(const Descriptor& d, const std::string& label, int depth) {
    if (is_index_media_type(d.media_type)) return check_index_blob(d, label, depth);
    if (is_manifest_media_type(d.media_type)) return check_image_manifest(d, label);
    // An invalid or missing mediaType was reported with the descriptor.
    if (!d.media_type.empty())
      problem(label + ": mediaType " + in_quotes(d.media_type) + " is neither an image manifest nor an image index");
    check_opaque_blob(d, label + ": blob " + d.digest.str());
  }

  void check_index_blob(const Descriptor& d, const std::string& label, int depth) {
    const std::string what = label + ": image index " + d.digest.str();
    if (depth >= k_max_index_depth)
      return problem(what + " is nested more than " + std::to_string(k_max_index_depth) + " indexes deep");
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return;
    auto text = read_document(d, what, *facts);
    if (!text) return;
    for (const auto& [position, child] : check_index_document(*text, what, &d))
      check_manifest_entry(child, label + " > manifests[" + std::to_string(position) + "]", depth + 1);
  }

  void check_image_manifest(const Descriptor& d, const std::string& label) {
    const std::string what = label + ": manifest " + d.digest.str();
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return;
    auto text = read_document(d, what, *facts);
    if (!text) return;
    ++m_report.manifests;

    dom::parser parser;
    auto parsed = parse_document(parser, *text, what);
    if (!parsed) return;
    const dom::element root = *parsed;
    dom::object object;
    if (root.get_object().get(object))
      return problem(what + " is " + json_type_name(root) + ", expected a JSON object");
    check_schema_version(object, what);
    check_document_media_type(object, what, is_manifest_media_type, "an image manifest media type", &d);

    std::optional<Descriptor> config;
    if (auto value = find_member(object, "config"); !value) {
      problem(what + " has no config");
    } else if ((config = check_descriptor(*value, what, "config")) && !config->media_type.empty() &&
               !is_config_media_type(config->media_type)) {
      problem(what + ": config.mediaType is " + in_quotes(config->media_type) + ", expected " + k_media_type_config);
    }
    std::vector<std::optional<Descriptor>> layers;
    dom::array array;
    if (auto value = find_member(object, "layers"); !value) {
      problem(what + " has no layers");
    } else if (value->get_array().get(array)) {
      problem(what + ": layers is " + json_type_name(*value) + ", expected an array");
    } else {
      for (dom::element item : array)
        layers.push_back(check_descriptor(item, what, "layers[" + std::to_string(layers.size()) + "]"));
    }

    // Blobs: the config first (its own problems), then the layers, then the
    // diff_ids, which need both.
    std::optional<DiffIds> diff_ids;
    std::string config_what;
    if (config) {
      config_what = label + ": config " + config->digest.str();
      diff_ids = check_config(*config, config_what);
    }
    DiffIds computed;
    for (size_t i = 0; i < layers.size(); ++i) {
      computed.push_back(layers[i] ? check_layer(*layers[i], label + ": layer " + std::to_string(i + 1) + " " +
                                                                 layers[i]->digest.str())
                                   : std::nullopt);
    }
    if (!diff_ids) return;
    if (diff_ids->size() != layers.size())
      problem(config_what + ": rootfs.diff_ids has " + std::to_string(diff_ids->size()) + " entries for " +
              std::to_string(layers.size()) + " layers");
    for (size_t i = 0; i < std::min(diff_ids->size(), layers.size()); ++i) {
      const auto& expected = (*diff_ids)[i];
      const auto& actual = computed[i];
      if (expected && actual && *expected != *actual)
        problem(config_what + ": rootfs.diff_ids[" + std::to_string(i) + "] is " + expected->str() +
                ", but layer " + std::to_string(i + 1) + " (" + layers[i]->digest.str() + ") decompresses to " +
                actual->str());
    }
  }

  // The config's own checks; returns its diff_ids when it has a readable list.
  std::optional<DiffIds> check_config(const Descriptor& d, const std::string& what) {
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return facts->config_diff_ids;
    auto text = read_document(d, what, *facts);
    if (!text) return std::nullopt;

    dom::parser parser;
    auto document = parse_document(parser, *text, what);
    if (!document) return std::nullopt;
    const dom::element root = *document;
    dom::object object;
    if (root.get_object().get(object)) {
      problem(what + " is " + json_type_name(root) + ", expected a JSON object");
      return std::nullopt;
    }
    const size_t problems_before = m_report.problems.size();
    for (const char* field : {"architecture", "os"}) {
      auto value = find_member(object, field);
      auto text_value = value ? as_string(*value) : std::nullopt;
      if (!value)
        problem(what + " has no " + field);
      else if (!text_value)
        problem(what + ": " + field + " is " + json_type_name(*value) + ", expected a string");
      else if (text_value->empty())
        problem(what + ": " + field + " is empty");
    }

    check_created(object, what);

    std::optional<DiffIds> diff_ids;
    dom::object rootfs;
    if (auto value = find_member(object, "rootfs"); !value) {
      problem(what + " has no rootfs");
    } else if (value->get_object().get(rootfs)) {
      problem(what + ": rootfs is " + json_type_name(*value) + ", expected an object");
    } else {
      auto type = find_member(rootfs, "type");
      auto type_text = type ? as_string(*type) : std::nullopt;
      if (!type)
        problem(what + " has no rootfs.type");
      else if (!type_text || *type_text != "layers")
        problem(what + ": rootfs.type is " + (type_text ? in_quotes(*type_text) : std::string(json_type_name(*type))) +
                ", expected 'layers'");
      dom::array array;
      if (auto list = find_member(rootfs, "diff_ids"); !list) {
        problem(what + " has no rootfs.diff_ids");
      } else if (list->get_array().get(array)) {
        problem(what + ": rootfs.diff_ids is " + json_type_name(*list) + ", expected an array");
      } else {
        diff_ids.emplace();
        for (dom::element item : array) {
          const std::string field = "rootfs.diff_ids[" + std::to_string(diff_ids->size()) + "]";
          auto item_text = as_string(item);
          std::optional<Digest> digest;
          if (!item_text) {
            problem(what + ": " + field + " is " + json_type_name(item) + ", expected a digest string");
          } else if (auto parsed = Digest::parse(*item_text); !parsed) {
            problem(what + ": " + field + " " + in_quotes(*item_text) + ": " + parsed.error().message);
          } else {
            digest = *parsed;
          }
          diff_ids->push_back(digest);
        }
      }
    }
    // The typed reader checks the other fields (config.Env, history, ...);
    // its first error is only worth a line when the checks above found none,
    // since it would mostly repeat them.
    if (m_report.problems.size() == problems_before) {
      if (auto parsed = parse_config(*text); !parsed) {
        std::string message = parsed.error().message;
        if (message.rfind("image config: ", 0) == 0) message.erase(0, std::strlen("image config: "));
        problem(what + ": " + message);
      }
    }
    facts->config_diff_ids = diff_ids;
    return diff_ids;
  }

  // `created` of the config and of each history entry, when present, must be
  // what Go's encoding/json reads as a time.Time (containers/image, umoci):
  // strict RFC 3339 with a four-digit year (time_format.h).
  void check_created(dom::object config, const std::string& what) {
    auto check = [&](dom::element value, const std::string& field) {
      auto text = as_string(value);
      if (!text) return problem(what + ": " + field + " is " + json_type_name(value) + ", expected a string");
      if (!check_go_rfc3339(*text))
        problem(what + ": " + field + " " + in_quotes(*text) +
                " is not an RFC 3339 time as Go reads it (YYYY-MM-DDTHH:MM:SS[.digits](Z|+HH:MM|-HH:MM))");
    };
    if (auto created = find_member(config, "created")) check(*created, "created");
    dom::array history;
    if (auto list = find_member(config, "history"); list && !list->get_array().get(history)) {
      size_t i = 0;
      for (dom::element item : history) {
        dom::object entry;
        if (!item.get_object().get(entry))
          if (auto created = find_member(entry, "created")) check(*created, "history[" + std::to_string(i) + "].created");
        ++i;
      }
    }
  }

  // Checks a layer blob and its tar stream; returns its diff_id when its
  // content could be decompressed to the end.
  std::optional<Digest> check_layer(const Descriptor& d, const std::string& what) {
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return facts->diff_id;
    const auto compression = layer_compression(d.media_type);
    if (!compression && !d.media_type.empty())
      problem(what + ": unsupported layer media type " + in_quotes(d.media_type));
    auto fd = open_blob(d, what, *facts);
    if (!fd) return std::nullopt;

    Sha256 blob_hash;
    Sha256 diff_hash;
    TarChecker tar(what);
    auto outcome = stream_blob(fd->get(), compression, blob_hash, [&](std::string_view data) {
      diff_hash.update(data);
      tar.feed(data);
    });
    if (!outcome.read_error.empty()) {
      problem(what + ": " + short_blob_path(d.digest) + ": " + outcome.read_error);
      return std::nullopt;
    }
    check_digest(d, blob_hash.finish(), what);
    if (!compression) return std::nullopt;
    ++m_report.layers_checked;
    if (!outcome.decode_error.empty()) {
      problem(what + ": " + outcome.decode_error);
    } else {
      tar.finish();
      facts->diff_id = diff_hash.finish();
    }
    for (auto& line : tar.take_problems()) problem(std::move(line));
    m_report.entries_checked += tar.entries();
    return facts->diff_id;
  }

  std::string m_dir;
  VerifyReport& m_report;
  std::map<std::string, BlobFacts> m_blobs;  // by digest hex
};

}  // namespace

Result<VerifyReport> verify_layout(const std::string& layout_dir, const VerifyOptions& options) {
  std::string dir = layout_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return make_error("empty layout path");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return make_error("cannot access layout '" + dir + "': " + errno_text(errno));
  if (!S_ISDIR(st.st_mode)) return make_error("layout '" + dir + "' is not a directory");
  VerifyReport report;
  Verifier(dir, report).run(options);
  return report;
}

}  // namespace ocipack
