// libFuzzer target for the layout readers on disk (core/oci/layout_reader.cc,
// document_reader.cc, layout_ops.cc, core/image/layout_verify.cc): the
// input's first byte picks a document — 0: index.json, 1: the manifest, 2:
// the config, 3: an image index blob between index.json and the manifest —
// and the rest becomes that document of a scratch layout whose other files
// are sound (index.json → manifest → config + one layer; a document from the
// input is stored under its own digest and referenced by the documents above
// it, so the readers get past the digest checks to the parsers). Then
// read_index_entries, list_tags, load_image (without a platform and with
// one), inspect_json and verify_layout run on it. Any input must give a result or an error, never a
// crash, hang or sanitizer report. gc is left out: it deletes, so each run
// would have to rebuild the store, and its marking is read_blob + the parsers
// already exercised here.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "core/oci/layout_ops.h"
#include "core/oci/layout_reader.h"
#include "core/image/layout_verify.h"
#include "core/oci/oci_json.h"
#include "core/util/sha256.h"

namespace {

// The sound documents (tests/fuzz/corpus/layout seeds were made from these).
constexpr std::string_view k_layer = "layer";
constexpr std::string_view k_config_prefix =
    R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")";
constexpr std::string_view k_config_suffix = R"("]}})";

// Made on first use, removed at exit. Held in a leaked string: the atexit
// handler runs after static destructors registered later would have run.
const std::string& scratch_dir() {
  static const std::string* dir = [] {
    char pattern[] = "/tmp/ocipack-fuzz-layout-XXXXXX";
    if (!::mkdtemp(pattern)) std::abort();
    auto* made = new std::string(pattern);
    if (std::system(("mkdir -p '" + *made + "/blobs/sha256'").c_str()) != 0) std::abort();
    std::atexit([] { (void)std::system(("rm -rf '" + *dir + "'").c_str()); });
    return made;
  }();
  return *dir;
}

// Plain writes (no fsync: a scratch layout needs no durability, and speed
// is the fuzzer's coverage).
void write(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) std::abort();
}

ocipack::Descriptor put_blob(std::string_view data, const char* media_type) {
  ocipack::Descriptor d{media_type, ocipack::Sha256::of(data), static_cast<int64_t>(data.size()), {}};
  write(ocipack::blob_path(scratch_dir(), d.digest), data);
  return d;
}

std::string index_for(const ocipack::Descriptor& manifest) {
  ocipack::Descriptor tagged = manifest;
  tagged.annotations[ocipack::k_annotation_ref_name] = "t";
  auto index = ocipack::update_index(std::nullopt, tagged);
  if (!index) std::abort();
  return *index;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string& dir = scratch_dir();
  const int which = data[0] % 4;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  write(dir + "/oci-layout", ocipack::k_oci_layout_json);
  const auto layer = put_blob(k_layer, ocipack::k_media_type_layer_gzip);
  const std::string sound_config = std::string(k_config_prefix) + ocipack::Sha256::of(k_layer).str() +
                                   std::string(k_config_suffix);
  const auto config = put_blob(which == 2 ? input : std::string_view(sound_config), ocipack::k_media_type_config);
  std::string sound_manifest;
  if (which != 1) {
    auto encoded = ocipack::encode_manifest(ocipack::Manifest{config, {layer}});
    if (!encoded) std::abort();
    sound_manifest = *encoded;
  }
  const auto manifest =
      put_blob(which == 1 ? input : std::string_view(sound_manifest), ocipack::k_media_type_manifest);
  const auto tagged = which == 3 ? put_blob(input, ocipack::k_media_type_index) : manifest;
  write(dir + "/index.json", which == 0 ? std::string(input) : index_for(tagged));

  (void)ocipack::read_index_entries(dir);
  (void)ocipack::list_tags(dir);
  (void)ocipack::load_image(dir, "t");
  (void)ocipack::load_image(dir, "t", ocipack::Platform{"amd64", "linux", "", {}, ""});
  (void)ocipack::inspect_json(dir, "t");
  (void)ocipack::verify_layout(dir, {});
  return 0;
}
