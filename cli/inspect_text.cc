// Human-readable inspect and tags text (see inspect_text.h).
#include "cli/inspect_text.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/oci/media_types.h"
#include "core/util/text.h"

namespace ocipack::cli {

namespace {

std::string human_size(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* k_units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(k_units)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", value, k_units[unit]);
  return buf;
}

// Argument vectors as JSON arrays: unambiguous about spaces and quoting.
std::string json_array(const std::vector<std::string>& values) {
  return nlohmann::json(values).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void line(std::string& out, std::string_view label, std::string_view value) {
  out += label;
  out += ':';
  out.append(label.size() < 13 ? 13 - label.size() : 1, ' ');
  out += value;
  out += '\n';
}

std::string digest_and_size(const Descriptor& d) {
  return d.digest.str() + " (" + size_text(static_cast<uint64_t>(d.size)) + ")";
}

void container_config_lines(std::string& out, const ContainerConfig& cc) {
  if (!cc.user.empty()) line(out, "User", printable(cc.user));
  if (!cc.entrypoint.empty()) line(out, "Entrypoint", json_array(cc.entrypoint));
  if (!cc.cmd.empty()) line(out, "Cmd", json_array(cc.cmd));
  if (!cc.working_dir.empty()) line(out, "WorkingDir", printable(cc.working_dir));
  if (!cc.stop_signal.empty()) line(out, "StopSignal", printable(cc.stop_signal));
  if (!cc.exposed_ports.empty()) {
    std::string ports;
    for (const auto& port : cc.exposed_ports) ports += (ports.empty() ? "" : " ") + printable(port);
    line(out, "ExposedPorts", ports);
  }
  if (!cc.env.empty()) {
    out += "Env:\n";
    for (const auto& entry : cc.env) out += "  " + printable(entry) + "\n";
  }
  if (!cc.labels.empty()) {
    out += "Labels:\n";
    for (const auto& [key, value] : cc.labels) out += "  " + printable(key) + "=" + printable(value) + "\n";
  }
}

void layer_and_history_lines(std::string& out, const LoadedImage& image) {
  const auto& layers = image.manifest_doc.layers;
  line(out, "Layers", std::to_string(layers.size()));
  for (size_t i = 0; i < layers.size(); ++i) {
    out += "  " + layers[i].digest.str() + "  " + size_text(static_cast<uint64_t>(layers[i].size)) + "\n";
    out += "    diff_id " + image.config.diff_ids[i].str() + "\n";  // load_image checked the counts match
    out += "    format  " + std::string(layer_format_name(layers[i].media_type, layers[i].annotations)) + "\n";
  }
  line(out, "Total size", size_text(image_size(image)));
  if (image.config.history.empty()) return;
  out += "History:\n";
  for (const auto& h : image.config.history) {
    out += "  " + (h.created.empty() ? std::string("-") : printable(h.created)) + "  " +
           (h.created_by.empty() ? std::string("-") : printable(h.created_by));
    if (!h.author.empty()) out += "  author: " + printable(h.author);
    if (!h.comment.empty()) out += "  comment: " + printable(h.comment);
    if (h.empty_layer) out += "  (empty layer)";
    out += "\n";
  }
}

}  // namespace

std::string size_text(uint64_t bytes) {
  std::string text = human_size(bytes);
  if (bytes >= 1024) text += " (" + std::to_string(bytes) + " bytes)";
  return text;
}

std::string format_inspect_text(const std::string& tag, const LoadedImage& image) {
  const ImageConfig& c = image.config;
  std::string out;
  line(out, "Tag", printable(tag));
  if (!image.indexes.empty()) line(out, "Index", digest_and_size(image.indexes.front()));
  line(out, "Manifest", digest_and_size(image.manifest));
  line(out, "Config", digest_and_size(image.manifest_doc.config));
  if (!c.created.empty()) line(out, "Created", printable(c.created));
  if (!c.author.empty()) line(out, "Author", printable(c.author));
  Platform platform;
  platform.os = c.os;
  platform.architecture = c.architecture;
  platform.variant = c.variant;
  line(out, "Platform", printable(platform_text(platform)));
  container_config_lines(out, c.config);
  layer_and_history_lines(out, image);
  return out;
}

Result<std::string> inspect_text(const std::string& layout_dir, const std::string& tag,
                                 const std::optional<Platform>& platform) {
  OCIPACK_TRY_ASSIGN(const LoadedImage image, load_image(layout_dir, tag, platform));
  OCIPACK_TRY_ASSIGN(const auto referrers, referrers_of_image(layout_dir, image));
  return format_inspect_text(tag, image) + format_referrers_text(referrers);
}

std::string format_referrers_text(const std::vector<Referrer>& referrers) {
  if (referrers.empty()) return "";
  std::string out = "Referrers:\n";
  for (const auto& r : referrers)
    out += "  " + r.manifest.digest.str() + "  " + printable(r.artifact_type) + "  " +
           size_text(static_cast<uint64_t>(r.manifest.size)) + "\n";
  return out;
}

std::string format_index_text(const std::string& tag, const TaggedIndex& index) {
  std::string out;
  line(out, "Tag", printable(tag));
  line(out, "Index", digest_and_size(index.index));
  line(out, "Platforms", std::to_string(index.entries.size()));
  for (const auto& entry : index.entries) {
    std::string platform = entry.platform ? printable(platform_text(*entry.platform)) : "unknown";
    platform.resize(std::max<size_t>(platform.size(), 16), ' ');
    out += "  " + platform + "  " + digest_and_size(entry) + "\n";
    for (const auto& r : referrers_about(index.referrers, entry.digest))
      out += "    referrer " + r.manifest.digest.str() + "  " + printable(r.artifact_type) + "  " +
             size_text(static_cast<uint64_t>(r.manifest.size)) + "\n";
  }
  out += format_referrers_text(referrers_about(index.referrers, index.index.digest));
  out += "(choose one with --platform OS/ARCH[/VARIANT])\n";
  return out;
}

std::string format_tag_row(const TagInfo& info) {
  std::string row = (info.tag.empty() ? "<untagged>" : printable(info.tag)) + "\t" +
                    printable(info.digest_text.empty() ? "-" : info.digest_text) + "\t";
  row += info.readable ? std::to_string(info.manifest.size) : "-";
  std::string extra;
  if (info.index) {
    const auto& platforms = info.index->platforms;
    extra = "image index, " + std::to_string(platforms.size()) + (platforms.size() == 1 ? " platform" : " platforms");
    std::string list;
    for (const auto& platform : platforms)
      list += (list.empty() ? "" : ", ") + (platform ? printable(platform_text(*platform)) : std::string("unknown"));
    if (!list.empty()) extra += ": " + list;
  }
  if (!info.note.empty()) extra += (extra.empty() ? "" : "; ") + printable(info.note);
  if (!extra.empty()) row += "\t(" + extra + ")";
  return row;
}

}  // namespace ocipack::cli
