// Implementation of write_layout_index (see layout_index.h). A source is
// read through a LayoutSource (layout_source.h) — a directory or a tarball —
// so every document and blob is checked against its descriptor the same way
// for both. All sources are read and checked before anything is written.
#include "core/oci/layout_index.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "core/oci/config_reader.h"
#include "core/oci/image_writer.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_store.h"
#include "core/oci/layout_source.h"
#include "core/oci/media_types.h"
#include "core/oci/referrers.h"
#include "core/util/file_io.h"
#include "core/util/path.h"
#include "core/util/sha256.h"
#include "core/util/text.h"

namespace ocipack {

namespace {
constexpr size_t k_max_index_nesting = 8;

// A directory is a layout, a regular file a layout tarball (the path the
// user gave may be a symlink to either).
Result<std::unique_ptr<LayoutSource>> open_source(const std::string& path_in) {
  const std::string path = trim_trailing_slashes(path_in);
  struct stat st {};
  if (path.empty()) return usage_error("the layout path is empty");
  if (::stat(path.c_str(), &st) != 0) return input_error("cannot access '" + path + "': " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) return open_layout_directory(path);
  if (!S_ISREG(st.st_mode)) return input_error("'" + path + "' is neither a layout directory nor a layout tarball");
  return open_layout_tarball(path);
}

// One image to list in the index, read and checked, not yet copied.
struct TakenImage {
  const LayoutSource* source = nullptr;
  std::string field;  // "sources[1]"
  std::string label;  // "'dir:tag'"
  Descriptor entry;   // the manifest descriptor as the index lists it
  std::string manifest_json, config_json;
  Manifest manifest;
};

// "sources[1] 'dir:tag': <message>", of the error's kind.
Error about_source(const std::string& field, const std::string& label, const Error& error) {
  return field_error(error.kind, field, " " + label + ": " + error.message);
}

// Reads the images a source's entry `descriptor` stands for into `out`:
// itself when it is an image manifest; with `flatten`, the images of an
// image index (nested ones followed; `path` holds the indexes above, so one
// that names itself is refused).
class ImageCollector {
 public:
  ImageCollector(const LayoutSource& source, std::string field, std::string label, bool flatten)
      : m_source(source), m_field(std::move(field)), m_label(std::move(label)), m_flatten(flatten) {}

  Status take(const Descriptor& descriptor, std::vector<Digest>& path, std::vector<TakenImage>& out) const {
    if (is_manifest_media_type(descriptor.media_type)) return take_image(descriptor, out);
    if (!is_index_media_type(descriptor.media_type))
      return fail(input_error(m_source.where() + ": " + descriptor.digest.str() + " has mediaType " +
                              in_quotes(descriptor.media_type) + ", neither an image manifest nor an image index"));
    if (!m_flatten)
      return field_error(ErrorKind::input, m_field, " " + m_label + " names an image index; ")
          .then_field("flatten")
          .then(" takes its images as entries");
    if (std::find(path.begin(), path.end(), descriptor.digest) != path.end())
      return fail(input_error(m_source.where() + ": image index " + descriptor.digest.str() + " contains itself"));
    if (path.size() == k_max_index_nesting)
      return fail(input_error(m_source.where() + ": image indexes are nested more than " +
                              std::to_string(k_max_index_nesting) + " deep"));
    OCIPACK_TRY_ASSIGN(const std::string text, read(descriptor, "image index"));
    auto children = parse_index(text, m_source.where() + ": image index " + descriptor.digest.str());
    if (!children) return fail(children.error());
    path.push_back(descriptor.digest);
    for (const auto& child : *children) OCIPACK_TRY(take(child, path, out));
    path.pop_back();
    return ok_status();
  }

 private:
  Error fail(const Error& error) const { return about_source(m_field, m_label, error); }
  Result<std::string> read(const Descriptor& descriptor, const std::string& what) const {
    auto text = m_source.read_document(descriptor, what);
    if (!text) return fail(text.error());
    return text;
  }

