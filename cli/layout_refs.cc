// Implementation of the command line's layout references (layout_refs.h).
#include "cli/layout_refs.h"

#include <algorithm>

#include "core/oci/layout_reader.h"
#include "core/util/path.h"
#include "core/util/text.h"

namespace ocipack::cli {

namespace {
constexpr std::string_view k_oci_transport = "oci:";

// "NAME:TAG/MORE" naming no layout: a tag holding '/' or a relative
// directory whose name holds ':' — "img:../x", "img:a/b". Refused: a tag in
// a reference holds no '/', and such a directory is written "img:a/b/".
bool tag_with_slash(std::string_view body) {
  const size_t colon = body.find(':');
  const size_t last_slash = body.rfind('/');
  return colon != std::string_view::npos && last_slash != std::string_view::npos && colon < last_slash &&
         body.substr(0, colon).find('/') == std::string_view::npos && body.back() != '/';
}
}  // namespace

Result<LayoutArgument> parse_layout_argument(const std::string& what, const std::string& text) {
  std::string_view body = text;
  auto direct = parse_image_ref(body);
  const bool names_layout = direct && is_layout_dir(direct->layout_dir);
  if (!names_layout && body.substr(0, k_oci_transport.size()) == k_oci_transport) {
    body.remove_prefix(k_oci_transport.size());
    direct = parse_image_ref(body);
  }
  if (!direct) return usage_error(what + " " + in_quotes(text) + ": " + direct.error().message);
  if (!is_layout_dir(direct->layout_dir) && tag_with_slash(body))
    return usage_error(what + " " + in_quotes(text) + ": a tag after ':' cannot hold '/' (for a directory whose name holds ':', end it with '/')");
  LayoutArgument argument{direct->layout_dir, std::nullopt};
  if (direct->layout_dir != trim_trailing_slashes(body)) argument.tag = direct->tag;
  return argument;
}

Result<std::vector<std::string>> merge_tags(const std::string& what, const LayoutArgument& argument,
                                            const std::string& flag, const std::vector<std::string>& flag_tags,
                                            const std::vector<std::string>& default_tags) {
  if (!argument.tag) return flag_tags.empty() ? default_tags : flag_tags;
  if (flag_tags.empty()) return std::vector<std::string>{*argument.tag};
  if (std::find(flag_tags.begin(), flag_tags.end(), *argument.tag) == flag_tags.end())
    return usage_error(what + ": the reference names the tag '" + *argument.tag + "' but " + flag + " '" +
                       flag_tags.front() + "' another (give the tag one way)");
  return flag_tags;
}

bool looks_like_tarball(const std::string& output) {
  const std::string name = trim_trailing_slashes(output);
  for (std::string_view suffix : {".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz"})
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  return false;
}

}  // namespace ocipack::cli
