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

#include "cli/options.h"
#include "cli/progress.h"

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

}  // namespace

int main(int argc, char** argv) {
  using namespace ocipack;
  cli::Environment env;
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) env.source_date_epoch = sde;
  env.now = static_cast<int64_t>(std::time(nullptr));
  env.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());

  auto command = cli::parse_command_line(std::vector<std::string>(argv + 1, argv + argc), env);
  if (!command) {
    std::fprintf(stderr, "ocipack: error: %s\n", command.error().message.c_str());
    return 2;
  }
  if (command->action != cli::CommandLine::Action::build) {
    std::fputs(command->text.c_str(), stdout);
    if (command->text.empty() || command->text.back() != '\n') std::fputc('\n', stdout);
    return 0;
  }

  install_signal_handlers();
  BuildOptions& build = command->build;
  build.layer.cancel = &g_interrupted;
  std::optional<cli::ProgressBar> progress;
  const bool want_progress =
      !command->quiet && !command->no_progress && (command->progress || ::isatty(STDERR_FILENO));
  if (want_progress) {
    // The bar's total comes from a metadata-only pre-scan (exact tar size).
    WalkOptions walk_options;
    walk_options.clamp_mtime = build.clamp_mtime;
    auto walker = RootfsWalker::open(build.rootfs, walk_options);
    if (walker) {
      auto total = tar_stream_size(*walker);
      if (total) {
        progress.emplace(stderr, *total);
        build.layer.on_progress = [&progress](uint64_t tar, uint64_t blob) { progress->update(tar, blob); };
      }
    }
  }
  auto result = build_image(build);
  if (progress) progress->finish();
  if (!result) {
    std::fprintf(stderr, "ocipack: error: %s\n", result.error().message.c_str());
    return g_interrupted.load() ? 130 : 1;
  }
  for (const auto& warning : result->warnings)
    std::fprintf(stderr, "ocipack: warning: %s\n", warning.c_str());
  if (!command->quiet) {
    const auto& s = result->layer_stats;
    std::printf("%s:%s %s\n", command->build.layout_dir.c_str(), command->build.image.tag.c_str(),
                result->manifest.digest.str().c_str());
    std::printf("  layer %s: %s tar -> %s gzip (%.1f%%) in %llu chunks, %.2f s, %d threads, %s\n",
                s.digest.str().c_str(), cli::human_bytes(s.uncompressed_size).c_str(),
                cli::human_bytes(s.compressed_size).c_str(),
                s.uncompressed_size ? 100.0 * static_cast<double>(s.compressed_size) / static_cast<double>(s.uncompressed_size) : 0.0,
                static_cast<unsigned long long>(s.chunks), result->seconds,
                command->build.layer.threads, codec_name(command->build.layer.codec.kind));
    if (command->build.tar_output)
      std::printf("  tarball %s\n", command->build.tar_output->c_str());
  }
  if (command->stats)
    std::fputs(cli::format_stats(result->layer_stats, command->build.layer.threads).c_str(), stderr);
  return 0;
}
