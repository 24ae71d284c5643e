// Tests for cli/build_summary.cc: counts take the right plural, rates are in
// MiB/s, the summary's first line says what it names (the reference and the
// manifest digest) and shows the platform; build --json is one valid
// document with its keys in the documented order and the result's values.
#include "cli/build_summary.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/oci/media_types.h"
#include "core/util/sha256.h"

namespace ocipack::cli {
namespace {

TEST(BuildSummary, CountsTakeTheRightPlural) {
  EXPECT_EQ(count_of(0, "chunk", "chunks"), "0 chunks");
  EXPECT_EQ(count_of(1, "chunk", "chunks"), "1 chunk");
  EXPECT_EQ(count_of(2, "chunk", "chunks"), "2 chunks");
  EXPECT_EQ(count_of(1, "thread", "threads"), "1 thread");
}

TEST(BuildSummary, RatesAreMebibytesPerSecond) {
  EXPECT_EQ(human_rate(3 * 1024 * 1024, 2.0), "1.5 MiB/s");
  EXPECT_EQ(human_rate(100, 0.0), "0.0 MiB/s");
}

Descriptor descriptor(std::string media_type, Digest digest, int64_t size) {
  Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = digest;
  d.size = size;
  return d;
}

struct Fixture {
  BuildOptions build;
  BuildResult result;
  Fixture() {
    build.layout_dir = "out";
    build.image.tag = "v1";
    build.layer.threads = 1;
    result.manifest = descriptor(k_media_type_manifest, Sha256::of("manifest"), 500);
    result.config = descriptor(k_media_type_config, Sha256::of("config"), 300);
    result.platform = {"arm64", "linux", "", {}, "v8"};
    LayerResult layer;
    layer.digest = Sha256::of("blob");
    layer.diff_id = Sha256::of("tar");
    layer.compressed_size = 1024 * 1024;
    layer.uncompressed_size = 4 * 1024 * 1024;
    layer.chunks = 1;
    result.layers.push_back({descriptor(k_media_type_layer_gzip, layer.digest, 1024 * 1024), layer});
    result.seconds = 2.0;
  }
};

TEST(BuildSummary, FirstLineLabelsTheImageAndThePlatformFollows) {
  const Fixture f;
  const std::string text = format_build_summary(f.build, f.result);
  EXPECT_EQ(text.substr(0, text.find('\n')), "built out:v1 manifest " + Sha256::of("manifest").str());
  EXPECT_NE(text.find("\n  platform linux/arm64/v8, config " + Sha256::of("config").str() + "\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("4.0 MiB tar -> 1.0 MiB gzip (25.0%) in 1 chunk\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  2.00 s (2.0 MiB/s of tar), 1 thread, "), std::string::npos) << text;
  EXPECT_EQ(text.find("MB/s"), std::string::npos) << text;
}

TEST(BuildSummary, PluralsForSeveralChunksAndThreads) {
  Fixture f;
  f.build.layer.threads = 3;
  f.result.layers[0].stats.chunks = 4;
  const std::string text = format_build_summary(f.build, f.result);
  EXPECT_NE(text.find(" in 4 chunks\n"), std::string::npos) << text;
  EXPECT_NE(text.find(", 3 threads, "), std::string::npos) << text;
}

TEST(BuildSummary, JsonHasItsKeysInOrderAndTheValues) {
  Fixture f;
  f.build.tar_output = "img.tar";
  const std::string text = build_json(f.build, f.result);
  const auto j = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"layout", "tags", "references", "manifest", "config", "platform",
                                            "base_layers", "layers", "sbom", "tarball", "threads", "codec",
                                            "timings"}));
  EXPECT_EQ(j["references"][0], "out:v1");
  EXPECT_EQ(j["manifest"]["digest"], Sha256::of("manifest").str());
  EXPECT_EQ(j["config"]["digest"], Sha256::of("config").str());
  EXPECT_EQ(j["platform"]["architecture"], "arm64");
  EXPECT_EQ(j["platform"]["variant"], "v8");
  EXPECT_EQ(j["layers"][0]["diff_id"], Sha256::of("tar").str());
  EXPECT_EQ(j["layers"][0]["uncompressed_size"], 4 * 1024 * 1024);
  EXPECT_EQ(j["layers"][0]["format"], "gzip");
  EXPECT_EQ(j["tarball"], "img.tar");
  EXPECT_TRUE(j["sbom"].is_null());
  EXPECT_EQ(j["timings"]["build_seconds"], 2.0);
  EXPECT_EQ(text.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace ocipack::cli
