// CLI11-based parsing of the `ocipack` command line (see options.h). One
// function declares each subcommand's flags (add_build, add_tags, ...) and
// one turns what was parsed into a CommandLine (build_command, tags_command,
// ...); build_command checks its values in groups: layers and bases, image
// config, times, codec and pipeline settings. Flag help names the Yocto
// image-oci variable each build flag corresponds to.
#include "cli/options.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>

#include "cli/codec_names.h"
#include "cli/docs.h"
#include "cli/errors.h"
#include "cli/layout_refs.h"
#include "cli/shlex.h"
#include "cli/yocto_vars.h"
#include "core/util/file_io.h"
#include "cli/suggest.h"
#include "core/cache/remote_cache.h"
#include "core/codec/codec.h"
#include "core/layer/layer_format.h"
#include "core/oci/arch.h"
#include "core/oci/layout_reader.h"
#include "core/util/text.h"
#include "core/util/time_format.h"

namespace ocipack::cli {

Result<std::string> parse_port(const std::string& value) {
  auto bad = [&] {
    return usage_error("--port '" + value +
                       "': expected PORT or PORT/PROTO (PORT 1-65535, PROTO tcp, udp or sctp)");
  };
  std::string number = value, proto = "tcp";
  if (auto slash = value.find('/'); slash != std::string::npos) {
    number = value.substr(0, slash);
    proto = value.substr(slash + 1);
  }
  if (proto != "tcp" && proto != "udp" && proto != "sctp") return bad();
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), port);
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() || port < 1 ||
      port > 65535)
    return bad();
  return std::to_string(port) + "/" + proto;
}

Status check_stop_signal(const std::string& value) {
  static constexpr std::string_view k_signals[] = {
      "HUP",  "INT",  "QUIT", "ILL",  "TRAP",   "ABRT", "IOT",    "BUS",   "FPE",  "KILL", "USR1", "SEGV",
      "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT",   "STOP",  "TSTP", "TTIN", "TTOU", "URG",
      "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO",  "POLL",   "PWR",   "SYS",  "RTMIN", "RTMAX"};
  auto in_range = [](std::string_view digits, unsigned low, unsigned high) {
    unsigned number = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    return !digits.empty() && ec == std::errc() && ptr == digits.data() + digits.size() && number >= low &&
           number <= high;
  };
  std::string_view name = value;
  if (in_range(name, 1, 64)) return ok_status();
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (std::string_view known : k_signals)
    if (name == known) return ok_status();
  for (std::string_view rt : {"RTMIN+", "RTMAX-"})  // SIGRTMIN+3, SIGRTMAX-1
    if (name.substr(0, rt.size()) == rt && in_range(name.substr(rt.size()), 1, 30)) return ok_status();
  return usage_error("--stop-signal '" + value + "': expected a signal name (SIGTERM, TERM, SIGRTMIN+3) or number (1-64)");
}

Result<std::pair<std::string, std::string>> parse_key_value(const std::string& flag,
                                                            const std::string& value) {
  auto eq = value.find('=');
  if (eq == std::string::npos) return usage_error(flag + " '" + value + "': expected KEY=VALUE");
  if (eq == 0) return usage_error(flag + " '" + value + "': the key before '=' is empty");
  return std::make_pair(value.substr(0, eq), value.substr(eq + 1));
}

// Repeated KEY=VALUE annotations (--annotation, --index-annotation) as a
// map: a later value for a key wins. Keys are checked by the library
// (check_annotation_keys), for build and index alike.
Result<std::map<std::string, std::string>> parse_annotations(const std::string& flag,
                                                             const std::vector<std::string>& values) {
  std::map<std::string, std::string> annotations;
  for (const auto& value : values) {
    OCIPACK_TRY_ASSIGN(auto kv, parse_key_value(flag, value));
    annotations[kv.first] = kv.second;
  }
  return annotations;
}

Result<uint64_t> parse_size(const std::string& flag, const std::string& value) {
  uint64_t number = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  std::string_view suffix(ptr, static_cast<size_t>(value.data() + value.size() - ptr));
  uint64_t scale = 0;
  if (suffix.empty() || suffix == "B") scale = 1;
  else if (suffix == "K" || suffix == "k" || suffix == "KiB") scale = 1024;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB") scale = 1024 * 1024;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB") scale = 1024 * 1024 * 1024;
  if (ec != std::errc() || ptr == value.data() || scale == 0 || number > (uint64_t{1} << 60) / scale)
    return usage_error(flag + " '" + value + "': expected a size such as 1M, 512K, 5G or 65536");
  return number * scale;
}

Result<std::vector<std::string>> parse_command_words(const std::string& flag,
                                                     const std::vector<std::string>& values) {
  if (values.size() != 1) return values;  // repeated: one element per flag
  auto words = shlex_split(values.front());
  if (!words) return std::move(words).error().with_context(flag + ": ");
  return std::move(words).value();
}

namespace {
constexpr const char* k_help_footer = R"(
ENTRYPOINT/CMD: given once, the value is split like Python's shlex.split (as
Yocto's image-oci class does): --cmd "/bin/sh -c 'echo hi'". Given several
times, each value is one element: --cmd /bin/sh --cmd -c --cmd "echo hi".
SOURCE_DATE_EPOCH (as Yocto exports it) sets `created` when --created is not
given and clamps file mtimes in the layer to that time (set but empty: ignored,
with a warning).
The layer digest depends only on the rootfs contents, --compression-format,
--chunk-size, --level and the compressor version (see README); not on --threads.)";

constexpr const char* k_add_layer_footer = R"(
The result is the build `ocipack build DIR --base LAYOUT:TAG -o LAYOUT:TAG`
makes, as an edit of the image: its config (with the new diff_id and a
history entry), its manifest annotations and those of its index.json entry
are kept; the tag then names the new manifest. The layout lock is held from
reading the image to the commit of index.json, so concurrent add-layers of
one tag each see the other's layer. Same inputs and SOURCE_DATE_EPOCH (or
--created): the same digests. A tag naming a multi-platform index is refused.)";

// The exit statuses every subcommand's help ends with (cli/errors.h).
constexpr const char* k_exit_status_help = R"(
Exit status: 0 done; 1 the operation failed (a missing layout included);
2 bad usage; 130 interrupted by SIGINT (Ctrl-C); 143 stopped by SIGTERM.)";
constexpr const char* k_verify_exit_help = R"(
verify: 0 the layout is valid; 1 problems found (one per line on stdout, then
a PROBLEMS FOUND summary) or no layout to check (one error line on stderr, no
summary); 2 bad usage, an unknown --ref included (the check did not run).
With --json the same statuses; the document's "ran" is false when the check
did not run, "ok" false when problems were found.)";

constexpr const char* k_tarball_help = R"(
A layout tarball (what build --tar-output writes; skopeo's oci-archive) is
read in place, never extracted: name it oci-archive:FILE[:TAG], or by its
path when that is a regular file. Commands that write into a layout (build
-o, index -o, tag, untag, gc, attach) refuse it: use a layout directory.
)";  // the blank line ends its paragraph (man pages: cli/docs.cc)

constexpr const char* k_tag_exit_help = R"(
tag, untag: 1 also when the layout has no such tag (SRC or TAG); nothing is
written then. untag removes the index.json entry only: `ocipack gc` frees the blobs.)";

// "libdeflate 0-12 (default 6), ...": the levels each codec takes, from
// level_bounds, for the --level help.
std::string level_help() {
  std::string text = "Compression level of the chosen format's codec:";
  const char* separator = " ";
  for (CodecKind kind : {CodecKind::libdeflate, CodecKind::isal, CodecKind::zstd}) {
    const LevelBounds bounds = level_bounds(kind);
    text += separator + std::string(codec_name(kind)) + " " + std::to_string(bounds.min) + "-" +
            std::to_string(bounds.max) + " (default " + std::to_string(bounds.default_level) + ")";
    separator = ", ";
  }
  return text;
}

