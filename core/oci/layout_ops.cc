// Implementation of tags and inspect --json (see layout_ops.h).
#include "core/oci/layout_ops.h"
#include "core/oci/layout_store.h"
#include "core/oci/media_types.h"
#include "core/oci/referrers.h"
#include "core/util/text.h"
#include "core/util/file_io.h"

#include <map>
#include <nlohmann/json.hpp>

#include "core/util/path.h"
#include "core/util/text.h"

namespace ocipack {

namespace {

using Json = nlohmann::ordered_json;

// [{"artifactType","digest","size"}…]: referrers as inspect --json lists them.
Json referrers_json(const std::vector<Referrer>& referrers) {
  Json list = Json::array();
  for (const auto& r : referrers)
    list.push_back({{"artifactType", r.artifact_type}, {"digest", r.manifest.digest.str()}, {"size", r.manifest.size}});
  return list;
}

std::string_view trim_json_space(std::string_view text) {
  constexpr std::string_view k_space = " \t\r\n";
  const size_t begin = text.find_first_not_of(k_space);
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(k_space);
  return text.substr(begin, end - begin + 1);
}

// Kind, platforms and note of a readable entry.
void describe_entry(const LayoutSource& dir, TagInfo& info) {
  const std::string& type = info.manifest.media_type;
  if (is_manifest_media_type(type)) {
    info.kind = EntryKind::image;
  } else if (is_index_media_type(type)) {
    info.kind = EntryKind::index;
    const std::string what = info.tag.empty() ? "image index" : "image index of tag " + in_quotes(info.tag);
    auto entries = read_index_blob(dir, info.manifest, what);
    if (!entries) {
      info.note = entries.error().message;
      return;
    }
    info.index.emplace();
    for (const auto& entry : *entries) info.index->platforms.push_back(entry.platform);
  } else {
    info.note = "mediaType " + in_quotes(type) + " is neither an image manifest nor an image index";
  }
}

}  // namespace

Result<std::vector<TagInfo>> list_tags(const std::string& layout_dir) {
  OCIPACK_TRY_ASSIGN(const auto source, open_layout_source(trim_trailing_slashes(layout_dir)));
  const LayoutSource& dir = *source;
  OCIPACK_TRY_ASSIGN(auto entries, read_index_entries(dir));
  std::map<std::string, size_t> uses;
  for (const auto& entry : entries)
    if (entry.tag) ++uses[*entry.tag];
  std::vector<TagInfo> tags;
  for (auto& entry : entries) {
    if (entry.descriptor && is_referrer_entry(*entry.descriptor)) continue;  // inspect lists them, not tags
    TagInfo info;
    info.tag = entry.tag.value_or("");
    info.digest_text = entry.digest_text;
    if (!entry.descriptor) {
      info.readable = false;
      info.note = entry.problem;
    } else {
      info.manifest = std::move(*entry.descriptor);
      describe_entry(dir, info);
    }
    if (entry.tag && uses[*entry.tag] > 1) {
      const std::string ambiguous =
          "tag " + in_quotes(*entry.tag) + " is ambiguous (" + std::to_string(uses[*entry.tag]) + " entries carry it)";
      info.note = info.note.empty() ? ambiguous : ambiguous + "; " + info.note;
    }
    tags.push_back(std::move(info));
  }
  return tags;
}

std::string tags_json(const std::vector<TagInfo>& tags) {
  Json out = Json::array();
  for (const auto& info : tags) {
    Json j;
    j["tag"] = info.tag.empty() ? Json(nullptr) : Json(info.tag);
    j["digest"] = info.digest_text;
    j["size"] = info.readable ? Json(info.manifest.size) : Json(nullptr);
    j["kind"] = info.kind == EntryKind::image ? "image" : info.kind == EntryKind::index ? "index" : "other";
    if (info.index) {
      Json platforms = Json::array();
      for (const auto& platform : info.index->platforms)
        platforms.push_back(platform ? Json(platform_text(*platform)) : Json(nullptr));
      j["platforms"] = std::move(platforms);
    }
    if (!info.note.empty()) j["note"] = info.note;
    out.push_back(std::move(j));
  }
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<std::string> inspect_json(const std::string& layout_dir, const std::string& tag,
                                 const std::optional<Platform>& platform) {
  OCIPACK_TRY_ASSIGN(const LoadedImage image, load_image(layout_dir, tag, platform));
  auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };

  Json manifest;
  manifest["digest"] = image.manifest.digest.str();
  manifest["size"] = image.manifest.size;
  Json layers = Json::array();
  const auto& layer_descriptors = image.manifest_doc.layers;
  for (size_t i = 0; i < layer_descriptors.size(); ++i) {
    Json layer;
    layer["digest"] = layer_descriptors[i].digest.str();
    layer["size"] = layer_descriptors[i].size;
    layer["mediaType"] = layer_descriptors[i].media_type;
    layer["format"] = layer_format_name(layer_descriptors[i].media_type, layer_descriptors[i].annotations);
    layer["diff_id"] = image.config.diff_ids[i].str();  // load_image checked the counts match
    layers.push_back(std::move(layer));
  }
  // The config goes in verbatim (simdjson validated it while parsing), so a
  // consumer sees exactly the document the digest covers, unknown fields included.
  std::string out = "{\"tag\":" + dump(Json(tag)) + ",\"manifest\":" + dump(manifest) +
                    ",\"config_digest\":" + dump(Json(image.manifest_doc.config.digest.str())) + ",\"config\":";
  out += trim_json_space(image.config_json);
  out += ",\"layers\":" + dump(layers) + ",\"size\":" + std::to_string(image_size(image));
  OCIPACK_TRY_ASSIGN(const auto referrers, referrers_of_image(layout_dir, image));
  if (!referrers.empty()) out += ",\"referrers\":" + dump(referrers_json(referrers));
  return out + "}";
}

Result<std::optional<TaggedIndex>> read_tagged_index(const std::string& layout_dir, const std::string& tag) {
  OCIPACK_TRY_ASSIGN(const auto source, open_layout_source(trim_trailing_slashes(layout_dir)));
  const LayoutSource& dir = *source;
  OCIPACK_TRY_ASSIGN(const auto entries, read_index_entries(dir));
  OCIPACK_TRY_ASSIGN(Descriptor descriptor, find_tagged_descriptor(entries, tag, dir.where()));
  if (!is_index_media_type(descriptor.media_type)) return std::optional<TaggedIndex>();
  OCIPACK_TRY_ASSIGN(auto manifests, read_index_blob(dir, descriptor, "image index of tag " + in_quotes(tag)));
  OCIPACK_TRY_ASSIGN(auto all, list_referrers(dir));
  std::vector<Referrer> referrers;
  for (auto& referrer : all) {
    bool about = referrer.subject.digest == descriptor.digest;
    for (const auto& entry : manifests) about = about || referrer.subject.digest == entry.digest;
    if (about) referrers.push_back(std::move(referrer));
  }
  return std::optional<TaggedIndex>(TaggedIndex{std::move(descriptor), std::move(manifests), std::move(referrers)});
}

std::vector<Referrer> referrers_about(const std::vector<Referrer>& referrers, const Digest& subject) {
  std::vector<Referrer> out;
  for (const auto& referrer : referrers)
    if (referrer.subject.digest == subject) out.push_back(referrer);
  return out;
}

std::string tagged_index_json(const std::string& tag, const TaggedIndex& index) {
  auto descriptor = [](const Descriptor& d) {
    Json j;
    j["digest"] = d.digest.str();
    j["size"] = d.size;
    j["mediaType"] = d.media_type;
    return j;
  };
  Json out;
  out["tag"] = tag;
  out["index"] = descriptor(index.index);
  Json manifests = Json::array();
  for (const auto& entry : index.entries) {
    Json j;
    j["platform"] = entry.platform ? Json(platform_text(*entry.platform)) : Json(nullptr);
    j.update(descriptor(entry));
    if (auto about = referrers_about(index.referrers, entry.digest); !about.empty()) j["referrers"] = referrers_json(about);
    manifests.push_back(std::move(j));
  }
  out["manifests"] = std::move(manifests);
  if (auto own = referrers_about(index.referrers, index.index.digest); !own.empty()) out["referrers"] = referrers_json(own);
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace ocipack
