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
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "core/layer/base_model.h"
#include "core/layer/layer_format.h"
#include "core/layer/tree_diff.h"
#include "core/oci/arch.h"
#include "core/oci/image_writer.h"
#include "core/oci/layout_ops.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_source.h"
#include "core/oci/layout_store.h"
#include "core/oci/layout_tarball.h"
#include "core/oci/referrers.h"
#include "core/tar/tar_input.h"
#include "core/util/path.h"
#include "core/util/time_format.h"
#include "pipeline/base_platform.h"
#include "pipeline/stage_clock.h"
#include "core/layer/tree_diff.h"
#include "core/util/file_io.h"
#include "core/util/temp_file.h"

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
  const Platform platform = requested_platform(spec, base);
  config.architecture = platform.architecture.empty() ? host_architecture() : platform.architecture;
  config.variant = platform.variant;
  config.os = platform.os.empty() ? "linux" : platform.os;
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
    history.created_by = spec.history_created_by.value_or("ocipack build");
    if (new_diff_ids.size() > 1)
      history.created_by += " (layer " + std::to_string(i + 1) + " of " + std::to_string(new_diff_ids.size()) + ")";
    history.comment = spec.history_comment;
    if (spec.history_author) history.author = *spec.history_author;
    else if (spec.author) history.author = *spec.author;
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
  identity.resolved = trim_trailing_slashes(identity.resolved);
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

// An input path as a message names it: its field and the words after it
// ("layers[0].diff_base" + " '/x'", "base_layout" + " layout '/x'"), which
// the CLI shows with its flag ("--diff-base '/x'", "--base layout '/x'").
// A rootfs goes by the word "rootfs" in both vocabularies, so a message may
// also spell it out (`spelled`) and give its field to the output instead.
struct InputPath {
  std::string field;
  std::string rest;
  std::optional<std::string> spelled;
  PathIdentity identity;
  bool tar_file = false;
  bool base_layout = false;
};

// A path the build writes: its field, and its name in words.
struct OutputPath {
  std::string field;  // "layout_dir", "tar_output"
  std::string words;  // "the output layout", "the tarball"
  std::string path;
  PathIdentity identity;
};

// "the <input><after>" with the input's field.
Error about_input(const InputPath& input, const std::string& after) {
  return field_error(ErrorKind::input, input.field, input.rest + after).with_context("the ");
}

// "<output> '<path>' <verb> the <input><tail>": the field is the input's,
// unless the input can be spelled out ("-o '/o' is the rootfs '/r'").
Error output_meets_input(const OutputPath& output, const std::string& verb, const InputPath& input,
                         const std::string& tail) {
  if (input.spelled)
    return field_error(ErrorKind::input, output.field, " '" + output.path + "' " + verb + " the " + *input.spelled + tail);
  return field_error(ErrorKind::input, input.field, input.rest + tail)
      .with_context(output.words + " '" + output.path + "' " + verb + " the ");
}

std::vector<InputPath> input_paths(const BuildOptions& options) {
  std::vector<InputPath> inputs;
  for (size_t i = 0; i < options.layers.size(); ++i) {
    const LayerInput& layer = options.layers[i];
    const std::string field = "layers[" + std::to_string(i) + "]";
    if (layer.rootfs == "-") continue;
    const bool tar = is_tar_input(layer.rootfs);
    const std::string rest = std::string(tar ? " tar '" : " '") + layer.rootfs + "'";
    inputs.push_back({field + ".rootfs", rest, "rootfs" + rest, identify(layer.rootfs, true), tar, false});
    if (layer.diff_base)
      inputs.push_back({field + ".diff_base", " '" + *layer.diff_base + "'", std::nullopt,
                        identify(*layer.diff_base, true), false, false});
  }
  if (options.path_layers) {
    const std::string rest = " '" + options.path_layers->rootfs + "'";
    inputs.push_back({"path_layers.rootfs", rest, "rootfs" + rest, identify(options.path_layers->rootfs, true), false,
                      false});
  }
  if (options.base_layout)
    inputs.push_back({"base_layout", " layout '" + *options.base_layout + "'", std::nullopt,
                      identify(*options.base_layout, true), false, true});
  return inputs;
}

