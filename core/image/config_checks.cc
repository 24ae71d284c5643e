// Implementation of check_config_document (see config_checks.h) on
// simdjson's DOM, through the helpers of core/oci/json_dom.h.
#include "core/image/config_checks.h"

#include <cstring>

#include "core/oci/config_reader.h"
#include "core/oci/json_dom.h"
#include "core/util/text.h"
#include "core/util/time_format.h"

namespace ocipack {

namespace {

namespace dom = simdjson::dom;

class ConfigChecker {
 public:
  ConfigChecker(const std::string& what, std::vector<std::string>& problems) : m_what(what), m_problems(problems) {}

  void problem(const std::string& text) { m_problems.push_back(m_what + text); }

  // architecture and os: required non-empty strings; variant optional.
  std::optional<Platform> check_platform(dom::object config) {
    Platform platform;
    bool readable = true;
    for (auto [field, target] : {std::pair{"architecture", &platform.architecture}, std::pair{"os", &platform.os}}) {
      auto value = find_member(config, field);
      auto text = value ? string_value(*value) : std::nullopt;
      if (!value)
        problem(std::string(" has no ") + field);
      else if (!text)
        problem(std::string(": ") + field + " is " + json_type_name(*value) + ", expected a string");
      else if (text->empty())
        problem(std::string(": ") + field + " is empty");
      readable = readable && text;
      *target = std::string(text.value_or(""));
    }
    if (auto variant = find_member(config, "variant")) platform.variant = std::string(string_value(*variant).value_or(""));
    return readable ? std::optional<Platform>(platform) : std::nullopt;
  }

  // `created` of the config and of each history entry, when present, must be
  // what Go's encoding/json reads as a time.Time (containers/image, umoci):
  // strict RFC 3339 with a four-digit year (time_format.h).
  void check_created(dom::object config) {
    auto check = [&](dom::element value, const std::string& field) {
      auto text = string_value(value);
      if (!text) return problem(": " + field + " is " + json_type_name(value) + ", expected a string");
      if (!check_go_rfc3339(*text))
        problem(": " + field + " " + in_quotes(*text) +
                " is not an RFC 3339 time as Go reads it (YYYY-MM-DDTHH:MM:SS[.digits](Z|+HH:MM|-HH:MM))");
    };
    if (auto created = find_member(config, "created")) check(*created, "created");
    dom::array history;
    if (auto list = find_member(config, "history"); list && !list->get_array().get(history)) {
      size_t i = 0;
      for (dom::element item : history) {
        dom::object entry;
        if (!item.get_object().get(entry))
          if (auto created = find_member(entry, "created")) check(*created, "history[" + std::to_string(i) + "].created");
        ++i;
      }
    }
  }

  std::optional<DiffIds> check_rootfs(dom::object config) {
    dom::object rootfs;
    auto value = find_member(config, "rootfs");
    if (!value) {
      problem(" has no rootfs");
      return std::nullopt;
    }
    if (value->get_object().get(rootfs)) {
      problem(": rootfs is " + std::string(json_type_name(*value)) + ", expected an object");
      return std::nullopt;
    }
    auto type = find_member(rootfs, "type");
    auto type_text = type ? string_value(*type) : std::nullopt;
    if (!type)
      problem(" has no rootfs.type");
    else if (!type_text || *type_text != "layers")
      problem(": rootfs.type is " + (type_text ? in_quotes(*type_text) : std::string(json_type_name(*type))) +
              ", expected 'layers'");
    dom::array array;
    auto list = find_member(rootfs, "diff_ids");
    if (!list) {
      problem(" has no rootfs.diff_ids");
      return std::nullopt;
    }
    if (list->get_array().get(array)) {
      problem(": rootfs.diff_ids is " + std::string(json_type_name(*list)) + ", expected an array");
      return std::nullopt;
    }
    DiffIds diff_ids;
    for (dom::element item : array) {
      const std::string field = "rootfs.diff_ids[" + std::to_string(diff_ids.size()) + "]";
      auto text = string_value(item);
      std::optional<Digest> digest;
      if (!text) {
        problem(": " + field + " is " + json_type_name(item) + ", expected a digest string");
      } else if (auto parsed = Digest::parse(*text); !parsed) {
        problem(": " + field + " " + in_quotes(*text) + ": " + parsed.error().message);
      } else {
        digest = *parsed;
      }
      diff_ids.push_back(digest);
    }
    return diff_ids;
  }

 private:
  const std::string& m_what;
  std::vector<std::string>& m_problems;
};

}  // namespace

ConfigFacts check_config_document(std::string_view text, const std::string& what, std::vector<std::string>& problems) {
  ConfigFacts facts;
  dom::parser parser;
  auto root = parse_json_document(parser, text, what);
  auto object = root ? document_object(*root, what) : Result<dom::object>(root.error());
  if (!object) {
    problems.push_back(object.error().message);
    return facts;
  }
  const size_t problems_before = problems.size();
  ConfigChecker checker(what, problems);
  facts.platform = checker.check_platform(*object);
  checker.check_created(*object);
  facts.diff_ids = checker.check_rootfs(*object);
  if (problems.size() == problems_before) {
    if (auto parsed = parse_config(text, what); !parsed) problems.push_back(parsed.error().message);
  }
  return facts;
}

}  // namespace ocipack
