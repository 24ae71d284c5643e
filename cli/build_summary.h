// What `ocipack build` prints on stdout when it succeeds: the human summary
// (its first line says what it names: "built LAYOUT:TAG manifest sha256:…")
// and, with --json, one JSON document for scripts and CI instead. Also the
// small wording helpers the summaries share: counts with the right plural,
// byte rates in MiB/s (the unit of every size ocipack prints, human_bytes).
// Pure functions of the options and the result, so tests call them directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/image_builder.h"

namespace ocipack::cli {

// "1 chunk", "2 chunks", "0 chunks".
std::string count_of(uint64_t count, std::string_view singular, std::string_view plural);

// "123.4 MiB/s" for `bytes` in `seconds` ("0.0 MiB/s" when no time passed).
std::string human_rate(uint64_t bytes, double seconds);

// The reference a build names its image by: "LAYOUT:TAG" (control bytes escaped).
std::string built_reference(const BuildOptions& build);

// The summary, lines ending in '\n'.
std::string format_build_summary(const BuildOptions& build, const BuildResult& result);

// The --json document (no trailing newline), keys in a fixed order: layout,
// tags, references, manifest, config, platform, base_layers, layers, sbom,
// tarball, threads, codec, timings.
std::string build_json(const BuildOptions& build, const BuildResult& result);

}  // namespace ocipack::cli