// A file the build writes besides the layout (the tarball: field
// "tar_output", words "the tarball"; --digestfile, --iidfile) against the
// layout and the inputs: it replaces only a regular file, in an existing
// directory, outside the layout and the base layout, and never an input tar or the
// --base layout tarball.
Status check_output_file(const OutputPath& layout, const std::string& field, const std::string& words,
                         const std::string& tar, const std::vector<InputPath>& inputs) {
  auto refuse = [&](const std::string& rest) { return field_error(ErrorKind::input, field, rest); };
  if (tar == "-")
    return refuse(" '-': " + words + " cannot go to standard output (it is committed by renaming a finished file "
                  "into place); give a file name");
  struct stat st {};
  if (::lstat(tar.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return refuse(" '" + tar + "' is " + file_type_name(st.st_mode) + "; " + words +
                  " is renamed into place and only ever replaces a regular file");
  const std::string parent = parent_directory(tar);
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return refuse(" '" + tar + "': directory '" + parent + "' does not exist");
  const OutputPath tarball{field, words, tar, identify(tar, false)};
  if (lies_within(tarball.identity, layout.identity))
    return refuse(" '" + tar + "' lies inside the output layout '" + layout.path + "'");
  for (const auto& input : inputs) {
    if ((input.tar_file || input.base_layout) && same_path(tarball.identity, input.identity))
      return output_meets_input(tarball, "is", input, "; the output cannot be one of the inputs");
    if (input.base_layout && lies_within(tarball.identity, input.identity))
      return output_meets_input(tarball, "lies inside", input, "");
  }
  return ok_status();
}

// After the commit: the manifest digest to digest_file (as skopeo's
// --digestfile) and the config digest to iid_file (podman's image id), each
// "sha256:<hex>" without a newline, as those tools write them.
Status write_digest_file(const std::string& field, const std::optional<std::string>& path, const Digest& digest) {
  if (!path) return ok_status();
  if (auto written = write_file_atomic(*path, digest.str()); !written)
    return field_error(written.error().kind, field,
                       " '" + *path + "': " + written.error().message + " (the image was built and committed)");
  return ok_status();
}

Status write_digest_files(const BuildOptions& options, const BuildResult& result) {
  OCIPACK_TRY(write_digest_file("digest_file", options.digest_file, result.manifest.digest));
  return write_digest_file("iid_file", options.iid_file, result.config.digest);
}

// Every path the build writes (the layout, the tarball) against every input
// (each rootfs, each diff base, the base layout) and each other, before
// anything is written. Allowed: the layout or the tarball inside a rootfs
// directory (the walk leaves them out) and the base layout being the output
// layout itself (stacking).
Status check_output_paths(const BuildOptions& options) {
  const OutputPath layout{"layout_dir", "the output layout", options.layout_dir, identify(options.layout_dir, true)};
  const std::vector<InputPath> inputs = input_paths(options);
  for (const auto& input : inputs) {
    if (input.base_layout && same_path(layout.identity, input.identity)) continue;
    if (input.base_layout && lies_within(layout.identity, input.identity))
      return output_meets_input(layout, "lies inside", input, "; the output cannot be part of an input");
    if (same_path(layout.identity, input.identity))
      return output_meets_input(layout, "is", input, "; the output cannot be one of the inputs");
    if (lies_within(input.identity, layout.identity))
      return about_input(input, " lies inside the output layout '" + options.layout_dir + "'");
  }
  if (options.tar_output) OCIPACK_TRY(check_output_file(layout, "tar_output", "the tarball", *options.tar_output, inputs));
  if (options.tar_output_dir)
    OCIPACK_TRY(check_output_file(layout, "tar_output_dir", "the tarball", *options.tar_output_dir, inputs));
  if (options.tar_output && options.tar_output_dir && same_path(identify(*options.tar_output, false), identify(*options.tar_output_dir, false)))
    return field_error(ErrorKind::usage, "tar_output_dir", " '" + *options.tar_output_dir + "' is also the other tarball");
  if (options.digest_file)
    OCIPACK_TRY(check_output_file(layout, "digest_file", "the digest file", *options.digest_file, inputs));
  if (options.iid_file) OCIPACK_TRY(check_output_file(layout, "iid_file", "the image id file", *options.iid_file, inputs));
  return ok_status();
}

// `field` names a directory the build reads: it must be one.
Status check_directory(const std::string& path, const std::string& field) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return field_error(ErrorKind::input, field, " '" + path + "' does not exist");
    return field_error(ErrorKind::input, field, " '" + path + "': " + errno_text(errno)).with_context("cannot access ");
  }
  if (!S_ISDIR(st.st_mode)) return field_error(ErrorKind::input, field, " '" + path + "' is not a directory");
  return ok_status();
}

