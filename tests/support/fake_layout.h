// FakeLayout: an OCI image layout written by hand in a test's directory —
// blobs named by their SHA-256, config and manifest made with
// encode_config/encode_manifest, index.json with update_index — so the layout
// reader and layout operation tests do not depend on the pipeline. Layer
// blobs hold any text; their diff_ids are the hash of "tar:" + that text
// (nothing here decompresses layers).
#pragma once

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/oci/oci_json.h"
#include "core/util/sha256.h"
#include "test_helpers.h"

namespace ocipack::testing {

struct FakeImage {
  Descriptor manifest;  // without annotations
  Descriptor config;
  std::vector<Descriptor> layers;
  std::string config_json;
};

class FakeLayout {
 public:
  // oci-layout and blobs/sha256; index.json only with `with_empty_index`
  // (the first tag() writes it otherwise).
  explicit FakeLayout(std::string dir, bool with_empty_index = false) : m_dir(std::move(dir)) {
    make_dirs(m_dir + "/blobs/sha256");
    write_text(m_dir + "/oci-layout", k_oci_layout_json);
    if (with_empty_index) write_text(m_dir + "/index.json", R"({"schemaVersion":2,"manifests":[]})");
  }
  const std::string& dir() const { return m_dir; }
  std::string blobs() const { return m_dir + "/blobs/sha256"; }
  std::string path_of(const Descriptor& d) const { return blobs() + "/" + d.digest.hex(); }

  Descriptor blob(const std::string& data, const std::string& media_type) {
    Descriptor d{media_type, Sha256::of(data), static_cast<int64_t>(data.size()), {}};
    write_text(path_of(d), data);
    return d;
  }

  // An image with one layer blob per content.
  FakeImage image(const std::vector<std::string>& layer_contents, ImageConfig config = base_config()) {
    FakeImage out;
    config.diff_ids.clear();
    for (const auto& content : layer_contents) {
      out.layers.push_back(blob(content, k_media_type_layer_gzip));
      config.diff_ids.push_back(Sha256::of("tar:" + content));
    }
    auto config_json = encode_config(config);
    EXPECT_TRUE(config_json.ok());
    out.config_json = *config_json;
    out.config = blob(out.config_json, k_media_type_config);
    auto manifest_json = encode_manifest(Manifest{out.config, out.layers});
    EXPECT_TRUE(manifest_json.ok());
    out.manifest = blob(*manifest_json, k_media_type_manifest);
    return out;
  }

  // A nested image index blob listing `entries`.
  Descriptor index_blob(const std::vector<Descriptor>& entries) {
    nlohmann::ordered_json j;
    j["schemaVersion"] = 2;
    j["mediaType"] = k_media_type_index;
    j["manifests"] = nlohmann::ordered_json::array();
    for (const auto& e : entries)
      j["manifests"].push_back({{"mediaType", e.media_type}, {"digest", e.digest.str()}, {"size", e.size}});
    return blob(j.dump(), k_media_type_index);
  }

  // Adds (or replaces) an index.json entry, as a build does.
  void tag(Descriptor manifest, const std::string& tag) {
    if (!tag.empty()) manifest.annotations[k_annotation_ref_name] = tag;
    std::optional<std::string> existing;
    if (::access((m_dir + "/index.json").c_str(), F_OK) == 0) existing = read_text(m_dir + "/index.json");
    auto index = update_index(existing, manifest);
    ASSERT_TRUE(index.ok());
    write_text(m_dir + "/index.json", *index);
  }

  static ImageConfig base_config() {
    ImageConfig c;
    c.created = "2024-01-02T03:04:05Z";
    c.architecture = "amd64";
    c.os = "linux";
    return c;
  }

 private:
  std::string m_dir;
};

// An image config with every field ocipack models set, including a label
// with an escape sequence (for output that must neutralise it).
inline ImageConfig rich_config() {
  ImageConfig c;
  c.created = "2024-01-02T03:04:05Z";
  c.author = "Jane <jane@example.com>";
  c.architecture = "arm64";
  c.variant = "v8";
  c.os = "linux";
  c.config.user = "1000:1000";
  c.config.exposed_ports = {"443/tcp", "80/tcp"};
  c.config.env = {"PATH=/usr/bin:/bin", "GREETING=hello world"};
  c.config.entrypoint = {"/bin/sh", "-c"};
  c.config.cmd = {"echo hi"};
  c.config.working_dir = "/srv";
  c.config.labels = {{"org.opencontainers.image.title", "demo"}, {"evil", "a\x1b[2Jb"}};
  c.config.stop_signal = "SIGTERM";
  HistoryEntry h;
  h.created = "2024-01-02T03:04:05Z";
  h.created_by = "ocipack build";
  h.author = "Jane";
  h.comment = "first";
  c.history = {h};
  return c;
}

}  // namespace ocipack::testing