// `ocipack build`'s flags as CLI11 stores them, before they are checked.
struct BuildFlags {
  std::vector<std::string> tags;  // --tag, repeatable; none: -o's tag, else latest
  std::string rootfs, output, author, user, arch, variant, os = "linux";
  std::vector<std::string> entrypoint, cmd, ports, labels, env, annotations, index_annotations;
  std::string sbom;
  std::string workdir, stop_signal, created, chunk_size, tar_output, tar_output_dir;  // chunk_size empty: the format's default
  std::string yocto_vars;  // --yocto-vars: only with --print-yocto-args (handled before CLI11: yocto_command)
  bool print_yocto_args = false;
  std::string digest_file, iid_file;
  std::string compression_format = "gzip", compressor = "libdeflate", gzip_format = "members";
  std::vector<std::string> layers;
  std::string base, base_platform, diff_base, owner = "keep";
  bool diff_against_base = false;
  int level = -1;  // -1: the compressor's default
  int threads = 0;
  bool quiet = false, fast = false, dictionary = false, stats = false, progress = false,
       no_progress = false, json = false, force_platform = false;
  std::string cache, cache_max_size = "5G", cache_remote;
  int cache_remote_timeout = 15;
  bool no_cache = false;
  const CLI::App* app = nullptr;  // the subcommand, which knows what was given

  // Whether `flag` was given (false for a flag the subcommand does not
  // have: add-layer declares only some of build's).
  bool given(const char* flag) const {
    const CLI::Option* option = app->get_option_no_throw(flag);
    return option != nullptr && option->count() > 0;
  }
  // add-layer: the image edited ([oci:]LAYOUT[:TAG]) and the history fields.
  std::string image, history_created_by, history_comment, history_author;
};

// The flags of the layout subcommands (tags, inspect, gc, verify).
struct LayoutFlags {
  std::string layout;  // [oci:]LAYOUT[:TAG] (layout_refs.h)
  std::string ref;     // verify --ref
  std::string platform;  // inspect --platform
  bool json = false;   // inspect, tags, verify --json
  bool dry_run = false;  // gc --dry-run
  std::vector<std::string> new_tags;  // tag NEW...
};

// `ocipack cache stats|prune`'s flags.
struct CacheFlags {
  std::string dir;
  std::string max_size;  // prune --max-size; empty: the default limit
};

// `ocipack cache stats DIR` and `ocipack cache prune DIR [--max-size S]`.
CLI::App* add_cache(CLI::App& app, CacheFlags& stats_flags, CacheFlags& prune_flags) {
  CLI::App* cache = app.add_subcommand("cache", "Look after a chunk cache (build --cache DIR): stats, prune");
  cache->require_subcommand(1);
  CLI::App* stats = cache->add_subcommand("stats", "Entries, bytes and the hit rate of the last builds of a chunk cache");
  stats->add_option("DIR", stats_flags.dir, "Chunk cache directory")->required();
  CLI::App* prune = cache->add_subcommand("prune", "Remove least recently used entries until the cache fits its size");
  prune->add_option("DIR", prune_flags.dir, "Chunk cache directory")->required();
  prune->add_option("--max-size", prune_flags.max_size, "Size to prune to (default 5G, as build --cache-max-size)");
  return cache;
}

Result<CommandLine> cache_command(CommandLine::Action action, const CacheFlags& flags) {
  CommandLine cl;
  cl.action = action;
  cl.cache_dir = flags.dir;
  if (!flags.max_size.empty()) {
    OCIPACK_TRY_ASSIGN(cl.cache_max_bytes, parse_size("--max-size", flags.max_size));
  }
  return cl;
}

// `ocipack index`'s flags as CLI11 stores them.
struct IndexFlags {
  std::string output, tag = "latest";
  std::vector<std::string> sources, add, remove, annotations, index_annotations;
  bool flatten = false, quiet = false;
  const CLI::App* app = nullptr;  // knows whether --tag was given
};

// The layer format flags build and add-layer share; `format_note` and
// `level_note` end their help (build names the Yocto variables).
void add_codec_flags(CLI::App* sub, BuildFlags& flags, const std::string& format_note, const std::string& level_note) {
  sub->add_option("--compression-format", flags.compression_format,
                  "Layer format: gzip, zstd (one zstd frame per chunk), zstd:chunked or none (plain tar)" + format_note)
      ->capture_default_str();
  sub->add_option("--compressor", flags.compressor, "Gzip engine: libdeflate or isal (ISA-L); gzip only")
      ->capture_default_str();
  sub->add_option("--level", flags.level, level_help() + level_note);
  sub->add_flag("--fast", flags.fast, "Fast gzip preset: --compressor isal --level 1 (unless given)");
  sub->add_option("--gzip-format", flags.gzip_format, "members: one gzip member per chunk; single: one member for the whole layer (isal only)")
      ->capture_default_str();
}