// An edit's layer (add-layer) is a directory named as itself: not a tar,
// not a symlink (to / or anywhere: the caller would pack a tree it did not
// name), not the root directory.
Status check_named_directory(const std::string& path, const std::string& field) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return field_error(ErrorKind::input, field, " '" + path + "' is a symlink; name the directory itself");
  OCIPACK_TRY(check_directory(path, field));
  struct stat root {};
  if (::stat(path.c_str(), &st) == 0 && ::stat("/", &root) == 0 && st.st_dev == root.st_dev && st.st_ino == root.st_ino)
    return field_error(ErrorKind::input, field, " '" + path + "' is the root directory; name the directory that holds the layer's files");
  return ok_status();
}

// How layer `input` produces its entries: a tar, a delta (against
// `base_tree` when set, else against the layer's diff base) or a walk.
// Opened by the layer's producer when the layer starts.
std::function<Result<std::unique_ptr<EntrySource>>()> source_opener(const LayerInput& input,
                                                                    const WalkOptions& walk_options,
                                                                    const std::string& layout_dir,
                                                                    const TreeModel* base_tree,
                                                                    const std::atomic<bool>* cancel,
                                                                    const PhaseReport& report) {
  return [=]() -> Result<std::unique_ptr<EntrySource>> {
    if (is_tar_input(input.rootfs)) {
      OCIPACK_TRY_ASSIGN(auto tar, TarInputSource::open(input.rootfs, walk_options, layout_dir, cancel, report));
      return std::unique_ptr<EntrySource>(std::move(tar));
    }
    if (base_tree || input.diff_base) {
      OCIPACK_TRY_ASSIGN(auto delta, base_tree ? DeltaSource::compute(*base_tree, input.rootfs, walk_options, cancel,
                                                                      report)
                                               : DeltaSource::compute(*input.diff_base, input.rootfs, walk_options,
                                                                      cancel, report));
      return std::unique_ptr<EntrySource>(std::move(delta));
    }
    OCIPACK_TRY_ASSIGN(auto walker, RootfsWalker::open(input.rootfs, walk_options));
    walker.open_data_while_walking();  // the chunker reads each item before the next
    return std::unique_ptr<EntrySource>(std::make_unique<RootfsWalker>(std::move(walker)));
  };
}

// One layer's compressed blob, still in its temp file.
struct LayerBlob {
  TempFile blob;
  LayerOutcome outcome;
};

