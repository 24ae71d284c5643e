// Implementation of build_image (see image_builder.h). The order of writes is
// the crash-safety contract: every blob is complete and renamed before any
// document refers to it, and index.json — the only file readers start from —
// is replaced last, atomically.
#include "pipeline/image_builder.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>

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

  WalkOptions walk_options;
  walk_options.clamp_mtime = options.clamp_mtime;
  auto walker = RootfsWalker::open(options.rootfs, walk_options);
  if (!walker) return walker.error();
  TarChunker chunker(std::make_unique<RootfsWalker>(std::move(*walker)), options.layer.chunking);

  // 1. The layer: streamed into a temp file, renamed to its digest when done.
  auto temp = store.begin_blob();
  if (!temp) return temp.error();
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

  // 4. index.json last: the commit point of the layout.
  auto index_json = update_index(store.existing_index(), result.manifest);
  if (!index_json) return index_json.error();
  OCIPACK_TRY(store.write_index(*index_json));

  // 5. The optional tarball of the finished layout.
  if (options.tar_output)
    OCIPACK_TRY(write_layout_tarball(store.dir(), *options.tar_output, options.image.created));

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
  if (!result) store->discard_created_directories();
  return result;
}

}  // namespace ocipack
