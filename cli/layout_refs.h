// References to layouts on the command line, one rule for every subcommand:
// "[oci:]LAYOUT[:TAG]" (skopeo's oci: transport prefix accepted) wherever a
// layout is named, and "oci-archive:FILE[:TAG]" or a plain path to a regular
// file for a layout tarball (what --tar-output writes), which the readers —
// inspect, ls, diff, verify, tags, --base, index sources — read in place
// (core/oci/layout_source.h) and the writers refuse (refuse_tarball);
// a layout — build -o and --base, inspect, verify, tags, gc, tag,
// untag, attach, index — so the reference a build prints can be passed to
// any of them. The split between LAYOUT and TAG is parse_image_ref's
// (core/oci/layout_reader.h): an existing layout directory is matched first
// (so a directory whose name holds ':' is named by its whole name), else the
// tag follows the first ':' after the last '/' ("-o img:v1" is layout img,
// tag v1; "-o 'a:b/'" is a new directory named a:b; "img:a/b" and
// "img:../x", naming no layout, are refused: a tag holds no '/'). The explicit flags
// (--tag, --ref) stay; a tag given both ways differently is a usage error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace ocipack::cli {

struct LayoutArgument {
  std::string layout_dir;
  std::optional<std::string> tag;  // unset: the argument names no tag
  bool tarball = false;  // "oci-archive:" given, or layout_dir is a regular file
};

// Parses `text`, given as `what` ("-o", "inspect", ...), which errors name.
// A leading "oci:" is dropped unless the text with it names an existing
// layout. Tags are checked by validate_ref_name; errors are usage errors.
Result<LayoutArgument> parse_layout_argument(const std::string& what, const std::string& text);

// A usage error when `argument` names a layout tarball, for the commands
// that write into the layout they name (build -o, index -o, tag, untag,
// gc, attach): ocipack writes only into a layout directory.
Status refuse_tarball(const std::string& what, const LayoutArgument& argument);

// The tags a command uses: the argument's and those of the explicit `flag`
// (`flag_tags`, empty when the flag was not given). One source only: that
// one. Both: the argument's tag must be one of the flag's, else a usage
// error naming both; the flag's tags are used (in their order). Neither:
// `default_tags`.
Result<std::vector<std::string>> merge_tags(const std::string& what, const LayoutArgument& argument,
                                            const std::string& flag, const std::vector<std::string>& flag_tags,
                                            const std::vector<std::string>& default_tags);

// Whether `-o` looks like a tarball name (ends in .tar, .tar.gz, ...): the
// build warns that -o is a layout directory (--tar-output writes a tarball).
bool looks_like_tarball(const std::string& output);

}  // namespace ocipack::cli
