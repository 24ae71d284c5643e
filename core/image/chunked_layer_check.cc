// Implementation of check_chunked_layer (see chunked_layer_check.h). The
// TOC and tar-split are read with pread at the annotated positions and
// decompressed with core/codec's zstd decoder; the TOC is parsed with
// nlohmann::json (at most k_max_toc_size bytes, as containers/storage
// limits it to 50 MiB).
#include "core/image/chunked_layer_check.h"

#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/codec/stream_decoder.h"
#include "core/layer/zstd_chunked_toc.h"
#include "core/util/file_io.h"
#include "core/util/sha256.h"

namespace ocipack {

namespace {
using Json = nlohmann::json;
using namespace zstd_chunked;

constexpr uint64_t k_max_toc_size = 50ull << 20;
constexpr size_t k_max_problems = 50;

struct Position {
  uint64_t offset = 0, length = 0, size = 0;
};

std::optional<Position> parse_position(const std::string& text, bool with_type) {
  Position p;
  uint64_t type = 0;
  int used = 0;
  const int fields = std::sscanf(text.c_str(), "%" SCNu64 ":%" SCNu64 ":%" SCNu64 ":%" SCNu64 "%n", &p.offset,
                                 &p.length, &p.size, &type, &used);
  if (with_type ? fields != 4 || type != k_manifest_type_crfs : fields != 3) return std::nullopt;
  if (with_type && static_cast<size_t>(used) != text.size()) return std::nullopt;
  return p;
}

std::string json_text(const std::string& text) {  // a string as the TOC's JSON can hold it (U+FFFD for bad UTF-8)
  return Json::parse(Json(text).dump(-1, ' ', false, Json::error_handler_t::replace)).get<std::string>();
}

const char* toc_type_of(char tar_type) {
  switch (tar_type) {
    case '0': return "reg";
    case '1': return "hardlink";
    case '2': return "symlink";
    case '3': return "char";
    case '4': return "block";
    case '5': return "dir";
    case '6': return "fifo";
    default: return "?";
  }
}

class Check {
 public:
  Check(int fd, uint64_t blob_offset, uint64_t blob_size, const std::string& what, std::vector<std::string>& problems)
      : m_fd(fd), m_blob_offset(blob_offset), m_blob_size(blob_size), m_what(what), m_problems(problems) {}

  void problem(const std::string& text) {
    if (++m_count <= k_max_problems) m_problems.push_back(m_what + ": zstd:chunked: " + text);
  }
  void finish() {
    if (m_count > k_max_problems)
      m_problems.push_back(m_what + ": zstd:chunked: ... and " + std::to_string(m_count - k_max_problems) + " more");
  }

