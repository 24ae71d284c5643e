// The build summary and the build --json document (see build_summary.h).
#include "cli/build_summary.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "cli/progress.h"
#include "core/layer/layer_format.h"
#include "core/oci/media_types.h"
#include "core/util/text.h"

namespace ocipack::cli {

std::string count_of(uint64_t count, std::string_view singular, std::string_view plural) {
  return std::to_string(count) + " " + std::string(count == 1 ? singular : plural);
}

std::string human_rate(uint64_t bytes, double seconds) {
  char text[64];
  std::snprintf(text, sizeof text, "%.1f MiB/s",
                seconds > 0 ? static_cast<double>(bytes) / seconds / (1024.0 * 1024.0) : 0.0);
  return text;
}

std::string built_reference(const BuildOptions& build) {
  return printable(build.layout_dir) + ":" + printable(build.image.tag);
}

namespace {
using Json = nlohmann::ordered_json;

// "  layer sha256:…: 10.0 MiB tar -> 3.1 MiB gzip (31.0%) in 10 chunks", and
// the cache line when the layer used a chunk cache.
std::string layer_lines(const LayerResult& s, LayerCompression compression) {
  const double percent = s.uncompressed_size ? 100.0 * static_cast<double>(s.compressed_size) /
                                                   static_cast<double>(s.uncompressed_size)
                                             : 0.0;
  char line[512];
  std::snprintf(line, sizeof line, "  layer %s: %s tar -> %s %s (%.1f%%) in %s\n", s.digest.str().c_str(),
                human_bytes(s.uncompressed_size).c_str(), human_bytes(s.compressed_size).c_str(),
                layer_compression_name(compression), percent, count_of(s.chunks, "chunk", "chunks").c_str());
  std::string out = line;
  if (s.cache.hits + s.cache.misses > 0) {
    std::snprintf(line, sizeof line, "  cache: %llu of %s reused (%llu from the remote), %.2f s of compression saved\n",
                  static_cast<unsigned long long>(s.cache.hits), count_of(s.chunks, "chunk", "chunks").c_str(),
                  static_cast<unsigned long long>(s.cache.remote_hits),
                  static_cast<double>(s.cache.saved_nanoseconds) / 1e9);
    out += line;
  }
  return out;
}

// "libdeflate level 6"-style text of the codec the build used ("?" cannot happen:
// the build resolved the same options).
std::string codec_text_of(const BuildOptions& build) {
  auto format = resolve_layer_format(build.layer.codec);
  return format.ok() ? (*format)->codec_text() : "?";
}

uint64_t tar_bytes_of(const BuildResult& result) {
  uint64_t total = 0;
  for (const auto& layer : result.layers) total += layer.stats.uncompressed_size;
  return total;
}

Json descriptor_json(const Descriptor& descriptor) {
  Json j;
  j["digest"] = descriptor.digest.str();
  j["size"] = descriptor.size;
  j["mediaType"] = descriptor.media_type;
  return j;
}

Json layer_json(const BuiltLayer& layer) {
  const LayerResult& s = layer.stats;
  Json j;
  j["digest"] = s.digest.str();
  j["diff_id"] = s.diff_id.str();
  j["size"] = s.compressed_size;
  j["uncompressed_size"] = s.uncompressed_size;
  j["mediaType"] = layer.descriptor.media_type;
  j["format"] = layer_format_name(layer.descriptor.media_type, layer.descriptor.annotations);
  j["chunks"] = s.chunks;
  return j;
}
}  // namespace

std::string format_build_summary(const BuildOptions& build, const BuildResult& result) {
  std::string out = "built " + built_reference(build) + " manifest " + result.manifest.digest.str() + "\n";
  for (const auto& tag : build.image.extra_tags)  // every further reference the build made
    out += "built " + printable(build.layout_dir) + ":" + printable(tag) + " manifest " + result.manifest.digest.str() + "\n";
  out += "  platform " + printable(platform_text(result.platform)) + ", config " + result.config.digest.str() + "\n";
  for (const auto& base_layer : result.base_layers)
    out += "  base layer " + base_layer.digest.str() + " (" + human_bytes(static_cast<uint64_t>(base_layer.size)) + ")\n";
  for (const auto& layer : result.layers) out += layer_lines(layer.stats, build.layer.codec.compression);
  char line[256];
  std::snprintf(line, sizeof line, "  %.2f s (%s of tar), %s, %s\n", result.seconds,
                human_rate(tar_bytes_of(result), result.seconds).c_str(),
                count_of(static_cast<uint64_t>(build.layer.threads), "thread", "threads").c_str(),
                codec_text_of(build).c_str());
  out += line;
  if (result.sbom)
    out += "  sbom referrer " + result.sbom->digest.str() + " (" + printable(result.sbom->artifact_type) + ")\n";
  if (build.tar_output) out += "  tarball " + printable(*build.tar_output) + "\n";
  return out;
}

std::string build_json(const BuildOptions& build, const BuildResult& result) {
  Json j;
  j["layout"] = build.layout_dir;
  j["tags"] = Json::array({build.image.tag});
  j["references"] = Json::array({build.layout_dir + ":" + build.image.tag});
  for (const auto& tag : build.image.extra_tags) {
    j["tags"].push_back(tag);
    j["references"].push_back(build.layout_dir + ":" + tag);
  }
  j["manifest"] = descriptor_json(result.manifest);
  j["config"] = descriptor_json(result.config);
  j["platform"] = {{"os", result.platform.os},
                   {"architecture", result.platform.architecture},
                   {"variant", result.platform.variant}};
  j["base_layers"] = Json::array();
  for (const auto& base_layer : result.base_layers) j["base_layers"].push_back(descriptor_json(base_layer));
  j["layers"] = Json::array();
  for (const auto& layer : result.layers) j["layers"].push_back(layer_json(layer));
  j["sbom"] = result.sbom ? Json{{"digest", result.sbom->digest.str()}, {"artifactType", result.sbom->artifact_type}}
                          : Json(nullptr);
  j["tarball"] = build.tar_output ? Json(*build.tar_output) : Json(nullptr);
  j["threads"] = build.layer.threads;
  j["codec"] = codec_text_of(build);
  const uint64_t graph = result.layers.empty() ? 0 : result.layers.front().stats.stats.wall_nanoseconds;
  j["timings"] = {{"build_seconds", result.seconds}, {"layer_graph_seconds", static_cast<double>(graph) / 1e9}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace ocipack::cli
