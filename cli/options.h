// Command-line parsing for `ocipack`: turns argv (plus SOURCE_DATE_EPOCH,
// the current time and the number of cores) into a CommandLine — which
// subcommand to run (build, add-layer, index, tags, inspect, verify, gc, attach, tag,
// untag, or
// printing help or the version: `--help`, `help CMD`, `--version`,
// `version`) and its settings; for build, the BuildOptions handed to the
// library. Every value is checked here, with an error that names the flag
// and the value. A library so tests can drive it without spawning
// processes; it prints nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/image_files.h"
#include "core/oci/layout_index.h"
#include "core/oci/platform.h"
#include "core/util/result.h"
#include "core/oci/referrers.h"
#include "pipeline/image_builder.h"

namespace ocipack::cli {

struct Environment {
  std::optional<std::string> source_date_epoch;  // $SOURCE_DATE_EPOCH
  int64_t now = 0;                               // seconds since the epoch
  int hardware_threads = 1;
  std::optional<std::string> cache_dir;     // $OCIPACK_CACHE_DIR: --cache unless given (or --no-cache)
  std::optional<std::string> cache_remote;  // $OCIPACK_CACHE_REMOTE: --cache-remote unless given
  // `git -C DIR ARGS...` for --yocto-vars' automatic labels (null: run git).
  std::function<std::optional<std::string>(const std::string&, const std::vector<std::string>&)> git;
};

struct CommandLine {
  enum class Action { build, add_layer, tags, inspect, gc, verify, index, attach, tag, untag, help, version, cache_stats, cache_prune, ls, diff, completion };
  Action action = Action::build;
  std::string text;        // help or version text to print for those actions
  BuildOptions build;      // build, add-layer (a build that edits its --base: cli/options.cc)
  AttachRequest attach;    // attach
  std::string layout_dir;  // tags, inspect, verify, gc, tag, untag
  // The tag named: inspect ("" = the default image), verify --ref ("" = every
  // manifest), tags ("" = every entry), tag's SRC, untag's TAG; gc ignores it.
  std::string tag;
  std::vector<std::string> new_tags;  // tag NEW...
  bool dry_run = false;    // gc --dry-run
  bool json = false;       // --json of inspect, tags, verify and build
  std::optional<Platform> platform;  // inspect --platform
  IndexRequest index;      // index
  FilesRequest files;      // ls, diff
  std::string cache_dir;   // cache stats, cache prune
  uint64_t cache_max_bytes = k_default_cache_max_bytes;  // cache prune --max-size
  bool quiet = false;      // build, index: print nothing on success
  bool stats = false;      // build: print per-stage times after the build
  bool progress = false;   // build: draw a bar even if stderr is not a terminal
  bool no_progress = false;  // build: never draw a bar
  std::vector<std::string> warnings;  // build: one line each, printed after it succeeded
  std::vector<std::string> notes;     // build --yocto-vars: one line each, printed before it starts
  // build --yocto-vars --print-yocto-args: print these (each + NUL), build nothing.
  std::optional<std::vector<std::string>> yocto_args;
  std::vector<std::string> yocto_remove;  // --yocto-vars: earlier outputs removed before the build
  std::vector<std::string> yocto_create;  // and directories made (the chunk cache)
  std::vector<std::pair<std::string, std::string>> yocto_links;  // and links made after it: (link, target)
};

// The program's subcommands and flags as declared for the parser: the one
// source the man pages and shell completions are generated from (cli/docs.h).
struct OptionDoc {
  std::vector<std::string> names;  // "-o", "--output"; empty for a positional
  std::string value;               // what it takes ("TEXT", "UINT"), or the positional's name; "" for a switch
  std::string description;
  std::string default_value;       // "" when none is shown
};
struct CommandDoc {
  std::string name;  // "ocipack", "build", "stats"
  std::string description;
  std::string footer;  // the text --help ends with
  std::vector<OptionDoc> positionals, options;
  std::vector<CommandDoc> subcommands;
};
CommandDoc program_doc();

// `args` excludes argv[0]. Every error is a usage error (exit status 2),
// whatever kind the library check that refused a value gives, and its
// message names flags, not the library's field names (cli/errors.h).
Result<CommandLine> parse_command_line(const std::vector<std::string>& args, const Environment& env);

// Where a usage error of `args` sends the user: "see 'ocipack build --help'"
// for a known subcommand, else "see 'ocipack --help'".
std::string usage_hint(const std::vector<std::string>& args);

// Value parsers (exposed for tests); errors name the flag and the value.
Result<std::string> parse_port(const std::string& value);               // "80" → "80/tcp"
Result<std::pair<std::string, std::string>> parse_key_value(const std::string& flag,
                                                            const std::string& value);
Status check_stop_signal(const std::string& value);  // SIGTERM, TERM, 15, SIGRTMIN+3
Result<uint64_t> parse_size(const std::string& flag, const std::string& value);  // 1M, 512K, 5G, 65536
Result<std::vector<std::string>> parse_command_words(const std::string& flag,
                                                     const std::vector<std::string>& values);

}  // namespace ocipack::cli
