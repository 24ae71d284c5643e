// `ocipack` entry point: parse the command line, run the library, print the
// result or a one-line error. Exit status: 0 success, 1 build failure, 2 bad
// usage, 130 interrupted. SIGINT/SIGTERM ask the pipeline to stop; temporary
// files are then removed by their owners as the stack unwinds.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "cli/inspect_text.h"
#include "cli/options.h"
#include "core/oci/layout_gc.h"
#include "core/oci/layout_ops.h"
#include "core/image/layout_verify.h"
#include "core/util/text.h"
#include "cli/progress.h"
#include "pipeline/thread_allowance.h"

namespace {
std::atomic<bool> g_interrupted{false};

extern "C" void on_signal(int) { g_interrupted.store(true); }

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// One line of output that may hold text from a layout: control bytes are
// escaped (core/text.h), so a tag or path cannot forge lines or drive the terminal.
void print_line(FILE* out, const std::string& prefix, const std::string& text) {
  std::fprintf(out, "%s%s\n", prefix.c_str(), ocipack::printable(text).c_str());
}

// `ocipack tags|inspect|gc`: read-only or blob-removing layout operations.
int run_layout_command(const ocipack::cli::CommandLine& command) {
  using namespace ocipack;
  using Action = cli::CommandLine::Action;
  auto fail = [](const Error& error) {
    print_line(stderr, "ocipack: error: ", error.message);
    return 1;
  };
  switch (command.action) {
    case Action::tags: {
      auto tags = list_tags(command.layout_dir);
      if (!tags) return fail(tags.error());
      for (const auto& info : *tags) std::printf("%s\n", cli::format_tag_row(info).c_str());
      return 0;
    }
    case Action::inspect: {
      auto text = command.json ? inspect_json(command.layout_dir, command.tag)
                               : cli::inspect_text(command.layout_dir, command.tag);
      if (!text) return fail(text.error());
      std::fputs(text->c_str(), stdout);
      if (text->empty() || text->back() != '\n') std::fputc('\n', stdout);
      return 0;
    }
    case Action::gc: {
      auto result = collect_garbage(command.layout_dir);
      if (!result) return fail(result.error());
      std::printf("removed %llu blobs and %llu stale temp files, freed %s\n",
                  static_cast<unsigned long long>(result->removed_blobs),
                  static_cast<unsigned long long>(result->removed_temp_files),
                  cli::human_bytes(result->freed_bytes).c_str());
      return 0;
    }
    case Action::verify: {
      VerifyOptions options;
      if (!command.tag.empty()) options.ref = command.tag;
      auto report = verify_layout(command.layout_dir, options);
      if (!report) {
        fail(report.error());
        return 2;
      }
      for (const auto& problem : report->problems) print_line(stdout, "", problem);
      std::printf("%s: %s (%llu manifests, %llu blobs, %llu layers, %llu entries checked)\n",
                  printable(command.layout_dir).c_str(), report->ok() ? "OK" : "PROBLEMS FOUND",
                  static_cast<unsigned long long>(report->manifests),
                  static_cast<unsigned long long>(report->blobs_checked),
                  static_cast<unsigned long long>(report->layers_checked),
                  static_cast<unsigned long long>(report->entries_checked));
      return report->ok() ? 0 : 1;
    }
    default:
      return 2;
  }
}
}  // namespace

int main(int argc, char** argv) {
  using namespace ocipack;
  cli::Environment env;
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) env.source_date_epoch = sde;
  env.now = static_cast<int64_t>(std::time(nullptr));
  env.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());

  auto command = cli::parse_command_line(std::vector<std::string>(argv + 1, argv + argc), env);
  if (!command) {
    print_line(stderr, "ocipack: error: ", command.error().message);
    return 2;
  }
  using Action = cli::CommandLine::Action;
  if (command->action == Action::help || command->action == Action::version) {
    std::fputs(command->text.c_str(), stdout);
    if (command->text.empty() || command->text.back() != '\n') std::fputc('\n', stdout);
    return 0;
  }
  if (command->action != Action::build) return run_layout_command(*command);

  install_signal_handlers();
  const BuildOptions& build = command->build;
  BuildHooks hooks{&g_interrupted, {}};
  const ThreadAllowance allow_threads(build.layer.threads);  // more than the cores: the user's choice
  std::optional<cli::ProgressBar> progress;
  const bool want_progress =
      !command->quiet && !command->no_progress && (command->progress || ::isatty(STDERR_FILENO));
  if (want_progress) {
    // The bar's total comes from a metadata-only pre-scan (exact tar size);
    // a delta layer's size is unknown until the diff is done: no bar then.
    uint64_t total = 0;
    bool known = true;
    for (const auto& layer : build.layers) {
      WalkOptions walk_options;
      walk_options.clamp_mtime = build.clamp_mtime;
      auto walker = RootfsWalker::open(layer.rootfs, walk_options);
      auto size = walker && !layer.diff_base ? tar_stream_size(*walker) : Result<uint64_t>(Error{});
      if (!size) {
        known = false;
        break;
      }
      total += *size;
    }
    if (known) {
      progress.emplace(stderr, total);
      hooks.on_progress = [&progress](const Progress& done) { progress->update(done.tar_bytes, done.blob_bytes); };
    }
  }
  auto result = build_image(build, hooks);
  if (progress) progress->finish();
  if (!result) {
    print_line(stderr, "ocipack: error: ", result.error().message);
    return g_interrupted.load() ? 130 : 1;
  }
  for (const auto& warning : result->warnings) print_line(stderr, "ocipack: warning: ", warning);
  if (!command->quiet) {
    std::printf("%s:%s %s\n", printable(build.layout_dir).c_str(), printable(build.image.tag).c_str(),
                result->manifest.digest.str().c_str());
    for (const auto& base_layer : result->base_layers)
      std::printf("  base layer %s (%s)\n", base_layer.digest.str().c_str(),
                  cli::human_bytes(static_cast<uint64_t>(base_layer.size)).c_str());
    for (const auto& layer : result->layers) {
      const LayerResult& s = layer.stats;
      std::printf("  layer %s: %s tar -> %s gzip (%.1f%%) in %llu chunks\n", s.digest.str().c_str(),
                  cli::human_bytes(s.uncompressed_size).c_str(), cli::human_bytes(s.compressed_size).c_str(),
                  s.uncompressed_size ? 100.0 * static_cast<double>(s.compressed_size) /
                                            static_cast<double>(s.uncompressed_size)
                                      : 0.0,
                  static_cast<unsigned long long>(s.chunks));
    }
    std::printf("  %.2f s, %d threads, %s level %d\n", result->seconds, build.layer.threads,
                codec_name(build.layer.codec.kind), build.layer.codec.level);
    if (build.tar_output) std::printf("  tarball %s\n", printable(*build.tar_output).c_str());
  }
  if (command->stats)
    for (const auto& layer : result->layers)
      std::fputs(cli::format_stats(layer.stats, build.layer.threads).c_str(), stderr);
  return 0;
}