// Builds every layer at once (run_layer_graph: one arena, shared threads
// and chunk budget); returns the blobs in layer order or the first error.
// The last layer is a delta against `base_tree` when it is set.
Result<std::vector<LayerBlob>> build_layers(const BuildOptions& options, const LayerFormat& format,
                                            const BuildHooks& hooks, const WalkOptions& walk_options,
                                            LayoutStore& store, const TreeModel* base_tree,
                                            std::vector<std::string>& warnings) {
  std::vector<TempFile> blobs;
  std::vector<LayerJob> jobs;
  if (options.path_layers) {
    // One walk of the rootfs, split by path sets; each layer streams its items.
    OCIPACK_TRY_ASSIGN(auto planned, plan_path_layers(*options.path_layers, walk_options, options.image.created));
    warnings.insert(warnings.end(), planned.warnings.begin(), planned.warnings.end());
    if (planned.layers.empty()) return input_error("no layer: every path layer is empty and there is no remainder");
    for (auto& layer : planned.layers) {
      OCIPACK_TRY_ASSIGN(TempFile blob, store.begin_blob());
      auto items = std::make_shared<std::vector<WalkItem>>(std::move(layer.items));
      jobs.push_back({[items]() -> Result<std::unique_ptr<EntrySource>> {
                        return std::unique_ptr<EntrySource>(std::make_unique<ItemListSource>(std::move(*items)));
                      },
                      blob.fd(), "layer blob in " + store.dir()});
      blobs.push_back(std::move(blob));
    }
  }
  for (size_t i = 0; i < options.layers.size(); ++i) {
    const bool last = i + 1 == options.layers.size();
    OCIPACK_TRY_ASSIGN(TempFile blob, store.begin_blob());
    jobs.push_back({source_opener(options.layers[i], walk_options, store.dir(), last ? base_tree : nullptr,
                                  hooks.cancel, hooks.on_phase),
                    blob.fd(), "layer blob in " + store.dir()});
    blobs.push_back(std::move(blob));
  }
  OCIPACK_TRY_ASSIGN(auto outcomes, run_layer_graph(format, options.layer, std::move(jobs), hooks));
  std::vector<LayerBlob> built;
  for (size_t i = 0; i < outcomes.size(); ++i) built.push_back({std::move(blobs[i]), std::move(outcomes[i])});
  return built;
}

// The base image a build stacks on, read before the output is opened.
struct Base {
  std::shared_ptr<const LayoutSource> source;  // the base layout: a directory or a layout tarball
  std::optional<LoadedImage> image;
  std::optional<TreeModel> tree;  // its merged rootfs, for a delta against it
};

// The SBOM to attach, read and typed before the output is opened.
struct Sbom {
  std::string document;
  std::string artifact_type;
};

Result<std::optional<Sbom>> load_sbom(const BuildOptions& options) {
  if (options.sbom_path.empty()) return std::optional<Sbom>();
  Sbom sbom;
  OCIPACK_TRY_ASSIGN(sbom.document, read_attachment(options.sbom_path, "sbom"));
  OCIPACK_TRY_ASSIGN(sbom.artifact_type, resolve_artifact_type(sbom.document, std::nullopt, "sbom"));
  return std::optional<Sbom>(std::move(sbom));
}

// How the rootfs walk packs: the mtime clamp, the owner, and never our own
// output (the layout, the tarball) when it lies inside a rootfs.
WalkOptions walk_options_for(const BuildOptions& options, const LayoutStore& store) {
  WalkOptions walk_options;
  walk_options.clamp_mtime = options.clamp_mtime;
  walk_options.owner_root = options.owner_root;
  struct stat st {};
  if (::stat(store.dir().c_str(), &st) == 0) walk_options.exclude.emplace_back(st.st_dev, st.st_ino);
  if (options.tar_output && ::stat(options.tar_output->c_str(), &st) == 0)
    walk_options.exclude.emplace_back(st.st_dev, st.st_ino);
  if (options.tar_output_dir && ::stat(options.tar_output_dir->c_str(), &st) == 0)
    walk_options.exclude.emplace_back(st.st_dev, st.st_ino);
  return walk_options;
}

// The image's layers, in manifest order, and the diff_ids of the new ones.
struct ImageLayers {
  std::vector<Descriptor> descriptors;
  std::vector<Digest> diff_ids;
};

