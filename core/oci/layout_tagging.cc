// Implementation of tag, untag and replaced_tags (see layout_tagging.h).
#include "core/oci/layout_tagging.h"

#include <set>

#include "core/oci/image_writer.h"
#include "core/oci/layout_ops.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_store.h"
#include "core/oci/media_types.h"
#include "core/util/path.h"

namespace ocipack {

namespace {
// The readable entry of `index_json` tagged `tag`; errors name `field`.
Result<Descriptor> tagged_entry(const std::string& index_json, const std::string& where, const std::string& tag,
                                const std::string& field) {
  OCIPACK_TRY_ASSIGN(const auto entries, parse_index_entries(index_json, where + ": index.json"));
  for (const IndexEntry& entry : entries) {
    if (entry.tag != tag) continue;
    if (!entry.descriptor)
      return field_error(ErrorKind::input, field, " '" + tag + "': the entry cannot be read: " + entry.problem);
    return *entry.descriptor;
  }
  return field_error(ErrorKind::input, field, " '" + tag + "': " + where + " has no such tag");
}

// The layout `layout_dir`, which must exist already, opened and locked.
Result<LayoutStore> open_existing(const std::string& layout_dir) {
  OCIPACK_TRY(read_index_text(layout_dir));  // a missing or broken layout: refused before it is locked
  OCIPACK_TRY_ASSIGN(LayoutStore store, LayoutStore::open_or_create(layout_dir));
  if (!store.existing_index()) return input_error("layout '" + store.dir() + "' has no index.json");
  return store;
}
}  // namespace

std::vector<ReplacedTag> replaced_tags(const std::optional<std::string>& existing_index,
                                       const std::vector<Descriptor>& entries) {
  std::vector<ReplacedTag> replaced;
  if (!existing_index) return replaced;
  auto existing = parse_index_entries(*existing_index, "index.json");
  if (!existing) return replaced;
  for (const Descriptor& entry : entries) {
    auto name = entry.annotations.find(k_annotation_ref_name);
    if (name == entry.annotations.end()) continue;
    for (const IndexEntry& old : *existing)
      if (old.tag == name->second && old.digest_text != entry.digest.str()) {
        replaced.push_back({name->second, old.digest_text});
        break;
      }
  }
  return replaced;
}

Result<TagResult> add_tags(const std::string& layout_dir, const std::string& source_tag,
                           const std::vector<std::string>& new_tags) {
  for (size_t i = 0; i < new_tags.size(); ++i)
    if (auto valid = validate_ref_name(new_tags[i]); !valid)
      return field_error(ErrorKind::usage, "new_tags[" + std::to_string(i) + "]", ": " + valid.error().message);
  OCIPACK_TRY_ASSIGN(LayoutStore store, open_existing(layout_dir));
  const std::string where = "layout '" + store.dir() + "'";
  TagResult result;
  OCIPACK_TRY_ASSIGN(result.target, tagged_entry(*store.existing_index(), where, source_tag, "source_tag"));
  std::vector<Descriptor> entries;
  for (const auto& tag : new_tags) {
    Descriptor entry = result.target;
    entry.annotations[k_annotation_ref_name] = tag;
    entries.push_back(std::move(entry));
  }
  result.replaced = replaced_tags(store.existing_index(), entries);
  OCIPACK_TRY_ASSIGN(const IndexPlan plan, plan_index(store, entries));
  OCIPACK_TRY(commit_index(store, plan));
  return result;
}

Result<std::string> default_image_tag(const std::string& layout_dir) {
  OCIPACK_TRY_ASSIGN(const auto tags, list_tags(layout_dir));
  std::string choices;
  std::set<std::string> images;  // digests: several tags of one image are one choice
  const TagInfo* tagged = nullptr;
  for (const TagInfo& info : tags) {
    if (info.tag == "latest") return info.tag;
    choices += (choices.empty() ? "" : ", ") + (info.tag.empty() ? "untagged " + info.digest_text : info.tag);
    images.insert(info.digest_text);
    if (!tagged && !info.tag.empty()) tagged = &info;
  }
  const std::string where = "layout '" + trim_trailing_slashes(layout_dir) + "'";
  if (images.empty()) return input_error(where + " holds no image");
  if (images.size() == 1 && tagged) return tagged->tag;
  if (images.size() == 1) return usage_error(where + " holds one image without a tag (" + choices + ")");
  return usage_error(where + " holds " + std::to_string(images.size()) +
                     " images and no tag was given: choose one of " + choices);
}

Result<Descriptor> remove_tag(const std::string& layout_dir, const std::string& tag) {
  OCIPACK_TRY_ASSIGN(LayoutStore store, open_existing(layout_dir));
  const std::string where = "layout '" + store.dir() + "'";
  OCIPACK_TRY_ASSIGN(const Descriptor removed, tagged_entry(*store.existing_index(), where, tag, "removed_tag"));
  OCIPACK_TRY_ASSIGN(const std::string index_json, drop_tagged_entries(*store.existing_index(), tag));
  OCIPACK_TRY(commit_index(store, IndexPlan{index_json}));
  return removed;
}

}  // namespace ocipack
