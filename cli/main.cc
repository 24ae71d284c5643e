// `ocipack` entry point: parse the command line, run the subcommand through
// the library, print the result or a one-line error. The exit status comes
// from the error's kind (cli/errors.h): 0 success, 1 failure (a missing
// layout included, for every subcommand), 2 bad usage, 128 + the signal
// when a build was interrupted (130 SIGINT, 143 SIGTERM); verify exits 1 when
// it found problems. During a build SIGINT/SIGTERM set the cancel flag the
// library polls; temporary files are then removed by their owners as the
// stack unwinds. A second signal exits at once (after clearing the progress
// line): what it leaves in the layout is a temp file the next build or gc
// removes, never a changed index.json. The other subcommands keep the
// default action, which the shell reports as the same 130/143.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli/build_summary.h"
#include "cli/errors.h"
#include "cli/inspect_text.h"
#include "cli/options.h"
#include "cli/yocto_vars.h"
#include "cli/progress.h"
#include "cli/terminal.h"
#include "cli/verify_report.h"
#include "core/cache/chunk_cache.h"
#include "core/image/layout_verify.h"
#include "core/oci/layout_gc.h"
#include "core/oci/layout_index.h"
#include "core/oci/layout_ops.h"
#include "core/oci/layout_tagging.h"
#include "core/tar/tar_input.h"
#include "core/util/temp_file.h"
#include "core/util/text.h"
#include "core/util/time_format.h"
#include "pipeline/thread_allowance.h"

