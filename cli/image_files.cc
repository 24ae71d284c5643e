// list_image_files and diff_images (see image_files.h): load each image,
// build its model (all layers, or the one --layer names), and format the
// listing or the comparison as fixed-width text lines.
#include "cli/image_files.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "cli/progress.h"
#include "core/layer/tree_listing.h"
#include "core/tar/whiteout.h"
#include "core/util/text.h"

namespace ocipack::cli {

namespace {

// "drwxr-xr-x" as ls -l and tar tv show type and permission bits.
std::string mode_text(const TarEntry& entry) {
  char type = '-';
  switch (entry.type) {
    case EntryType::directory: type = 'd'; break;
    case EntryType::symlink: type = 'l'; break;
    case EntryType::char_device: type = 'c'; break;
    case EntryType::block_device: type = 'b'; break;
    case EntryType::fifo: type = 'p'; break;
    case EntryType::regular:
    case EntryType::hard_link: break;
  }
  std::string text(1, type);
  const char* letters = "rwxrwxrwx";
  for (int bit = 0; bit < 9; ++bit) text += (entry.mode & (0400u >> bit)) ? letters[bit] : '-';
  auto special = [&](uint32_t flag, size_t at, char set) {
    if (entry.mode & flag) text[at] = text[at] == 'x' ? set : static_cast<char>(set - 'a' + 'A');
  };
  special(04000, 3, 's');
  special(02000, 6, 's');
  special(01000, 9, 't');
  return text;
}

std::string line_for(const ListedPath& listed) {
  const TarEntry& entry = listed.node->entry();
  std::string size = std::to_string(entry.size);
  if (entry.type == EntryType::char_device || entry.type == EntryType::block_device)
    size = std::to_string(entry.dev_major) + "," + std::to_string(entry.dev_minor);
  char head[64];
  std::snprintf(head, sizeof head, "%s %11s %12s  ", mode_text(entry).c_str(),
                (std::to_string(entry.uid) + ":" + std::to_string(entry.gid)).c_str(), size.c_str());
  std::string line = head + printable(listed.path);
  if (entry.type == EntryType::symlink) line += " -> " + printable(entry.link_target);
  return line + "\n";
}

// A whiteout of one layer as a line: the path it removes from the layers
// below ("dir" for an opaque marker, whose lower contents it hides).
std::pair<std::string, std::string> whiteout_line(const std::string& whiteout_path) {
  const size_t slash = whiteout_path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : whiteout_path.substr(0, slash);
  const std::string name = whiteout_path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (classify_whiteout(name) == WhiteoutKind::opaque) {
    const std::string shown = dir.empty() ? "." : dir;
    return {shown, "opaque    " + std::string(25, ' ') + printable(shown) + "/ (hides the layers below)\n"};
  }
  const std::string removed = (dir.empty() ? "" : dir + "/") + name.substr(4);
  return {removed, "whiteout  " + std::string(25, ' ') + printable(removed) + "\n"};
}

// Applies layer `number` (1-based) of `layers` to `model`; errors name the
// image and the layer.
Status apply_numbered(TreeModel& model, const LayoutSource& source, const ImageRef& ref,
                      const std::vector<Descriptor>& layers, size_t number) {
  const Descriptor& layer = layers[number - 1];
  const std::string where = "image '" + printable(ref.layout_dir) + ":" + printable(ref.tag) + "': layer " +
                            std::to_string(number) + " (" + layer.digest.str() + ")";
  return model.apply_layer_blob(source, layer, where, nullptr);
}

// The model of the image (all layers), or of its layer `layer` alone.
Result<TreeModel> load_model(const ImageRef& ref, std::optional<size_t> layer) {
  OCIPACK_TRY_ASSIGN(const auto source, open_layout_source(ref.layout_dir));
  OCIPACK_TRY_ASSIGN(const LoadedImage image, load_image(*source, ref.tag));
  const auto& layers = image.manifest_doc.layers;
  TreeModel model;
  if (!layer) {
    for (size_t number = 1; number <= layers.size(); ++number)
      OCIPACK_TRY(apply_numbered(model, *source, ref, layers, number));
    return model;
  }
  if (*layer < 1 || *layer > layers.size())
    return usage_error("--layer " + std::to_string(*layer) + ": image '" + printable(ref.layout_dir) + ":" +
                       printable(ref.tag) + "' has " + std::to_string(layers.size()) +
                       (layers.size() == 1 ? " layer" : " layers") + " (1 is the bottom one)");
  OCIPACK_TRY(apply_numbered(model, *source, ref, layers, *layer));
  return model;
}

std::string largest_text(const std::vector<ListedPath>& listed, size_t count) {
  uint64_t all_bytes = 0, all_files = 0, shown_bytes = 0;
  for (const auto& entry : listed)
    if (entry.node->entry().type == EntryType::regular) {
      all_bytes += entry.node->entry().size;
      ++all_files;
    }
  std::string text;
  const auto largest = largest_files(listed, count);
  for (const auto& entry : largest) {
    shown_bytes += entry.node->entry().size;
    char head[48];
    std::snprintf(head, sizeof head, "%12" PRIu64 " %11s  ", entry.node->entry().size,
                  human_bytes(entry.node->entry().size).c_str());
    text += head + printable(entry.path) + "\n";
  }
  text += "total: " + std::to_string(largest.size()) + (largest.size() == 1 ? " file, " : " files, ") +
          human_bytes(shown_bytes) + " of " + human_bytes(all_bytes) + " in " + std::to_string(all_files) +
          (all_files == 1 ? " regular file\n" : " regular files\n");
  return text;
}

std::string change_line(const TreeChange& change) {
  switch (change.kind) {
    case ChangeKind::added: return "+ " + printable(change.path) + "\n";
    case ChangeKind::removed: return "- " + printable(change.path) + "\n";
    case ChangeKind::changed: break;
  }
  std::string what;
  for (const auto& field : change.what) what += (what.empty() ? "" : ", ") + field;
  return "M " + printable(change.path) + " (" + what + ")\n";
}

}  // namespace

Result<std::string> list_image_files(const FilesRequest& request) {
  OCIPACK_TRY_ASSIGN(const TreeModel model, load_model(request.image, request.layer));
  const auto listed = list_tree(model);
  if (request.largest) return largest_text(listed, *request.largest);
  std::vector<std::pair<std::string, std::string>> lines;  // (path, line)
  for (const auto& entry : listed) lines.emplace_back(entry.path, line_for(entry));
  if (request.layer)
    for (const auto& whiteout : model.last_layer_whiteouts()) lines.push_back(whiteout_line(whiteout));
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string text;
  for (const auto& line : lines) text += line.second;
  return text;
}

Result<ImageDiff> diff_images(const FilesRequest& request) {
  OCIPACK_TRY_ASSIGN(const TreeModel before, load_model(request.image, std::nullopt));
  OCIPACK_TRY_ASSIGN(const TreeModel after, load_model(request.other, std::nullopt));
  ImageDiff diff;
  for (const auto& change : compare_trees(before, after)) diff.text += change_line(change);
  diff.differ = !diff.text.empty();
  return diff;
}

}  // namespace ocipack::cli
