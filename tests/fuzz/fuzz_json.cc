// libFuzzer target for the JSON readers (core/oci/document_reader.cc,
// layout_reader.cc, config_reader.cc, simdjson): index, manifest and config
// documents must be accepted or refused for any byte string without
// crashing, by the strict readers and by the collecting form verify uses;
// what the strict readers accept must survive a re-encode with the
// canonical writers (core/oci/oci_json.cc).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/oci/document_reader.h"
#include "core/oci/layout_reader.h"
#include "core/oci/oci_json.h"

namespace {
struct Discard final : ocipack::ProblemSink {
  void report(ocipack::Severity, std::string) override {}
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto index = ocipack::parse_index(text, "fuzz index.json")) (void)ocipack::encode_index({*index, {}});
  if (auto manifest = ocipack::parse_manifest(text)) (void)ocipack::encode_manifest(*manifest);
  if (auto config = ocipack::parse_config(text)) (void)ocipack::encode_config(*config);
  Discard sink;
  const ocipack::Descriptor referrer{ocipack::k_media_type_index, {}, 0, {}};
  (void)ocipack::read_index_document(text, "fuzz index", &referrer, sink);
  (void)ocipack::read_manifest_document(text, "fuzz manifest", nullptr, sink);
  return 0;
}
