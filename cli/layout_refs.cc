// Implementation of the command line's layout references (layout_refs.h).
#include "cli/layout_refs.h"

#include <algorithm>

#include "core/oci/layout_reader.h"
#include "core/oci/layout_source.h"
#include "core/util/file_io.h"
#include "core/util/path.h"
#include "core/util/text.h"

namespace ocipack::cli {

namespace {
constexpr std::string_view k_oci_transport = "oci:";
constexpr std::string_view k_archive_transport = "oci-archive:";

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
  auto names_something = [](const std::string& path) { return is_layout_dir(path) || is_layout_tarball_path(path); };
  const bool names_layout = direct && names_something(direct->layout_dir);
  bool archive = false;
  if (!names_layout && body.substr(0, k_oci_transport.size()) == k_oci_transport) {
    body.remove_prefix(k_oci_transport.size());
    direct = parse_image_ref(body);
  } else if (!names_layout && body.substr(0, k_archive_transport.size()) == k_archive_transport) {
    body.remove_prefix(k_archive_transport.size());
    direct = parse_image_ref(body);
    archive = true;
  }
  if (!direct) return usage_error(what + " " + in_quotes(text) + ": " + direct.error().message);
  if (!names_something(direct->layout_dir) && tag_with_slash(body))
    return usage_error(what + " " + in_quotes(text) + ": a tag after ':' cannot hold '/' (for a directory whose name holds ':', end it with '/')");
  if (archive && is_directory(direct->layout_dir))
    return usage_error(what + " " + in_quotes(text) + ": oci-archive: names a layout tarball, but '" +
                       direct->layout_dir + "' is a directory (name a layout directory without the prefix, or with oci:)");
  LayoutArgument argument{direct->layout_dir, std::nullopt, archive || is_layout_tarball_path(direct->layout_dir)};
  if (direct->layout_dir != trim_trailing_slashes(body)) argument.tag = direct->tag;
  return argument;
}

Status refuse_tarball(const std::string& what, const LayoutArgument& argument) {
  if (!argument.tarball) return ok_status();
  return usage_error(what + " '" + argument.layout_dir +
                     "' is a layout tarball, which ocipack only reads; use a layout directory to write into");
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
