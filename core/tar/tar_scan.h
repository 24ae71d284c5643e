// TarScanner: a streaming reader of tar framing. It is fed a tar stream in
// pieces of any size and reports, in stream order, each entry — with its
// path and link target exactly as stored, a NUL inside a PAX path included —
// and each framing problem. It holds at most one header block and one
// extended header (≤ 1 MiB); file data is skipped by count, so it can watch
// a stream of any size as it passes.
//
// Two users: `ocipack verify` feeds it each layer's decompressed bytes, and
// the tar input adapter feeds it the bytes libarchive reads, to see what
// libarchive hides (it cuts PAX paths at a NUL) and to refuse archives whose
// framing two readers would read differently.
//
// Framing follows Go's archive/tar, which is what unpacks OCI layers in
// practice (containerd, skopeo, umoci): PAX 'x' and GNU 'L'/'K' headers apply
// to the next entry, 'g' headers are read and ignored, GNU.sparse.name
// overrides the path, old-GNU sparse extension blocks are skipped,
// header-only types (links, devices, directories, FIFOs) have no data
// whatever their size field says, and the archive ends at two zero blocks
// (what follows is ignored, as GNU tar's record padding must be).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tar/tar_writer.h"

namespace ocipack {

// Data of a PAX or GNU long-name header larger than this is a problem, as Go's
// archive/tar (maxSpecialFileSize) and libarchive refuse it.
inline constexpr uint64_t k_max_tar_meta_size = 1 << 20;

struct ScannedEntry {
  uint64_t number = 0;  // 1-based, counting entries only (not extended headers)
  uint64_t offset = 0;  // stream offset of its own header block
  char type = '0';      // the type flag; the old '\0' read as '0', or '5' with a trailing '/'
  std::string path;     // PAX path / GNU.sparse.name, else GNU long name, else USTAR prefix/name
  std::string link;     // PAX linkpath, else GNU long link, else USTAR linkname
  uint64_t size = 0;    // data bytes that follow (0 for header-only types)
};

class TarScanner {
 public:
  using EntryHandler = std::function<void(const ScannedEntry&)>;
  // One line, without a prefix; the scanner goes on after it unless stopped().
  using ProblemHandler = std::function<void(const std::string&)>;

  TarScanner(EntryHandler on_entry, ProblemHandler on_problem);

  void feed(std::string_view data);
  // The stream has ended: reports a missing end-of-archive marker, or an end
  // inside a header, extended header or data.
  void finish();

  bool ended() const { return m_state == State::end; }  // two zero blocks seen
  bool stopped() const { return m_state == State::stopped; }  // framing lost
  uint64_t entries() const { return m_entries; }

 private:
  enum class State { header, meta, sparse_extension, data, end, stopped };

  void problem(const std::string& text) { m_on_problem(text); }
  void stop(const std::string& text);
  void on_header_block();
  void on_sparse_extension_block();
  void skip(uint64_t size);
  void end_meta();
  void parse_pax(const std::string& at);
  void emit_entry(const char* block, uint64_t offset, char type, uint64_t size);

  EntryHandler m_on_entry;
  ProblemHandler m_on_problem;
  State m_state = State::header;
  uint64_t m_offset = 0;  // stream offset of the next byte fed
  std::array<char, k_tar_block> m_block{};
  size_t m_block_fill = 0;
  uint64_t m_skip = 0;  // data and padding bytes left to skip (State::data)
  char m_meta_type = 0;  // the extended header being collected (State::meta)
  uint64_t m_meta_offset = 0;
  uint64_t m_meta_remaining = 0;
  uint64_t m_meta_padding = 0;
  std::string m_meta;
  bool m_zero_block_seen = false;
  // What the extended headers since the last entry say about the next one.
  bool m_pending_meta = false;
  std::optional<std::string> m_pax_path, m_pax_linkpath, m_gnu_long_name, m_gnu_long_link;
  std::optional<uint64_t> m_pax_size;
  uint64_t m_entries = 0;
  std::string m_last_entry;  // "entry N 'path'", for problems about its data
  uint64_t m_sparse_data_size = 0;  // an old-GNU sparse entry's data, after its extension blocks
};

// Parses a tar number field: octal digits (leading spaces, NUL or space
// terminated; empty means 0) or GNU base-256 (high bit of the first byte).
// Negative or unrepresentable values give nullopt.
std::optional<uint64_t> parse_tar_number(const char* field, size_t size);

// A NUL-terminated header field (or all of it if it has no NUL).
std::string_view tar_string(const char* field, size_t size);

// The '/'-separated components of an entry path as stored, empty ones and
// "." included: "a//b/" → {"a", "", "b", ""}.
std::vector<std::string_view> tar_path_components(std::string_view path);
// "a/./b//c/" → "a/b/c"; "./" → "" (the root). ".." is kept: callers decide.
std::string normalize_tar_path(std::string_view path);
bool has_dot_dot_component(std::string_view path);

// The rule unpackers rely on: an entry lies below directories only. Returns
// the shortest proper ancestor of `normalized_path` that is an entry but not a
// directory (`a` for "a/b/c" when `a` is a symlink, a file or a hard link),
// or nullopt. `is_directory(prefix)` says whether that prefix is an entry
// (nullopt: no entry of that path) and whether it is a directory.
std::optional<std::string_view> non_directory_ancestor(
    std::string_view normalized_path, const std::function<std::optional<bool>(std::string_view)>& is_directory);

}  // namespace ocipack