  // The bytes [offset, offset + length) of the blob.
  std::optional<std::string> read(uint64_t offset, uint64_t length, const std::string& name) {
    if (offset > m_blob_size || length > m_blob_size - offset || length > k_max_toc_size) {
      problem(name + " range " + std::to_string(offset) + "+" + std::to_string(length) + " is outside the blob");
      return std::nullopt;
    }
    std::string out(length, '\0');
    for (size_t got = 0; got < length;) {
      const ssize_t n = ::pread(m_fd, out.data() + got, length - got, static_cast<off_t>(m_blob_offset + offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        problem("cannot read " + name + ": " + (n < 0 ? errno_text(errno) : std::string("short read")));
        return std::nullopt;
      }
      got += static_cast<size_t>(n);
    }
    return out;
  }

  std::optional<std::string> decompress(const std::string& compressed, const std::string& name) {
    auto decoder = make_stream_decoder(Compression::zstd);
    if (!decoder.ok()) {
      problem(name + ": " + decoder.error().message);
      return std::nullopt;
    }
    std::string out;
    Status status = (*decoder)->feed(compressed, [&](std::string_view d) {
      if (out.size() + d.size() <= k_max_toc_size + 1) out.append(d);
    });
    if (status.ok()) status = (*decoder)->finish();
    if (!status.ok()) {
      problem(name + " does not decompress: " + status.error().message);
      return std::nullopt;
    }
    return out;
  }

  // A section named by a position: read, checksummed, decompressed.
  std::optional<std::string> section(const Position& p, const std::string& digest, const std::string& name) {
    auto compressed = read(p.offset, p.length, name);
    if (!compressed) return std::nullopt;
    if (Sha256::of(*compressed).str() != digest)
      problem(name + " checksum is " + Sha256::of(*compressed).str() + ", the annotations say " + digest);
    auto data = decompress(*compressed, name);
    if (data && data->size() != p.size)
      problem(name + " decompresses to " + std::to_string(data->size()) + " bytes, the annotations say " +
              std::to_string(p.size));
    return data;
  }

  void check_file(const Json& entries, size_t& i);
  void check_listing(const Json& entries, const std::vector<TarListing>& tar);

 private:
  int m_fd;
  uint64_t m_blob_offset;
  uint64_t m_blob_size;
  const std::string& m_what;
  std::vector<std::string>& m_problems;
  size_t m_count = 0;
};

// A regular file's frames and chunks (entries[i], then its chunk entries;
// i is left on the last of them).
void Check::check_file(const Json& entries, size_t& i) {
  const Json& e = entries[i];
  const std::string name = e.value("name", "");
  const uint64_t size = e.value("size", uint64_t{0});
  const uint64_t begin = e.value("offset", uint64_t{0}), end = e.value("endOffset", uint64_t{0});
  std::vector<const Json*> chunks = {&e};
  while (i + 1 < entries.size() && entries[i + 1].value("type", "") == "chunk") chunks.push_back(&entries[++i]);
  if (size == 0) return;
  auto frames = end > begin ? read(begin, end - begin, name + "'s frames") : std::nullopt;
  if (!frames) return problem(name + ": no frames [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  auto data = decompress(*frames, name + "'s frames");
  if (!data) return;
  if (data->size() != size || Sha256::of(*data).str() != e.value("digest", ""))
    return problem(name + ": its frames do not decompress to its size and digest");
  if (chunks.size() == 1 && !e.contains("chunkSize")) return;
  uint64_t at = 0;
  for (size_t k = 0; k < chunks.size(); ++k) {
    const Json& c = *chunks[k];
    const uint64_t from = c.value("offset", uint64_t{0});
    const uint64_t to = k + 1 < chunks.size() ? chunks[k + 1]->value("offset", uint64_t{0}) : end;
    const uint64_t length = c.value("chunkSize", uint64_t{0});
    if (c.value("chunkOffset", uint64_t{0}) != at || from < begin || to <= from || to > end || length > size - at)
      return problem(name + ": chunk " + std::to_string(k) + " is not where the previous one ends");
    auto part = decompress(frames->substr(from - begin, to - from), name + "'s chunk");
    if (!part || *part != data->substr(at, length) || Sha256::of(*part).str() != c.value("chunkDigest", ""))
      return problem(name + ": chunk " + std::to_string(k) + " does not decompress to its size and digest");
    at += length;
  }
  if (at != size) problem(name + ": its chunks cover " + std::to_string(at) + " of " + std::to_string(size) + " bytes");
}

// The TOC's entries (chunks aside) are the tar's, in order.
void Check::check_listing(const Json& entries, const std::vector<TarListing>& tar) {
  size_t k = 0;
  for (const Json& e : entries) {
    if (e.value("type", "") == "chunk") continue;
    if (k >= tar.size()) return problem("the TOC lists " + e.value("name", "") + ", which the tar does not have");
    const TarListing& t = tar[k++];
    const std::string type = toc_type_of(t.type);
    const uint64_t size = type == "reg" ? t.size : 0;
    if (e.value("name", "") != json_text(t.path) || e.value("type", "") != type ||
        e.value("size", uint64_t{0}) != size || e.value("linkName", "") != json_text(t.link))
      return problem("TOC entry " + std::to_string(k) + " (" + e.value("type", "") + " " + e.value("name", "") +
                     ") is not the tar's (" + type + " " + t.path + ")");
  }
  if (k != tar.size()) problem("the TOC lists " + std::to_string(k) + " entries, the tar has " + std::to_string(tar.size()));
}

// The annotations' positions, checked against each other and the footer.
std::optional<Position> toc_position(const std::map<std::string, std::string>& a, Check& check, uint64_t blob_size) {
  const auto find = [&](const char* key) { auto it = a.find(key); return it == a.end() ? std::string() : it->second; };
  const auto toc = parse_position(find(k_position_key), true);
  if (!toc) {
    check.problem(std::string("annotation ") + k_position_key + " is missing or malformed");
    return std::nullopt;
  }
  for (const char* legacy : {k_legacy_checksum_key, k_legacy_position_key}) {
    const char* current = legacy == k_legacy_checksum_key ? k_checksum_key : k_position_key;
    if (a.count(legacy) && find(legacy) != find(current))
      check.problem(std::string("annotation ") + legacy + " differs from " + current);
  }
  if (blob_size >= k_footer_size) {
    auto tail = check.read(blob_size - k_footer_size, k_footer_size, "footer");
    const auto footer = tail ? parse_chunked_footer(std::as_bytes(std::span(tail->data(), tail->size())))
                             : std::nullopt;
    const auto split = parse_position(find(k_tar_split_key), false);
    if (footer && (footer->toc_offset != toc->offset || footer->toc_length != toc->length ||
                   footer->toc_size != toc->size || !split || footer->tar_split_offset != split->offset ||
                   footer->tar_split_length != split->length || footer->tar_split_size != split->size))
      check.problem("the footer names other positions than the annotations");
  }
  return toc;
}

void check_sections(Check& check, uint64_t blob_size, const std::map<std::string, std::string>& annotations,
                    const std::vector<TarListing>& tar);
}  // namespace

bool is_chunked_layer(const std::map<std::string, std::string>& annotations) {
  return annotations.count(k_checksum_key) > 0;
}

void check_chunked_layer(int fd, uint64_t blob_size, const std::map<std::string, std::string>& annotations,
                         const std::vector<TarListing>& tar, const std::string& what,
                         std::vector<std::string>& problems, uint64_t blob_offset) {
  Check check(fd, blob_offset, blob_size, what, problems);
  try {
    check_sections(check, blob_size, annotations, tar);
  } catch (const Json::exception& e) {  // a TOC field of the wrong JSON type
    check.problem(std::string("the TOC does not have the expected fields: ") + e.what());
  }
  check.finish();
}

namespace {
void check_sections(Check& check, uint64_t blob_size, const std::map<std::string, std::string>& annotations,
                    const std::vector<TarListing>& tar) {
  const auto checksum = annotations.find(k_checksum_key);
  const auto position = toc_position(annotations, check, blob_size);
  if (!position || checksum == annotations.end()) {
    if (position) check.problem(std::string("annotation ") + k_checksum_key + " is missing");
    return;
  }
  const auto text = check.section(*position, checksum->second, "TOC");
  Json toc;
  if (text) toc = Json::parse(*text, nullptr, false);
  if (!text || toc.is_discarded() || !toc.is_object() || toc.value("version", 0) != 1 || !toc["entries"].is_array()) {
    if (text) check.problem("the TOC is not a version 1 TOC");
    return;
  }
  const auto split_annotation = annotations.find(k_tar_split_key);
  const auto split = split_annotation == annotations.end() ? std::nullopt
                                                           : parse_position(split_annotation->second, false);
  if (!split)
    check.problem(std::string("annotation ") + k_tar_split_key + " is missing or malformed");
  else
    check.section(*split, toc.value("tarSplitDigest", ""), "tar-split");
  const Json& entries = toc["entries"];
  for (size_t i = 0; i < entries.size(); ++i)
    if (entries[i].is_object() && entries[i].value("type", "") == "reg") check.check_file(entries, i);
  check.check_listing(entries, tar);
}
}  // namespace

}  // namespace ocipack
