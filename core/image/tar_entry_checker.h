// TarEntryChecker: verify's check of one layer's tar stream, fed the
// decompressed bytes as they are read. TarScanner (core/tar/tar_scan.h) reads
// the framing the way Go's archive/tar does; this adds what a layer's
// entries must satisfy — a safe, unique path, a supported type, a hard link
// to an earlier non-directory, nothing below a symlink, file or hard link,
// well-formed whiteouts. Problems are collected (at most
// k_max_problems_per_layer lines, then one line counting the rest), never
// thrown. Memory grows with the number of entries (the paths seen), not
// their size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/tar/tar_scan.h"

namespace ocipack {

// Most tar-entry problems reported per layer; past it one line says how many
// more there were (a layer of a million bad paths should not print a million lines).
inline constexpr size_t k_max_problems_per_layer = 50;

class TarEntryChecker {
 public:
  // `what` starts every problem line ("tag 'latest': layer 1 sha256:…").
  explicit TarEntryChecker(std::string what);
  TarEntryChecker(const TarEntryChecker&) = delete;
  TarEntryChecker& operator=(const TarEntryChecker&) = delete;

  void feed(std::string_view data) { m_scanner.feed(data); }
  // Also calls `observer` with every entry, in stream order (verify lists
  // a zstd:chunked layer's entries to compare them with its TOC).
  void observe_entries(std::function<void(const ScannedEntry&)> observer) { m_observer = std::move(observer); }
  // The decompressed stream has ended.
  void finish();

  uint64_t entries() const { return m_scanner.entries(); }
  std::vector<std::string> take_problems() { return std::move(m_problems); }

 private:
  struct Seen {
    uint64_t entry;
    bool directory;
  };

  void problem(const std::string& text);
  void check_entry(const ScannedEntry& e);
  void check_hard_link(const ScannedEntry& e, const std::string& entry);
  void check_placement(const ScannedEntry& e, const std::string& key, const std::string& entry);

  std::string m_what;
  std::vector<std::string> m_problems;
  size_t m_problem_count = 0;
  TarScanner m_scanner;
  std::function<void(const ScannedEntry&)> m_observer;
  // Every non-whiteout path of the layer so far (normalized), for the
  // duplicate and hard-link checks: the one structure that grows with the layer.
  std::unordered_map<std::string, Seen> m_seen;
};

}  // namespace ocipack
