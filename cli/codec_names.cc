// Parsing of --compressor and --gzip-format values (see codec_names.h).
#include "cli/codec_names.h"

#include <string>
#include <utility>

namespace ocipack::cli {

Result<CodecKind> parse_codec_kind(std::string_view name) {
  if (name == "libdeflate") return CodecKind::libdeflate;
  if (name == "isal" || name == "isa-l" || name == "igzip") return CodecKind::isal;
  return usage_error("--compressor '" + std::string(name) + "': expected libdeflate or isal");
}

Result<GzipFormat> parse_gzip_format(std::string_view name) {
  if (name == "members") return GzipFormat::members;
  if (name == "single") return GzipFormat::single;
  return usage_error("--gzip-format '" + std::string(name) + "': expected members or single");
}

Error with_codec_flags(const Error& error) {
  static constexpr std::pair<std::string_view, std::string_view> k_flags[] = {
      {"codec.kind", "--compressor"},
      {"codec.level", "--level"},
      {"codec.format", "--gzip-format"},
      {"codec.dictionary", "--dictionary"},
  };
  for (const auto& [field, flag] : k_flags) {
    if (error.field != field) continue;
    Error shown = error;
    shown.message = error.with_field_named(flag);
    shown.field.clear();
    shown.field_at = 0;
    return shown;
  }
  return error;
}

}  // namespace ocipack::cli