// Declares `ocipack build` and its flags (in the order --help lists them).
CLI::App* add_build(CLI::App& app, BuildFlags& flags) {
  CLI::App* build = app.add_subcommand("build", "Build an OCI image layout from a rootfs directory");
  build->footer(k_help_footer);
  build->add_option("ROOTFS", flags.rootfs, "Root filesystem: a directory (IMAGE_ROOTFS), a tar file (plain, gz, bz2, xz, zst), a named pipe or <(process substitution), or - for a tar on stdin; optional with --layer");
  build->add_option("--owner", flags.owner, "keep: store the uid/gid lstat or the tar reports (fakeroot/pseudo ownership); root: store 0:0 for everything")
      ->capture_default_str();
  build->add_option("--layer", flags.layers, "Add a layer from DIR, repeatable, bottom to top; ROOTFS (if given) comes first (OCI_LAYER_MODE=multi)")
      ->allow_extra_args(false);
  build->add_option("--base", flags.base, "Stack on the image LAYOUT[:TAG] (default tag latest; LAYOUT a directory, or a layout tarball as oci-archive:FILE[:TAG] or FILE[:TAG]): its layers, then ours; its config, overridden by flags (OCI_BASE_IMAGE)");
  build->add_option("--platform", flags.base_platform, "With --base naming a multi-platform image: the one to stack on, OS/ARCH[/VARIANT] (default: the --os/--arch/--variant built, else the host's)");
  build->add_option("--diff-base", flags.diff_base, "Make the (last) layer a delta: only what changed from DIR, with whiteouts for removed paths");
  build->add_flag("--diff-against-base", flags.diff_against_base, "Make the layer a delta against the --base image's merged rootfs (one layer only)");
  build->add_option("-o,--output", flags.output, "Output OCI layout directory, [oci:]LAYOUT[:TAG] (created, or updated in place; never a layout tarball: --tar-output writes one)")
      ->required();
  build->add_option("--tag", flags.tags, "Tag, index.json org.opencontainers.image.ref.name, repeatable (one entry each, same manifest); default: the TAG of -o LAYOUT:TAG, else latest (OCI_IMAGE_TAG)")
      ->allow_extra_args(false);
  build->add_option("--author", flags.author, "Config author, e.g. \"Name <mail>\" (OCI_IMAGE_AUTHOR / _EMAIL)");
  build->add_option("--user", flags.user, "Config User (OCI_IMAGE_RUNTIME_UID)");
  build->add_option("--arch", flags.arch, "Architecture, Go or Yocto name; default: host (OCI_IMAGE_ARCH)");
  build->add_option("--variant", flags.variant, "CPU variant: v5|v6|v7|v8 for arm, v8 for arm64 (OCI_IMAGE_SUBARCH)");
  build->add_option("--os", flags.os, "Operating system, a Go GOOS name (OCI_IMAGE_OS)")->capture_default_str();
  build->add_flag("--force-platform", flags.force_platform, "With --base: write the --os/--arch/--variant given even when the base image is another platform (refused otherwise)");
  build->add_option("--entrypoint", flags.entrypoint, "Entrypoint; once: shell words, repeated: one element each (OCI_IMAGE_ENTRYPOINT)")
      ->allow_extra_args(false);
  build->add_option("--cmd", flags.cmd, "Cmd; once: shell words, repeated: one element each (OCI_IMAGE_CMD / OCI_IMAGE_ENTRYPOINT_ARGS)")
      ->allow_extra_args(false);
  build->add_option("--workdir", flags.workdir, "Config WorkingDir (OCI_IMAGE_WORKINGDIR)");
  build->add_option("--stop-signal", flags.stop_signal, "Config StopSignal: a name (SIGTERM, TERM, SIGRTMIN+3) or a number 1-64 (OCI_IMAGE_STOPSIGNAL)");
  build->add_option("--port", flags.ports, "Exposed port PORT[/tcp|udp|sctp], repeatable (OCI_IMAGE_PORTS)")
      ->allow_extra_args(false);
  build->add_option("--label", flags.labels, "Label KEY=VALUE, repeatable (OCI_IMAGE_LABELS)")
      ->allow_extra_args(false);
  build->add_option("--annotation", flags.annotations, "Manifest annotation KEY=VALUE, repeatable")
      ->allow_extra_args(false);
  build->add_option("--index-annotation", flags.index_annotations, "Annotation KEY=VALUE of the image's index.json entry, repeatable")
      ->allow_extra_args(false);
  build->add_option("--sbom", flags.sbom, "Attach this SPDX or CycloneDX JSON document as an OCI 1.1 referrer of the image");
  build->add_option("--env", flags.env, "Environment KEY=VALUE, repeatable (OCI_IMAGE_ENV_VARS)")
      ->allow_extra_args(false);
  build->add_option("--created", flags.created, "Creation time, RFC 3339 or @SECONDS; default: SOURCE_DATE_EPOCH, else now");
  add_codec_flags(build, flags, " (OCI_IMAGE_COMPRESSION)", " (OCI_IMAGE_COMPRESSION_LEVEL)");
  build->add_flag("--dictionary", flags.dictionary, "With --gzip-format single: prime each chunk with the previous 32 KiB (smaller, same speed class)");
  build->add_option("--threads", flags.threads, "Worker threads; default: all cores");
  build->add_option("--chunk-size", flags.chunk_size, "Target chunk size, 64K-64M (one gzip member or zstd frame each); default: 1M, 8M for zstd");
  build->add_option("--tar-output", flags.tar_output, "Also write the layout as a tarball (OCI_IMAGE_TAR_OUTPUT)");
  build->add_option("--tar-output-dir", flags.tar_output_dir, "Also write the layout as a tarball of its directory: one top entry named as the layout, the layout below it (Yocto's -dir.tar)");
  build->add_option("--yocto-vars", flags.yocto_vars, "Build what the Yocto variable dump FILE (written by scripts/yocto/image-oci-ocipack.inc, read as data) asks for; takes no other flag but --print-yocto-args");
  build->add_flag("--print-yocto-args", flags.print_yocto_args, "With --yocto-vars: print the equivalent build arguments, each followed by a NUL, and build nothing");
  build->add_option("--digestfile", flags.digest_file, "After the build, write the manifest digest (sha256:..., no newline) to FILE, as skopeo does");
  build->add_option("--iidfile", flags.iid_file, "After the build, write the config digest, the image id (sha256:..., no newline), to FILE, as podman does");
  build->add_option("--cache", flags.cache, "Chunk cache DIR: chunks compressed before are read, not compressed again (same bytes); default $OCIPACK_CACHE_DIR");
  build->add_option("--cache-max-size", flags.cache_max_size, "Prune the chunk cache to this size after a build, least recently used first")
      ->capture_default_str();
  build->add_option("--cache-remote", flags.cache_remote, "Shared chunk cache: an HTTP URL answering GET and PUT (WebDAV); default $OCIPACK_CACHE_REMOTE; needs --cache");
  build->add_option("--cache-remote-timeout", flags.cache_remote_timeout, "Seconds a remote cache request may take before the remote is left alone for this build")
      ->capture_default_str();
  build->add_flag("--no-cache", flags.no_cache, "Use no chunk cache, whatever $OCIPACK_CACHE_DIR says");
  build->add_flag("-q,--quiet", flags.quiet, "Print nothing on success (and no progress bar)");
  build->add_flag("--json", flags.json, "Print the result as one JSON document on stdout (layout, tags, digests, platform, layers, tarball, timings) instead of the summary");
  build->add_flag("--stats", flags.stats, "Print per-stage time and throughput after the build");
  build->add_flag("--progress", flags.progress, "Show progress (the default on a terminal; never written to a non-terminal: ignored there with a note)");
  build->add_flag("--no-progress", flags.no_progress, "Never draw the progress bar");
  flags.app = build;
  return build;
}

// `ocipack add-layer [oci:]LAYOUT[:TAG] DIR`: build's flags that make sense
// for one layer added to an existing image, bound to a BuildFlags of its own
// (add_layer_command turns them into that build).
CLI::App* add_add_layer(CLI::App& app, BuildFlags& flags) {
  CLI::App* sub = app.add_subcommand(
      "add-layer", "Add a layer made from DIR to the image LAYOUT:TAG in place (as umoci raw add-layer): "
                   "a new config, manifest and index.json entry; the old ones stay until ocipack gc");
  sub->footer(k_add_layer_footer);
  sub->add_option("IMAGE", flags.image, "The image to edit, [oci:]LAYOUT[:TAG] (default tag latest)")->required();
  sub->add_option("DIR", flags.rootfs, "Directory whose contents form the layer (not a symlink, not /)")->required();
  sub->add_option("--tag", flags.tags, "Write the result under this tag instead (the image's own tag then stays as it was)")
      ->allow_extra_args(false);
  sub->add_option("--owner", flags.owner, "keep: store the uid/gid lstat reports (fakeroot/pseudo ownership); root: store 0:0")
      ->capture_default_str();
  sub->add_option("--created", flags.created, "Time of the new config and history entry, RFC 3339 or @SECONDS; default: SOURCE_DATE_EPOCH, else now");
  sub->add_option("--history.created_by", flags.history_created_by, "created_by of the layer's history entry (default \"ocipack add-layer\")");
  sub->add_option("--history.comment", flags.history_comment, "comment of the layer's history entry");
  sub->add_option("--history.author", flags.history_author, "author of the layer's history entry (default: none)");
  add_codec_flags(sub, flags, "", "");
  sub->add_option("--threads", flags.threads, "Worker threads; default: all cores");
  sub->add_option("--chunk-size", flags.chunk_size, "Target chunk size, 64K-64M; default: 1M, 8M for zstd");
  sub->add_option("--cache", flags.cache, "Chunk cache DIR, as build --cache; default $OCIPACK_CACHE_DIR");
  sub->add_flag("--no-cache", flags.no_cache, "Use no chunk cache, whatever $OCIPACK_CACHE_DIR says");
  sub->add_option("--tar-output", flags.tar_output, "Also write the edited layout as a tarball");
  sub->add_option("--digestfile", flags.digest_file, "Write the new manifest digest (sha256:..., no newline) to FILE");
  sub->add_option("--iidfile", flags.iid_file, "Write the new config digest, the image id, to FILE");
  sub->add_flag("-q,--quiet", flags.quiet, "Print nothing on success (and no progress bar)");
  sub->add_flag("--no-progress", flags.no_progress, "Never draw the progress bar");
  flags.app = sub;
  return sub;
}

// A subcommand whose one positional argument is a layout (LAYOUT or LAYOUT[:TAG]).
CLI::App* add_layout_subcommand(CLI::App& app, const char* name, const char* what, const char* positional,
                                const char* positional_help, LayoutFlags& flags) {
  CLI::App* sub = app.add_subcommand(name, what);
  sub->add_option(positional, flags.layout, positional_help)->required();
  return sub;
}

CLI::App* add_tags(CLI::App& app, LayoutFlags& flags) {
  CLI::App* tags = add_layout_subcommand(app, "tags", "List the tags of an OCI image layout", "LAYOUT[:TAG]",
                                         "OCI image layout directory or layout tarball ([oci:]LAYOUT or [oci-archive:]FILE; with :TAG only that tag's entry)", flags);
  tags->add_flag("--json", flags.json, "Machine-readable output, with each entry's kind (image, index, other)");
  return tags;
}

CLI::App* add_inspect(CLI::App& app, LayoutFlags& flags) {
  CLI::App* inspect = add_layout_subcommand(app, "inspect", "Show an image's config, layers and sizes",
                                            "LAYOUT[:TAG]", "Layout and tag ([oci:]LAYOUT[:TAG] or [oci-archive:]FILE[:TAG], FILE a layout tarball; no tag: latest, else the layout's only image)", flags);
  inspect->add_flag("--json", flags.json, "Machine-readable output");
  inspect->add_option("--platform", flags.platform, "For a multi-platform image: the one to show, OS/ARCH[/VARIANT] (without it, the platforms are listed)");
  return inspect;
}