  Status take_image(const Descriptor& descriptor, std::vector<TakenImage>& out) const {
    TakenImage image{&m_source, m_field, m_label, descriptor, {}, {}, {}};
    image.entry.annotations.erase(k_annotation_ref_name);
    OCIPACK_TRY_ASSIGN(image.manifest_json, read(descriptor, "manifest"));
    const std::string where = m_source.where() + ": ";
    auto manifest = parse_manifest(image.manifest_json, where + "manifest " + descriptor.digest.str());
    if (!manifest) return fail(manifest.error());
    image.manifest = std::move(*manifest);
    OCIPACK_TRY_ASSIGN(image.config_json, read(image.manifest.config, "config"));
    auto config = parse_config(image.config_json, where + "config " + image.manifest.config.digest.str());
    if (!config) return fail(config.error());
    image.entry.platform = platform_of(*config);
    out.push_back(std::move(image));
    return ok_status();
  }

  const LayoutSource& m_source;
  std::string m_field, m_label;
  bool m_flatten;
};

// A referrer a source lists for one of its images taken (an SBOM), read
// and checked, not yet copied.
struct TakenReferrer {
  const LayoutSource* source = nullptr;
  std::string field, label;
  Descriptor entry;  // the source's index.json entry: artifactType, no ref.name
  std::string manifest_json;
  Manifest manifest;
};

// The referrer entries of a source's index.json (is_referrer_entry, an
// image manifest) whose manifests carry a subject, each read and checked
// against its digest (one that cannot be read fails the source).
Result<std::vector<TakenReferrer>> read_referrers(const LayoutSource& source, const std::vector<IndexEntry>& entries,
                                                  const std::string& field, const std::string& label) {
  std::vector<TakenReferrer> out;
  for (const auto& index_entry : entries) {
    if (!index_entry.descriptor) continue;
    const Descriptor& entry = *index_entry.descriptor;
    if (!is_referrer_entry(entry) || !is_manifest_media_type(entry.media_type)) continue;
    const std::string what = "referrer " + entry.digest.str();
    auto text = source.read_document(entry, "referrer");
    if (!text) return about_source(field, label, text.error());
    auto manifest = parse_manifest(*text, source.where() + ": " + what);
    if (!manifest) return about_source(field, label, manifest.error());
    if (!manifest->subject) continue;
    out.push_back(TakenReferrer{&source, field, label, entry, std::move(*text), std::move(*manifest)});
  }
  return out;
}

// Moves into `taken` the referrers whose subject is in `subjects` (the
// manifests of the source's images), then, in rounds, those whose subject is
// a referrer moved (a signature of an SBOM); each round in index.json order.
// A referrer already in `taken` (same digest) is listed once.
void take_referrers(std::vector<TakenReferrer> candidates, std::vector<Digest> subjects,
                    std::vector<TakenReferrer>& taken) {
  auto listed = [](const std::vector<Digest>& digests, const Digest& digest) {
    return std::find(digests.begin(), digests.end(), digest) != digests.end();
  };
  std::vector<bool> moved(candidates.size(), false);
  for (bool more = true; more;) {
    more = false;
    std::vector<Digest> next;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (moved[i] || !listed(subjects, candidates[i].manifest.subject->digest)) continue;
      moved[i] = more = true;
      next.push_back(candidates[i].entry.digest);
      const bool duplicate = std::any_of(taken.begin(), taken.end(), [&](const TakenReferrer& r) {
        return r.entry.digest == candidates[i].entry.digest;
      });
      if (!duplicate) taken.push_back(std::move(candidates[i]));
    }
    subjects.insert(subjects.end(), next.begin(), next.end());
  }
}

// The images of one list of the request ("sources" or "add"), their
// referrers, and the layouts they are read from (kept open until their
// blobs are copied).
struct CollectedImages {
  std::vector<std::unique_ptr<LayoutSource>> layouts;
  std::vector<TakenImage> images;
  std::vector<TakenReferrer> referrers;
};

Status collect(const std::vector<IndexSource>& list, const std::string& name, bool flatten, CollectedImages& out) {
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = name + "[" + std::to_string(i) + "]";
    const std::string label = in_quotes(list[i].path + ":" + list[i].tag);
    if (auto valid = validate_ref_name(list[i].tag); !valid) return about_source(field, label, valid.error());
    auto layout = open_source(list[i].path);
    if (!layout) return about_source(field, label, layout.error());
    const LayoutSource& source = **layout;
    auto text = source.index_text();
    if (!text) return about_source(field, label, text.error());
    auto entries = parse_index_entries(*text, source.where() + ": index.json");
    if (!entries) return about_source(field, label, entries.error());
    auto entry = find_tagged_descriptor(*entries, list[i].tag, source.where());
    if (!entry) return about_source(field, label, entry.error());
    std::vector<Digest> path;
    const size_t first = out.images.size();
    OCIPACK_TRY(ImageCollector(source, field, label, flatten).take(*entry, path, out.images));
    std::vector<Digest> subjects;
    for (size_t taken = first; taken < out.images.size(); ++taken) subjects.push_back(out.images[taken].entry.digest);
    OCIPACK_TRY_ASSIGN(auto referrers, read_referrers(source, *entries, field, label));
    take_referrers(std::move(referrers), std::move(subjects), out.referrers);
    out.layouts.push_back(std::move(*layout));
  }
  return ok_status();
}

