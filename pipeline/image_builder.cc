// Implementation of build_image (see image_builder.h). The order of writes is
// the crash-safety contract: every blob is complete and renamed before any
// document refers to it, and index.json — the only file readers start from —
// is replaced last, atomically.
#include "pipeline/image_builder.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <optional>

#include "core/layout_store.h"
#include "core/layout_tarball.h"
#include "core/time_format.h"

namespace ocipack {

ImageConfig make_image_config(const ImageSpec& spec, const Digest& diff_id) {
  ImageConfig config;
  config.created = format_rfc3339(spec.created);
  config.author = spec.author;
  config.architecture = spec.architecture;
  config.variant = spec.variant;
  config.os = spec.os;
  config.config = spec.config;
  config.diff_ids.push_back(diff_id);
  HistoryEntry history;
  history.created = config.created;
  history.created_by = "ocipack build";
  history.author = spec.author;
  config.history.push_back(history);
  return config;
}

namespace {
Status check_tar_output(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return make_error("--tar-output '" + path + "' is a directory");
  auto slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error("--tar-output '" + path + "': directory '" + parent + "' does not exist");
  return ok_status();
}

Result<BuildResult> build_into(const BuildOptions& options, LayoutStore& store) {
  auto started = std::chrono::steady_clock::now();
  BuildResult result;

  // 1. The layer: streamed into a temp file, renamed to its digest when done.
  auto temp = store.begin_blob();
  if (!temp) return temp.error();

  WalkOptions walk_options;
  walk_options.clamp_mtime = options.clamp_mtime;
  // Never pack our own output when it lies inside the rootfs.
  struct stat st {};
  if (::stat(store.dir().c_str(), &st) == 0) walk_options.exclude.emplace_back(st.st_dev, st.st_ino);
  if (options.tar_output && ::stat(options.tar_output->c_str(), &st) == 0)
    walk_options.exclude.emplace_back(st.st_dev, st.st_ino);
  auto walker = RootfsWalker::open(options.rootfs, walk_options);
  if (!walker) return walker.error();
  TarChunker chunker(std::make_unique<RootfsWalker>(std::move(*walker)), options.layer.chunking);

  auto layer = run_layer_pipeline(chunker, options.layer, temp->fd(), "layer blob in " + store.dir());
  if (!layer) return layer.error();
  OCIPACK_TRY(store.commit_blob(*temp, layer->digest));
  result.layer = Descriptor{k_media_type_layer_gzip, layer->digest,
                            static_cast<int64_t>(layer->compressed_size), {}};
  result.layer_stats = *layer;
  result.warnings = chunker.warnings();

  // 2. Config, 3. manifest: small blobs, each complete before it is referenced.
  auto config_json = encode_config(make_image_config(options.image, layer->diff_id));
  if (!config_json) return config_json.error();
  auto config = store.put_blob(*config_json, k_media_type_config);
  if (!config) return config.error();
  result.config = *config;

  Manifest manifest{*config, {result.layer}};
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
  std::optional<TempFile> tarball;
  if (options.tar_output) {
    auto staged = stage_layout_tarball(store.dir(), *options.tar_output, store.oci_layout(),
                                       *index_json, options.image.created);
    if (!staged) return staged.error();
    tarball.emplace(std::move(*staged));
  }

  // 5. index.json last: the commit point of the layout; then the tarball.
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
  {
    WalkOptions probe;
    auto walker = RootfsWalker::open(options.rootfs, probe);
    if (!walker) return walker.error();
  }
  if (options.tar_output) OCIPACK_TRY(check_tar_output(*options.tar_output));
  auto store = LayoutStore::open_or_create(options.layout_dir);
  if (!store) return store.error();

  auto result = build_into(options, *store);
  if (!result) store->discard_changes();
  return result;
}

}  // namespace ocipack
