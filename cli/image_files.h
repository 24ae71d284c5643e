// `ocipack ls` and `ocipack diff`: the files of an image and the differences
// between two images, read through load_image (core/oci/layout_reader.h) and
// the base model (core/layer/base_model.h, which checks every layer blob
// against its digest as it streams) and shown by core/layer/tree_listing.h.
// This file turns those into text; main prints it. Image references are
// parse_layout_argument's (layout_refs.h); LAYOUT is a layout directory or a
// layout tarball, read in place (core/oci/layout_source.h).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/oci/layout_reader.h"
#include "core/util/result.h"

namespace ocipack::cli {

// `diff` exits 0 when the images hold the same files, 1 when they differ and
// 2 when it could not tell (bad usage, an image that cannot be read), as
// diff(1) and cmp(1) do.
inline constexpr int k_exit_diff_differ = 1;
inline constexpr int k_exit_diff_trouble = 2;

struct FilesRequest {
  ImageRef image;                    // ls; diff: the first image
  ImageRef other;                    // diff: the second image
  std::optional<size_t> layer;       // ls --layer N (1 = the bottom layer)
  std::optional<size_t> largest;     // ls --largest N
};

// The listing `ocipack ls` prints: one line per path, sorted by path, or the
// --largest files and a total line.
Result<std::string> list_image_files(const FilesRequest& request);

struct ImageDiff {
  std::string text;  // "+ path", "- path", "M path (what, ...)" lines, sorted by path
  bool differ = false;
};

// The differences from request.image to request.other.
Result<ImageDiff> diff_images(const FilesRequest& request);

}  // namespace ocipack::cli