// Two images of one platform: an error naming both and the platform.
Status refuse_same_platform(const std::vector<TakenImage>& images) {
  for (size_t i = 0; i < images.size(); ++i)
    for (size_t j = i + 1; j < images.size(); ++j)
      if (same_platform(*images[i].entry.platform, *images[j].entry.platform))
        return field_error(ErrorKind::input, images[i].field, " " + images[i].label + " and ")
            .then_field(images[j].field)
            .then(" " + images[j].label + " are both for the platform " +
                  printable(platform_text(*images[i].entry.platform)) + " (an index lists one image per platform)");
  return ok_status();
}

// One entry of the index being made: an entry of the edited index (its
// position there, so edit_image_index keeps it whole) or a new image's.
struct IndexSlot {
  Descriptor entry;
  std::optional<size_t> kept;
};

// "linux/amd64, linux/arm64/v8": the platforms of an index's entries.
std::string platform_list(const std::vector<IndexSlot>& slots) {
  std::string out;
  for (const auto& slot : slots)
    out += (out.empty() ? "" : ", ") +
           (slot.entry.platform ? printable(platform_text(*slot.entry.platform)) : "unknown");
  return out.empty() ? "no entries" : out;
}

// The index tagged `tag` in the output layout, to be edited: its index.json
// entry (whose annotations the new entry keeps), its document as stored
// (what the edit does not change is kept from it) and its entries.
struct ExistingIndex {
  Descriptor entry;
  std::string document;
  std::vector<IndexSlot> slots;
};

Result<ExistingIndex> read_existing_index(const LayoutStore& store, const std::string& tag) {
  const std::string where = "layout '" + store.dir() + "'";
  auto fail = [&](const Error& error) { return field_error(error.kind, "tag", " " + in_quotes(tag) + ": " + error.message); };
  if (!store.existing_index()) return fail(input_error(where + " has no index.json yet: there is no index to edit"));
  auto entries = parse_index_entries(*store.existing_index(), where + ": index.json");
  if (!entries) return fail(entries.error());
  auto entry = find_tagged_descriptor(*entries, tag, where);
  if (!entry) return fail(entry.error());
  if (!is_index_media_type(entry->media_type)) return fail(input_error(where + ": the tag names an image, not an image index"));
  const std::string what = "image index of tag " + in_quotes(tag);
  auto document = read_blob(store.dir(), *entry, what);
  if (!document) return fail(document.error());
  auto manifests = parse_index(*document, where + ": image index " + entry->digest.str() + " (" + what + ")");
  if (!manifests) return fail(manifests.error());
  ExistingIndex existing{*entry, std::move(*document), {}};
  for (size_t i = 0; i < manifests->size(); ++i) existing.slots.push_back({std::move((*manifests)[i]), i});
  return existing;
}

