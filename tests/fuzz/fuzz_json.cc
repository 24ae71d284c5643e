// libFuzzer target for the JSON readers (core/layout_reader.cc, simdjson):
// index.json, manifest and config parsers must accept or refuse any byte
// string without crashing; what they accept must survive a re-encode with
// the canonical writers (core/oci_json.cc).
#include <cstdint>
#include <string_view>

#include "core/oci/layout_reader.h"
#include "core/oci/oci_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ocipack::parse_index(text, "fuzz index.json");
  if (auto manifest = ocipack::parse_manifest(text)) (void)ocipack::encode_manifest(*manifest);
  if (auto config = ocipack::parse_config(text)) (void)ocipack::encode_config(*config);
  return 0;
}
