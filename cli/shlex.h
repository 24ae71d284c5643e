// shlex_split: split a string into words exactly as Python's shlex.split()
// does in POSIX mode, because Yocto's image-oci class splits
// OCI_IMAGE_ENTRYPOINT/CMD that way and users' quoting must mean the same.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace ocipack::cli {

// Errors (usage errors: the text is what a user typed): "No closing
// quotation" / "No escaped character", as Python reports.
Result<std::vector<std::string>> shlex_split(std::string_view text);

}  // namespace ocipack::cli