// Drops the one entry matching each platform of `remove`.
Status remove_entries(std::vector<IndexSlot>& slots, const std::vector<Platform>& remove) {
  for (size_t i = 0; i < remove.size(); ++i) {
    const std::string field = "remove[" + std::to_string(i) + "]";
    const std::string wanted = printable(platform_text(remove[i]));
    std::vector<size_t> matches;
    for (size_t e = 0; e < slots.size(); ++e)
      if (slots[e].entry.platform && platform_matches(remove[i], *slots[e].entry.platform)) matches.push_back(e);
    if (matches.empty())
      return field_error(ErrorKind::input, field, " " + wanted + ": the index has no entry for it (it has " +
                                                      platform_list(slots) + ")");
    if (matches.size() > 1)
      return field_error(ErrorKind::input, field, " " + wanted + " matches " + std::to_string(matches.size()) +
                                                      " entries (" + platform_list(slots) + "): name the variant");
    slots.erase(slots.begin() + static_cast<std::ptrdiff_t>(matches[0]));
  }
  return ok_status();
}

// Replaces the entry of each image's platform in place, or appends one.
void add_entries(std::vector<IndexSlot>& slots, const std::vector<TakenImage>& images) {
  for (const auto& image : images) {
    auto same = std::find_if(slots.begin(), slots.end(), [&](const IndexSlot& slot) {
      return slot.entry.platform && same_platform(*slot.entry.platform, *image.entry.platform);
    });
    if (same != slots.end()) *same = IndexSlot{image.entry, std::nullopt};
    else slots.push_back(IndexSlot{image.entry, std::nullopt});
  }
}

// Copies `blobs` of a source's image or referrer into `store`, each checked.
Status copy_blobs(LayoutStore& store, const LayoutSource& source, const std::string& field, const std::string& label,
                  const std::vector<Descriptor>& blobs, const std::string& what) {
  for (size_t i = 0; i < blobs.size(); ++i) {
    auto copied = source.copy_blob(store, blobs[i], what + " " + std::to_string(i));
    if (!copied) return about_source(field, label, copied.error());
  }
  return ok_status();
}

// The layers, config and manifest of `image`, each checked as it is copied.
Status copy_image(LayoutStore& store, const TakenImage& image) {
  OCIPACK_TRY(copy_blobs(store, *image.source, image.field, image.label, image.manifest.layers, "layer"));
  OCIPACK_TRY(store.put_blob(image.config_json, image.manifest.config.media_type));
  OCIPACK_TRY(store.put_blob(image.manifest_json, image.entry.media_type));
  return ok_status();
}

// The config and layers (the document) of a referrer, then its manifest.
Status copy_referrer(LayoutStore& store, const TakenReferrer& referrer) {
  OCIPACK_TRY(copy_blobs(store, *referrer.source, referrer.field, referrer.label, {referrer.manifest.config},
                         "referrer " + referrer.entry.digest.str() + " config"));
  OCIPACK_TRY(copy_blobs(store, *referrer.source, referrer.field, referrer.label, referrer.manifest.layers,
                         "referrer " + referrer.entry.digest.str() + " layer"));
  OCIPACK_TRY(store.put_blob(referrer.manifest_json, referrer.entry.media_type));
  return ok_status();
}