namespace {
using ocipack::cli::CommandLine;

std::atomic<bool> g_interrupted{false};
std::atomic<int> g_signal{0};  // the signal that set g_interrupted
std::atomic<bool> g_progress_on_terminal{false};  // a progress line may be on stderr

// The first signal asks the build to stop; a second one (SIGINT or SIGTERM)
// exits at once, with only async-signal-safe calls, after unlinking the temp
// files in use (the TempFile registry, core/util/temp_file.h: blob and
// index.json temp files in the layout, the staged --tar-output tarball).
extern "C" void on_signal(int signal_number) {
  if (g_interrupted.load()) {
    constexpr char k_clear[] = "\r\033[K";
    constexpr char k_message[] = "ocipack: error: interrupted\n";
    ocipack::remove_registered_temp_files();
    if (g_progress_on_terminal.load()) (void)!::write(STDERR_FILENO, k_clear, sizeof k_clear - 1);
    (void)!::write(STDERR_FILENO, k_message, sizeof k_message - 1);
    ::_exit(ocipack::cli::exit_status_after_signal(signal_number));
  }
  g_signal.store(signal_number);
  g_interrupted.store(true);
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// One line of output that may hold text from a layout: control bytes are
// escaped (core/util/text.h), so a tag or path cannot forge lines or drive
// the terminal.
void print_line(FILE* out, const std::string& prefix, const std::string& text) {
  std::fprintf(out, "%s%s\n", prefix.c_str(), ocipack::printable(text).c_str());
}

// Prints `error` as the one "ocipack: error:" line (with flag names, not the
// library's field names) and returns the exit status its kind calls for.
// An interrupted build exits with 128 + the signal that stopped it.
int fail(const ocipack::Error& error, std::string_view command = {}) {
  print_line(stderr, "ocipack: error: ", ocipack::cli::message_for_user(error, command));
  if (error.kind == ocipack::ErrorKind::interrupted && g_signal.load() != 0)
    return ocipack::cli::exit_status_after_signal(g_signal.load());
  return ocipack::cli::exit_status(error);
}

// A command line that cannot run: the error, and which help to read.
int fail_usage(const ocipack::Error& error, const std::vector<std::string>& args) {
  print_line(stderr, "ocipack: error: ",
             ocipack::cli::message_for_user(error) + " (" + ocipack::cli::usage_hint(args) + ")");
  return ocipack::cli::exit_status(error);
}

// Help and version text.
int print_text(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  if (text.empty() || text.back() != '\n') std::fputc('\n', stdout);
  return 0;
}

// `ocipack tags`: one row per index.json entry (cli/inspect_text.h), or JSON;
// with LAYOUT:TAG only that tag's entry (a tag the layout lacks: status 1).
int run_tags(const CommandLine& command) {
  auto tags = ocipack::list_tags(command.layout_dir);
  if (!tags) return fail(tags.error());
  if (!command.tag.empty()) {
    std::erase_if(*tags, [&](const ocipack::TagInfo& info) { return info.tag != command.tag; });
    if (tags->empty())
      return fail(ocipack::input_error("layout '" + command.layout_dir + "' has no tag '" + command.tag + "'"));
  }
  if (command.json) return print_text(ocipack::tags_json(*tags));
  for (const auto& info : *tags) std::printf("%s\n", ocipack::cli::format_tag_row(info).c_str());
  return 0;
}

// `ocipack inspect`: the image as text or JSON; for a tag naming an index
// of several images and no --platform, the list of its platforms.
// Without a tag: latest, else the layout's only image (default_image_tag).
int run_inspect(const CommandLine& command) {
  std::string tag = command.tag;
  if (tag.empty()) {
    auto picked = ocipack::default_image_tag(command.layout_dir);
    if (!picked) return fail(picked.error());
    tag = *picked;
  }
  if (!command.platform) {
    auto index = ocipack::read_tagged_index(command.layout_dir, tag);
    if (index && *index && (*index)->entries.size() != 1)
      return print_text(command.json ? ocipack::tagged_index_json(tag, **index)
                                     : ocipack::cli::format_index_text(tag, **index));
  }
  auto text = command.json ? ocipack::inspect_json(command.layout_dir, tag, command.platform)
                           : ocipack::cli::inspect_text(command.layout_dir, tag, command.platform);
  if (!text) return fail(text.error());
  return print_text(*text);
}

// `ocipack index`: the index written and its entries.
int run_index(const CommandLine& command) {
  using ocipack::printable;
  auto result = ocipack::write_layout_index(command.index);
  if (!result) return fail(result.error());
  if (command.quiet) return 0;
  std::printf("%s:%s %s\n", printable(command.index.layout_dir).c_str(), printable(command.index.tag).c_str(),
              result->index.digest.str().c_str());
  for (const auto& entry : result->entries)
    std::printf("  %s %s\n", entry.platform ? printable(ocipack::platform_text(*entry.platform)).c_str() : "unknown",
                entry.digest.str().c_str());
  for (const auto& referrer : result->referrers)
    std::printf("  referrer %s %s\n", referrer.digest.str().c_str(), printable(referrer.artifact_type).c_str());
  return 0;
}

// `ocipack gc`: what was removed and how much space that freed; with
// --dry-run each blob that would go, and the same counts, nothing removed.
int run_gc(const CommandLine& command) {
  auto result = ocipack::collect_garbage(command.layout_dir, command.dry_run);
  if (!result) return fail(result.error());
  if (command.dry_run) {
    for (const auto& name : result->removed) std::printf("would remove blob sha256:%s\n", name.c_str());
    std::printf("would remove %llu blobs and %llu stale temp files, %s; nothing removed (--dry-run)\n",
                static_cast<unsigned long long>(result->removed_blobs),
                static_cast<unsigned long long>(result->removed_temp_files),
                ocipack::cli::human_bytes(result->freed_bytes).c_str());
    return 0;
  }
  if (result->removed_referrers > 0)
    std::printf("dropped %llu referrers whose subject is gone from index.json\n",
                static_cast<unsigned long long>(result->removed_referrers));
  std::printf("removed %llu blobs and %llu stale temp files, freed %s\n",
              static_cast<unsigned long long>(result->removed_blobs),
              static_cast<unsigned long long>(result->removed_temp_files),
              ocipack::cli::human_bytes(result->freed_bytes).c_str());
  return 0;
}

// `ocipack verify`: every problem found, one per line, then a summary (or,
// with --json, one document whether it ran or not: cli/verify_report.h).
// Status 1 when problems were found, and (as for every subcommand) when
// there is no layout to check; 2 for bad usage, an unknown --ref included
// (unless the layout has problems of its own, which are then listed).
int run_verify(const CommandLine& command) {
  using ocipack::printable;
  ocipack::VerifyOptions options;
  if (!command.tag.empty()) options.ref = command.tag;
  auto report = ocipack::verify_layout(command.layout_dir, options);
  std::optional<ocipack::Error> not_run;
  if (!report) not_run = report.error();
  else if (report->ref_missing && report->problems.size() == 1)  // a tag the layout does not have: usage
    not_run = ocipack::usage_error("--ref: " + report->problems.front());
  if (command.json)
    print_text(ocipack::cli::verify_json(command.layout_dir, command.tag, not_run ? nullptr : &*report,
                                         not_run ? std::optional(ocipack::cli::message_for_user(*not_run)) : std::nullopt));
  if (not_run) return fail(*not_run);
  if (command.json) return report->ok() ? 0 : ocipack::cli::k_exit_failure;
  for (const auto& problem : report->problems) print_line(stdout, "", problem);
  std::printf("%s: %s (%llu manifests, %llu blobs, %llu layers, %llu entries checked)\n",
              printable(command.layout_dir).c_str(), report->ok() ? "OK" : "PROBLEMS FOUND",
              static_cast<unsigned long long>(report->manifests),
              static_cast<unsigned long long>(report->blobs_checked),
              static_cast<unsigned long long>(report->layers_checked),
              static_cast<unsigned long long>(report->entries_checked));
  return report->ok() ? 0 : ocipack::cli::k_exit_failure;
}

// `ocipack ls`: the listing (cli/image_files.h).
int run_ls(const CommandLine& command) {
  auto text = ocipack::cli::list_image_files(command.files);
  if (!text) return fail(text.error());
  std::fputs(text->c_str(), stdout);
  return 0;
}

// `ocipack diff`: the differences; 0 same, 1 different, 2 could not tell.
int run_diff(const CommandLine& command) {
  auto diff = ocipack::cli::diff_images(command.files);
  if (!diff) {
    fail(diff.error());
    return ocipack::cli::k_exit_diff_trouble;
  }
  std::fputs(diff->text.c_str(), stdout);
  return diff->differ ? ocipack::cli::k_exit_diff_differ : 0;
}

// One stderr line per tag a commit took from another image, with what a gc
// would now free (a dry run: nothing is removed here).
void report_replaced_tags(const std::string& layout_dir, const std::vector<ocipack::ReplacedTag>& replaced) {
  if (replaced.empty()) return;
  auto unreferenced = ocipack::collect_garbage(layout_dir, /*dry_run=*/true);
  const bool nothing = unreferenced && unreferenced->removed_blobs == 0;  // still tagged, or all blobs shared
  const std::string freed = !unreferenced ? "? unreferenced" : ocipack::cli::human_bytes(unreferenced->freed_bytes) + " unreferenced";
  for (const auto& tag : replaced)
    print_line(stderr, "ocipack: ", "replaced tag " + tag.tag + " (was " + tag.previous_digest + "); " +
                                        (nothing ? "nothing unreferenced" : freed + " \u2014 ocipack gc " + layout_dir));
}

// `ocipack tag LAYOUT:SRC NEW...`: one line per new reference.
int run_tag(const CommandLine& command) {
  auto result = ocipack::add_tags(command.layout_dir, command.tag, command.new_tags);
  if (!result) return fail(result.error());
  for (const auto& tag : command.new_tags)
    print_line(stdout, "", command.layout_dir + ":" + tag + " " + result->target.digest.str());
  report_replaced_tags(command.layout_dir, result->replaced);
  return 0;
}

// `ocipack untag LAYOUT:TAG`: the entry is gone, its blobs stay until gc.
int run_untag(const CommandLine& command) {
  auto removed = ocipack::remove_tag(command.layout_dir, command.tag);
  if (!removed) return fail(removed.error());
  print_line(stdout, "", "untagged " + command.layout_dir + ":" + command.tag + " (was " + removed->digest.str() +
                             "); its blobs stay until ocipack gc " + command.layout_dir);
  return 0;
}

// `ocipack attach`: the referrer's digest and artifact type.
int run_attach(const CommandLine& command) {
  auto entry = ocipack::attach_document(command.attach);
  if (!entry) return fail(entry.error());
  std::printf("%s:%s referrer %s (%s)\n", ocipack::printable(command.attach.layout_dir).c_str(),
              ocipack::printable(command.attach.tag).c_str(), entry->digest.str().c_str(),
              ocipack::printable(entry->artifact_type).c_str());
  return 0;
}

// The progress bar's total: the exact tar size of every layer, from a
// metadata-only pre-scan. 0 (unknown: the bar shows bytes and rate only) when
// one is unknown — a delta layer's or a tar input's size is known only once
// the diff or the spool is done.
uint64_t progress_total(const ocipack::BuildOptions& build) {
  using namespace ocipack;
  uint64_t total = 0;
  for (const auto& layer : build.layers) {
    if (layer.diff_base || build.diff_against_base || is_tar_input(layer.rootfs)) return 0;
    WalkOptions walk_options;
    walk_options.clamp_mtime = build.clamp_mtime;
    auto walker = RootfsWalker::open(layer.rootfs, walk_options);
    if (!walker) return 0;
    auto size = tar_stream_size(*walker);
    if (!size) return 0;
    total += *size;
  }
  return total;
}

// `ocipack cache stats DIR`: what the cache holds and how the last builds used it.
int run_cache_stats(const CommandLine& command) {
  using namespace ocipack;
  auto cache = ChunkCacheDir::open(command.cache_dir, /*create=*/false);
  if (!cache) return fail(cache.error());
  auto usage = cache->usage();
  if (!usage) return fail(usage.error());
  auto builds = cache->recent_builds(10);
  if (!builds) return fail(builds.error());
  std::printf("cache %s: %llu entries, %s\n", printable(command.cache_dir).c_str(),
              static_cast<unsigned long long>(usage->entries), cli::human_bytes(usage->bytes).c_str());
  uint64_t hits = 0, chunks = 0;
  for (const CacheBuildRecord& b : *builds) {
    const uint64_t all = b.hits + b.remote_hits + b.misses;
    hits += b.hits + b.remote_hits;
    chunks += all;
    std::printf("  build %s: %llu of %llu chunks reused (%llu remote), %llu corrupt, %.2f s saved\n",
                format_rfc3339(b.finished_at).c_str(), static_cast<unsigned long long>(b.hits + b.remote_hits),
                static_cast<unsigned long long>(all), static_cast<unsigned long long>(b.remote_hits),
                static_cast<unsigned long long>(b.corrupt), static_cast<double>(b.saved_nanoseconds) / 1e9);
  }
  if (chunks) std::printf("hit rate of the last %zu builds: %.1f%%\n", builds->size(), 100.0 * static_cast<double>(hits) / static_cast<double>(chunks));
  return 0;
}

// `ocipack cache prune DIR [--max-size S]`.
int run_cache_prune(const CommandLine& command) {
  using namespace ocipack;
  auto cache = ChunkCacheDir::open(command.cache_dir, /*create=*/false);
  if (!cache) return fail(cache.error());
  auto before = cache->usage();
  if (!before) return fail(before.error());
  auto after = cache->prune(command.cache_max_bytes);
  if (!after) return fail(after.error());
  std::printf("cache %s: removed %llu entries (%s), %llu left (%s)\n", printable(command.cache_dir).c_str(),
              static_cast<unsigned long long>(before->entries - std::min(before->entries, after->entries)),
              cli::human_bytes(before->bytes - std::min(before->bytes, after->bytes)).c_str(),
              static_cast<unsigned long long>(after->entries), cli::human_bytes(after->bytes).c_str());
  return 0;
}

// `ocipack build` (and `add-layer`, a build that edits its base): the
// library builds, with the cancel flag the signal handlers set and, on a
// terminal, a progress line (cli/progress.h).
int run_build(const CommandLine& command) {
  using namespace ocipack;
  const BuildOptions& build = command.build;
  const std::string_view name = command.action == CommandLine::Action::add_layer ? "add-layer" : "";
  if (command.yocto_args) {
    for (const auto& arg : *command.yocto_args) std::fwrite(arg.c_str(), 1, arg.size() + 1, stdout);
    return 0;
  }
  for (const auto& note : command.notes) print_line(stderr, "ocipack: note: ", note);
  if (auto removed = cli::prepare_yocto_outputs(command.yocto_remove, command.yocto_create); !removed) return fail(removed.error());
  std::vector<std::string> inputs;
  for (const auto& layer : build.layers) inputs.push_back(layer.rootfs);
  if (auto refusal = cli::refuse_terminal_stdin(inputs, ::isatty(STDIN_FILENO)); !refusal.empty()) {
    print_line(stderr, "ocipack: error: ", refusal);
    return cli::k_exit_usage;
  }
  install_signal_handlers();
  BuildHooks hooks;
  hooks.cancel = &g_interrupted;
  hooks.on_lock_wait = [&build] { print_line(stderr, "ocipack: ", "waiting for lock on " + build.layout_dir + "\u2026"); };
  const ThreadAllowance allow_threads(build.layer.threads);  // more than the cores: the user's choice
  const auto choice = cli::choose_progress_mode(command.quiet, command.no_progress, command.progress,
                                                ::isatty(STDERR_FILENO), std::getenv("TERM"));
  if (!choice.note.empty()) print_line(stderr, "ocipack: warning: ", choice.note);
  std::optional<cli::TerminalWidth> width;
  if (choice.mode == cli::ProgressMode::terminal) width.emplace(STDERR_FILENO);
  cli::ProgressLine line(stderr, choice.mode, [&width] { return width ? width->columns() : 80; });
  cli::ProgressBar bar(line, choice.mode == cli::ProgressMode::off ? 0 : progress_total(build));
  cli::PhaseProgress phase(line);
  if (choice.mode != cli::ProgressMode::off) {
    g_progress_on_terminal.store(choice.mode == cli::ProgressMode::terminal);
    hooks.on_progress = [&bar](const Progress& done) { bar.update(done.tar_bytes, done.blob_bytes); };
    hooks.on_phase = [&phase](const PhaseStatus& status) { phase.update(status); };
  }
  auto result = build_image(build, hooks);
  line.finish();
  // After SIGINT/SIGTERM any failure (a read the signal cut short) is the interruption.
  if (!result) return fail(g_interrupted.load() ? interrupted_error() : result.error(), name);
  // The command line's warnings too, only now: a failed build says one line.
  for (const auto& warning : command.warnings) print_line(stderr, "ocipack: warning: ", warning);
  for (const auto& warning : result->warnings) print_line(stderr, "ocipack: warning: ", warning);
  report_replaced_tags(build.layout_dir, result->replaced_tags);
  if (auto linked = cli::make_yocto_links(command.yocto_links); !linked) return fail(linked.error());
  if (command.json) print_text(cli::build_json(build, *result));
  else if (!command.quiet) std::fputs(cli::format_build_summary(build, *result).c_str(), stdout);
  if (command.stats)
    for (const auto& layer : result->layers)
      std::fputs(cli::format_stats(layer.stats, build.layer.threads).c_str(), stderr);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace ocipack;
  cli::Environment env;
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) env.source_date_epoch = sde;
  env.now = static_cast<int64_t>(std::time(nullptr));
  env.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* dir = std::getenv("OCIPACK_CACHE_DIR")) env.cache_dir = dir;
  if (const char* url = std::getenv("OCIPACK_CACHE_REMOTE")) env.cache_remote = url;

