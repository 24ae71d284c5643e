// build_image: the library's front door. Takes one or more layer sources
// (rootfs directories, optionally as deltas against an older tree), an
// optional base image to stack on, and the image metadata; runs the layer
// pipelines (several layers concurrently where cores allow) and writes the
// OCI layout in the crash-safe order: layer blobs → config → manifest →
// (layout tarball, staged) → index.json → tarball renamed into place.
// Nothing is printed; warnings and errors come back to the caller. Errors
// about an option name its field ("tar_output", "layers[1].diff_base",
// "codec.level"; Error::fields), never a command-line flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/oci/oci_json.h"
#include "core/oci/layout_tagging.h"
#include "core/tar/path_layers.h"
#include "core/util/result.h"
#include "pipeline/build_hooks.h"
#include "pipeline/layer_graph.h"

namespace ocipack {

// What the user asked the image to say (immutable during a build). Unset
// optionals inherit from the base image, else take the documented defaults
// (architecture: host, os: linux).
struct ImageSpec {
  std::string tag = "latest";
  std::vector<std::string> extra_tags;  // more tags for the same manifest (each its own index.json entry)
  std::optional<std::string> author;
  std::optional<std::string> architecture;  // Go name
  std::optional<std::string> variant;
  std::optional<std::string> os;
  std::optional<std::string> user;
  std::optional<std::string> working_dir;
  std::optional<std::string> stop_signal;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::vector<std::string> env;            // KEY=VALUE; replaces the base's KEY
  std::vector<std::string> exposed_ports;  // "80/tcp"; added to the base's
  std::map<std::string, std::string> labels;  // added to / override the base's
  int64_t created = 0;  // seconds since the epoch: config `created` and history
  // The history entry of each new layer: created_by (unset: "ocipack build",
  // "(layer i of n)" added for several), comment, author (unset: `author`).
  std::optional<std::string> history_created_by;
  std::string history_comment;
  std::optional<std::string> history_author;
};

struct LayerInput {
  std::string rootfs;                    // directory, tar file (any compression) or "-" (stdin)
  std::optional<std::string> diff_base;  // directory: store only the changes from it
};

// What the caller asked for: plain data, never changed by a build. (How the
// caller follows and stops it is BuildHooks, beside it.)
struct BuildOptions {
  std::vector<LayerInput> layers;  // bottom to top
  // Instead of `layers`: one rootfs split into layers by path sets
  // (core/tar/path_layers.h; Yocto's OCI_LAYER_MODE = "multi"), walked once.
  std::optional<PathLayersPlan> path_layers;
  std::string layout_dir;
  std::optional<std::string> base_layout;  // stack on the image base_layout:base_tag
  std::string base_tag = "latest";
  // Which image of a multi-platform base to stack on. Unset: when the tag
  // names an index of several images, the one for the image's own
  // os/architecture/variant (the host's architecture when not given).
  std::optional<Platform> base_platform;
  // Write the platform `image` asks for even when it differs from the base
  // image's (otherwise refused: pipeline/base_platform.h).
  bool force_platform = false;
  // Make the layer a delta against the base image's merged rootfs (a model
  // streamed from its verified blobs, never extracted); needs base_layout
  // and exactly one layer.
  bool diff_against_base = false;
  // The build edits the base image (ocipack add-layer): the base manifest's
  // annotations and those of its index.json entry are kept (the options'
  // are added over them), and a base that is an image index (several
  // platforms) is refused rather than replaced by one of its images.
  bool edit_base = false;
  ImageSpec image;
  LayerPipelineOptions layer;
  std::optional<int64_t> clamp_mtime;     // clamp entry mtimes (SOURCE_DATE_EPOCH)
  bool owner_root = false;                // store 0:0 for every entry
  std::optional<std::string> tar_output;  // also write the layout as this tarball
  // And/or as this tarball of the layout's directory: one top entry named as
  // the layout's last component, the layout below it (Yocto's -dir.tar).
  std::optional<std::string> tar_output_dir;
  // After the commit, the manifest digest (digest_file) and the config digest
  // (iid_file, the image id) as "sha256:<hex>", no newline; same path rules
  // as tar_output.
  std::optional<std::string> digest_file, iid_file;
  // Annotations of the image manifest, and of its index.json entry (beside
  // the ref.name, which is the tag's). Keys: non-empty, no '=', not ref.name.
  std::map<std::string, std::string> manifest_annotations;
  std::map<std::string, std::string> index_annotations;
  // A document about the image (an SBOM) attached as an OCI 1.1 referrer
  // (core/oci/referrers.h; artifact type from its content); "" = none.
  std::string sbom_path;
};

struct BuiltLayer {
  Descriptor descriptor;
  LayerResult stats;
};

struct BuildResult {
  Descriptor manifest;
  Descriptor config;
  std::vector<Descriptor> base_layers;  // inherited from the base image
  std::vector<BuiltLayer> layers;       // built by this run, bottom to top
  std::optional<Descriptor> sbom;       // the SBOM referrer's index.json entry, if one was attached
  Platform platform;                    // the config's os, architecture, variant
  std::vector<std::string> warnings;
  std::vector<ReplacedTag> replaced_tags;  // tags of this build that named another image before
  double seconds = 0;
};

// Builds the image. The layers run concurrently in one TBB arena of
// options.layer.threads threads; the process-wide TBB thread limit is the
// caller's to raise (see cli/main.cc), the library never changes it.
Result<BuildResult> build_image(const BuildOptions& options, const BuildHooks& hooks = {});

// The config document for `spec` on top of `base` (may be null) with the new
// layers' diff_ids (exposed for tests).
ImageConfig make_image_config(const ImageSpec& spec, const ImageConfig* base,
                              const std::vector<Digest>& new_diff_ids);

}  // namespace ocipack