CLI::App* add_gc(CLI::App& app, LayoutFlags& flags) {
  CLI::App* gc = add_layout_subcommand(app, "gc", "Remove blobs that no tag references", "LAYOUT",
                                       "OCI image layout directory ([oci:]LAYOUT; a :TAG is accepted and ignored: gc is layout-wide; a layout tarball is refused)", flags);
  gc->add_flag("--dry-run", flags.dry_run, "List what would be removed and the bytes it holds; remove nothing");
  return gc;
}

CLI::App* add_verify(CLI::App& app, LayoutFlags& flags) {
  CLI::App* verify = add_layout_subcommand(
      app, "verify", "Check a layout: JSON documents, every blob's size and digest, diff_ids, layer tars and their paths",
      "LAYOUT[:TAG]", "OCI image layout directory or layout tarball ([oci:]LAYOUT or [oci-archive:]FILE; with :TAG as --ref TAG)", flags);
  verify->add_option("--ref", flags.ref, "Only the image with this tag (default: every manifest in index.json)");
  verify->add_flag("--json", flags.json, "Print one JSON document: whether the check ran, whether the layout is valid, the problems found");
  return verify;
}

CLI::App* add_index(CLI::App& app, IndexFlags& flags) {
  CLI::App* index = app.add_subcommand("index", "Assemble images of other layouts into one multi-platform image (an image index)");
  index->add_option("SRC", flags.sources, "An image, LAYOUT[:TAG] or LAYOUT.tar[:TAG] (a --tar-output tarball); default tag latest; one entry each, in order");
  index->add_option("-o,--output", flags.output, "Output OCI layout directory, [oci:]LAYOUT[:TAG] (created, or updated in place)")->required();
  index->add_option("--tag", flags.tag, "The index's tag in the output")->capture_default_str();
  index->add_option("--add", flags.add, "Edit the index under --tag: add SRC[:TAG], replacing the entry of its platform; repeatable")
      ->allow_extra_args(false);
  index->add_option("--remove", flags.remove, "Edit the index under --tag: remove the entry of OS/ARCH[/VARIANT]; repeatable")
      ->allow_extra_args(false);
  index->add_flag("--flatten", flags.flatten, "A SRC that is itself an image index contributes its images (refused otherwise)");
  index->add_option("--annotation", flags.annotations, "Annotation KEY=VALUE of the image index document, repeatable")
      ->allow_extra_args(false);
  index->add_option("--index-annotation", flags.index_annotations, "Annotation KEY=VALUE of the index's index.json entry, repeatable")
      ->allow_extra_args(false);
  index->add_flag("-q,--quiet", flags.quiet, "Print nothing on success");
  flags.app = index;
  return index;
}

// An image named by "[oci:]LAYOUT[:TAG]" (layout_refs.h), tag latest when
// none is given; errors name `what`.
Result<ImageRef> image_argument(const std::string& what, const std::string& text) {
  OCIPACK_TRY_ASSIGN(const LayoutArgument ref, parse_layout_argument(what, text));
  return ImageRef{ref.layout_dir, ref.tag.value_or("latest")};
}

// SRC[:TAG] arguments as index sources ("sources" or "add", for errors).
Result<std::vector<IndexSource>> index_sources(const std::vector<std::string>& texts, const std::string& flag) {
  std::vector<IndexSource> sources;
  for (const auto& text : texts) {
    OCIPACK_TRY_ASSIGN(const ImageRef ref, image_argument(flag, text));
    sources.push_back({ref.layout_dir, ref.tag});
  }
  return sources;
}

Result<CommandLine> index_command(const IndexFlags& flags) {
  CommandLine cl;
  cl.action = CommandLine::Action::index;
  cl.quiet = flags.quiet;
  IndexRequest& request = cl.index;
  request.layout_dir = flags.output;
  request.tag = flags.tag;
  if (!flags.output.empty()) {
    OCIPACK_TRY_ASSIGN(const LayoutArgument output, parse_layout_argument("-o", flags.output));
    OCIPACK_TRY(refuse_tarball("-o", output));
    const std::vector<std::string> given = flags.app->count("--tag") > 0 ? std::vector<std::string>{flags.tag}
                                                                           : std::vector<std::string>{};
    OCIPACK_TRY_ASSIGN(const auto tags, merge_tags("-o", output, "--tag", given, {flags.tag}));
    request.layout_dir = output.layout_dir;
    request.tag = tags.front();
  }
  request.flatten = flags.flatten;
  OCIPACK_TRY_ASSIGN(request.sources, index_sources(flags.sources, "SRC"));
  OCIPACK_TRY_ASSIGN(request.add, index_sources(flags.add, "--add"));
  OCIPACK_TRY_ASSIGN(request.document_annotations, parse_annotations("--annotation", flags.annotations));
  OCIPACK_TRY_ASSIGN(request.index_annotations, parse_annotations("--index-annotation", flags.index_annotations));
  for (const auto& text : flags.remove) {
    auto platform = parse_platform(text);
    if (!platform) return std::move(platform).error().with_context("--remove: ");
    request.remove.push_back(*platform);
  }
  return cl;
}

// `ocipack attach LAYOUT[:TAG] [--artifact-type TYPE] FILE`.
struct AttachFlags {
  std::string image, file, artifact_type;
  const CLI::App* app = nullptr;
};

CLI::App* add_attach(CLI::App& app, AttachFlags& flags) {
  CLI::App* attach = app.add_subcommand(
      "attach", "Attach a document (an SBOM) to an image as an OCI 1.1 referrer, stored in the layout");
  attach->add_option("LAYOUT[:TAG]", flags.image, "Layout and tag of the image (default latest)")->required();
  attach->add_option("FILE", flags.file, "The document: SPDX or CycloneDX JSON, or any file with --artifact-type")
      ->required();
  attach->add_option("--artifact-type", flags.artifact_type,
                     "Artifact media type; default: from the content (application/spdx+json, application/vnd.cyclonedx+json)");
  flags.app = attach;
  return attach;
}

Result<CommandLine> attach_command(const AttachFlags& flags) {
  OCIPACK_TRY_ASSIGN(const LayoutArgument ref, parse_layout_argument("attach", flags.image));
  OCIPACK_TRY(refuse_tarball("attach", ref));
  CommandLine cl;
  cl.action = CommandLine::Action::attach;
  cl.attach.layout_dir = ref.layout_dir;
  cl.attach.tag = ref.tag.value_or("latest");
  cl.attach.document_path = flags.file;
  if (flags.app->count("--artifact-type") > 0) cl.attach.artifact_type = flags.artifact_type;
  return cl;
}

// A layout subcommand's LAYOUT[:TAG] (layout_refs.h); `cl.tag` is the tag
// it names ("" for none).
Result<CommandLine> layout_command(CommandLine::Action action, const std::string& what, const LayoutFlags& flags) {
  // An empty LAYOUT is the library's to refuse ("empty layout path"), as it
  // always was; inspect's LAYOUT[:TAG] says "empty image reference".
  LayoutArgument argument;
  if (!flags.layout.empty() || action == CommandLine::Action::inspect) {
    OCIPACK_TRY_ASSIGN(argument, parse_layout_argument(what, flags.layout));
  }
  const bool writes = action == CommandLine::Action::gc || action == CommandLine::Action::tag ||
                      action == CommandLine::Action::untag;
  if (writes) OCIPACK_TRY(refuse_tarball(what, argument));
  CommandLine cl;
  cl.action = action;
  cl.layout_dir = argument.layout_dir;
  cl.tag = argument.tag.value_or("");
  cl.json = flags.json;
  return cl;
}

Result<CommandLine> gc_command(const LayoutFlags& flags) {
  OCIPACK_TRY_ASSIGN(CommandLine cl, layout_command(CommandLine::Action::gc, "gc", flags));
  cl.dry_run = flags.dry_run;
  return cl;
}

Result<CommandLine> verify_command(const LayoutFlags& flags, const CLI::App& verify) {
  OCIPACK_TRY_ASSIGN(CommandLine cl, layout_command(CommandLine::Action::verify, "verify", flags));
  LayoutArgument argument{cl.layout_dir, std::nullopt};
  if (!cl.tag.empty()) argument.tag = cl.tag;  // a tag in a reference is never empty
  const std::vector<std::string> ref = verify.count("--ref") > 0 ? std::vector<std::string>{flags.ref}
                                                                   : std::vector<std::string>{};
  OCIPACK_TRY_ASSIGN(const auto tags, merge_tags("verify", argument, "--ref", ref, {""}));
  cl.tag = tags.front();
  return cl;
}

