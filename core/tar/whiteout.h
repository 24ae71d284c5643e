// Whiteout names: how a layer says "this path of a lower layer is gone"
// (OCI image-spec layer.md, the AUFS convention every runtime follows).
// `.wh.NAME` removes NAME from the directory it is in; `.wh..wh..opq` removes
// everything lower layers put in its directory. They are tar entry names, so
// the one definition lives with the tar code: the rootfs walk and the tar
// input refuse them in user trees, the tree diff writes them, the base model
// applies them and verify checks them.
#pragma once

#include <string>
#include <string_view>

namespace ocipack {

inline constexpr std::string_view k_whiteout_prefix = ".wh.";
inline constexpr std::string_view k_opaque_whiteout = ".wh..wh..opq";

// Whether a path component (not a whole path) starts with ".wh." — a
// whiteout or the opaque marker, well-formed or not.
constexpr bool is_whiteout_name(std::string_view name) {
  return name.substr(0, k_whiteout_prefix.size()) == k_whiteout_prefix;
}

// The name a whiteout removes: ".wh.foo" → "foo" (empty for other names).
constexpr std::string_view whiteout_target(std::string_view name) {
  return is_whiteout_name(name) ? name.substr(k_whiteout_prefix.size()) : std::string_view();
}

// What a path component is, as a whiteout. The malformed kinds are refused
// by every reader: a whiteout of "" or "." (the directory itself), of ".."
// (the parent), or a reserved ".wh..wh." name other than the opaque marker.
enum class WhiteoutKind { none, whiteout, opaque, names_itself, names_parent, reserved };

constexpr WhiteoutKind classify_whiteout(std::string_view name) {
  if (!is_whiteout_name(name)) return WhiteoutKind::none;
  if (name == k_opaque_whiteout) return WhiteoutKind::opaque;
  const std::string_view target = whiteout_target(name);
  if (target.empty() || target == ".") return WhiteoutKind::names_itself;
  if (target == "..") return WhiteoutKind::names_parent;
  if (is_whiteout_name(target)) return WhiteoutKind::reserved;
  return WhiteoutKind::whiteout;
}

// The whiteout that removes `name`: "foo" → ".wh.foo".
inline std::string whiteout_for(std::string_view name) {
  return std::string(k_whiteout_prefix) + std::string(name);
}

}  // namespace ocipack
