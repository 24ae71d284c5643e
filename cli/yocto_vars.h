// The Yocto backend's settings: `ocipack build --yocto-vars FILE` reads the
// variable dump scripts/yocto/image-oci-ocipack.inc writes (a here-document
// of NAME=value lines, one per known name, in a fixed order) as DATA, and
// maps every OCI_* / OCIPACK_* variable to a build exactly as the backend
// documents it (scripts/yocto/README.md): names of the outputs, the config,
// the automatic labels, the date, the base image, single or multi-layer
// mode, the tarballs, compression, SBOM and chunk cache. The mapping result
// is an ordinary `ocipack build` argument list (parsed and checked by
// cli/options.cc like any other), plus, in multi-layer mode, the path-set
// plan (core/tar/path_layers.h). It reads the file system (the rootfs, the
// base layout, pkgdata, the SBOM) but writes nothing; it runs git only
// through YoctoHost, so tests can stand in for it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tar/path_layers.h"
#include "core/util/result.h"

namespace ocipack::cli {

// The names of the dump, in the order of its lines.
const std::vector<std::string>& yocto_var_names();

// NAME -> value; a name whose value was the unexpanded "${NAME}" (a variable
// BitBake does not know) is absent. get() gives "" for an absent name.
struct YoctoVars {
  std::map<std::string, std::string> values;
  std::string get(const std::string& name) const;
};

// Reads the dump: each known name in order starts a line "NAME=value"; a
// line that does not start with the next expected "NAME=" continues the
// previous value (a multi-line value). Every name must be present.
Result<YoctoVars> parse_yocto_vars(std::string_view text);

// What the mapping needs from outside: the environment and git.
struct YoctoHost {
  std::optional<std::string> source_date_epoch;  // $SOURCE_DATE_EPOCH
  int64_t now = 0;
  // Runs `git -C DIR ARGS...`; its first output line, or nullopt on failure.
  std::function<std::optional<std::string>(const std::string& dir, const std::vector<std::string>& args)> git;
};

// OE-core's SOURCE_DATE_EPOCH of a recipe that writes no epoch file (every
// image recipe): 2011-04-05 (meta/conf/bitbake.conf SOURCE_DATE_EPOCH_FALLBACK).
inline constexpr int64_t k_oe_source_date_epoch_fallback = 1302044400;

struct YoctoBuild {
  std::vector<std::string> args;  // "build", "-o", ... (without --yocto-vars)
  std::optional<PathLayersPlan> path_layers;
  // SOURCE_DATE_EPOCH for the build (file mtimes are clamped to it): the
  // environment's, or the rootfs's date when that was OE's fallback.
  std::optional<std::string> source_date_epoch;
  std::vector<std::string> notes, warnings;  // printed before the build
  // The outputs of an earlier run, removed before the build (a fresh
  // layout: nothing of it is kept), and the links by tag made after it
  // succeeded: (link path, target name in the same directory).
  std::vector<std::string> remove_first;
  std::vector<std::string> create_first;  // directories made before the build (the chunk cache)
  std::vector<std::pair<std::string, std::string>> links;
};

Result<YoctoBuild> map_yocto_vars(const YoctoVars& vars, const YoctoHost& host);

// Removes `remove` (a directory with everything below it; a symlink
// itself), then makes the directories `create` (mkdir -p).
Status prepare_yocto_outputs(const std::vector<std::string>& remove, const std::vector<std::string>& create);
// Makes each link (replacing a link or file of that name: ln -sfn).
Status make_yocto_links(const std::vector<std::pair<std::string, std::string>>& links);

// YoctoHost::git for real: runs `git -c safe.directory=* -C DIR ARGS...`
// (stdin and stderr /dev/null) and returns its first output line.
std::optional<std::string> run_git(const std::string& dir, const std::vector<std::string>& args);

// The files of a package from pkgdata (PKGDATA_DIR): runtime/PKG's
// FILES_INFO (older releases), else extended/PKG.json(.zstd|.gz); a name
// that is only a runtime-reverse alias is followed. Paths as recorded
// ("/usr/bin/x"), sorted. `layer` names the layer in errors.
Result<std::vector<std::string>> yocto_package_files(const std::string& pkgdata_dir, const std::string& package,
                                                     const std::string& layer);

}  // namespace ocipack::cli
