// "Did you mean …?" for a mistyped subcommand or flag: the name among the
// known ones nearest to what was typed, by edit distance (insertions,
// deletions, substitutions and swaps of two neighbouring characters each
// count 1, so `biuld` is 1 from `build`), or a name the typed text is the
// unique start of. Only close names are offered — a distance of at most a
// third of the typed length (at least 1) — so a word that resembles nothing
// gets no suggestion rather than a random one. A name that the typed text
// is the unique start of wins over a near name 2 or more edits away.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocipack::cli {

// Optimal-string-alignment distance between `a` and `b`.
size_t edit_distance(std::string_view a, std::string_view b);

// The name in `names` closest to `typed` (leading dashes are not counted),
// the first of equals in the order given; nullopt when none is close.
std::optional<std::string> nearest_name(std::string_view typed, const std::vector<std::string>& names);

// " (did you mean 'X'?)" for the nearest name, or "" when none is close.
std::string did_you_mean(std::string_view typed, const std::vector<std::string>& names);

}  // namespace ocipack::cli
