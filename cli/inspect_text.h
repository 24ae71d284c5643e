// The text `ocipack inspect` and `ocipack tags` print for humans, made from
// the data the library returns (load_image, list_tags): aligned "Label: value"
// lines, sizes as "2.9 KiB (3000 bytes)", argument vectors as JSON arrays,
// and every value from the layout with its control characters escaped
// (\n, \x1b), so a label cannot forge lines or drive the terminal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/oci/layout_ops.h"
#include "core/oci/layout_reader.h"
#include "core/oci/platform.h"
#include "core/oci/referrers.h"
#include "core/util/result.h"

namespace ocipack::cli {

// "9 B" below 1 KiB, else "2.9 KiB (3000 bytes)" (KiB, MiB, … one decimal).
std::string size_text(uint64_t bytes);

// A human summary of one image, one item per line, each line ending in '\n':
// tag, the image index it was chosen from (when the tag names one), manifest
// and config digests, created, author, platform (os/architecture[/variant]),
// User, Entrypoint and Cmd (as JSON arrays), Env, WorkingDir, ExposedPorts,
// Labels, StopSignal (empty fields are left out), then each layer (digest,
// compressed size, diff_id), the total size (bytes of the manifest, config
// and layer blobs) and the history.
std::string format_inspect_text(const std::string& tag, const LoadedImage& image);

// "Referrers:" and one line per referrer (manifest digest, artifact type,
// manifest size); "" for none.
std::string format_referrers_text(const std::vector<Referrer>& referrers);

// load_image, then format_inspect_text and the image's referrers.
Result<std::string> inspect_text(const std::string& layout_dir, const std::string& tag,
                                 const std::optional<Platform>& platform = std::nullopt);

// A tag naming an image index of several images, as `inspect` shows it when
// no platform is chosen: the tag, the index's digest and size, then one line
// per entry — its platform ("unknown" when it says none), manifest digest
// and size, then a "referrer DIGEST TYPE SIZE" line for each of its
// referrers — the index's own referrers, and how to pick one.
std::string format_index_text(const std::string& tag, const TaggedIndex& index);

// One line of `ocipack tags` (without the newline): TAG, DIGEST and SIZE
// separated by tabs ("<untagged>" for no tag, "-" for what cannot be read),
// then, for an image index or an entry with a note, a fourth field in
// parentheses: "(image index, 2 platforms: linux/amd64, linux/arm64/v8)",
// the note, or both joined by "; ".
std::string format_tag_row(const TagInfo& info);

}  // namespace ocipack::cli
