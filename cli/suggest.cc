// Nearest-name suggestions (see suggest.h): a two-row-plus-one
// optimal-string-alignment distance and the closeness rule.
#include "cli/suggest.h"

#include <algorithm>
#include <numeric>

namespace ocipack::cli {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Rows i-2, i-1 and i of the dynamic-programming table over prefixes.
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);  // neighbours swapped
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

namespace {
std::string_view without_dashes(std::string_view name) {
  while (!name.empty() && name.front() == '-') name.remove_prefix(1);
  return name;
}
}  // namespace

std::optional<std::string> nearest_name(std::string_view typed, const std::vector<std::string>& names) {
  const std::string_view word = without_dashes(typed);
  if (word.empty()) return std::nullopt;
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  std::optional<std::string> best, only_extension;
  size_t best_distance = limit + 1, extensions = 0;
  for (const auto& name : names) {
    const std::string_view candidate = without_dashes(name);
    const size_t distance = edit_distance(word, candidate);
    if (distance < best_distance && distance < word.size()) {  // not every letter replaced
      best_distance = distance;
      best = name;
    }
    if (word.size() >= 3 && candidate.size() > word.size() && candidate.substr(0, word.size()) == word) {
      ++extensions;
      only_extension = name;
    }
  }
  if (best && best_distance <= 1) return best;
  if (extensions == 1) return only_extension;  // "--compression": "--compression-format"
  return best;
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string>& names) {
  auto name = nearest_name(typed, names);
  return name ? " (did you mean '" + *name + "'?)" : std::string();
}

}  // namespace ocipack::cli