Result<CommandLine> inspect_command(const LayoutFlags& flags) {
  OCIPACK_TRY_ASSIGN(CommandLine cl, layout_command(CommandLine::Action::inspect, "inspect", flags));
  if (!flags.platform.empty()) {
    auto platform = parse_platform(flags.platform);
    if (!platform) return std::move(platform).error().with_context("--platform: ");
    cl.platform = *platform;
  }
  return cl;
}

// `ocipack tag LAYOUT:SRC NEW...` and `ocipack untag LAYOUT:TAG`.
CLI::App* add_tag(CLI::App& app, LayoutFlags& flags) {
  CLI::App* tag = add_layout_subcommand(app, "tag", "Give the image LAYOUT:SRC more tags (index.json entries for the same manifest)",
                                        "LAYOUT:SRC", "The image to tag, [oci:]LAYOUT[:SRC] (default SRC latest; a directory: a layout tarball is refused)", flags);
  tag->add_option("NEW", flags.new_tags, "The new tags (a tag that names another image is moved, and said so)")->required();
  return tag;
}

CLI::App* add_untag(CLI::App& app, LayoutFlags& flags) {
  return add_layout_subcommand(app, "untag", "Remove a tag from a layout (its blobs stay until ocipack gc)", "LAYOUT:TAG",
                               "The tag to remove, [oci:]LAYOUT:TAG (a directory: a layout tarball is refused)", flags);
}

Result<CommandLine> tag_command(const LayoutFlags& flags) {
  OCIPACK_TRY_ASSIGN(CommandLine cl, layout_command(CommandLine::Action::tag, "tag", flags));
  if (cl.tag.empty()) cl.tag = "latest";
  cl.new_tags = flags.new_tags;
  return cl;
}

Result<CommandLine> untag_command(const LayoutFlags& flags) {
  OCIPACK_TRY_ASSIGN(CommandLine cl, layout_command(CommandLine::Action::untag, "untag", flags));
  if (cl.tag.empty()) return usage_error("untag " + in_quotes(flags.layout) + ": name the tag to remove, LAYOUT:TAG");
  return cl;
}

// The layers (ROOTFS, --layer, --diff-base), ownership and the base image.
Status set_layers(const BuildFlags& flags, BuildOptions& b) {
  if (!flags.rootfs.empty()) b.layers.push_back({flags.rootfs, std::nullopt});
  for (const auto& dir : flags.layers) {
    if (dir.empty()) return usage_error("--layer: the directory is empty");
    b.layers.push_back({dir, std::nullopt});
  }
  if (b.layers.empty()) return usage_error("no rootfs given: pass ROOTFS or --layer DIR");
  if (!flags.diff_base.empty()) b.layers.back().diff_base = flags.diff_base;
  if (flags.owner != "keep" && flags.owner != "root")
    return usage_error("--owner '" + flags.owner + "': expected keep or root");
  b.owner_root = flags.owner == "root";
  if (flags.diff_against_base) {
    if (flags.base.empty()) return usage_error("--diff-against-base needs --base LAYOUT[:TAG]");
    if (!flags.diff_base.empty()) return usage_error("--diff-against-base and --diff-base exclude each other");
    b.diff_against_base = true;
  }
  if (!flags.base.empty()) {
    OCIPACK_TRY_ASSIGN(const LayoutArgument ref, parse_layout_argument("--base", flags.base));
    b.base_layout = ref.layout_dir;
    b.base_tag = ref.tag.value_or("latest");
  }
  if (flags.force_platform && flags.base.empty())
    return usage_error("--force-platform needs --base LAYOUT[:TAG] (it allows a platform other than the base's)");
  b.force_platform = flags.force_platform;
  if (!flags.base_platform.empty()) {
    if (flags.base.empty()) return usage_error("--platform needs --base LAYOUT[:TAG] (it picks the base image)");
    auto platform = parse_platform(flags.base_platform);
    if (!platform) return std::move(platform).error().with_context("--platform: ");
    b.base_platform = *platform;
  }
  return ok_status();
}

// The output: -o LAYOUT[:TAG] and the --tag flags (repeatable; a tag given
// twice counts once). A -o that looks like a tarball gets a warning.
Status set_output(const BuildFlags& flags, BuildOptions& b, CommandLine& cl) {
  std::vector<std::string> tags = flags.tags;
  std::replace(tags.begin(), tags.end(), std::string(), std::string("latest"));  // --tag '' as ever
  if (!flags.output.empty()) {  // empty: the library's "-o: the output layout path is empty"
    OCIPACK_TRY_ASSIGN(const LayoutArgument output, parse_layout_argument("-o", flags.output));
    OCIPACK_TRY(refuse_tarball("-o", output));
    b.layout_dir = output.layout_dir;
    OCIPACK_TRY_ASSIGN(tags, merge_tags("-o", output, "--tag", tags, {"latest"}));
    if (looks_like_tarball(output.layout_dir))
      cl.warnings.push_back("-o is a layout directory; for a tarball use --tar-output");
  }
  if (tags.empty()) tags.push_back("latest");
  for (const auto& tag : tags) {
    OCIPACK_TRY(validate_ref_name(tag));
    if (tag != tags.front() && std::find(b.image.extra_tags.begin(), b.image.extra_tags.end(), tag) == b.image.extra_tags.end())
      b.image.extra_tags.push_back(tag);
  }
  b.image.tag = tags.front();
  return ok_status();
}

// The image config: platform, runtime settings, ports, labels, env.
// With a base image, platform fields not given are inherited, not defaulted.
Status set_image(const BuildFlags& flags, ImageSpec& image) {
  if (flags.given("--author")) image.author = flags.author;
  if (flags.given("--os")) {
    if (flags.os.empty()) return usage_error("--os: the value is empty");
    if (auto known = validate_os(flags.os); !known) return std::move(known).error().with_context("--os: ");
    image.os = flags.os;
  }
  if (flags.given("--arch")) {
    auto platform = map_architecture(flags.arch);
    if (!platform) return std::move(platform).error().with_context("--arch: ");
    image.architecture = platform->architecture;
    if (!platform->variant.empty()) image.variant = platform->variant;
  } else if (flags.base.empty()) {
    image.architecture = host_architecture();
  }
  if (flags.given("--variant")) image.variant = flags.variant;
  if (auto status = validate_variant(image.variant.value_or("")); !status)
    return std::move(status).error().with_context("--variant: ");
  if (image.architecture && flags.given("--variant"))  // without --arch, a --base image's is not known here
    if (auto status = validate_variant_for(*image.architecture, flags.variant); !status)
      return std::move(status).error().with_context("--variant: ");

  if (flags.given("--user")) image.user = flags.user;
  if (flags.given("--workdir")) image.working_dir = flags.workdir;
  if (flags.given("--stop-signal")) {
    OCIPACK_TRY(check_stop_signal(flags.stop_signal));
    image.stop_signal = flags.stop_signal;
  }
  if (flags.given("--entrypoint")) {
    OCIPACK_TRY_ASSIGN(image.entrypoint, parse_command_words("--entrypoint", flags.entrypoint));
  }
  if (flags.given("--cmd")) {
    OCIPACK_TRY_ASSIGN(image.cmd, parse_command_words("--cmd", flags.cmd));
  }
  for (const auto& p : flags.ports) {
    OCIPACK_TRY_ASSIGN(auto port, parse_port(p));
    image.exposed_ports.push_back(std::move(port));
  }
  for (const auto& l : flags.labels) {
    OCIPACK_TRY_ASSIGN(auto kv, parse_key_value("--label", l));
    image.labels[kv.first] = kv.second;  // a later value wins
  }
  for (const auto& e : flags.env) {
    OCIPACK_TRY(parse_key_value("--env", e));
    image.env.push_back(e);
  }
  return ok_status();
}