// 1. The base image's layers (imported), then the new layers, built and
// committed as blobs; records both in `result`.
Result<ImageLayers> add_layers(const BuildOptions& options, const LayerFormat& format, const BuildHooks& hooks,
                               LayoutStore& store, const Base& base_image, BuildResult& result) {
  ImageLayers layers;
  if (base_image.image) {
    for (const auto& layer : base_image.image->manifest_doc.layers) {
      OCIPACK_TRY(base_image.source->copy_blob(store, layer, "base layer"));
      layers.descriptors.push_back(layer);
      result.base_layers.push_back(layer);
    }
  }
  OCIPACK_TRY_ASSIGN(auto built, build_layers(options, format, hooks, walk_options_for(options, store), store,
                                               base_image.tree ? &*base_image.tree : nullptr, result.warnings));
  // An interrupt after the layers are compressed still aborts the build (the
  // new blobs are removed by the caller); the last check is before index.json.
  if (hooks.cancelled()) return interrupted_error();
  for (auto& [blob, outcome] : built) {
    const LayerResult& layer = outcome.result;
    OCIPACK_TRY(store.commit_blob(blob, layer.digest));
    Descriptor descriptor{format.media_type(), layer.digest, static_cast<int64_t>(layer.compressed_size), layer.annotations};
    layers.descriptors.push_back(descriptor);
    layers.diff_ids.push_back(layer.diff_id);
    result.layers.push_back({descriptor, layer});
    result.warnings.insert(result.warnings.end(), outcome.warnings.begin(), outcome.warnings.end());
  }
  return layers;
}

Result<BuildResult> build_into(const BuildOptions& options, const LayerFormat& format, const BuildHooks& hooks,
                               LayoutStore& store, const Base& base_image, const std::optional<Sbom>& sbom) {
  const std::optional<LoadedImage>& base = base_image.image;
  BuildResult result;
  // The store holds the layout lock since it was opened (builds and gc of one
  // layout exclude each other), so the index it read is current.
  OCIPACK_TRY(store.ensure_directories());
  OCIPACK_TRY_ASSIGN(const ImageLayers layers, add_layers(options, format, hooks, store, base_image, result));

  // 2. Config, 3. manifest: small blobs, each complete before it is referenced.
  std::map<std::string, std::string> entry_annotations = options.index_annotations;
  std::map<std::string, std::string> manifest_annotations = options.manifest_annotations;
  if (options.edit_base && base) {  // the edited image keeps its annotations; given ones win
    entry_annotations.insert(base->manifest.annotations.begin(), base->manifest.annotations.end());
    manifest_annotations.insert(base->manifest_doc.annotations.begin(), base->manifest_doc.annotations.end());
  }
  entry_annotations[k_annotation_ref_name] = options.image.tag;
  const ImageConfig config = make_image_config(options.image, base ? &base->config : nullptr, layers.diff_ids);
  result.platform = platform_of_config(config);
  OCIPACK_TRY_ASSIGN(const WrittenImage image,
                     write_image(store, config, layers.descriptors, entry_annotations, manifest_annotations));
  result.config = image.config;
  result.manifest = image.manifest;
  // A single image's index.json entry carries no platform (as ocipack has
  // always written it: the same bytes, the same tarball digest).
  result.manifest.platform.reset();
  // The SBOM's referrer (read and typed before anything was built).
  std::vector<Descriptor> entries{result.manifest};
  for (const auto& tag : options.image.extra_tags) {
    entries.push_back(result.manifest);
    entries.back().annotations[k_annotation_ref_name] = tag;
  }
  result.replaced_tags = replaced_tags(store.existing_index(), entries);
  if (sbom) {
    OCIPACK_TRY_ASSIGN(result.sbom, write_referrer(store, result.manifest, sbom->document, sbom->artifact_type));
    entries.push_back(*result.sbom);
  }

  // 4. The optional tarball of the finished layout, staged before the
  //    layout's commit so a failure (full disk) leaves the layout as it was.
  OCIPACK_TRY_ASSIGN(const IndexPlan index, plan_index(store, entries));
  std::optional<StagedTarball> tarball;
  if (options.tar_output) {
    OCIPACK_TRY_ASSIGN(auto staged, stage_layout_tarball(store.dir(), *options.tar_output, store.oci_layout(),
                                                         index.index_json, options.image.created, hooks.cancel));
    tarball.emplace(std::move(staged));
  }
  std::optional<StagedTarball> dir_tarball;
  if (options.tar_output_dir) {
    OCIPACK_TRY_ASSIGN(auto staged,
                       stage_layout_tarball(store.dir(), *options.tar_output_dir, store.oci_layout(), index.index_json,
                                            options.image.created, hooks.cancel,
                                            base_name(trim_trailing_slashes(options.layout_dir))));
    dir_tarball.emplace(std::move(staged));
  }

  // 5. index.json last: the commit point of the layout; then the tarball.
  if (hooks.cancelled()) return interrupted_error();
  OCIPACK_TRY(commit_index(store, index));
  if (tarball) OCIPACK_TRY(tarball->commit(*options.tar_output));
  if (dir_tarball) OCIPACK_TRY(dir_tarball->commit(*options.tar_output_dir));
  OCIPACK_TRY(write_digest_files(options, result));
  return result;
}
}  // namespace

