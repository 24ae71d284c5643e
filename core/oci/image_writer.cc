// Image and index writing (see image_writer.h): thin steps over LayoutStore
// and the encoders of oci_json.h, kept apart so that a build, and later a
// multi-platform `index` command, compose them in the crash-safe order.
#include "core/oci/image_writer.h"

namespace ocipack {

Result<WrittenImage> write_image(LayoutStore& store, const ImageConfig& config, const std::vector<Descriptor>& layers,
                                 const std::map<std::string, std::string>& annotations,
                                 const std::map<std::string, std::string>& manifest_annotations) {
  WrittenImage image;
  OCIPACK_TRY_ASSIGN(const std::string config_json, encode_config(config));
  OCIPACK_TRY_ASSIGN(image.config, store.put_blob(config_json, k_media_type_config));
  OCIPACK_TRY_ASSIGN(const std::string manifest_json, encode_manifest(Manifest{image.config, layers, {}, std::nullopt, manifest_annotations}));
  OCIPACK_TRY_ASSIGN(image.manifest, store.put_blob(manifest_json, k_media_type_manifest));
  image.manifest.annotations = annotations;
  image.manifest.platform = platform_of(config);
  return image;
}

Result<Descriptor> write_image_index(LayoutStore& store, const std::string& index_json,
                                     const std::map<std::string, std::string>& annotations) {
  OCIPACK_TRY_ASSIGN(Descriptor descriptor, store.put_blob(index_json, k_media_type_index));
  descriptor.annotations = annotations;
  return descriptor;
}

Result<IndexPlan> plan_index(const LayoutStore& store, const std::vector<Descriptor>& entries) {
  OCIPACK_TRY_ASSIGN(std::string text, update_index(store.existing_index(), entries));
  return IndexPlan{std::move(text)};
}

Status commit_index(LayoutStore& store, const IndexPlan& plan) {
  OCIPACK_TRY(store.write_index(plan.index_json));
  store.keep_changes();
  return ok_status();
}

}  // namespace ocipack
