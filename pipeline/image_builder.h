// build_image: the library's front door. Takes a rootfs directory and the
// image metadata, runs the layer pipeline, and writes the OCI layout in the
// crash-safe order: layer blob → config → manifest → (oci-layout) →
// index.json → optional layout tarball. Nothing is printed; warnings and
// errors come back to the caller.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/oci_json.h"
#include "core/result.h"
#include "pipeline/layer_pipeline.h"

namespace ocipack {

// What the user asked the image to say (immutable during a build).
struct ImageSpec {
  std::string tag = "latest";
  std::string author;
  std::string architecture;  // Go name
  std::string variant;
  std::string os = "linux";
  ContainerConfig config;
  int64_t created = 0;  // seconds since the epoch: config `created` and history
};

struct BuildOptions {
  std::string rootfs;
  std::string layout_dir;
  ImageSpec image;
  LayerPipelineOptions layer;
  std::optional<int64_t> clamp_mtime;     // SOURCE_DATE_EPOCH
  std::optional<std::string> tar_output;  // --tar-output FILE
};

struct BuildResult {
  Descriptor manifest;
  Descriptor config;
  Descriptor layer;
  LayerResult layer_stats;
  std::vector<std::string> warnings;
  double seconds = 0;
};

Result<BuildResult> build_image(const BuildOptions& options);

// The config document build_image writes for `spec` and one layer (exposed for tests).
ImageConfig make_image_config(const ImageSpec& spec, const Digest& diff_id);

}  // namespace ocipack