// --annotation and --index-annotation (a later value for a key wins), --sbom.
Status set_annotations(const BuildFlags& flags, BuildOptions& b) {
  OCIPACK_TRY_ASSIGN(b.manifest_annotations, parse_annotations("--annotation", flags.annotations));
  OCIPACK_TRY_ASSIGN(b.index_annotations, parse_annotations("--index-annotation", flags.index_annotations));
  if (flags.given("--sbom") && flags.sbom.empty()) return usage_error("--sbom: the file name is empty");
  b.sbom_path = flags.sbom;
  return ok_status();
}

// SOURCE_DATE_EPOCH clamps mtimes and dates the image unless --created does.
// Set but empty (as CI templates leave it) it counts as unset, with a warning.
Status set_times(const BuildFlags& flags, const Environment& env, BuildOptions& b, CommandLine& cl) {
  if (env.source_date_epoch && env.source_date_epoch->empty())
    cl.warnings.push_back("SOURCE_DATE_EPOCH is set but empty: ignored (the image is dated " +
                          std::string(flags.created.empty() ? "now" : "by --created") + ")");
  else if (env.source_date_epoch) {
    OCIPACK_TRY_ASSIGN(b.clamp_mtime, parse_source_date_epoch(*env.source_date_epoch));
  }
  if (!flags.created.empty()) {
    auto created = parse_timestamp(flags.created);
    if (!created) return std::move(created).error().with_context("--created: ");
    b.image.created = *created;
  } else {
    b.image.created = b.clamp_mtime ? *b.clamp_mtime : env.now;
  }
  return ok_status();
}

// The codec: the layer format, the gzip engine (given, --fast's, or the
// format's own codec) and the level (given, or that codec's default);
// resolve_layer_format checks levels and combinations, naming the fields.
Status set_codec(const BuildFlags& flags, CodecOptions& codec) {
  OCIPACK_TRY_ASSIGN(codec.compression, parse_layer_compression(flags.compression_format));
  const bool compressor_given = flags.given("--compressor");
  if (flags.fast && !compressor_given && codec.compression != LayerCompression::gzip)
    return usage_error("--fast (ISA-L gzip) does not apply to --compression-format " + flags.compression_format);
  if (compressor_given || flags.fast) {
    OCIPACK_TRY_ASSIGN(codec.kind, parse_codec_kind(compressor_given ? flags.compressor : "isal"));
  } else {
    codec.kind = default_codec_kind(codec.compression);
  }
  OCIPACK_TRY_ASSIGN(codec.format, parse_gzip_format(flags.gzip_format));
  codec.dictionary = flags.dictionary;
  if (flags.given("--level")) codec.level = flags.level;
  else if (codec.kind) codec.level = default_level(*codec.kind);
  OCIPACK_TRY(resolve_layer_format(codec));
  return ok_status();
}

// --digestfile and --iidfile (given empty: a usage error).
Status set_digest_files(const BuildFlags& flags, BuildOptions& b) {
  if (flags.given("--digestfile")) {
    if (flags.digest_file.empty()) return usage_error("--digestfile: the file name is empty");
    b.digest_file = flags.digest_file;
  }
  if (flags.given("--iidfile")) {
    if (flags.iid_file.empty()) return usage_error("--iidfile: the file name is empty");
    b.iid_file = flags.iid_file;
  }
  return ok_status();
}

// The chunk cache: --cache (else $OCIPACK_CACHE_DIR), --cache-remote (else
// $OCIPACK_CACHE_REMOTE), their limits; --no-cache turns both off.
Status set_cache(const BuildFlags& flags, const Environment& env, ChunkCacheOptions& cache) {
  if (flags.no_cache) {
    if (flags.given("--cache") || flags.given("--cache-remote"))
      return usage_error("--no-cache contradicts --cache and --cache-remote");
    return ok_status();
  }
  cache.dir = flags.given("--cache") ? flags.cache : env.cache_dir.value_or("");
  cache.remote_url = flags.given("--cache-remote") ? flags.cache_remote : env.cache_remote.value_or("");
  if (flags.given("--cache") && flags.cache.empty()) return usage_error("--cache: the directory name is empty");
  OCIPACK_TRY_ASSIGN(cache.max_bytes, parse_size("--cache-max-size", flags.cache_max_size));
  if (flags.cache_remote_timeout < 1 || flags.cache_remote_timeout > 3600)
    return usage_error("--cache-remote-timeout " + std::to_string(flags.cache_remote_timeout) + ": expected 1-3600 seconds");
  cache.remote_timeout_ms = 1000L * flags.cache_remote_timeout;
  if (!cache.remote_url.empty()) {
    if (cache.dir.empty()) return usage_error("--cache-remote needs a local --cache DIR (or $OCIPACK_CACHE_DIR)");
    OCIPACK_TRY(check_remote_cache_url(cache.remote_url));
  }
  return ok_status();
}

// The layer pipeline: codec, threads, chunk size, cache, and the tarball.
Status set_layer_options(const BuildFlags& flags, const Environment& env, BuildOptions& b) {
  OCIPACK_TRY(set_codec(flags, b.layer.codec));
  if (flags.threads < 0 || flags.threads > 1024)
    return usage_error("--threads " + std::to_string(flags.threads) + ": expected 1-1024");
  b.layer.threads = flags.threads == 0 ? std::max(1, env.hardware_threads) : flags.threads;
  if (flags.threads == 0 && flags.given("--threads")) return usage_error("--threads 0: expected 1-1024");
  b.layer.chunking.target_size = default_chunk_size(b.layer.codec.compression);
  if (flags.given("--chunk-size")) {
    OCIPACK_TRY_ASSIGN(const size_t chunk, parse_size("--chunk-size", flags.chunk_size));
    if (chunk < ChunkingOptions::k_min_target || chunk > ChunkingOptions::k_max_target)
      return usage_error("--chunk-size '" + flags.chunk_size + "': expected 64K-64M");
    b.layer.chunking.target_size = chunk;
  }
  if (!flags.tar_output.empty()) b.tar_output = flags.tar_output;
  if (!flags.tar_output_dir.empty()) b.tar_output_dir = flags.tar_output_dir;
  OCIPACK_TRY(set_cache(flags, env, b.layer.cache));
  return set_digest_files(flags, b);
}

// Whether the image holds nothing but a delta: --diff-base with no --base and
// no lower layer that is the diff base itself.
bool delta_only(const BuildOptions& b) {
  if (b.base_layout || b.layers.empty() || !b.layers.back().diff_base) return false;
  return std::none_of(b.layers.begin(), b.layers.end() - 1,
                      [&](const LayerInput& layer) { return layer.rootfs == *b.layers.back().diff_base; });
}

Result<CommandLine> build_command(const BuildFlags& flags, const Environment& env) {
  if (flags.given("--yocto-vars") || flags.print_yocto_args)
    return usage_error("--yocto-vars FILE takes no other flag but --print-yocto-args (the dump holds every setting)");
  CommandLine cl;
  cl.quiet = flags.quiet;
  cl.stats = flags.stats;
  cl.progress = flags.progress;
  cl.no_progress = flags.no_progress;
  cl.json = flags.json;
  OCIPACK_TRY(set_layers(flags, cl.build));
  OCIPACK_TRY(set_output(flags, cl.build, cl));
  OCIPACK_TRY(set_image(flags, cl.build.image));
  OCIPACK_TRY(set_annotations(flags, cl.build));
  OCIPACK_TRY(set_times(flags, env, cl.build, cl));
  if (delta_only(cl.build))
    cl.warnings.push_back("--diff-base without --base: the image holds only the changes from '" +
                          *cl.build.layers.back().diff_base + "', not the files they apply to");
  OCIPACK_TRY(set_layer_options(flags, env, cl.build));
  return cl;
}

// `ocipack add-layer IMAGE DIR`: the build of DIR on --base IMAGE into
// IMAGE's layout under IMAGE's tag (or --tag), as an edit of the base
// (BuildOptions::edit_base, which also refuses a DIR that is a symlink, /
// or not a directory).
Result<CommandLine> add_layer_command(const BuildFlags& given, const Environment& env) {
  OCIPACK_TRY_ASSIGN(const LayoutArgument image, parse_layout_argument("add-layer", given.image));
  if (given.rootfs.empty()) return usage_error("DIR: the directory name is empty");
  if (given.tags.size() > 1) return usage_error("--tag: add-layer writes one tag, " + std::to_string(given.tags.size()) + " given");
  BuildFlags flags = given;
  flags.base = given.image;
  flags.tags.clear();
  flags.output.clear();
  OCIPACK_TRY_ASSIGN(CommandLine cl, build_command(flags, env));
  cl.action = CommandLine::Action::add_layer;
  BuildOptions& b = cl.build;
  b.layout_dir = image.layout_dir;
  b.image.tag = given.tags.empty() ? image.tag.value_or("latest") : given.tags.front();
  OCIPACK_TRY(validate_ref_name(b.image.tag));
  b.image.extra_tags.clear();
  b.edit_base = true;
  b.image.history_created_by = given.given("--history.created_by") ? given.history_created_by : "ocipack add-layer";
  b.image.history_comment = given.history_comment;
  if (given.given("--history.author")) b.image.history_author = given.history_author;
  return cl;
}

