// Untrusted text (tar paths, JSON strings, tags) made safe for a one-line
// message or a terminal: control bytes (C0 and DEL) become escapes, every
// other byte is kept as it is. Used by every error that names an entry from
// an archive, so a path holding a newline or a NUL cannot break the
// "one line naming the culprit" rule or hide part of the name.
#pragma once

#include <string>
#include <string_view>

namespace ocipack {

// "\n", "\t", "\r" for those three, "\xNN" for other control bytes.
std::string printable(std::string_view text);

// printable(text) in single quotes.
inline std::string in_quotes(std::string_view text) { return "'" + printable(text) + "'"; }

}  // namespace ocipack
