// CLI11-based parsing of `ocipack build` (see options.h). Flag help names the
// Yocto image-oci variable each flag corresponds to.
#include "cli/options.h"

#include <CLI/CLI.hpp>

#include <charconv>

#include "cli/codec_names.h"
#include "core/oci/arch.h"
#include "core/codec/codec.h"
#include "core/layer/layer_format.h"
#include "core/oci/layout_reader.h"
#include "cli/shlex.h"
#include "core/util/time_format.h"

namespace ocipack::cli {

Result<std::string> parse_port(const std::string& value) {
  auto bad = [&] {
    return make_error("--port '" + value +
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

Result<std::pair<std::string, std::string>> parse_key_value(const std::string& flag,
                                                            const std::string& value) {
  auto eq = value.find('=');
  if (eq == std::string::npos)
    return make_error(flag + " '" + value + "': expected KEY=VALUE");
  if (eq == 0) return make_error(flag + " '" + value + "': the key before '=' is empty");
  return std::make_pair(value.substr(0, eq), value.substr(eq + 1));
}

Result<size_t> parse_size(const std::string& flag, const std::string& value) {
  uint64_t number = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  std::string_view suffix(ptr, static_cast<size_t>(value.data() + value.size() - ptr));
  uint64_t scale = 0;
  if (suffix.empty() || suffix == "B") scale = 1;
  else if (suffix == "K" || suffix == "k" || suffix == "KiB") scale = 1024;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB") scale = 1024 * 1024;
  if (ec != std::errc() || ptr == value.data() || scale == 0 || number > (1ULL << 40))
    return make_error(flag + " '" + value + "': expected a size such as 1M, 512K or 65536");
  return static_cast<size_t>(number * scale);
}

Result<std::vector<std::string>> parse_command_words(const std::string& flag,
                                                     const std::vector<std::string>& values) {
  if (values.size() != 1) return values;  // repeated: one element per flag
  auto words = shlex_split(values.front());
  if (!words) return make_error(flag + ": " + words.error().message);
  return *words;
}

namespace {
constexpr const char* k_help_footer = R"(
ENTRYPOINT/CMD: given once, the value is split like Python's shlex.split (as
Yocto's image-oci class does): --cmd "/bin/sh -c 'echo hi'". Given several
times, each value is one element: --cmd /bin/sh --cmd -c --cmd "echo hi".
SOURCE_DATE_EPOCH (as Yocto exports it) sets `created` when --created is not
given and clamps file mtimes in the layer to that time.
The layer digest depends only on the rootfs contents, --chunk-size, --level and
the compressor version (see README); not on --threads.)";

struct RawFlags {
  std::string rootfs, output, tag = "latest", author, user, arch, variant, os = "linux";
  std::vector<std::string> entrypoint, cmd, ports, labels, env;
  std::string workdir, stop_signal, created, chunk_size = "1M", tar_output;
  std::string compressor = "libdeflate", gzip_format = "members";
  std::vector<std::string> layers;
  std::string base, diff_base, owner = "keep";
  bool diff_against_base = false;
  int level = -1;  // -1: the compressor's default
  int threads = 0;
  bool quiet = false, fast = false, dictionary = false, stats = false, progress = false,
       no_progress = false;
};
}  // namespace

Result<CommandLine> parse_command_line(const std::vector<std::string>& args, const Environment& env) {
  CLI::App app{"ocipack: turn a root filesystem into an OCI image layout, fast", "ocipack"};
  app.require_subcommand(1);
  const std::string version = std::string("ocipack ") + OCIPACK_VERSION + " (" +
                              codec_description(CodecKind::libdeflate) + ", " +
                              codec_description(CodecKind::isal) + ")";
  app.set_version_flag("--version", version);
  RawFlags raw;
  CLI::App* build = app.add_subcommand("build", "Build an OCI image layout from a rootfs directory");
  build->footer(k_help_footer);
  build->add_option("ROOTFS", raw.rootfs, "Root filesystem: a directory (IMAGE_ROOTFS), a tar file (plain, gz, bz2, xz, zst), a named pipe or <(process substitution), or - for a tar on stdin; optional with --layer");
  build->add_option("--owner", raw.owner, "keep: store the uid/gid lstat or the tar reports (fakeroot/pseudo ownership); root: store 0:0 for everything")
      ->capture_default_str();
  build->add_option("--layer", raw.layers, "Add a layer from DIR, repeatable, bottom to top; ROOTFS (if given) comes first (OCI_LAYER_MODE=multi)")
      ->allow_extra_args(false);
  build->add_option("--base", raw.base, "Stack on the image LAYOUT[:TAG] (default tag latest): its layers, then ours; its config, overridden by flags (OCI_BASE_IMAGE)");
  build->add_option("--diff-base", raw.diff_base, "Make the (last) layer a delta: only what changed from DIR, with whiteouts for removed paths");
  build->add_flag("--diff-against-base", raw.diff_against_base, "Make the layer a delta against the --base image's merged rootfs (one layer only)");
  build->add_option("-o,--output", raw.output, "Output OCI layout directory (created, or updated in place)")
      ->required();
  build->add_option("--tag", raw.tag, "Tag, index.json org.opencontainers.image.ref.name (OCI_IMAGE_TAG)")
      ->capture_default_str();
  build->add_option("--author", raw.author, "Config author, e.g. \"Name <mail>\" (OCI_IMAGE_AUTHOR / _EMAIL)");
  build->add_option("--user", raw.user, "Config User (OCI_IMAGE_RUNTIME_UID)");
  build->add_option("--arch", raw.arch, "Architecture, Go or Yocto name; default: host (OCI_IMAGE_ARCH)");
  build->add_option("--variant", raw.variant, "CPU variant v5|v6|v7|v8 (OCI_IMAGE_SUBARCH)");
  build->add_option("--os", raw.os, "Operating system (OCI_IMAGE_OS)")->capture_default_str();
  build->add_option("--entrypoint", raw.entrypoint, "Entrypoint; once: shell words, repeated: one element each (OCI_IMAGE_ENTRYPOINT)")
      ->allow_extra_args(false);
  build->add_option("--cmd", raw.cmd, "Cmd; once: shell words, repeated: one element each (OCI_IMAGE_CMD / OCI_IMAGE_ENTRYPOINT_ARGS)")
      ->allow_extra_args(false);
  build->add_option("--workdir", raw.workdir, "Config WorkingDir (OCI_IMAGE_WORKINGDIR)");
  build->add_option("--stop-signal", raw.stop_signal, "Config StopSignal (OCI_IMAGE_STOPSIGNAL)");
  build->add_option("--port", raw.ports, "Exposed port PORT[/tcp|udp|sctp], repeatable (OCI_IMAGE_PORTS)")
      ->allow_extra_args(false);
  build->add_option("--label", raw.labels, "Label KEY=VALUE, repeatable (OCI_IMAGE_LABELS)")
      ->allow_extra_args(false);
  build->add_option("--env", raw.env, "Environment KEY=VALUE, repeatable (OCI_IMAGE_ENV_VARS)")
      ->allow_extra_args(false);
  build->add_option("--created", raw.created, "Creation time, RFC 3339 or @SECONDS; default: SOURCE_DATE_EPOCH, else now");
  build->add_option("--compressor", raw.compressor, "Gzip backend: libdeflate (levels 0-12, default 6) or isal (ISA-L, levels 0-3, default 1)")
      ->capture_default_str();
  build->add_option("--level", raw.level, "Compression level; default: 6 for libdeflate, 1 for isal");
  build->add_flag("--fast", raw.fast, "Fast preset: --compressor isal --level 1 (unless given)");
  build->add_option("--gzip-format", raw.gzip_format, "members: one gzip member per chunk; single: one member for the whole layer (isal only)")
      ->capture_default_str();
  build->add_flag("--dictionary", raw.dictionary, "With --gzip-format single: prime each chunk with the previous 32 KiB (smaller, same speed class)");
  build->add_option("--threads", raw.threads, "Worker threads; default: all cores");
  build->add_option("--chunk-size", raw.chunk_size, "Target chunk size, 64K-64M (one gzip member each)")
      ->capture_default_str();
  build->add_option("--tar-output", raw.tar_output, "Also write the layout as a tarball (OCI_IMAGE_TAR_OUTPUT)");
  build->add_flag("-q,--quiet", raw.quiet, "Print nothing on success (and no progress bar)");
  build->add_flag("--stats", raw.stats, "Print per-stage time and throughput after the build");
  build->add_flag("--progress", raw.progress, "Draw the progress bar even when stderr is not a terminal");
  build->add_flag("--no-progress", raw.no_progress, "Never draw the progress bar");

  std::string layout_arg;
  bool json = false;
  CLI::App* tags = app.add_subcommand("tags", "List the tags of an OCI image layout");
  tags->add_option("LAYOUT", layout_arg, "OCI image layout directory")->required();
  std::string image_arg;
  CLI::App* inspect = app.add_subcommand("inspect", "Show an image's config, layers and sizes");
  inspect->add_option("LAYOUT[:TAG]", image_arg, "Layout and tag (default latest)")->required();
  inspect->add_flag("--json", json, "Machine-readable output");
  std::string gc_arg;
  CLI::App* gc = app.add_subcommand("gc", "Remove blobs that no tag references");
  gc->add_option("LAYOUT", gc_arg, "OCI image layout directory")->required();

  std::string verify_arg, verify_ref;
  CLI::App* verify = app.add_subcommand("verify", "Check a layout: JSON documents, every blob's size and digest, diff_ids, layer tars and their paths");
  verify->add_option("LAYOUT", verify_arg, "OCI image layout directory")->required();
  verify->add_option("--ref", verify_ref, "Only the image with this tag (default: every manifest in index.json)");

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    CommandLine cl;
    cl.action = CommandLine::Action::help;
    cl.text = build->parsed() ? build->help()
              : tags->parsed() ? tags->help()
              : inspect->parsed() ? inspect->help()
              : gc->parsed() ? gc->help()
              : verify->parsed() ? verify->help()
              : app.help();
    return cl;
  } catch (const CLI::CallForVersion&) {
    CommandLine cl;
    cl.action = CommandLine::Action::version;
    cl.text = version;
    return cl;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (auto nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
    return make_error(message + " (see: ocipack build --help)");
  }

  CommandLine cl;
  if (tags->parsed() || gc->parsed()) {
    cl.action = tags->parsed() ? CommandLine::Action::tags : CommandLine::Action::gc;
    cl.layout_dir = tags->parsed() ? layout_arg : gc_arg;
    return cl;
  }
  if (verify->parsed()) {
    cl.action = CommandLine::Action::verify;
    cl.layout_dir = verify_arg;
    cl.tag = verify_ref;
    return cl;
  }
  if (inspect->parsed()) {
    auto ref = parse_image_ref(image_arg);
    if (!ref) return make_error("inspect '" + image_arg + "': " + ref.error().message);
    cl.action = CommandLine::Action::inspect;
    cl.layout_dir = ref->layout_dir;
    cl.tag = ref->tag;
    cl.json = json;
    return cl;
  }
  BuildOptions& b = cl.build;
  cl.quiet = raw.quiet;
  b.layout_dir = raw.output;
  if (!raw.rootfs.empty()) b.layers.push_back({raw.rootfs, std::nullopt});
  for (const auto& dir : raw.layers) {
    if (dir.empty()) return make_error("--layer: the directory is empty");
    b.layers.push_back({dir, std::nullopt});
  }
  if (b.layers.empty()) return make_error("no rootfs given: pass ROOTFS or --layer DIR (see: ocipack build --help)");
  if (!raw.diff_base.empty()) b.layers.back().diff_base = raw.diff_base;
  if (raw.owner != "keep" && raw.owner != "root")
    return make_error("--owner '" + raw.owner + "': expected keep or root");
  b.owner_root = raw.owner == "root";
  if (raw.diff_against_base) {
    if (raw.base.empty()) return make_error("--diff-against-base needs --base LAYOUT[:TAG]");
    if (!raw.diff_base.empty()) return make_error("--diff-against-base and --diff-base exclude each other");
    b.diff_against_base = true;
  }
  if (!raw.base.empty()) {
    auto ref = parse_image_ref(raw.base);
    if (!ref) return make_error("--base '" + raw.base + "': " + ref.error().message);
    b.base_layout = ref->layout_dir;
    b.base_tag = ref->tag;
  }

  ImageSpec& image = b.image;
  image.tag = raw.tag.empty() ? "latest" : raw.tag;
  OCIPACK_TRY(validate_ref_name(image.tag));
  auto given = [&](const char* flag) { return build->count(flag) > 0; };
  if (given("--author")) image.author = raw.author;
  if (given("--os")) {
    if (raw.os.empty()) return make_error("--os: the value is empty");
    image.os = raw.os;
  }
  if (given("--arch")) {
    auto platform = map_architecture(raw.arch);
    if (!platform) return make_error("--arch: " + platform.error().message);
    image.architecture = platform->architecture;
    if (!platform->variant.empty()) image.variant = platform->variant;
  } else if (raw.base.empty()) {
    image.architecture = host_architecture();
  }
  if (given("--variant")) image.variant = raw.variant;
  if (auto status = validate_variant(image.variant.value_or("")); !status)
    return make_error("--variant: " + status.error().message);

  if (given("--user")) image.user = raw.user;
  if (given("--workdir")) image.working_dir = raw.workdir;
  if (given("--stop-signal")) image.stop_signal = raw.stop_signal;
  if (given("--entrypoint")) {
    auto entrypoint = parse_command_words("--entrypoint", raw.entrypoint);
    if (!entrypoint) return entrypoint.error();
    image.entrypoint = *entrypoint;
  }
  if (given("--cmd")) {
    auto cmd = parse_command_words("--cmd", raw.cmd);
    if (!cmd) return cmd.error();
    image.cmd = *cmd;
  }
  for (const auto& p : raw.ports) {
    auto port = parse_port(p);
    if (!port) return port.error();
    image.exposed_ports.push_back(*port);
  }
  for (const auto& l : raw.labels) {
    auto kv = parse_key_value("--label", l);
    if (!kv) return kv.error();
    image.labels[kv->first] = kv->second;  // a later value wins
  }
  for (const auto& e : raw.env) {
    auto kv = parse_key_value("--env", e);
    if (!kv) return kv.error();
    image.env.push_back(e);
  }

  if (env.source_date_epoch) {
    auto epoch = parse_source_date_epoch(*env.source_date_epoch);
    if (!epoch) return epoch.error();
    b.clamp_mtime = *epoch;
  }
  if (!raw.created.empty()) {
    auto created = parse_timestamp(raw.created);
    if (!created) return make_error("--created: " + created.error().message);
    image.created = *created;
  } else {
    image.created = b.clamp_mtime ? *b.clamp_mtime : env.now;
  }

  cl.stats = raw.stats;
  cl.progress = raw.progress;
  cl.no_progress = raw.no_progress;
  const bool compressor_given = build->count("--compressor") > 0;
  auto kind = parse_codec_kind(raw.fast && !compressor_given ? "isal" : raw.compressor);
  if (!kind) return kind.error();
  auto format = parse_gzip_format(raw.gzip_format);
  if (!format) return format.error();
  b.layer.codec.kind = *kind;
  b.layer.codec.format = *format;
  b.layer.codec.dictionary = raw.dictionary;
  if (raw.dictionary && *format != GzipFormat::single)
    return make_error("--dictionary only applies to --gzip-format single");
  const LevelBounds bounds = level_bounds(*kind);
  if (build->count("--level") > 0 && !bounds.contains(raw.level))
    return make_error("--level " + std::to_string(raw.level) + ": expected " + std::to_string(bounds.min) + "-" +
                      std::to_string(bounds.max) + " for " + codec_name(*kind));
  b.layer.codec.level = build->count("--level") > 0 ? raw.level : default_level(*kind);
  if (auto resolved = resolve_layer_format(b.layer.codec); !resolved) return with_codec_flags(resolved.error());
  if (raw.threads < 0 || raw.threads > 1024)
    return make_error("--threads " + std::to_string(raw.threads) + ": expected 1-1024");
  b.layer.threads = raw.threads == 0 ? std::max(1, env.hardware_threads) : raw.threads;
  if (raw.threads == 0 && build->count("--threads") > 0)
    return make_error("--threads 0: expected 1-1024");
  auto chunk = parse_size("--chunk-size", raw.chunk_size);
  if (!chunk) return chunk.error();
  if (*chunk < ChunkingOptions::k_min_target || *chunk > ChunkingOptions::k_max_target)
    return make_error("--chunk-size '" + raw.chunk_size + "': expected 64K-64M");
  b.layer.chunking.target_size = *chunk;
  if (!raw.tar_output.empty()) b.tar_output = raw.tar_output;
  return cl;
}

}  // namespace ocipack::cli
