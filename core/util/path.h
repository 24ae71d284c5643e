// Path text helpers shared by every area: the directory part and last
// component of a path, and the one rule for trailing slashes ("dir/" and
// "dir" name the same directory; "/" stays "/"). Pure string functions: they
// never touch the file system.
#pragma once

#include <string>
#include <string_view>

namespace ocipack {

// The directory part of `path` ("." when there is none, "/" at the top) and
// its last component.
std::string parent_directory(const std::string& path);
std::string base_name(const std::string& path);

// `path` without trailing '/' characters, except that a path made only of
// slashes becomes "/" ("a/b//" → "a/b", "/" → "/", "" → "").
std::string trim_trailing_slashes(std::string_view path);

}  // namespace ocipack