  const std::vector<std::string> args(argv + 1, argv + argc);
  auto command = cli::parse_command_line(args, env);
  // A --yocto-vars dump that cannot be built: the line names the variable, no help hint.
  if (!command && args.size() > 1 && args[0] == "build" && args[1] == "--yocto-vars") return fail(command.error());
  if (!command) return fail_usage(command.error(), args);
  switch (command->action) {
    case CommandLine::Action::help:
    case CommandLine::Action::version:
    case CommandLine::Action::completion: return print_text(command->text);
    case CommandLine::Action::build:
    case CommandLine::Action::add_layer: return run_build(*command);
    case CommandLine::Action::tags: return run_tags(*command);
    case CommandLine::Action::inspect: return run_inspect(*command);
    case CommandLine::Action::gc: return run_gc(*command);
    case CommandLine::Action::verify: return run_verify(*command);
    case CommandLine::Action::index: return run_index(*command);
    case CommandLine::Action::attach: return run_attach(*command);
    case CommandLine::Action::tag: return run_tag(*command);
    case CommandLine::Action::untag: return run_untag(*command);
    case CommandLine::Action::cache_stats: return run_cache_stats(*command);
    case CommandLine::Action::cache_prune: return run_cache_prune(*command);
    case CommandLine::Action::ls: return run_ls(*command);
    case CommandLine::Action::diff: return run_diff(*command);
  }
  return cli::k_exit_usage;
}
