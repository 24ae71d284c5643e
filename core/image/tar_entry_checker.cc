// Implementation of TarEntryChecker (see tar_entry_checker.h).
#include "core/image/tar_entry_checker.h"

#include <optional>

#include "core/tar/whiteout.h"
#include "core/util/text.h"

namespace ocipack {

namespace {
bool is_whiteout(std::string_view normalized_path) {
  const size_t slash = normalized_path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? normalized_path : normalized_path.substr(slash + 1);
  return is_whiteout_name(name);
}
}  // namespace

TarEntryChecker::TarEntryChecker(std::string what)
    : m_what(std::move(what)),
      m_scanner(
          [this](const ScannedEntry& e) {
            check_entry(e);
            if (m_observer) m_observer(e);
          },
          [this](const std::string& text) { problem(text); }) {}

void TarEntryChecker::finish() {
  m_scanner.finish();
  if (m_problem_count > k_max_problems_per_layer)
    m_problems.push_back(m_what + ": ... and " + std::to_string(m_problem_count - k_max_problems_per_layer) +
                         " more problems in this layer");
}

void TarEntryChecker::problem(const std::string& text) {
  if (++m_problem_count <= k_max_problems_per_layer) m_problems.push_back(m_what + ": " + text);
}

void TarEntryChecker::check_entry(const ScannedEntry& e) {
  const std::string entry = "entry " + std::to_string(e.number) + " " + in_quotes(e.path);
  const std::string& path = e.path;
  if (path.empty()) return problem(entry + " has an empty path");
  if (path.find('\0') != std::string::npos) problem(entry + " has a NUL byte in its path");
  if (path.front() == '/') problem(entry + " has an absolute path");
  if (has_dot_dot_component(path)) problem(entry + " has a '..' component (it would land outside the image root)");
  if (e.type < '0' || e.type > '6')
    problem(entry + " has unsupported entry type " + in_quotes(std::string(1, e.type)) +
            " (layers hold files, directories, links, devices and FIFOs)");
  if (e.type == '2' && e.link.find('\0') != std::string::npos) problem(entry + " has a NUL byte in its symlink target");
  if (e.type == '1') check_hard_link(e, entry);

  const std::string key = normalize_tar_path(path);
  check_placement(e, key, entry);
  if (key.empty() || is_whiteout(key)) return;  // the root itself; whiteouts may repeat
  auto [it, inserted] = m_seen.try_emplace(key, Seen{e.number, e.type == '5'});
  if (!inserted) problem(entry + " repeats the path of entry " + std::to_string(it->second.entry));
}

void TarEntryChecker::check_hard_link(const ScannedEntry& e, const std::string& entry) {
  const std::string& link = e.link;
  const std::string target = "hard link target " + in_quotes(link);
  if (link.empty()) return problem(entry + " is a hard link with an empty target");
  if (link.find('\0') != std::string::npos || link.front() == '/' || has_dot_dot_component(link))
    return problem(entry + " has unsafe " + target + " (absolute, '..' or NUL)");
  auto found = m_seen.find(normalize_tar_path(link));
  if (found == m_seen.end())
    problem(entry + ": " + target + " is not an earlier entry of this layer");
  else if (found->second.directory)
    problem(entry + ": " + target + " is a directory (entry " + std::to_string(found->second.entry) + ")");
}

// What unpacking `key` would do outside what it names: an entry below a
// symlink, file or hard link lands wherever that points (the parent rule,
// tar_scan.h), and a malformed whiteout deletes the directory itself or its
// parent (".wh.", ".wh..", ".wh..."), is a reserved ".wh..wh." name other
// than the opaque marker, or carries data a consumer would drop.
void TarEntryChecker::check_placement(const ScannedEntry& e, const std::string& key, const std::string& entry) {
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
      problem(entry + " is a malformed whiteout (it names the directory itself)");
      break;
    case WhiteoutKind::names_parent:
      problem(entry + " is a malformed whiteout (it names the parent directory)");
      break;
    case WhiteoutKind::reserved:
      problem(entry + " has a reserved .wh..wh. name that is not the opaque marker " + std::string(k_opaque_whiteout));
      break;
    default:
      break;
  }
  if (e.type != '0' || e.size > 0) problem(entry + " is a whiteout but not an empty regular file");
}

}  // namespace ocipack
