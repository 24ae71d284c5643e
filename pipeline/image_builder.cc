// Implementation of build_image (see image_builder.h). The order of writes is
// the crash-safety contract: every blob is complete and renamed before any
// document refers to it, and index.json — the only file readers start from —
// is replaced last, atomically. Any failure before that point removes what
// this run added, so an existing layout is left exactly as it was.
#include "pipeline/image_builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "core/oci/arch.h"
#include "core/layer/base_model.h"
#include "core/oci/layout_ops.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_store.h"
#include "core/oci/layout_tarball.h"
#include "core/util/time_format.h"
#include "core/tar/tar_input.h"
#include "core/layer/tree_diff.h"
#include "core/util/file_io.h"
#include "core/util/path.h"

namespace ocipack {

namespace {
// Env entries are KEY=VALUE: a new value for KEY replaces the base's entry.
void merge_env(std::vector<std::string>& env, const std::string& entry) {
  const std::string key = entry.substr(0, entry.find('='));
  for (auto& existing : env) {
    if (existing.substr(0, existing.find('=')) == key) {
      existing = entry;
      return;
    }
  }
  env.push_back(entry);
}
}  // namespace

ImageConfig make_image_config(const ImageSpec& spec, const ImageConfig* base,
                              const std::vector<Digest>& new_diff_ids) {
  ImageConfig config;
  if (base) config = *base;
  config.created = format_rfc3339(spec.created);
  if (spec.author) config.author = *spec.author;
  if (spec.architecture) config.architecture = *spec.architecture;
  if (config.architecture.empty()) config.architecture = host_architecture();
  if (spec.variant) config.variant = *spec.variant;
  if (spec.os) config.os = *spec.os;
  if (config.os.empty()) config.os = "linux";
  ContainerConfig& c = config.config;
  if (spec.user) c.user = *spec.user;
  if (spec.working_dir) c.working_dir = *spec.working_dir;
  if (spec.stop_signal) c.stop_signal = *spec.stop_signal;
  if (spec.entrypoint) c.entrypoint = *spec.entrypoint;
  if (spec.cmd) c.cmd = *spec.cmd;
  for (const auto& entry : spec.env) merge_env(c.env, entry);
  for (const auto& port : spec.exposed_ports)
    if (std::find(c.exposed_ports.begin(), c.exposed_ports.end(), port) == c.exposed_ports.end())
      c.exposed_ports.push_back(port);
  for (const auto& [key, value] : spec.labels) c.labels[key] = value;
  for (size_t i = 0; i < new_diff_ids.size(); ++i) {
    config.diff_ids.push_back(new_diff_ids[i]);
    HistoryEntry history;
    history.created = config.created;
    history.created_by = new_diff_ids.size() == 1
                             ? "ocipack build"
                             : "ocipack build (layer " + std::to_string(i + 1) + " of " +
                                   std::to_string(new_diff_ids.size()) + ")";
    if (spec.author) history.author = *spec.author;
    config.history.push_back(history);
  }
  return config;
}

namespace {
// Where a path is, to tell whether two paths are the same file or one lies
// inside the other: `resolved` is absolute with the symlinks of its existing
// part resolved (names not created yet are appended as given, normalised),
// `id` is (st_dev, st_ino) when the path exists — so a bind mount or a second
// name of a directory is recognised too.
struct PathIdentity {
  std::string resolved;
  std::optional<std::pair<dev_t, ino_t>> id;
};

// `follow_last`: whether a final symlink counts as its target (an input, or
// -o which is opened as a directory) or as itself (--tar-output, which is
// renamed over).
PathIdentity identify(const std::string& path, bool follow_last) {
  std::error_code error;
  PathIdentity identity;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (follow_last) {
    identity.resolved = std::filesystem::weakly_canonical(absolute, error).string();
  } else {
    identity.resolved =
        (std::filesystem::weakly_canonical(absolute.parent_path(), error) / absolute.filename()).string();
  }
  if (identity.resolved.empty()) identity.resolved = absolute.lexically_normal().string();
  while (identity.resolved.size() > 1 && identity.resolved.back() == '/') identity.resolved.pop_back();
  struct stat st {};
  if ((follow_last ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) == 0)
    identity.id.emplace(st.st_dev, st.st_ino);
  return identity;
}

bool same_path(const PathIdentity& a, const PathIdentity& b) {
  return a.resolved == b.resolved || (a.id && b.id && *a.id == *b.id);
}

// Whether `path` is `tree` or lies below it: by name, or because one of its
// existing ancestors is the directory `tree` is.
bool lies_within(const PathIdentity& path, const PathIdentity& tree) {
  if (same_path(path, tree)) return true;
  if (tree.resolved == "/" || path.resolved.rfind(tree.resolved + "/", 0) == 0) return true;
  if (!tree.id) return false;
  for (std::filesystem::path p = std::filesystem::path(path.resolved).parent_path();; p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && st.st_dev == tree.id->first && st.st_ino == tree.id->second) return true;
    if (p == p.parent_path()) return false;
  }
}

// Every path the build writes (-o, --tar-output) against every input (each
// rootfs, --diff-base, the --base layout) and each other, before anything is
// written. Allowed: -o or --tar-output inside a rootfs directory (the walk
// leaves them out) and --base naming the output layout itself (stacking).
Status check_output_paths(const BuildOptions& options) {
  const std::string& out = options.layout_dir;
  const PathIdentity layout = identify(out, true);
  struct Input {
    std::string what;  // "rootfs 'x'", for messages
    PathIdentity identity;
    bool tar_file = false;
    bool base_layout = false;
  };
  std::vector<Input> inputs;
  for (const auto& layer : options.layers) {
    if (layer.rootfs == "-") continue;
    const bool tar = is_tar_input(layer.rootfs);
    inputs.push_back({std::string(tar ? "rootfs tar '" : "rootfs '") + layer.rootfs + "'",
                      identify(layer.rootfs, true), tar, false});
    if (layer.diff_base)
      inputs.push_back({"--diff-base '" + *layer.diff_base + "'", identify(*layer.diff_base, true), false, false});
  }
  if (options.base_layout)
    inputs.push_back({"--base layout '" + *options.base_layout + "'", identify(*options.base_layout, true), false, true});

  for (const auto& input : inputs) {
    if (input.base_layout && same_path(layout, input.identity)) continue;
    if (input.base_layout && lies_within(layout, input.identity))
      return make_error("-o '" + out + "' lies inside the " + input.what + "; the output cannot be part of an input");
    if (same_path(layout, input.identity))
      return make_error("-o '" + out + "' is the " + input.what + "; the output cannot be one of the inputs");
    if (lies_within(input.identity, layout))
      return make_error("the " + input.what + " lies inside the output layout '" + out + "'");
  }

  if (!options.tar_output) return ok_status();
  const std::string& tar = *options.tar_output;
  if (tar == "-")
    return make_error("--tar-output '-': the tarball cannot go to standard output (it is committed by renaming a "
                      "finished file into place); give a file name");
  struct stat st {};
  if (::lstat(tar.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return make_error("--tar-output '" + tar + "' is " + file_type_name(st.st_mode) +
                      "; the tarball is renamed into place and only ever replaces a regular file");
  const std::string parent = parent_directory(tar);
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error("--tar-output '" + tar + "': directory '" + parent + "' does not exist");
  const PathIdentity tarball = identify(tar, false);
  if (lies_within(tarball, layout))
    return make_error("--tar-output '" + tar + "' lies inside the output layout '" + out + "'");
  for (const auto& input : inputs) {
    if (input.tar_file && same_path(tarball, input.identity))
      return make_error("--tar-output '" + tar + "' is the " + input.what + "; the output cannot be one of the inputs");
    if (input.base_layout && lies_within(tarball, input.identity))
      return make_error("--tar-output '" + tar + "' lies inside the " + input.what);
  }
  return ok_status();
}

Status check_directory(const std::string& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return make_error(std::string(what) + " '" + path + "' does not exist");
    return make_error(std::string("cannot access ") + what + " '" + path + "': " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) return make_error(std::string(what) + " '" + path + "' is not a directory");
  return ok_status();
}

// One layer's compressed blob, still in its temp file.
struct LayerOutcome {
  std::optional<TempFile> blob;
  LayerResult result;
  std::vector<std::string> warnings;
};

// `base_tree`, when set, is what this layer is a delta against.
Result<LayerOutcome> build_layer(const LayerInput& input, const BuildOptions& options,
                                 const WalkOptions& walk_options, LayoutStore& store, int threads,
                                 const std::function<void(uint64_t, uint64_t)>& on_progress,
                                 const TreeModel* base_tree) {
  auto temp = store.begin_blob();
  if (!temp) return temp.error();
  std::unique_ptr<EntrySource> source;
  if (is_tar_input(input.rootfs)) {
    auto tar = TarInputSource::open(input.rootfs, walk_options, store.dir());
    if (!tar) return tar.error();
    source = std::move(*tar);
  } else if (base_tree || input.diff_base) {
    auto delta = base_tree ? DeltaSource::compute(*base_tree, input.rootfs, walk_options, options.layer.cancel)
                           : DeltaSource::compute(*input.diff_base, input.rootfs, walk_options, options.layer.cancel);
    if (!delta) return delta.error();
    source = std::move(*delta);
  } else {
    auto walker = RootfsWalker::open(input.rootfs, walk_options);
    if (!walker) return walker.error();
    source = std::make_unique<RootfsWalker>(std::move(*walker));
  }
  TarChunker chunker(std::move(source), options.layer.chunking);
  LayerPipelineOptions pipeline = options.layer;
  pipeline.threads = threads;
  pipeline.on_progress = on_progress;
  auto result = run_layer_pipeline(chunker, pipeline, temp->fd(), "layer blob in " + store.dir());
  if (!result) return result.error();
  LayerOutcome outcome;
  outcome.blob.emplace(std::move(*temp));
  outcome.result = *result;
  outcome.warnings = chunker.warnings();
  return outcome;
}

// Runs every layer's pipeline, up to min(layers, threads) at once, sharing
// the thread budget; returns outcomes in layer order or the first error.
// The last layer is a delta against `base_tree` when it is set.
Result<std::vector<LayerOutcome>> build_layers(const BuildOptions& options,
                                               const WalkOptions& walk_options, LayoutStore& store,
                                               const TreeModel* base_tree) {
  const size_t count = options.layers.size();
  const int threads = std::max(1, options.layer.threads);
  const size_t concurrent = std::min<size_t>(count, static_cast<size_t>(threads));
  const int threads_each = std::max(1, threads / static_cast<int>(concurrent));

  // Progress across concurrent layers is summed before it reaches the caller.
  std::mutex progress_mutex;
  std::vector<std::pair<uint64_t, uint64_t>> progress(count);
  auto progress_for = [&](size_t index) -> std::function<void(uint64_t, uint64_t)> {
    if (!options.layer.on_progress) return {};
    return [&, index](uint64_t tar, uint64_t blob) {
      std::lock_guard lock(progress_mutex);
      progress[index] = {tar, blob};
      uint64_t total_tar = 0, total_blob = 0;
      for (const auto& [t, b] : progress) total_tar += t, total_blob += b;
      options.layer.on_progress(total_tar, total_blob);
    };
  };

  std::vector<std::optional<Result<LayerOutcome>>> outcomes(count);
  if (concurrent <= 1) {
    for (size_t i = 0; i < count; ++i)
      outcomes[i].emplace(build_layer(options.layers[i], options, walk_options, store, threads, progress_for(i),
                                      i + 1 == count ? base_tree : nullptr));
  } else {
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    for (size_t w = 0; w < concurrent; ++w) {
      workers.emplace_back([&] {
        for (size_t i; (i = next.fetch_add(1)) < count;)
          outcomes[i].emplace(build_layer(options.layers[i], options, walk_options, store, threads_each,
                                          progress_for(i), i + 1 == count ? base_tree : nullptr));
      });
    }
    for (auto& worker : workers) worker.join();
  }
  std::vector<LayerOutcome> built;
  for (auto& outcome : outcomes) {
    if (!outcome->ok()) return outcome->error();
    built.push_back(std::move(outcome->value()));
  }
  return built;
}

Result<BuildResult> build_into(const BuildOptions& options, LayoutStore& store,
                               const std::optional<LoadedImage>& base, const TreeModel* base_tree) {
  auto started = std::chrono::steady_clock::now();
  BuildResult result;
  // The store holds the layout lock since it was opened (builds and gc of one
  // layout exclude each other), so the index it read is current.
  OCIPACK_TRY(store.ensure_directories());

  WalkOptions walk_options;
  walk_options.clamp_mtime = options.clamp_mtime;
  walk_options.owner_root = options.owner_root;
  // Never pack our own output when it lies inside a rootfs.
  struct stat st {};
  if (::stat(store.dir().c_str(), &st) == 0) walk_options.exclude.emplace_back(st.st_dev, st.st_ino);
  if (options.tar_output && ::stat(options.tar_output->c_str(), &st) == 0)
    walk_options.exclude.emplace_back(st.st_dev, st.st_ino);

  // 1. The base image's layers, then the new layers' blobs.
  Manifest manifest;
  if (base) {
    for (const auto& layer : base->manifest_doc.layers) {
      OCIPACK_TRY(store.import_blob(*options.base_layout, layer));
      manifest.layers.push_back(layer);
      result.base_layers.push_back(layer);
    }
  }
  auto outcomes = build_layers(options, walk_options, store, base_tree);
  if (!outcomes) return outcomes.error();
  // An interrupt after the layers are compressed still aborts the build (the
  // new blobs are removed by the caller); the last check is before index.json.
  auto interrupted = [&] { return options.layer.cancel && options.layer.cancel->load(); };
  if (interrupted()) return make_error("interrupted");
  std::vector<Digest> diff_ids;
  for (auto& outcome : *outcomes) {
    OCIPACK_TRY(store.commit_blob(*outcome.blob, outcome.result.digest));
    Descriptor descriptor{k_media_type_layer_gzip, outcome.result.digest,
                          static_cast<int64_t>(outcome.result.compressed_size), {}};
    manifest.layers.push_back(descriptor);
    diff_ids.push_back(outcome.result.diff_id);
    result.layers.push_back({descriptor, outcome.result});
    result.warnings.insert(result.warnings.end(), outcome.warnings.begin(), outcome.warnings.end());
  }

  // 2. Config, 3. manifest: small blobs, each complete before it is referenced.
  auto config_json =
      encode_config(make_image_config(options.image, base ? &base->config : nullptr, diff_ids));
  if (!config_json) return config_json.error();
  auto config = store.put_blob(*config_json, k_media_type_config);
  if (!config) return config.error();
  result.config = *config;
  manifest.config = *config;
  auto manifest_json = encode_manifest(manifest);
  if (!manifest_json) return manifest_json.error();
  auto manifest_desc = store.put_blob(*manifest_json, k_media_type_manifest);
  if (!manifest_desc) return manifest_desc.error();
  manifest_desc->annotations[k_annotation_ref_name] = options.image.tag;
  result.manifest = *manifest_desc;

  // 4. The optional tarball of the finished layout, staged before the
  //    layout's commit so a failure (full disk) leaves the layout as it was.
  auto index_json = update_index(store.existing_index(), result.manifest);
  if (!index_json) return index_json.error();
  std::optional<StagedTarball> tarball;
  if (options.tar_output) {
    auto staged = stage_layout_tarball(store.dir(), *options.tar_output, store.oci_layout(),
                                       *index_json, options.image.created, options.layer.cancel);
    if (!staged) return staged.error();
    tarball.emplace(std::move(*staged));
  }

  // 5. index.json last: the commit point of the layout; then the tarball.
  if (interrupted()) return make_error("interrupted");
  OCIPACK_TRY(store.write_index(*index_json));
  store.keep_changes();
  if (tarball) OCIPACK_TRY(tarball->commit(*options.tar_output));

  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}
}  // namespace

Result<BuildResult> build_image(const BuildOptions& options) {
  // Validate everything that can be checked cheaply before touching the output.
  OCIPACK_TRY(validate_ref_name(options.image.tag));
  if (options.layers.empty()) return make_error("no rootfs given (a ROOTFS or --layer DIR)");
  size_t from_stdin = 0;
  for (const auto& layer : options.layers) {
    if (is_tar_input(layer.rootfs)) {
      if (layer.diff_base) return make_error("--diff-base needs a rootfs directory, not the tar '" + layer.rootfs + "'");
      if (layer.rootfs == "-" && ++from_stdin > 1) return make_error("only one layer can be read from stdin ('-')");
      continue;
    }
    OCIPACK_TRY(check_directory(layer.rootfs, "rootfs"));
    if (layer.diff_base) OCIPACK_TRY(check_directory(*layer.diff_base, "--diff-base"));
  }
  if (options.diff_against_base && is_tar_input(options.layers.back().rootfs))
    return make_error("--diff-against-base needs a rootfs directory, not a tar");
  if (options.diff_against_base && options.layers.size() > 1)
    return make_error("--diff-against-base takes a single layer (ROOTFS or one --layer), not " +
                      std::to_string(options.layers.size()));
  if (options.diff_against_base && !options.base_layout)
    return make_error("--diff-against-base needs --base LAYOUT[:TAG]");
  if (auto probe = make_compressor(options.layer.codec); !probe) return probe.error();
  OCIPACK_TRY(check_output_paths(options));
  std::optional<LoadedImage> base;
  if (options.base_layout) {
    auto loaded = load_image(*options.base_layout, options.base_tag);
    if (!loaded) return make_error("--base: " + loaded.error().message);
    base = std::move(*loaded);
  }
  // The base image's merged rootfs, as a model in memory: streamed from its
  // blobs (read-only, verified), never written anywhere. Modelled before the
  // output is opened (and locked): a refused base leaves nothing to undo.
  std::optional<TreeModel> base_tree;
  if (options.diff_against_base) {
    auto model = TreeModel::from_layers(*options.base_layout, base->manifest_doc.layers, options.layer.cancel);
    if (!model) {
      if (options.layer.cancel && options.layer.cancel->load()) return model.error();
      return make_error("--diff-against-base: " + model.error().message);
    }
    base_tree.emplace(std::move(*model));
  }
  auto store = LayoutStore::open_or_create(options.layout_dir);
  if (!store) return store.error();
  auto result = build_into(options, *store, base, base_tree ? &*base_tree : nullptr);
  if (!result) store->discard_changes();
  return result;
}

}  // namespace ocipack