// `ocipack ls IMAGE [--layer N] [--largest N]` and `ocipack diff A B`.
struct FilesFlags {
  std::string image, other;
  size_t layer = 0, largest = 0;
  const CLI::App* app = nullptr;
};

constexpr const char* k_diff_exit_help = R"(
diff: 0 the images hold the same files; 1 they differ; 2 bad usage or an
image that cannot be read (as diff(1) and cmp(1); one error line on stderr).)";

CLI::App* add_ls(CLI::App& app, FilesFlags& flags) {
  CLI::App* ls = app.add_subcommand("ls", "List the files of an image (all layers merged, whiteouts applied) or of one layer");
  ls->add_option("IMAGE", flags.image, "[oci:]LAYOUT[:TAG] or [oci-archive:]FILE[:TAG] (a layout tarball; default tag latest)")->required();
  ls->add_option("--layer", flags.layer, "Only layer N (1 is the bottom one), its whiteouts shown as such");
  ls->add_option("--largest", flags.largest, "Only the N largest regular files, by size, with a total");
  flags.app = ls;
  return ls;
}

CLI::App* add_diff(CLI::App& app, FilesFlags& flags) {
  CLI::App* diff = app.add_subcommand(
      "diff", "Paths added (+), removed (-) and changed (M: type, mode, owner, size, content, target, device, xattrs) from image A to image B");
  diff->add_option("A", flags.image, "[oci:]LAYOUT[:TAG] or [oci-archive:]FILE[:TAG] (a layout tarball; default tag latest)")->required();
  diff->add_option("B", flags.other, "The same; may be in another layout or tarball")->required();
  flags.app = diff;
  return diff;
}

Result<CommandLine> files_command(CommandLine::Action action, const FilesFlags& flags) {
  CommandLine cl;
  cl.action = action;
  const std::string what = action == CommandLine::Action::diff ? "diff" : "ls";
  OCIPACK_TRY_ASSIGN(cl.files.image, image_argument(what, flags.image));
  if (action == CommandLine::Action::diff) {
    OCIPACK_TRY_ASSIGN(cl.files.other, image_argument(what, flags.other));
    return cl;
  }
  if (flags.app->count("--layer") > 0) {
    if (flags.layer == 0) return usage_error("--layer 0: layers are numbered from 1 (the bottom one)");
    cl.files.layer = flags.layer;
  }
  if (flags.app->count("--largest") > 0) {
    if (flags.largest == 0) return usage_error("--largest 0: expected 1 or more");
    cl.files.largest = flags.largest;
  }
  return cl;
}

// Help or version: what to print instead of running anything.
CommandLine text_command(CommandLine::Action action, std::string text) {
  CommandLine cl;
  cl.action = action;
  cl.text = std::move(text);
  return cl;
}

// `ocipack help [COMMAND]` and `ocipack version`: text commands that are
// subcommands too, so that scripts and newcomers find them where git's are.
struct HelpFlags {
  std::string command;  // help: the subcommand whose help to print
  std::string shell;    // completion: bash or zsh
};

// Every subcommand declared on one CLI11 app, with the flags each fills in.
struct Program {
  CLI::App app{"ocipack: turn a root filesystem into an OCI image layout, fast", "ocipack"};
  BuildFlags build_flags, add_layer_flags;
  LayoutFlags tags_flags, inspect_flags, gc_flags, verify_flags, tag_flags, untag_flags;
  IndexFlags index_flags;
  AttachFlags attach_flags;
  HelpFlags help_flags;
  FilesFlags ls_flags, diff_flags;
  CacheFlags cache_stats_flags, cache_prune_flags;
  std::string version = std::string("ocipack ") + OCIPACK_VERSION + " (" + codec_description(CodecKind::libdeflate) +
                        ", " + codec_description(CodecKind::isal) + ", " + codec_description(CodecKind::zstd) + ")";
  CLI::App *build, *add_layer, *tags, *inspect, *gc, *verify, *index, *attach, *tag, *untag, *cache, *ls, *diff, *help, *version_command, *completion;

  Program() {
    app.require_subcommand(1);
    app.set_version_flag("--version", version);
    build = add_build(app, build_flags);
    add_layer = add_add_layer(app, add_layer_flags);
    tags = add_tags(app, tags_flags);
    inspect = add_inspect(app, inspect_flags);
    gc = add_gc(app, gc_flags);
    verify = add_verify(app, verify_flags);
    index = add_index(app, index_flags);
    attach = add_attach(app, attach_flags);
    tag = add_tag(app, tag_flags);
    untag = add_untag(app, untag_flags);
    cache = add_cache(app, cache_stats_flags, cache_prune_flags);
    ls = add_ls(app, ls_flags);
    diff = add_diff(app, diff_flags);
    help = app.add_subcommand("help", "Print the help of COMMAND (or this help)");
    help->add_option("COMMAND", help_flags.command, "A subcommand");
    version_command = app.add_subcommand("version", "Print the version and the codec libraries this binary uses");
    completion = app.add_subcommand("completion", "Print the bash or zsh completion script (as installed with ocipack)");
    completion->add_option("SHELL", help_flags.shell, "bash or zsh")->required();
    for (CLI::App* sub : {build, tags, inspect, verify, ls, diff}) sub->footer(sub->get_footer() + k_tarball_help);
    for (CLI::App* sub : app.get_subcommands({})) sub->footer(sub->get_footer() + k_exit_status_help);
    verify->footer(verify->get_footer() + k_verify_exit_help);
    diff->footer(diff->get_footer() + k_diff_exit_help);
    tag->footer(tag->get_footer() + k_tag_exit_help);
    untag->footer(untag->get_footer() + k_tag_exit_help);
    app.footer(k_exit_status_help);  // after the subcommands, which would inherit it
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // The subcommand called `name` (nullptr when there is none).
  const CLI::App* subcommand(const std::string& name) const {
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == name) return sub;
    return nullptr;
  }
  std::vector<std::string> subcommand_names() const {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
    return names;
  }
};

// The flags of `app` as typed ("--tag", "-o"), for suggestions.
std::vector<std::string> flag_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    for (const auto& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

// The flag an argument names ("--tag" of "--tag=v1", "-o" of "-oout"), or
// "" for a word that is not a flag ("-" is stdin, not a flag).
std::string flag_of_argument(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-') return {};
  if (arg[1] == '-') return arg.substr(0, arg.find('='));
  return arg.substr(0, 2);
}

// Refuses a flag that `sub` does not have, naming it and the nearest one it
// has, before CLI11 parses: CLI11 would first complain about a required flag
// the typo kept from being seen. Values of flags that take one are skipped.
// `args` from `first` to before `last` are `sub`'s.
Status check_flags(const CLI::App& sub, const std::vector<std::string>& args, size_t first, size_t last) {
  for (size_t i = first; i < last && args[i] != "--"; ++i) {
    const std::string flag = flag_of_argument(args[i]);
    if (flag.empty()) continue;
    const CLI::Option* option = sub.get_option_no_throw(flag);
    if (option == nullptr)
      return usage_error("unknown option '" + flag + "'" + did_you_mean(flag, flag_names(sub)));
    if (option->get_type_size_max() > 0 && flag.size() == args[i].size()) ++i;  // its value follows
  }
  return ok_status();
}

// The index of the subcommand's name in `args` (args.size() if none): the
// first argument that is not a flag of the program itself.
size_t command_position(const std::vector<std::string>& args) {
  size_t i = 0;
  while (i < args.size() && !flag_of_argument(args[i]).empty()) ++i;
  return i;
}

// Unknown subcommands and flags, each with the nearest known name.
Status check_names(const Program& program, const std::vector<std::string>& args) {
  const size_t at = command_position(args);
  OCIPACK_TRY(check_flags(program.app, args, 0, at));
  if (at == args.size()) return ok_status();  // CLI11 asks for a subcommand
  const CLI::App* sub = program.subcommand(args[at]);
  if (sub == nullptr)
    return usage_error("unknown command '" + args[at] + "'" + did_you_mean(args[at], program.subcommand_names()));
  if (!sub->get_subcommands({}).empty()) {  // `cache stats`: the flags are the inner command's
    const size_t inner = at + 1 + command_position(std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(at) + 1, args.end()));
    if (inner == args.size()) return check_flags(*sub, args, at + 1, args.size());
    std::vector<std::string> names;
    const CLI::App* command = nullptr;
    for (const CLI::App* candidate : sub->get_subcommands({})) {
      names.push_back(candidate->get_name());
      if (candidate->get_name() == args[inner]) command = candidate;
    }
    if (command == nullptr)
      return usage_error("unknown command '" + args[at] + " " + args[inner] + "'" + did_you_mean(args[inner], names));
    OCIPACK_TRY(check_flags(*sub, args, at + 1, inner));
    return check_flags(*command, args, inner + 1, args.size());
  }
  return check_flags(*sub, args, at + 1, args.size());
}