// The index document: a new one (encode_index), or the edited one with
// what the edit does not change kept (edit_image_index).
Result<std::string> index_document(const IndexRequest& request, const ExistingIndex& target, bool edit) {
  if (!edit) {
    ImageIndex index{{}, request.document_annotations};
    for (const auto& slot : target.slots) index.manifests.push_back(slot.entry);
    return encode_index(index);
  }
  std::vector<IndexEntryEdit> edits;
  for (const auto& slot : target.slots) edits.push_back(IndexEntryEdit{slot.kept, slot.kept ? Descriptor{} : slot.entry});
  return edit_image_index(target.document, edits, request.document_annotations,
                          "image index " + target.entry.digest.str() + " of tag " + in_quotes(request.tag));
}

Result<IndexResult> write_into(LayoutStore& store, const IndexRequest& request, const CollectedImages& collected) {
  const bool edit = !request.add.empty() || !request.remove.empty();
  ExistingIndex target;
  if (edit) {
    OCIPACK_TRY_ASSIGN(target, read_existing_index(store, request.tag));
    OCIPACK_TRY(remove_entries(target.slots, request.remove));
  }
  add_entries(target.slots, collected.images);
  if (target.slots.empty())
    return field_error(ErrorKind::input, "remove", " would leave the index of tag " + in_quotes(request.tag) + " empty");
  for (const auto& image : collected.images) OCIPACK_TRY(copy_image(store, image));
  for (const auto& referrer : collected.referrers) OCIPACK_TRY(copy_referrer(store, referrer));
  OCIPACK_TRY_ASSIGN(const std::string document, index_document(request, target, edit));
  std::map<std::string, std::string> annotations = edit ? target.entry.annotations : std::map<std::string, std::string>{};
  for (const auto& [key, value] : request.index_annotations) annotations[key] = value;
  annotations[k_annotation_ref_name] = request.tag;
  OCIPACK_TRY_ASSIGN(Descriptor index, write_image_index(store, document, annotations));
  IndexResult result{index, {}, {}};
  for (const auto& slot : target.slots) result.entries.push_back(slot.entry);
  std::vector<Descriptor> commit{index};
  for (const auto& referrer : collected.referrers) result.referrers.push_back(referrer.entry);
  commit.insert(commit.end(), result.referrers.begin(), result.referrers.end());
  OCIPACK_TRY_ASSIGN(const IndexPlan plan, plan_index(store, commit));
  OCIPACK_TRY(commit_index(store, plan));
  return result;
}

Status check_request(const IndexRequest& request) {
  if (auto valid = validate_ref_name(request.tag); !valid)
    return field_error(ErrorKind::usage, "tag", ": " + valid.error().message);
  const bool edit = !request.add.empty() || !request.remove.empty();
  if (edit && !request.sources.empty())
    return field_error(ErrorKind::usage, "sources", " make a new index; they cannot be combined with ")
        .then_field("add")
        .then(" or ")
        .then_field("remove")
        .then(", which edit the existing one");
  if (!edit && request.sources.empty())
    return field_error(ErrorKind::usage, "sources", ": no image given (an index needs at least one)");
  OCIPACK_TRY(check_annotation_keys(request.document_annotations, "document_annotations"));
  OCIPACK_TRY(check_annotation_keys(request.index_annotations, "index_annotations"));
  return ok_status();
}
}  // namespace

Result<IndexResult> write_layout_index(const IndexRequest& request) {
  OCIPACK_TRY(check_request(request));
  const bool edit = !request.add.empty() || !request.remove.empty();
  CollectedImages collected;
  OCIPACK_TRY(collect(edit ? request.add : request.sources, edit ? "add" : "sources", request.flatten, collected));
  OCIPACK_TRY(refuse_same_platform(collected.images));
  auto store = LayoutStore::open_or_create(request.layout_dir);
  if (!store) return field_error(store.error().kind, "layout_dir", ": " + store.error().message);
  auto result = write_into(*store, request, collected);
  if (!result) store->discard_changes();
  return result;
}

}  // namespace ocipack
