// Implementation of the layout readers (see layout_reader.h). Index and
// manifest documents go through the document reader (document_reader.h)
// with a FirstUnreadable sink: nonconforming details are ignored here (verify
// reports them), the first unreadable problem is the error.
#include "core/oci/layout_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <simdjson.h>

#include "core/util/path.h"
#include "core/util/file_io.h"
#include "core/util/sha256.h"
#include "core/util/text.h"

namespace ocipack {

namespace {

// Reads a layout file that must exist (see read_regular_file); a missing one
// gets the caller's wording.
Result<std::string> read_required(const std::string& dir, std::string_view name,
                                  const std::string& missing_message) {
  OCIPACK_TRY_ASSIGN(auto text, read_regular_file(dir, name, k_max_document_size));
  if (!text) return input_error(missing_message);
  return std::move(*text);
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + in_quotes(name);
  return out;
}


// The ref.name annotation and the digest text of an index entry, read

std::string where_of(const std::string& dir) { return "layout '" + dir + "'"; }

}  // namespace

bool is_layout_dir(const std::string& dir) {
  struct stat st {};
  return !dir.empty() && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
         ::fstatat(AT_FDCWD, (dir + "/" + k_oci_layout_file).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(st.st_mode);
}

Result<ImageRef> parse_image_ref(std::string_view text, std::string_view default_tag) {
  const std::string quoted = "image reference " + in_quotes(text);
  if (text.empty()) return usage_error("empty image reference (expected LAYOUT[:TAG])");
  // Rule 1: the splits whose layout part is a layout on disk.
  std::vector<ImageRef> layouts;
  for (size_t colon = text.find(':');; colon = text.find(':', colon + 1)) {
    const bool whole = colon == std::string_view::npos;
    ImageRef candidate{trim_trailing_slashes(std::string(text.substr(0, colon))),
                       whole ? std::string(default_tag) : std::string(text.substr(colon + 1))};
    if (is_layout_dir(candidate.layout_dir) || is_layout_tarball_path(candidate.layout_dir))
      layouts.push_back(std::move(candidate));
    if (whole) break;
  }
  ImageRef ref;
  if (layouts.size() > 1) {
    std::vector<std::string> names;
    for (const auto& candidate : layouts) names.push_back(candidate.layout_dir);
    return usage_error(quoted + " is ambiguous: it can name the layouts " + quoted_list(names));
  }
  if (layouts.size() == 1) {
    ref = std::move(layouts[0]);
    if (ref.tag.empty()) return usage_error(quoted + " has an empty tag after ':'");
  } else {
    // Rule 2: the tag follows the first ':' after the last '/'.
    const size_t last_slash = text.rfind('/');
    const size_t colon = text.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1);
    if (colon != std::string_view::npos) {
      ref.layout_dir = std::string(text.substr(0, colon));
      ref.tag = std::string(text.substr(colon + 1));
      if (ref.tag.empty()) return usage_error(quoted + " has an empty tag after ':'");
    } else {
      ref.layout_dir = std::string(text);
      ref.tag = std::string(default_tag);
    }
    ref.layout_dir = trim_trailing_slashes(ref.layout_dir);
  }
  if (ref.layout_dir.empty()) return usage_error(quoted + " has an empty layout path");
  if (auto valid = validate_ref_name(ref.tag); !valid)
    return usage_error(quoted + ": " + printable(valid.error().message));
  return ref;
}

Result<std::string> read_index_text(const std::string& layout_dir) {
  const std::string dir = trim_trailing_slashes(layout_dir);
  const std::string where = where_of(dir);
  struct stat st {};
  if (dir.empty()) return usage_error("empty layout path");  // the caller's mistake, not the layout's
  if (::stat(dir.c_str(), &st) != 0) return input_error("cannot access " + where + ": " + errno_text(errno));
  if (!S_ISDIR(st.st_mode)) return input_error(where + " is not a directory");
  OCIPACK_TRY_ASSIGN(const std::string oci_layout,
                     read_required(dir, k_oci_layout_file, "'" + dir + "' is not an OCI image layout (no oci-layout file)"));
  if (auto valid = check_oci_layout(oci_layout); !valid) return std::move(valid).error().with_context(where + ": ");
  return read_required(dir, k_index_file, where + " has no index.json");
}

Result<std::vector<IndexEntry>> parse_index_entries(std::string_view json, const std::string& what) {
  FirstUnreadable sink;
  IndexDocument document = read_index_document(json, what, nullptr, sink);
  if (!document.readable) return sink.error();
  return std::move(document.entries);
}

Result<std::vector<Descriptor>> parse_index(std::string_view json, const std::string& what) {
  OCIPACK_TRY_ASSIGN(auto entries, parse_index_entries(json, what));
  std::vector<Descriptor> manifests;
  for (auto& entry : entries) {
    if (!entry.descriptor) return input_error(entry.problem);
    manifests.push_back(std::move(*entry.descriptor));
  }
  return manifests;
}

Result<std::vector<IndexEntry>> read_index_entries(const std::string& layout_dir) {
  OCIPACK_TRY_ASSIGN(const std::string text, read_index_text(layout_dir));
  return parse_index_entries(text, where_of(trim_trailing_slashes(layout_dir)) + ": index.json");
}

Result<std::vector<Descriptor>> read_index(const std::string& layout_dir) {
  OCIPACK_TRY_ASSIGN(const std::string text, read_index_text(layout_dir));
  return parse_index(text, where_of(trim_trailing_slashes(layout_dir)) + ": index.json");
}

DocumentKind sniff_document_kind(std::string_view json) {
  if (!check_json_limits(json, "")) return DocumentKind::other;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return DocumentKind::other;
  simdjson::dom::object object;
  if (root.get_object().get(object)) return DocumentKind::other;
  DocumentKind kind = DocumentKind::other;
  for (simdjson::dom::key_value_pair member : object) {
    if (member.key == "manifests") return DocumentKind::index;
    if (member.key == "config" || member.key == "layers") kind = DocumentKind::manifest;
  }
  return kind;
}

Result<Manifest> parse_manifest(std::string_view json, const std::string& what) {
  FirstUnreadable sink;
  ManifestDocument document = read_manifest_document(json, what, nullptr, sink);
  if (sink.found()) return sink.error();
  Manifest manifest;
  manifest.config = std::move(*document.config);  // no unreadable problem: the config was there
  for (auto& layer : document.layers) manifest.layers.push_back(std::move(*layer));
  manifest.artifact_type = std::move(document.artifact_type);
  manifest.subject = std::move(document.subject);
  manifest.annotations = std::move(document.annotations);
  return manifest;
}

Result<RegularFile> open_blob(const std::string& layout_dir, const Descriptor& descriptor,
                              const std::string& what) {
  auto file = open_regular_file(trim_trailing_slashes(layout_dir), blob_relative_path(descriptor.digest));
  if (!file) return std::move(file).error().with_context(what + ": ");
  if (!*file) return input_error(what + " is missing");
  if ((*file)->size != descriptor.size)
    return corrupt_error(what + " is " + std::to_string((*file)->size) + " bytes, but its descriptor says " +
                         std::to_string(descriptor.size));
  return std::move(**file);
}

Result<std::string> read_blob(const std::string& layout_dir, const Descriptor& descriptor,
                              const std::string& what) {
  const std::string dir = trim_trailing_slashes(layout_dir);
  const std::string path = blob_path(dir, descriptor.digest);
  const std::string name = where_of(dir) + ": blob " + descriptor.digest.str() + " (" + what + ")";
  OCIPACK_TRY_ASSIGN(const RegularFile file, open_blob(dir, descriptor, name));
  if (descriptor.size > k_max_document_size)
    return input_error(name + " is too large to read (" + std::to_string(descriptor.size) + " bytes, limit " +
                       std::to_string(k_max_document_size) + ")");
  std::string data;
  data.resize(static_cast<size_t>(descriptor.size));
  size_t filled = 0;
  for (;;) {
    // Read one byte past the expected end to notice a file that grew.
    char extra = 0;
    char* target = filled < data.size() ? data.data() + filled : &extra;
    size_t room = filled < data.size() ? data.size() - filled : 1;
    ssize_t n = ::read(file.fd.get(), target, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(name + ": cannot read " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    if (filled >= data.size()) return corrupt_error(name + " changed size while being read");
    filled += static_cast<size_t>(n);
  }
  if (filled != data.size()) return corrupt_error(name + " changed size while being read");
  const Digest actual = Sha256::of(data);
  if (actual != descriptor.digest) return corrupt_error(name + " is corrupted: its content hashes to " + actual.str());
  return data;
}

Result<std::vector<Descriptor>> read_index_blob(const std::string& layout_dir, const Descriptor& descriptor,
                                                const std::string& what) {
  OCIPACK_TRY_ASSIGN(const std::string text, read_blob(layout_dir, descriptor, what));
  return parse_index(text, where_of(trim_trailing_slashes(layout_dir)) + ": image index " + descriptor.digest.str() +
                               " (" + what + ")");
}

Result<Descriptor> find_tagged_descriptor(const std::vector<IndexEntry>& entries, const std::string& tag,
                                          const std::string& where) {
  std::vector<const IndexEntry*> found;
  std::vector<std::string> tags;
  size_t untagged = 0;
  for (const auto& entry : entries) {
    if (!entry.tag) {
      ++untagged;
      continue;
    }
    if (*entry.tag == tag) found.push_back(&entry);
    if (std::find(tags.begin(), tags.end(), *entry.tag) == tags.end()) tags.push_back(*entry.tag);
  }
  if (found.empty()) {
    std::string message = where + " has no image tagged " + in_quotes(tag);
    if (tags.empty())
      message += " (it has no tagged images";
    else
      message += " (available tags: " + quoted_list(tags);
    if (untagged > 0) message += "; " + std::to_string(untagged) + " untagged manifest(s)";
    return input_error(message + ")");
  }
  if (found.size() > 1) {
    std::string positions;
    for (const auto* entry : found)
      positions += (positions.empty() ? "manifests[" : ", manifests[") + std::to_string(entry->position) + "]";
    return input_error(where + ": tag " + in_quotes(tag) + " is ambiguous: index.json has " +
                       std::to_string(found.size()) + " entries with it (" + positions + ")");
  }
  if (!found[0]->descriptor) return input_error(found[0]->problem);
  return *found[0]->descriptor;
}

// The index.json entry tagged `tag` (see load_image for the errors).
Result<Descriptor> find_tagged_entry(const std::string& layout_dir, const std::string& tag) {
  OCIPACK_TRY_ASSIGN(const auto source, open_layout_source(trim_trailing_slashes(layout_dir)));
  return find_tagged_entry(*source, tag);
}

Result<Descriptor> find_tagged_entry(const LayoutSource& source, const std::string& tag) {
  OCIPACK_TRY_ASSIGN(const auto entries, read_index_entries(source));
  return find_tagged_descriptor(entries, tag, source.where());
}

Result<std::vector<IndexEntry>> read_index_entries(const LayoutSource& source) {
  OCIPACK_TRY_ASSIGN(const std::string text, source.index_text());
  return parse_index_entries(text, source.where() + ": index.json");
}

Result<std::vector<Descriptor>> read_index_blob(const LayoutSource& source, const Descriptor& descriptor,
                                                const std::string& what) {
  OCIPACK_TRY_ASSIGN(const std::string text, source.read_document(descriptor, what));
  return parse_index(text, source.where() + ": image index " + descriptor.digest.str() + " (" + what + ")");
}

namespace {
// "linux/amd64, linux/arm64/v8, manifests[2] (no platform)".
std::string platform_list(const std::vector<Descriptor>& entries) {
  std::string out;
  for (size_t i = 0; i < entries.size(); ++i) {
    out += out.empty() ? "" : ", ";
    out += entries[i].platform ? printable(platform_text(*entries[i].platform))
                               : "manifests[" + std::to_string(i) + "] (no platform)";
  }
  return out;
}

// The entry of an image index to follow (see load_image). `index_name`
// introduces the index in messages ("layout 'x': tag 't' names an image index").
Result<Descriptor> choose_entry(const std::vector<Descriptor>& entries, const std::optional<Platform>& platform,
                                const std::string& index_name) {
  const std::string count = std::to_string(entries.size());
  if (!platform) {
    if (entries.size() == 1) return entries[0];
    if (entries.empty()) return input_error(index_name + " with no manifests");
    return input_error(index_name + " with " + count + " manifests: choose a platform (" + platform_list(entries) + ")");
  }
  std::vector<const Descriptor*> matches;
  for (const auto& entry : entries)
    if (entry.platform && platform_matches(*platform, *entry.platform)) matches.push_back(&entry);
  if (matches.size() == 1) return *matches[0];
  const std::string wanted = printable(platform_text(*platform));
  if (matches.empty())
    return input_error(index_name + " with no image for platform " + wanted + " (it has " + platform_list(entries) + ")");
  return input_error(index_name + " with " + std::to_string(matches.size()) + " images for platform " + wanted +
                     " (" + platform_list(entries) + "): name the variant too");
}

// Reads the manifest `image.manifest` names, its config, and checks its layers.
Status read_image_documents(const LayoutSource& source, const std::string& of_tag, LoadedImage& image) {
  const std::string& where = source.where();
  OCIPACK_TRY_ASSIGN(const std::string manifest_text, source.read_document(image.manifest, "manifest" + of_tag));
  OCIPACK_TRY_ASSIGN(image.manifest_doc,
                     parse_manifest(manifest_text, where + ": manifest " + image.manifest.digest.str() + of_tag));
  const Descriptor& config_descriptor = image.manifest_doc.config;
  OCIPACK_TRY_ASSIGN(image.config_json, source.read_document(config_descriptor, "config" + of_tag));
  const std::string config_what = where + ": config " + config_descriptor.digest.str() + of_tag;
  OCIPACK_TRY_ASSIGN(image.config, parse_config(image.config_json, config_what));
  for (const auto& layer : image.manifest_doc.layers)
    OCIPACK_TRY(source.open_blob(layer, where + ": layer " + layer.digest.str() + of_tag));
  if (image.config.diff_ids.size() != image.manifest_doc.layers.size())
    return input_error(config_what + " lists " + std::to_string(image.config.diff_ids.size()) + " diff_ids for " +
                       std::to_string(image.manifest_doc.layers.size()) + " layers");
  return ok_status();
}
}  // namespace

Result<LoadedImage> load_image(const std::string& layout_dir, const std::string& tag,
                               const std::optional<Platform>& platform) {
  OCIPACK_TRY_ASSIGN(const auto source, open_layout_source(trim_trailing_slashes(layout_dir)));
  return load_image(*source, tag, platform);
}

Result<LoadedImage> load_image(const LayoutSource& source, const std::string& tag,
                               const std::optional<Platform>& platform) {
  const std::string& where = source.where();
  const std::string of_tag = " of tag " + in_quotes(tag);
  LoadedImage image;
  OCIPACK_TRY_ASSIGN(image.manifest, find_tagged_entry(source, tag));
  constexpr size_t k_max_nesting = 8;
  while (is_index_media_type(image.manifest.media_type)) {
    if (image.indexes.size() == k_max_nesting)
      return input_error(where + ": image indexes" + of_tag + " are nested too deeply");
    OCIPACK_TRY_ASSIGN(const auto entries, read_index_blob(source, image.manifest, "image index" + of_tag));
    const std::string index_name = where + ": tag " + in_quotes(tag) +
                                   (image.indexes.empty() ? " names an image index"
                                                          : " leads to image index " + image.manifest.digest.str());
    image.indexes.push_back(image.manifest);
    OCIPACK_TRY_ASSIGN(image.manifest, choose_entry(entries, platform, index_name));
  }
  OCIPACK_TRY(read_image_documents(source, of_tag, image));
  if (platform && image.indexes.empty() && !platform_matches(*platform, platform_of(image.config)))
    return input_error(where + ": tag " + in_quotes(tag) + " names an image for " +
                       printable(platform_text(platform_of(image.config))) + ", not " +
                       printable(platform_text(*platform)));
  return image;
}

uint64_t image_size(const LoadedImage& image) {
  uint64_t total = static_cast<uint64_t>(image.manifest.size) + static_cast<uint64_t>(image.manifest_doc.config.size);
  for (const auto& layer : image.manifest_doc.layers) total += static_cast<uint64_t>(layer.size);
  return total;
}

}  // namespace ocipack