// `ocipack help [COMMAND]`: that subcommand's help, or the program's.
Result<CommandLine> help_command(const Program& program) {
  const std::string& name = program.help_flags.command;
  if (name.empty()) {
    const Program unparsed;  // CLI11's help() of a parsed app is that of its subcommand
    return text_command(CommandLine::Action::help, unparsed.app.help());
  }
  const CLI::App* sub = program.subcommand(name);
  if (sub == nullptr)
    return usage_error("unknown command '" + name + "'" + did_you_mean(name, program.subcommand_names()));
  return text_command(CommandLine::Action::help, sub->help());
}

// `ocipack completion SHELL`: the script cli/docs.h generates.
Result<CommandLine> completion_command(const std::string& shell) {
  if (shell == "bash") return text_command(CommandLine::Action::completion, bash_completion(program_doc()));
  if (shell == "zsh") return text_command(CommandLine::Action::completion, zsh_completion(program_doc()));
  return usage_error("completion '" + shell + "': expected bash or zsh");
}

// The help of the subcommand given (the first that was parsed), else the
// program's.
std::string help_text(const CLI::App& app) {
  for (const CLI::App* subcommand : app.get_subcommands())
    if (subcommand->parsed()) return subcommand->help();
  return app.help();
}

// CLI11's refusal, on one line.
Error parse_error(const CLI::ParseError& error) {
  std::string message = error.what();
  if (auto nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
  return usage_error(message);
}

Result<CommandLine> parse(const std::vector<std::string>& args, const Environment& env);

// `ocipack build --yocto-vars FILE [--print-yocto-args]`: the dump mapped
// to build arguments (cli/yocto_vars.h), parsed as if typed; in multi-layer
// mode the rootfs becomes the path-set plan.
std::optional<Result<CommandLine>> yocto_command(const std::vector<std::string>& args, const Environment& env) {
  if (args.size() < 3 || args[0] != "build" || args[1] != "--yocto-vars") return std::nullopt;
  const bool print = args.size() == 4 && args[3] == "--print-yocto-args";
  if (args.size() > 3 && !print) return std::nullopt;  // CLI11 refuses the mix (build_command)
  auto text = read_file(args[2]);
  if (!text) return Result<CommandLine>(usage_error("--yocto-vars '" + args[2] + "': " + text.error().message));
  auto vars = parse_yocto_vars(*text);
  if (!vars) return Result<CommandLine>(vars.error());
  YoctoHost host;
  host.source_date_epoch = env.source_date_epoch;
  host.now = env.now;
  host.git = env.git ? env.git : run_git;
  auto mapped = map_yocto_vars(*vars, host);
  if (!mapped) return Result<CommandLine>(mapped.error());
  Environment build_env = env;
  build_env.source_date_epoch = mapped->source_date_epoch;
  auto command = parse(mapped->args, build_env);
  if (!command) return command;
  if (mapped->path_layers) {
    command->build.layers.clear();
    command->build.path_layers = std::move(mapped->path_layers);
  }
  command->notes = std::move(mapped->notes);
  command->warnings.insert(command->warnings.begin(), mapped->warnings.begin(), mapped->warnings.end());
  command->yocto_remove = std::move(mapped->remove_first);
  command->yocto_create = std::move(mapped->create_first);
  command->yocto_links = std::move(mapped->links);
  if (print) command->yocto_args = mapped->args;
  return command;
}

Result<CommandLine> parse(const std::vector<std::string>& args, const Environment& env) {
  if (auto yocto = yocto_command(args, env)) return std::move(*yocto);
  Program program;
  OCIPACK_TRY(check_names(program, args));
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes its arguments last first
  try {
    program.app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return text_command(CommandLine::Action::help, help_text(program.app));
  } catch (const CLI::CallForVersion&) {
    return text_command(CommandLine::Action::version, program.version);
  } catch (const CLI::ParseError& error) {
    return parse_error(error);
  }
  if (program.help->parsed()) return help_command(program);
  if (program.version_command->parsed()) return text_command(CommandLine::Action::version, program.version);
  if (program.completion->parsed()) return completion_command(program.help_flags.shell);
  if (program.add_layer->parsed()) return add_layer_command(program.add_layer_flags, env);
  if (program.tags->parsed()) return layout_command(CommandLine::Action::tags, "tags", program.tags_flags);
  if (program.gc->parsed()) return gc_command(program.gc_flags);
  if (program.verify->parsed()) return verify_command(program.verify_flags, *program.verify);
  if (program.tag->parsed()) return tag_command(program.tag_flags);
  if (program.untag->parsed()) return untag_command(program.untag_flags);
  if (program.inspect->parsed()) return inspect_command(program.inspect_flags);
  if (program.index->parsed()) return index_command(program.index_flags);
  if (program.attach->parsed()) return attach_command(program.attach_flags);
  if (program.ls->parsed()) return files_command(CommandLine::Action::ls, program.ls_flags);
  if (program.diff->parsed()) return files_command(CommandLine::Action::diff, program.diff_flags);
  if (program.cache->parsed()) {
    if (program.cache->get_subcommand("stats")->parsed())
      return cache_command(CommandLine::Action::cache_stats, program.cache_stats_flags);
    return cache_command(CommandLine::Action::cache_prune, program.cache_prune_flags);
  }
  return build_command(program.build_flags, env);
}
}  // namespace

namespace {
OptionDoc option_doc(const CLI::Option& option) {
  OptionDoc doc;
  for (const auto& name : option.get_snames()) doc.names.push_back("-" + name);
  for (const auto& name : option.get_lnames()) doc.names.push_back("--" + name);
  if (option.get_positional()) doc.value = option.get_name();
  else if (option.get_type_size_max() > 0) doc.value = option.get_type_name();
  doc.description = option.get_description();
  doc.default_value = option.get_default_str();
  return doc;
}

CommandDoc command_doc(const CLI::App& app) {
  CommandDoc doc;
  doc.name = app.get_name();
  doc.description = app.get_description();
  doc.footer = app.get_footer();
  for (const CLI::Option* option : app.get_options())
    (option->get_positional() ? doc.positionals : doc.options).push_back(option_doc(*option));
  for (const CLI::App* sub : app.get_subcommands({})) doc.subcommands.push_back(command_doc(*sub));
  return doc;
}
}  // namespace

CommandDoc program_doc() {
  const Program program;
  return command_doc(program.app);
}

std::string usage_hint(const std::vector<std::string>& args) {
  const Program program;
  const size_t at = command_position(args);
  const bool known = at < args.size() && program.subcommand(args[at]) != nullptr && args[at] != "help" &&
                     args[at] != "version";
  return known ? "see 'ocipack " + args[at] + " --help'" : "see 'ocipack --help'";
}

Result<CommandLine> parse_command_line(const std::vector<std::string>& args, const Environment& env) {
  auto command = parse(args, env);
  if (!command) return command_line_error(command.error());
  return command;
}

}  // namespace ocipack::cli