namespace {
// Everything about the options that can be checked cheaply before anything
// is read or written, except the codec (resolve_layer_format).
Status check_options(const BuildOptions& options) {
  if (options.layout_dir.empty()) return field_error(ErrorKind::usage, "layout_dir", ": the output layout path is empty");
  OCIPACK_TRY(validate_ref_name(options.image.tag));
  for (const auto& tag : options.image.extra_tags) OCIPACK_TRY(validate_ref_name(tag));
  OCIPACK_TRY(check_annotation_keys(options.manifest_annotations, "manifest_annotations"));
  OCIPACK_TRY(check_annotation_keys(options.index_annotations, "index_annotations"));
  if (options.path_layers) {
    if (!options.layers.empty())
      return field_error(ErrorKind::usage, "path_layers", ": path layers replace the layer list, not add to it");
    if (options.diff_against_base) return field_error(ErrorKind::usage, "diff_against_base", " takes a single layer");
    return check_directory(options.path_layers->rootfs, "path_layers.rootfs");
  }
  if (options.layers.empty()) return usage_error("no rootfs given (the build has no layer)");
  size_t from_stdin = 0;
  for (size_t i = 0; i < options.layers.size(); ++i) {
    const LayerInput& layer = options.layers[i];
    const std::string field = "layers[" + std::to_string(i) + "]";
    if (options.edit_base) OCIPACK_TRY(check_named_directory(layer.rootfs, field + ".rootfs"));
    if (is_tar_input(layer.rootfs)) {
      if (layer.diff_base)
        return field_error(ErrorKind::usage, field + ".diff_base",
                           " needs a rootfs directory, not the tar '" + layer.rootfs + "'");
      if (layer.rootfs == "-" && ++from_stdin > 1) return usage_error("only one layer can be read from stdin ('-')");
      continue;
    }
    OCIPACK_TRY(check_directory(layer.rootfs, field + ".rootfs"));
    if (layer.diff_base) OCIPACK_TRY(check_directory(*layer.diff_base, field + ".diff_base"));
  }
  if (!options.diff_against_base) return ok_status();
  auto refuse = [](const std::string& rest) { return field_error(ErrorKind::usage, "diff_against_base", rest); };
  if (is_tar_input(options.layers.back().rootfs)) return refuse(" needs a rootfs directory, not a tar");
  if (options.layers.size() > 1) return refuse(" takes a single layer, not " + std::to_string(options.layers.size()));
  if (!options.base_layout) return refuse(" needs a base layout");
  return ok_status();
}

// `error`, about the option `field`: "base_layout: <message>", same kind.
Error about_field(const std::string& field, const Error& error) {
  return field_error(error.kind, field, ": " + error.message);
}

// The platform that picks the base image (BuildOptions::base_platform): the
// one given; else, when the base tag names an index of several images, the
// image's own os/architecture/variant (host architecture when not given);
// else none (a single image, or an index of one, is taken as it is).
std::optional<Platform> base_platform_of(const BuildOptions& options) {
  if (options.base_platform) return options.base_platform;
  auto index = read_tagged_index(*options.base_layout, options.base_tag);
  if (!index || !*index || (*index)->entries.size() < 2) return std::nullopt;  // load_image reports errors
  Platform platform;
  platform.os = options.image.os.value_or("linux");
  platform.architecture = options.image.architecture.value_or(host_architecture());
  platform.variant = options.image.variant.value_or("");
  return platform;
}

// The base image and, for a delta against it, its merged rootfs as a model
// in memory: streamed from its blobs (read-only, verified), never written
// anywhere. Read before the output is opened (and locked): a refused base
// leaves nothing to undo.
Result<Base> load_base(const BuildOptions& options, const BuildHooks& hooks) {
  Base base;
  if (!options.base_layout) return base;
  auto source = open_layout_source(*options.base_layout);
  if (!source) return about_field("base_layout", source.error());
  base.source = std::move(*source);
  auto loaded = load_image(*base.source, options.base_tag, base_platform_of(options));
  if (!loaded) return about_field("base_layout", loaded.error());
  if (options.edit_base && !loaded->indexes.empty())
    return field_error(ErrorKind::input, "base_layout",
                       " '" + *options.base_layout + ":" + options.base_tag +
                           "' names an image index (several platforms), not one image: edit each platform's image, "
                           "then assemble them with ocipack index");
  base.image = std::move(*loaded);
  OCIPACK_TRY(check_base_platform(options.image, base.image->config, options.force_platform,
                                  *options.base_layout + ":" + options.base_tag));
  if (!options.diff_against_base) return base;
  auto model = TreeModel::from_layers(*base.source, base.image->manifest_doc.layers, hooks.cancel,
                                      hooks.on_phase);
  if (!model) {
    if (model.error().is(ErrorKind::interrupted)) return model.error();
    return about_field("diff_against_base", model.error());
  }
  base.tree.emplace(std::move(*model));
  return base;
}
// A base in the output layout itself (stacking on, or editing, one of its
// images) was read before the layout lock was taken: another build may have
// moved its tag since. Read again under the lock, so the image this build
// replaces is the one it stacked on; the first reading (and its tree, for
// a delta) is kept when the tag still names the same manifest.
Status reload_base_under_lock(const BuildOptions& options, const BuildHooks& hooks, Base& base) {
  if (!options.base_layout || !same_path(identify(*options.base_layout, true), identify(options.layout_dir, true)))
    return ok_status();
  auto again = load_image(*options.base_layout, options.base_tag, base_platform_of(options));
  if (again && base.image && again->manifest.digest == base.image->manifest.digest) return ok_status();
  OCIPACK_TRY_ASSIGN(base, load_base(options, hooks));
  return ok_status();
}
}  // namespace

Result<BuildResult> build_image(const BuildOptions& options, const BuildHooks& hooks) {
  // Validate everything that can be checked cheaply before touching the output.
  OCIPACK_TRY(check_options(options));
  OCIPACK_TRY_ASSIGN(const auto format, resolve_layer_format(options.layer.codec));
  OCIPACK_TRY(check_output_paths(options));
  OCIPACK_TRY_ASSIGN(Base base, load_base(options, hooks));
  OCIPACK_TRY_ASSIGN(const auto sbom, load_sbom(options));
  OCIPACK_TRY_ASSIGN(auto store, LayoutStore::open_or_create(options.layout_dir, hooks.on_lock_wait));
  StageTimer build_time;  // from the lock to the commit
  auto result = [&]() -> Result<BuildResult> {
    auto timing = build_time.time();
    OCIPACK_TRY(reload_base_under_lock(options, hooks, base));
    return build_into(options, *format, hooks, store, base, sbom);
  }();
  if (!result) {
    store.discard_changes();
    return result;
  }
  result->seconds = static_cast<double>(build_time.stats().nanoseconds) / 1e9;
  return result;
}

}  // namespace ocipack
