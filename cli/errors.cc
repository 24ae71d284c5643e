// The field → flag table and the kind → exit status rule (see errors.h).
// The field names are the ones the library's BuildOptions errors use.
#include "cli/errors.h"

#include <array>
#include <utility>

namespace ocipack::cli {

namespace {
// "[]" stands for any index ("layers[]" matches "layers[0]", "layers[12]").
constexpr std::array<std::pair<std::string_view, std::string_view>, 40> k_flag_of_field{{
    {"layers[].rootfs", "rootfs"},  // the positional ROOTFS or a --layer DIR
    {"layers[].diff_base", "--diff-base"},
    {"layout_dir", "-o"},
    {"base_layout", "--base"},
    {"diff_against_base", "--diff-against-base"},
    {"tar_output", "--tar-output"},
    {"digest_file", "--digestfile"},
    {"iid_file", "--iidfile"},
    {"image.tag", "--tag"},
    {"codec.compression", "--compression-format"},
    {"codec.kind", "--compressor"},
    {"codec.level", "--level"},
    {"codec.format", "--gzip-format"},
    {"codec.dictionary", "--dictionary"},
    {"threads", "--threads"},
    {"chunking.target_size", "--chunk-size"},
    {"base_platform", "--platform"},
    {"force_platform", "--force-platform"},
    {"image.architecture", "--arch"},
    {"image.os", "--os"},
    {"image.variant", "--variant"},
    {"cache.dir", "--cache"},
    {"cache.remote", "--cache-remote"},
    // `ocipack index` (IndexRequest)
    {"sources", "SRC"},
    {"sources[]", "SRC"},
    {"add", "--add"},
    {"add[]", "--add"},
    {"remove", "--remove"},
    {"remove[]", "--remove"},
    {"flatten", "--flatten"},
    {"tag", "--tag"},
    {"manifest_annotations", "--annotation"},
    {"document_annotations", "--annotation"},  // IndexRequest
    {"index_annotations", "--index-annotation"},
    {"sbom", "--sbom"},
    {"document", "FILE"},
    {"artifact_type", "--artifact-type"},
    // `ocipack tag` and `untag` (core/oci/layout_tagging.h)
    {"source_tag", "SRC"},
    {"new_tags[]", "NEW"},
    {"removed_tag", "TAG"},
}};

// Whether `field` is `pattern` with a number (one or more digits) inside
// each "[]" of the pattern.
bool field_matches(std::string_view pattern, std::string_view field) {
  size_t f = 0;
  for (size_t p = 0; p < pattern.size(); ++p) {
    if (pattern.substr(p, 2) == "[]") {
      if (f >= field.size() || field[f] != '[') return false;
      const size_t digits = ++f;
      while (f < field.size() && field[f] >= '0' && field[f] <= '9') ++f;
      if (f == digits || f >= field.size() || field[f] != ']') return false;
      ++f;
      ++p;  // past the ']' of the pattern
    } else if (f >= field.size() || field[f++] != pattern[p]) {
      return false;
    }
  }
  return f == field.size();
}
}  // namespace

std::optional<std::string_view> flag_for_field(std::string_view field) {
  for (const auto& [pattern, flag] : k_flag_of_field)
    if (field_matches(pattern, field)) return flag;
  return std::nullopt;
}

std::string message_for_user(const Error& error, std::string_view command) {
  // add-layer is a build of DIR on --base IMAGE into IMAGE (cli/options.cc).
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> k_add_layer{{
      {"layers[].rootfs", "DIR"}, {"base_layout", "add-layer"}, {"layout_dir", "add-layer"}}};
  return error.with_fields_named([&](std::string_view field) -> std::optional<std::string_view> {
    if (command == "add-layer")
      for (const auto& [pattern, word] : k_add_layer)
        if (field_matches(pattern, field)) return word;
    return flag_for_field(field);
  });
}

int exit_status(const Error& error) {
  switch (error.kind) {
    case ErrorKind::usage: return k_exit_usage;
    case ErrorKind::interrupted: return k_exit_interrupted;
    case ErrorKind::input:
    case ErrorKind::io:
    case ErrorKind::corrupt: return k_exit_failure;
  }
  return k_exit_failure;
}

int exit_status_after_signal(int signal_number) { return 128 + signal_number; }

Error command_line_error(const Error& error) { return usage_error(message_for_user(error)); }

}  // namespace ocipack::cli
